// router::Request: one client command on its way through slotgate, or one part of a
// split command, and the one place its life is written down (twemproxy's message life).
// Requests are recycled through a per-worker RequestPool so the hot path does not
// allocate: `wire` and `reply` keep their capacity between uses.
//
//          acquire            dispatch / hold / split       answer             release
//   Idle ──────────▶ Queued ─────────────────────▶ Waiting ────────▶ Done ──────────▶ Idle
//                      │                              │                ▲
//                      └──────── answer (a reply slotgate gives at once: CROSSSLOT…) ┘
//
//   Idle     in the pool. RequestPool::acquire takes it out (ClientSession::new_request
//            for a client command, Router::new_part for a part of a split one).
//   Queued   in the client session's reply queue, not yet handed on.
//   Waiting  someone else holds a pointer to it and only that holder ends it: a backend
//            connection's FIFO (Router::dispatch), the router's hold queue (Router::hold:
//            the only way to wait — for a master, a redirect's confirmation, a retry), a
//            split parent's outstanding parts, or a subscription link waiting for its
//            confirmations (client/subscriptions.cpp).
//   Done     answered. RequestPool::answer (from Router::complete) hands the reply to the
//            sink, the session, which writes replies strictly in request order
//            (ClientSession::deliver, drain_done) and then counts and releases each one
//            (ClientSession::finish). A part is never Done: Router::on_part_done keeps its
//            reply in the parent and releases it.
//
// Leaving early: when the client goes away, ClientSession::close abandons every request
// still in its queue (RequestPool::abandon). A Queued or Done one is released at once; a
// Waiting one becomes an orphan, is released by RequestPool::answer when its holder
// finishes it, and is never sent again (a held or lost orphan is answered "client gone").
// So exactly one owner releases each request: the session for what is still in its queue,
// answer() for orphans, on_part_done for parts.
//
// Ending a request can close its session or a connection from inside that object's own
// callback, so those objects are destroyed later, never on the stack: their owners (the
// worker for a closed session, the session for its dedicated connections, BackendPool for
// pool connections) hand them to net::Loop::release_later, and the loop destroys them at the
// end of the iteration, in release order. A closing session releases its dedicated links
// before itself, and a failing connection hands its requests back (fail: orphans are
// released, the others re-routed or answered) within the call that released it, so it is
// empty when destroyed, and a session's links are destroyed before the session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/call.hpp"
#include "cluster/slot.hpp"
#include "config/read_from.hpp"
#include "resp/value.hpp"

namespace slotgate::commands {
struct CommandSpec;
}
namespace slotgate::backend {
class BackendConnection;
}

namespace slotgate::router {

struct Request;

// Where finished requests go: the client session that issued them.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // `reply` is one complete RESP frame in the client's protocol. The sink copies it.
  virtual void deliver(Request* req, std::string_view reply) = 0;
};

// See the life at the top of this file.
enum class RequestState : uint8_t {
  Idle,     // in the pool
  Queued,   // in the session's reply queue, not yet handed on
  Waiting,  // on a backend FIFO, held, waiting for its parts or for subscription confirmations
  Done,     // answered; the session writes it when its turn comes
};

// Per-part bookkeeping of a split command (MGET, MSET, DEL, broadcasts...).
struct SplitState {
  std::vector<resp::Value> part_replies;
  std::vector<std::vector<uint32_t>> part_keys;  // argument indices of the keys each part carries
  std::vector<std::string> part_labels;  // keys of each part, for "may not have been written"
  // MGET (Merge::KeyOrder): each part's reply as the node sent it (already in the client's
  // protocol); finish_split splices the element bytes into key order without parsing values.
  std::vector<std::string> part_raw;
  // A split command's node batches (Router::plan_sends): the part numbers of every batch,
  // batch after batch (a batch's part_index is where its own run starts), and where each part's
  // command sits in its batch's wire (offset, length), to run it alone when its node refuses it.
  struct PartWire {
    uint32_t at = 0;
    uint32_t length = 0;
    cluster::Slot slot = 0;
  };
  std::vector<uint32_t> batch_order;
  std::vector<PartWire> part_wire;
  uint32_t pending = 0;
};

// A session that keeps its own connections (a blocking command, WATCH … EXEC):
// the router asks it for the connection to use instead of the shared pool, so
// holds, redirects and retries work the same for such requests.
class DedicatedOwner {
 public:
  virtual ~DedicatedOwner() = default;
  // The owner's connection to `address` (created on demand), or null to hold the request.
  virtual backend::BackendConnection* dedicated_connection(const std::string& address,
                                                           int protocol) = 0;
};

// Replies that need more than a merge before the client sees them.
enum class PostProcess : uint8_t {
  None,
  Scan,          // the node's cursor is folded into slotgate's cursor (see router/scan.cpp)
  InfoKeyspace,  // INFO: slotgate's sections plus the keyspace summed over the masters
};

