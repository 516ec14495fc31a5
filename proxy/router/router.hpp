// router::Router: the per-worker brain of the data path. It turns a client
// command into one or more backend requests (keyed, any-node, split per slot or
// broadcast to every master), follows MOVED/ASK, retries TRYAGAIN/LOADING/
// CLUSTERDOWN inside the request's deadline, holds requests while their slot has
// no reachable master (failover hold), and decides what happens to requests on a
// lost connection: re-route when it is safe, "outcome unknown" when it is not.
//
// One file per routing kind, as Envoy's command_splitter: keyed.cpp (one slot or any
// master: dispatch), split.cpp (multi-key across slots), broadcast.cpp (every master),
// scan.cpp (one cursor over every master), local_with_backend.cpp (INFO keyspace,
// CLUSTER COUNTKEYSINSLOT); redirects.cpp (MOVED/ASK, transient errors), holds.cpp
// (hold(), the only way to wait), merge.* (the table of reply merges). router.cpp
// keeps what is common: submit (which kind), completion, backend events, tick.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_pool.hpp"
#include "cluster/cluster_view.hpp"
#include "cluster/topology_feedback.hpp"
#include "config/read_from.hpp"
#include "router/request.hpp"

namespace slotgate::net {
class Loop;
class Timer;
}  // namespace slotgate::net
namespace slotgate::metrics {
struct WorkerStats;
struct BackendStats;
}  // namespace slotgate::metrics

namespace slotgate::router {

struct RouterOptions {
  uint64_t failover_hold_ms = 20000;
  uint64_t command_timeout_ms = 5000;
  uint64_t connect_timeout_ms = 1000;
  size_t hold_queue_limit = 10000;
  int max_redirects = 5;
  config::ReadFrom read_from = config::ReadFrom::Master;  // cluster.read_from
};

class Router final : public backend::BackendEvents {
 public:
  Router(net::Loop& loop, RouterOptions options, backend::Credentials creds,
         metrics::WorkerStats& stats, cluster::TopologyFeedback& feedback);
  ~Router() override;

  // Ends the command blocked on the node at `address` by its connection `client_id` (CLIENT
  // UNBLOCK <id> ERROR, sent on the pool's connection to that node). Fire and forget: the
  // answer (1, or 0 when nothing is blocked there any more) is not waited for.
  void unblock_on_node(const std::string& address, int64_t client_id);
  void set_view(std::shared_ptr<const cluster::ClusterView> view);
  const cluster::ClusterView* view() const { return view_.get(); }
  // A standalone Redis behind slotgate (ClusterView::single_node): keys of any slots go
  // together to the one node, SCAN is the node's own, MOVED/ASK in a reply is data.
  bool single_node() const { return view_ && view_->single_node(); }
  RequestPool& pool() { return pool_; }
  // A connection owned by a session (WATCH, blocking commands, Pub/Sub), with the
  // router as its event handler. Null when the address cannot be used.
  std::unique_ptr<backend::BackendConnection> open_dedicated(const std::string& address,
                                                             int protocol);
  void set_credentials(const backend::Credentials& creds) {
    creds_ = creds;
    backends2_.set_credentials(creds);
    backends3_.set_credentials(creds);
  }
  // SIGHUP: the new timeouts and limits apply to requests and connections from now on.
  void set_options(const RouterOptions& options) {
    options_ = options;
    backends2_.set_connect_timeout(options.connect_timeout_ms);
    backends3_.set_connect_timeout(options.connect_timeout_ms);
  }

  // Routes a parsed command. `req` has spec, sink and wire set; args are views
  // into the client's buffer, valid only during the call. The answer arrives
  // through req->sink (possibly synchronously, e.g. CROSSSLOT).
  void submit(Request* req, std::span<const std::string_view> args);
  // Sends req to every master and merges the replies by req->spec's merge (or req->post).
  void submit_broadcast(Request* req) { broadcast(req); }
  // Sends req to the master owning `slot` (CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT).
  void submit_to_slot(Request* req, cluster::Slot slot);
  // Sends req (spec, wire, slot/keyed set) to the master that owns its slot now.
  void dispatch(Request* req);
  // Completes req with an error reply text (no leading '-', no CRLF).
  void fail_request(Request* req, std::string_view error_text);
  // Completes req with raw reply bytes: a part's reply goes to its parent, a request's to
  // its session (RequestPool::answer; the life is narrated in router/request.hpp).
  void complete(Request* req, std::string_view reply);
  // The client went away: `req` is reclaimed as soon as nothing refers to it
  // (RequestPool::abandon).
  void abandon(Request* req);
  // Periodic duties (holds, timeouts); called by the worker's timer.
  void tick();
  void shutdown();
  size_t held() const { return held_.size(); }
  // How long the oldest held request has waited (0 when none is held). O(held).
  uint64_t oldest_held_ms() const;

  // backend::BackendEvents
  void on_backend_reply(backend::Call* call, std::string_view frame, const resp::FrameScanner& info,
                        backend::BackendConnection& from) override;
  void on_backend_lost(backend::Call* call, Loss loss, std::string_view why) override;
  void on_backend_closed(backend::BackendConnection& conn, std::string_view why,
                         bool auth_failed) override;
  void on_backend_ready(backend::BackendConnection& conn) override;

 private:
  // router.cpp: this worker's counters for the connection's node (cached on the connection).
  metrics::BackendStats& node_stats(backend::BackendConnection& conn);
  // A reply frame to MULTI or a queued command of a transaction written as MULTI … EXEC:
  // not the client's answer; the first error is kept for when EXEC's reply arrives.
  static void absorb_reply(Request* req, const resp::FrameScanner& info);

