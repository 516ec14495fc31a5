// Holds: hold() is the only way a request waits — for a topology, for its slot to get
// a reachable master (failover hold), for the cluster to confirm a redirect, or for a
// node that said TRYAGAIN/LOADING/CLUSTERDOWN/MASTERDOWN to be asked again. Every wait
// is bounded by the request's deadline (failover_hold) and by hold_queue_limit; held
// requests are sent again on each new view and each tick.
#include <fmt/format.h>

#include <algorithm>

#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "router/router.hpp"

namespace slotgate::router {

void Router::hold(Request* req, std::string_view why) {
  if (!view_) {
    if (std::string fatal = feedback_.fatal_error(); !fatal.empty()) {
      fail_request(req, fatal);
      return;
    }
  }
  uint64_t now = loop_.now_ms();
  if (req->held_since_ms == 0) {
    req->held_since_ms = now;
    stats_.held_requests++;
  }
  if (req->deadline_ms == 0) req->deadline_ms = now + options_.failover_hold_ms;
  if (now >= req->deadline_ms || held_.size() >= options_.hold_queue_limit) {
    stats_.held_expired++;
    double waited = static_cast<double>(now - req->held_since_ms) / 1000.0;
    std::string msg =
        req->keyed ? fmt::format("CLUSTERDOWN slot {} has no reachable master ({}); waited {:.1f}s",
                                 req->slot, why, waited)
                   : fmt::format("CLUSTERDOWN the cluster is not reachable ({}); waited {:.1f}s",
                                 why, waited);
    if (held_.size() >= options_.hold_queue_limit && now < req->deadline_ms) {
      msg =
          fmt::format("CLUSTERDOWN too many requests waiting for a master ({} held)", held_.size());
    }
    fail_request(req, msg);
    return;
  }
  req->state = RequestState::Waiting;
  held_.push_back(req);
}

void Router::retry_later(Request* req, std::string_view node_reply, std::string_view why) {
  // Through hold(), like every wait: the deadline and hold_queue_limit apply to retries too.
  // Past the deadline the client gets the node's own answer.
  uint64_t now = loop_.now_ms();
  if (req->deadline_ms == 0) req->deadline_ms = now + options_.failover_hold_ms;
  if (now >= req->deadline_ms) {
    complete(req, node_reply);
    return;
  }
  stats_.retries++;
  hold(req, why);
}

void Router::retry_held() {
  if (held_.empty()) return;
  std::deque<Request*> batch;
  batch.swap(held_);
  for (Request* r : batch) {
    bool gone = r->orphaned || (r->parent != nullptr && r->parent->orphaned);
    if (gone) {
      complete(r, "-ERR client gone\r\n");
      continue;
    }
    if (r->confirm_until_ms != 0) {
      // Waiting for the cluster to confirm a redirect: the next view, or the refresh's time.
      bool new_view = view_ && view_->version() != r->confirm_view;
      if (!new_view && loop_.now_ms() < r->confirm_until_ms) {
        held_.push_back(r);
        continue;
      }
      r->confirm_until_ms = 0;
    }
    dispatch(r);
  }
}

uint64_t Router::oldest_held_ms() const {
  const uint64_t now = loop_.now_ms();
  uint64_t oldest = 0;
  for (const Request* r : held_) {
    if (r->held_since_ms != 0 && now > r->held_since_ms)
      oldest = std::max(oldest, now - r->held_since_ms);
  }
  return oldest;
}

}  // namespace slotgate::router
