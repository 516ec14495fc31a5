// The keyed side of the router: a request whose keys share one slot (or that any
// master may serve) is forwarded as its bytes are to one node: the forced target
// after MOVED/ASK, the slot's master in the current view, or any reachable master.
// dispatch() is also how every part of a split, broadcast or SCAN reaches its node;
// when no node can take it now, the request waits in hold() (holds.cpp).
#include <fmt/format.h>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "router/router.hpp"

namespace slotgate::router {

const std::string* Router::any_master() {
  if (!view_ || masters_.empty()) return nullptr;
  // Round-robin over masters, skipping those this worker cannot reach right now.
  for (size_t i = 0; i < masters_.size(); ++i) {
    const std::string& addr = view_->node(masters_[next_master_++ % masters_.size()]).address;
    if (!backends2_.is_down(addr) && !backends3_.is_down(addr)) return &addr;
  }
  return nullptr;
}

void Router::dispatch(Request* req) {
  if (shutting_down_) {
    fail_request(req, "ERR slotgate is shutting down");
    return;
  }
  const std::string* address = nullptr;
  if (!req->target.empty()) {
    address = &req->target;
  } else if (!view_) {
    hold(req, "no cluster topology loaded yet");
    return;
  } else if (req->keyed) {
    uint16_t owner = view_->master_of(req->slot);
    if (owner == cluster::ClusterView::kNoNode) {
      feedback_.cluster_degraded();
      hold(req, "no master owns the slot");
      return;
    }
    address = &view_->node(owner).address;
  } else {
    address = any_master();
    if (address == nullptr) {
      hold(req, "no reachable master");
      return;
    }
  }
  backend::BackendPool& pool = backends(req->protocol);
  if (req->dedicated != nullptr && pool.is_down(*address)) {
    // Dedicated connections follow the pool's backoff too, or a blocking command
    // for a dead master would reconnect in a tight loop until the failover.
    feedback_.node_unreachable(*address);
    hold(req, unreachable(pool, *address));
    return;
  }
  if (pool.auth_failed(*address)) {
    fail_request(req,
                 fmt::format("ERR slotgate cannot authenticate to cluster node {}: check "
                             "cluster.username/cluster.password (REDIS_USERNAME/REDIS_PASSWORD)",
                             *address));
    return;
  }
  backend::BackendConnection* conn = nullptr;
  if (req->dedicated != nullptr) {
    conn = req->dedicated->dedicated_connection(*address, req->protocol);
  } else if (req->spec != nullptr && req->spec->may_run_long()) {
    conn = pool.get_lane(*address);
  } else {
    conn = pool.get(*address);
  }
  if (conn == nullptr) {
    feedback_.node_unreachable(*address);
    req->target.clear();
    req->asking = false;
    hold(req, unreachable(pool, *address));
    return;
  }
  metrics::BackendStats& node = node_stats(*conn);
  ++node.requests;
  req->sent_ns = net::Loop::hrtime_ns();
  // MULTI, each queued command and EXEC answer separately; on_backend_reply absorbs all but EXEC's.
  req->replies = 1 + req->absorb_replies;
  req->state = RequestState::Waiting;
  conn->send(req);
}

std::string Router::unreachable(const backend::BackendPool& pool, const std::string& address) {
  // Which node and why (refused, timed out, a name that does not resolve): the
  // client's error is often the first place anyone sees it.
  std::string_view last = pool.last_error(address);
  return last.empty() ? fmt::format("master {} unreachable", address)
                      : fmt::format("master {} unreachable: {}", address, last);
}

}  // namespace slotgate::router
