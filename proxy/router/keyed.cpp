// The keyed side of the router: a request whose keys share one slot (or that any
// master may serve) is forwarded as its bytes are to one node: the forced target
// after MOVED/ASK, the slot's master in the current view, or any reachable master.
// dispatch() is also how every part of a split, broadcast or SCAN reaches its node;
// when no node can take it now, the request waits in hold() (holds.cpp).
#include <fmt/format.h>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/reply_writer.hpp"
#include "router/router.hpp"

namespace slotgate::router {

namespace {
constexpr std::string_view kNoReplica =
    "ERR no replica of the slot's master can serve reads now (read_from: replica): replicas are "
    "down, not in sync, or lag more than max_replica_lag";
}  // namespace

uint16_t Router::any_master() {
  if (!view_ || masters_.empty()) return cluster::ClusterView::kNoNode;
  // Round-robin over masters, skipping those this worker cannot reach right now.
  for (size_t i = 0; i < masters_.size(); ++i) {
    const uint16_t index = masters_[next_master_++ % masters_.size()];
    const std::string& addr = view_->node(index).address;
    if (!backends2_.is_down(addr) && !backends3_.is_down(addr)) return index;
  }
  return cluster::ClusterView::kNoNode;
}

backend::BackendPool::Node& Router::pool_entry(int protocol, uint16_t view_node,
                                               const std::string& address) {
  backend::BackendPool& pool = backends(protocol);
  if (view_node == cluster::ClusterView::kNoNode) return pool.node(address);
  backend::BackendPool::Node*& entry = view_entries_[2 * size_t{view_node} + (protocol == 3)];
  if (entry == nullptr) entry = &pool.node(address);
  return *entry;
}

void Router::dispatch(Request* req) {
  if (shutting_down_) {
    fail_request(req, "ERR slotgate is shutting down");
    return;
  }
  const std::string* address = nullptr;
  uint16_t view_node = cluster::ClusterView::kNoNode;  // set when the view picked the node
  if (!req->target.empty()) {
    address = &req->target;
  } else if (!view_) {
    hold(req, "no cluster topology loaded yet");
    return;
  } else if (req->keyed) {
    view_node = view_->master_of(req->slot);
    if (view_node == cluster::ClusterView::kNoNode) {
      feedback_.cluster_degraded();
      hold(req, "no master owns the slot");
      return;
    }
    view_node = read_node(req, view_node);
    if (view_node == cluster::ClusterView::kNoNode) {
      fail_request(req, kNoReplica);
      return;
    }
    address = &view_->node(view_node).address;
  } else {
    view_node = any_master();
    if (view_node == cluster::ClusterView::kNoNode) {
      hold(req, "no reachable master");
      return;
    }
    address = &view_->node(view_node).address;
  }
  backend::BackendPool& pool = backends(req->protocol);
  if (req->dedicated != nullptr && pool.is_down(*address)) {
    // Dedicated connections follow the pool's backoff too, or a blocking command
    // for a dead master would reconnect in a tight loop until the failover.
    feedback_.node_unreachable(*address);
    hold(req, unreachable(pool, *address));
    return;
  }
  // Dedicated connections are not the pool's: they need no entry of it.
  backend::BackendPool::Node* entry =
      req->dedicated == nullptr ? &pool_entry(req->protocol, view_node, *address) : nullptr;
  if (entry != nullptr ? pool.auth_failed(*entry) : pool.auth_failed(*address)) {
    fail_request(req,
                 fmt::format("ERR slotgate cannot authenticate to cluster node {}: check "
                             "cluster.username/cluster.password (REDIS_USERNAME/REDIS_PASSWORD)",
                             *address));
    return;
  }
  // A replica serves reads of its slots only after READONLY on the connection (cluster mode).
  if (entry != nullptr && view_node != cluster::ClusterView::kNoNode && !view_->single_node() &&
      view_->node(view_node).role == cluster::Role::Replica)
    pool.want_readonly(*entry);
  backend::BackendConnection* conn = nullptr;
  if (req->dedicated != nullptr) {
    conn = req->dedicated->dedicated_connection(*address, req->protocol);
  } else if (req->spec != nullptr && req->spec->may_run_long()) {
    conn = pool.get_lane(*address);
  } else {
    conn = pool.get(*entry);
  }
  if (conn == nullptr) {
    feedback_.node_unreachable(*address);
    req->target.clear();
    req->asking = false;
    hold(req, unreachable(pool, *address));
    return;
  }
  metrics::BackendStats& node = node_stats(*conn);
  node.requests += req->batch_size > 0 ? req->batch_size : 1;  // commands: a batch's parts each
  req->sent_ns = loop_.now_ns();
  // MULTI, each queued command and EXEC answer separately; on_backend_reply absorbs all but EXEC's.
  // A batch's parts answer one by one (on_batch_reply).
  req->replies = req->batch_size > 0 ? req->batch_size : 1 + req->absorb_replies;
  req->state = RequestState::Waiting;
  conn->send(req);
}

void Router::unblock_on_node(const std::string& address, int64_t client_id) {
  Request* req = pool_.acquire();  // no sink: released when answered
  req->target = address;
  const std::string id = std::to_string(client_id);
  const std::string_view argv[] = {"CLIENT", "UNBLOCK", id, "ERROR"};
  resp::append_command(req->wire, argv);
  dispatch(req);
}

std::string Router::unreachable(const backend::BackendPool& pool, const std::string& address) {
  // Which node and why (refused, timed out, a name that does not resolve): the
  // client's error is often the first place anyone sees it.
  std::string_view last = pool.last_error(address);
  return last.empty() ? fmt::format("master {} unreachable", address)
                      : fmt::format("master {} unreachable: {}", address, last);
}

}  // namespace slotgate::router