  // keyed.cpp: the view index of a master that is reachable now, round-robin (keyless
  // commands); ClusterView::kNoNode if none is.
  uint16_t any_master();
  // The pool's entry for a node: for a node of the view (view_node != kNoNode) kept in
  // view_entries_, so a request costs no lookup by address.
  backend::BackendPool::Node& pool_entry(int protocol, uint16_t view_node,
                                         const std::string& address);
  static std::string unreachable(const backend::BackendPool& pool, const std::string& address);

  // read_from.cpp: reads from replicas. The node that serves a keyed read whose slot's master is
  // `master`: the master itself, a replica of it, or kNoNode when read_from is replica and none
  // qualifies (the request is then failed with kNoReplica).
  uint16_t read_node(const Request* req, uint16_t master);
  // The replicas of each node of view_ that serve reads (by node index; empty for replicas).
  void index_replicas();
  std::vector<std::vector<uint16_t>> serving_replicas_;
  size_t next_replica_ = 0;
  uint32_t nearest_probe_ = 0;

  // redirects.cpp: a node's reply, before the client (or the split parent) gets it.
  void on_reply(Request* req, std::string_view frame, const resp::FrameScanner& info,
                backend::BackendConnection& from);
  void observe_node_latency(Request* req, backend::BackendConnection& from);
  bool redirect(Request* req, std::string_view error_text, const std::string& from_address);
  bool resend_refused_transaction(Request* req, std::string_view frame,
                                  backend::BackendConnection& from);

  // holds.cpp: the only way a request waits.
  void hold(Request* req, std::string_view why);
  // A node said TRYAGAIN/LOADING/CLUSTERDOWN/MASTERDOWN: hold and resend, or past the deadline
  // give the client the node's reply.
  void retry_later(Request* req, std::string_view node_reply, std::string_view why);
  void retry_held();

  // split.cpp: multi-key commands across slots; the parts every fan-out is made of.
  void split_by_slot(Request* parent, std::span<const std::string_view> args,
                     std::span<const uint32_t> key_indices);
  Request* new_part(Request* parent, uint32_t index);
  void append_part_command(std::string& wire, std::span<const std::string_view> args,
                           std::span<const uint32_t> keys, uint32_t step);
  // The parts that one node serves go to it as one batch (one Call, one reply per part).
  void plan_sends(Request* parent, std::span<const std::string_view> args, uint32_t step,
                  std::vector<Request*>& sends);
  void on_batch_reply(Request* batch, std::string_view frame, const resp::FrameScanner& info,
                      backend::BackendConnection& from);
  Request* unbatch_part(Request* batch, uint32_t at);
  void on_batch_lost(Request* batch, Loss loss, std::string_view why);
  void on_part_done(Request* part, std::string_view reply);
  void store_part_reply(Request* parent, uint32_t index, std::string_view reply);
  void finish_split(Request* parent);
  bool splice_key_order(Request* parent);
  void parse_raw_parts(Request* parent);
  // broadcast.cpp: every master.
  void broadcast(Request* parent);
  // scan.cpp: SCAN walks the masters one after the other behind one cursor.
  void scan(Request* req, std::span<const std::string_view> args);
  void finish_scan(Request* parent);
  // local_with_backend.cpp: INFO's keyspace summed over the masters.
  void finish_info(Request* parent);

  // Masters in order of the first slot they own: the order SCAN walks them in.
  // It only changes when slots move, so cursors survive refreshes and failovers.
  std::vector<uint16_t> scan_order_;
  net::Loop& loop_;
  RouterOptions options_;
  backend::Credentials creds_;
  metrics::WorkerStats& stats_;
  cluster::TopologyFeedback& feedback_;
  // One pool per client protocol (index 0: RESP2, 1: RESP3).
  backend::BackendPool backends2_;
  backend::BackendPool backends3_;
  backend::BackendPool& backends(int protocol) { return protocol == 3 ? backends3_ : backends2_; }
  RequestPool pool_;
  std::shared_ptr<const cluster::ClusterView> view_;
  std::vector<uint16_t> masters_;  // master node indices of view_
  // Per node index of view_, the RESP2 and the RESP3 pool's entry (2 * index + 0 or 1),
  // filled on first use and cleared by set_view (pool entries live as long as the pools).
  std::vector<backend::BackendPool::Node*> view_entries_;
  size_t next_master_ = 0;
  std::deque<Request*> held_;
  std::vector<uint32_t> key_scratch_;
  // split.cpp scratch, reused so splitting a command allocates only its parts' bytes.
  std::vector<cluster::Slot> split_slots_;  // distinct slots, in order of first key
  std::vector<uint32_t> split_group_;       // per key of the command: index into split_slots_
  // split_by_slot's slot -> group map (kSlotCount entries once a command has been split): an
  // entry is current when its stamp is split_stamp_, so nothing is cleared between splits.
  struct SlotGroup {
    uint32_t stamp = 0;
    uint32_t group = 0;
  };
  std::vector<SlotGroup> slot_group_;
  uint32_t split_stamp_ = 0;
  std::vector<std::string_view> splice_;     // per key: its element in a part's raw reply
  std::vector<std::string_view> part_args_;  // split_by_slot: the arguments of the part it builds
  // plan_sends: (master node index, part) of every part, sorted to put a node's parts together.
  std::vector<std::pair<uint16_t, uint32_t>> batch_nodes_;
  std::string scratch_;
  bool shutting_down_ = false;
};

}  // namespace slotgate::router