// The bytes, ASKING flag and reply count backend/ needs live in the backend::Call base.
struct Request : backend::Call {
  ReplySink* sink = nullptr;  // null for parts, and for orphans whose client went away
  Request* parent = nullptr;  // the split command this is a part of
  uint32_t part_index = 0;
  // A batch: the parts of one split command that one node serves, written as one Call
  // (batch_size commands, one reply each; split.cpp). batch_done: replies taken so far.
  uint32_t batch_size = 0;
  uint32_t batch_done = 0;
  bool orphaned = false;  // the client disconnected while this was in flight
  RequestState state = RequestState::Idle;

  const commands::CommandSpec* spec = nullptr;
  cluster::Slot slot = 0;
  bool keyed = false;      // false: any master may serve it
  bool read_only = false;  // safe to retry when the outcome is unknown
  // Where a read may go (the client's user's read_from; nullopt = cluster.read_from). Only
  // read_only keyed requests on shared connections outside transactions use it (read_from.cpp).
  std::optional<config::ReadFrom> read_from;
  std::string target;  // forced backend address (after MOVED/ASK); empty = from the view
  uint8_t redirects = 0;
  uint8_t retries = 0;
  uint64_t started_ns = 0;
  uint64_t sent_ns = 0;      // when it was last sent to a node (per-node latency); 0 = not sent
  uint64_t deadline_ms = 0;  // loop time after which a held/retried request fails
  uint64_t held_since_ms = 0;
  // Held until the cluster confirms a redirect to a node the view did not know: until a
  // view newer than confirm_view arrives, or confirm_until_ms (loop time) passes.
  uint64_t confirm_view = 0;
  uint64_t confirm_until_ms = 0;

  PostProcess post = PostProcess::None;
  DedicatedOwner* dedicated = nullptr;  // send on the owner's connection, not the shared pool
  // A transaction sent as MULTI … EXEC in one write: the replies to MULTI and to
  // each queued command come first and are absorbed by the router (on_backend_reply);
  // only EXEC's reaches the client.
  uint32_t absorb_replies = 0;
  uint32_t absorb_count = 0;   // absorb_replies as first set, for a re-send
  std::string absorbed_error;  // the first error among the absorbed replies (MOVED, ...)
  uint32_t scan_master = 0;    // SCAN: which master (in slot order) this step walks
  std::string info_prefix;     // INFO: slotgate's own sections, written before the keyspace
  int protocol = 2;            // the client's protocol, for replies slotgate builds
  bool silent = false;         // CLIENT REPLY OFF/SKIP: the client gets no reply to this one
  // A blocked command whose slot's master moved away: slotgate asked its node to end the block
  // (CLIENT UNBLOCK … ERROR), so that node's UNBLOCKED answer means "run it again" (redirects.cpp).
  bool rehoming = false;

  std::string reply;  // the reply bytes, when it finished before its turn
  // Only while this request is a split parent (RequestPool::split_state): the pool lends it
  // and takes it back, with its buffers, when the request is released.
  std::unique_ptr<SplitState> split;

  void reset_for_reuse() {
    sink = nullptr;
    parent = nullptr;
    part_index = 0;
    batch_size = 0;
    batch_done = 0;
    orphaned = false;
    state = RequestState::Idle;
    spec = nullptr;
    wire.clear();
    slot = 0;
    keyed = false;
    read_only = false;
    read_from.reset();
    target.clear();
    asking = false;
    replies = 1;
    redirects = 0;
    retries = 0;
    started_ns = 0;
    sent_ns = 0;
    deadline_ms = 0;
    held_since_ms = 0;
    confirm_view = 0;
    confirm_until_ms = 0;
    reply.clear();
    post = PostProcess::None;
    dedicated = nullptr;
    absorb_replies = 0;
    absorb_count = 0;
    absorbed_error.clear();
    scan_master = 0;
    info_prefix.clear();
    protocol = 2;
    silent = false;
    rehoming = false;
  }
};

// Owns every Request of a worker and moves each through its life (see the top of this file).
class RequestPool {
 public:
  // Idle → Queued.
  Request* acquire();
  // Queued/Waiting → Done: the reply goes to the request's session. An orphan (its client
  // went away) or a request nobody waits for is released instead.
  void answer(Request* req, std::string_view reply);
  // The client went away: released now if nothing else holds it (Queued, Done), else
  // orphaned and released by answer() when its holder finishes it.
  void abandon(Request* req);
  // → Idle.
  void release(Request* req);
  // `parent`'s split bookkeeping, lent from the pool on first use and returned (cleared, its
  // buffers kept) when `parent` is released. Pooled here rather than kept by each request:
  // any request object may become a parent, so per-object buffers were nearly always cold and
  // empty, and every part of an MGET of 100 keys allocated its key list and reply buffer again.
  SplitState& split_state(Request* parent);
  // What a pooled SplitState may keep for the next split (router/request.cpp, recycle).
  static constexpr size_t kMaxKeptSplitBytes = 256 * 1024;
  static constexpr size_t kMaxKeptParts = 1024;
  // Spare SplitStates, for tests and metrics.
  size_t spare_splits() const { return free_splits_.size(); }

 private:
  void recycle(SplitState& st);
  std::vector<std::unique_ptr<Request>> owned_;
  std::vector<Request*> free_;
  std::vector<std::unique_ptr<SplitState>> free_splits_;
};

}  // namespace slotgate::router
