// backend::Request: one client command on its way through slotgate, or one part
// of a split command. Its life: created by the client session (received),
// routed to a backend connection or held while its slot has no reachable
// master (forwarded / held), answered (possibly after MOVED/ASK/retries), then
// handed back to the session, which writes replies strictly in request order.
//
// Requests are recycled through a per-worker RequestPool so the hot path does
// not allocate: `wire` and `reply` keep their capacity between uses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/slot.hpp"
#include "resp/value.hpp"

namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::backend {

struct Request;

// Where finished requests go: the client session that issued them.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // `reply` is one complete RESP frame in the client's protocol. The sink copies it.
  virtual void deliver(Request* req, std::string_view reply) = 0;
};

enum class RequestState : uint8_t {
  Idle,     // in the pool
  Queued,   // created, not yet routed
  Sent,     // on a backend connection's FIFO
  Held,     // waiting for its slot to get a reachable master
  Waiting,  // a split parent waiting for its parts, or a retry timer
  Done,     // answered; the session writes it when its turn comes
};

// Per-part bookkeeping of a split command (MGET, MSET, DEL, broadcasts...).
struct SplitState {
  std::vector<resp::Value> part_replies;
  std::vector<std::vector<uint32_t>> part_keys;  // argument indices of the keys each part carries
  std::vector<std::string> part_labels;  // keys of each part, for "may not have been written"
  uint32_t pending = 0;
};

class BackendConnection;

// A session that keeps its own connections (a blocking command, WATCH … EXEC):
// the router asks it for the connection to use instead of the shared pool, so
// holds, redirects and retries work the same for such requests.
class DedicatedOwner {
 public:
  virtual ~DedicatedOwner() = default;
  // The owner's connection to `address` (created on demand), or null to hold the request.
  virtual BackendConnection* dedicated_connection(const std::string& address, int protocol) = 0;
};

// Replies that need more than a merge before the client sees them.
enum class PostProcess : uint8_t {
  None,
  Scan,          // the node's cursor is folded into slotgate's cursor (see router/scan.cpp)
  InfoKeyspace,  // INFO: slotgate's sections plus the keyspace summed over the masters
};

struct Request {
  ReplySink* sink = nullptr;  // null for parts, and for orphans whose client went away
  Request* parent = nullptr;  // the split command this is a part of
  uint32_t part_index = 0;
  bool orphaned = false;  // the client disconnected while this was in flight
  RequestState state = RequestState::Idle;

  const commands::CommandSpec* spec = nullptr;
  std::string wire;  // exact bytes to send to a backend (RESP array)
  cluster::Slot slot = 0;
  bool keyed = false;      // false: any master may serve it
  bool read_only = false;  // safe to retry when the outcome is unknown
  std::string target;      // forced backend address (after MOVED/ASK); empty = from the view
  bool asking = false;     // send ASKING first (ASK redirect)
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
  // each queued command come first and are absorbed; only EXEC's reaches the client.
  uint32_t absorb_replies = 0;
  uint32_t absorb_count = 0;   // absorb_replies as first set, for a re-send
  std::string absorbed_error;  // the first error among the absorbed replies (MOVED, ...)
  uint32_t scan_master = 0;    // SCAN: which master (in slot order) this step walks
  std::string info_prefix;     // INFO: slotgate's own sections, written before the keyspace
  int protocol = 2;            // the client's protocol, for replies slotgate builds
  bool silent = false;         // CLIENT REPLY OFF/SKIP: the client gets no reply to this one

  std::string reply;  // the reply bytes, when it finished before its turn
  std::unique_ptr<SplitState> split;

  void reset_for_reuse() {
    sink = nullptr;
    parent = nullptr;
    part_index = 0;
    orphaned = false;
    state = RequestState::Idle;
    spec = nullptr;
    wire.clear();
    slot = 0;
    keyed = false;
    read_only = false;
    target.clear();
    asking = false;
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
    if (split) {
      split->part_replies.clear();
      split->part_keys.clear();
      split->part_labels.clear();
      split->pending = 0;
    }
  }
};

class RequestPool {
 public:
  Request* acquire() {
    if (free_.empty()) {
      owned_.push_back(std::make_unique<Request>());
      return owned_.back().get();
    }
    Request* r = free_.back();
    free_.pop_back();
    return r;
  }
  void release(Request* r) {
    // Very large buffers are not worth keeping around for the next command.
    if (r->wire.capacity() > (1u << 20)) std::string().swap(r->wire);
    if (r->reply.capacity() > (1u << 20)) std::string().swap(r->reply);
    r->reset_for_reuse();
    free_.push_back(r);
  }

 private:
  std::vector<std::unique_ptr<Request>> owned_;
  std::vector<Request*> free_;
};

}  // namespace slotgate::backend
