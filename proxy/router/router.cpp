#include "router/router.hpp"

#include "router/cluster_signal.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>

#include <fmt/format.h>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/redirect.hpp"
#include "resp/reply_writer.hpp"

namespace slotgate::router {

namespace {
constexpr int kMaxReadRetries = 3;
// How long a request waits for the refresh that confirms (or not) a redirect to a node the
// view does not know, when no new view arrives earlier (an unchanged one is not published).
constexpr uint64_t kConfirmWaitMs = 500;
}  // namespace

Router::Router(net::Loop& loop, RouterOptions options, backend::Credentials creds,
               metrics::WorkerStats& stats, cluster::TopologyFeedback& feedback)
    : loop_(loop),
      options_(options),
      creds_(creds),
      stats_(stats),
      feedback_(feedback),
      backends2_(loop, creds, *this,
                 backend::PoolOptions{options.connect_timeout_ms, 100, 1000, 2}),
      backends3_(loop, creds, *this,
                 backend::PoolOptions{options.connect_timeout_ms, 100, 1000, 3}) {
  key_scratch_.reserve(64);
}

Router::~Router() {
  shutdown();
}

void Router::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  backends2_.close_all("slotgate is shutting down");
  backends3_.close_all("slotgate is shutting down");
  while (!held_.empty()) {
    Request* r = held_.front();
    held_.pop_front();
    fail_request(r, "ERR slotgate is shutting down");
  }
}

void Router::set_view(std::shared_ptr<const cluster::ClusterView> view) {
  view_ = std::move(view);
  masters_ = view_ ? view_->master_indices() : std::vector<uint16_t>{};
  scan_order_.clear();
  if (view_) {
    std::vector<int> first_slot(view_->nodes().size(), -1);
    for (int s = 0; s < cluster::kSlotCount; ++s) {
      uint16_t owner = view_->master_of(static_cast<cluster::Slot>(s));
      if (owner != cluster::ClusterView::kNoNode && first_slot[owner] < 0) {
        first_slot[owner] = s;
        scan_order_.push_back(owner);
      }
    }
  }
  retry_held();
}

const std::string* Router::any_master() {
  if (!view_ || masters_.empty()) return nullptr;
  // Round-robin over masters, skipping those this worker cannot reach right now.
  for (size_t i = 0; i < masters_.size(); ++i) {
    const std::string& addr = view_->node(masters_[next_master_++ % masters_.size()]).address;
    if (!backends2_.is_down(addr) && !backends3_.is_down(addr)) return &addr;
  }
  return nullptr;
}

void Router::submit(Request* req, std::span<const std::string_view> args) {
  const commands::CommandSpec& spec = *req->spec;
  req->read_only = spec.has(commands::kReadOnly) && !spec.has(commands::kWrite);
  key_scratch_.clear();
  if (!commands::key_positions(spec, args, key_scratch_,
                               commands::KeySearch::KeysAndShardChannels)) {
    // The arguments are malformed in a way that hides the keys; any master gives
    // the client the exact error Redis would.
    key_scratch_.clear();
  }
  if (spec.routing == commands::Routing::Scan) {
    scan(req, args);
    return;
  }
  if (key_scratch_.empty()) {
    if (spec.routing == commands::Routing::AllMasters) {
      broadcast(req);
      return;
    }
    req->keyed = false;
    if (spec.name == "publish") {
      // Any node would deliver it cluster-wide, but PUBLISH answers with the
      // receivers on the node that ran it: use the master slotgate's own
      // subscribers listen on (the owner of slot 0), so the count includes them.
      req->keyed = true;
      req->slot = 0;
    }
    dispatch(req);
    return;
  }
  cluster::Slot slot = cluster::key_slot(args[key_scratch_[0]]);
  bool one_slot = true;
  for (size_t i = 1; i < key_scratch_.size(); ++i) {
    if (cluster::key_slot(args[key_scratch_[i]]) != slot) {
      one_slot = false;
      break;
    }
  }
  if (one_slot) {
    req->keyed = true;
    req->slot = slot;
    dispatch(req);
    return;
  }
  if (spec.routing == commands::Routing::Split) {
    split_by_slot(req, args, key_scratch_);
    return;
  }
  fail_request(req, "CROSSSLOT Keys in request don't hash to the same slot");
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
  conn->send(req);
}

std::string Router::unreachable(const backend::BackendPool& pool, const std::string& address) {
  // Which node and why (refused, timed out, a name that does not resolve): the
  // client's error is often the first place anyone sees it.
  std::string_view last = pool.last_error(address);
  return last.empty() ? fmt::format("master {} unreachable", address)
                      : fmt::format("master {} unreachable: {}", address, last);
}

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
  req->state = backend::RequestState::Held;
  held_.push_back(req);
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

void Router::tick() {
  for (auto* pool : {&backends2_, &backends3_}) {
    pool->collect();
    pool->check_timeouts(loop_.now_ms(), options_.command_timeout_ms);
    pool->trim_idle_lanes();
  }
  retry_held();
}

void Router::fail_request(Request* req, std::string_view error_text) {
  // Errors are off the hot path; a local buffer keeps re-entrant completion simple.
  std::string reply;
  resp::append_error(reply, error_text);
  complete(req, reply);
}

void Router::complete(Request* req, std::string_view reply) {
  if (req->held_since_ms != 0) {
    stats_.held_time.observe(static_cast<double>(loop_.now_ms() - req->held_since_ms) / 1000.0);
    req->held_since_ms = 0;
  }
  if (req->parent != nullptr) {
    on_part_done(req, reply);
    return;
  }
  if (req->orphaned || req->sink == nullptr) {
    pool_.release(req);
    return;
  }
  req->state = backend::RequestState::Done;
  req->sink->deliver(req, reply);
}

void Router::abandon(Request* req) {
  req->orphaned = true;
  req->sink = nullptr;
  if (req->state == backend::RequestState::Done || req->state == backend::RequestState::Queued) {
    pool_.release(req);
  }
}

bool Router::redirect(Request* req, std::string_view error_text, const std::string& from) {
  auto r = resp::parse_redirect(error_text);
  if (!r) return false;
  if (req->redirects >= options_.max_redirects) {
    fail_request(req, fmt::format("ERR too many cluster redirections for slot {} (last: {})",
                                  r->slot, error_text));
    return true;
  }
  req->redirects++;
  std::string host(r->host);
  if (host.empty()) {
    // Redis sends ":port" when it does not know the node's address: same host as the sender.
    std::string from_host;
    uint16_t from_port = 0;
    cluster::split_address(from, from_host, from_port);
    host = from_host;
  }
  std::string address = cluster::make_address(host, r->port);
  if (!view_ || !view_->find_by_address(address)) {
    // A node the cluster has not told slotgate about. A reply is data until the cluster
    // confirms it, so the named address is never connected to: the known nodes are asked
    // (a refresh) and the request goes where the view they give says.
    stats_.redirects_unconfirmed++;
    feedback_.redirect_unconfirmed(address);
    req->target.clear();
    req->asking = false;
    req->confirm_view = view_ ? view_->version() : 0;
    req->confirm_until_ms = loop_.now_ms() + kConfirmWaitMs;
    hold(req, fmt::format("waiting for the cluster to confirm a redirect to {}", address));
    return true;
  }
  req->target = std::move(address);
  if (r->ask) {
    // ASK: this one command goes to the importing node, preceded by ASKING on
    // the same connection; the slot map is not changed.
    stats_.ask++;
    req->asking = true;
  } else {
    stats_.moved++;
    req->asking = false;
    feedback_.slot_moved(r->slot, host, r->port);
  }
  dispatch(req);
  return true;
}

metrics::BackendStats& Router::node_stats(backend::BackendConnection& conn) {
  if (conn.stats() == nullptr) conn.set_stats(&stats_.backend(conn.address()));
  return *conn.stats();
}

void Router::on_backend_reply(Request* req, std::string_view frame, const resp::FrameScanner& info,
                              backend::BackendConnection& from) {
  if (req->sent_ns != 0) {
    node_stats(from).latency.observe(static_cast<double>(net::Loop::hrtime_ns() - req->sent_ns) /
                                     1e9);
    req->sent_ns = 0;
  }
  req->target.clear();
  bool asked = req->asking;
  req->asking = false;
  if (!req->absorbed_error.empty()) {
    // A transaction whose MULTI or queued commands were refused: EXEC answered
    // EXECABORT. If the node sent us elsewhere (the slot moved, a failover), the
    // transaction never ran, so it can go again to the right node — unless it
    // depended on WATCH, whose guard lived on this connection: then it is
    // reported aborted, as Redis reports a WATCH whose keys changed. (These errors
    // come from Redis queueing the commands, never from a script: scripts run at EXEC.)
    std::string err = std::move(req->absorbed_error);
    req->absorbed_error.clear();
    ClusterSignal signal = signal_of(err);
    if (is_redirect(signal) || is_transient(signal)) {
      if (req->dedicated != nullptr) {
        std::string null_reply;
        resp::append_null_array(null_reply, req->protocol);
        complete(req, null_reply);
        return;
      }
      req->absorb_replies = req->absorb_count;
      if (is_redirect(signal) && redirect(req, err, from.address())) return;
      if (is_transient(signal)) {
        retry_later(req, frame, "transaction refused by a node in transition");
        return;
      }
    }
  }
  // What a script or function returns is the client's data, errors included: it may
  // have written before returning "-MOVED ..." or "-TRYAGAIN ...", so it is never
  // taken for a cluster signal (which would re-run it, or connect where it says).
  const bool user_data = req->spec != nullptr && req->spec->runs_user_code();
  if (info.is_error() && !user_data) {
    std::string_view text = info.error_text();
    switch (ClusterSignal signal = signal_of(text)) {
      case ClusterSignal::Moved:
      case ClusterSignal::Ask:
        if (redirect(req, text, from.address())) return;
        break;
      case ClusterSignal::TryAgain:
      case ClusterSignal::Loading:
      case ClusterSignal::ClusterDown:
      case ClusterSignal::MasterDown:
        // Transient cluster states (resharding of a multi-key slot, a node loading
        // its data, a failover in progress): the command was not executed, so it
        // is retried until the request's deadline.
        if (signal == ClusterSignal::TryAgain) {
          stats_.tryagain++;
        } else if (signal == ClusterSignal::Loading) {
          stats_.loading++;
        } else {
          stats_.clusterdown++;
          feedback_.cluster_degraded();
        }
        if (asked) req->target.clear();
        retry_later(req, frame, "the node asked to try again later");
        return;
      case ClusterSignal::NoAuth:
        fail_request(req, fmt::format("ERR cluster node {} requires authentication: set "
                                      "cluster.password (or REDIS_PASSWORD) for slotgate",
                                      from.address()));
        return;
      case ClusterSignal::None:
        break;
    }
  }
  complete(req, frame);
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

void Router::on_backend_lost(Request* req, Loss loss, std::string_view why) {
  std::string address = req->target;
  req->target.clear();
  req->asking = false;
  bool gone = req->orphaned || (req->parent != nullptr && req->parent->orphaned);
  if (gone) {
    complete(req, "-ERR client gone\r\n");
    return;
  }
  switch (loss) {
    case Loss::AuthFailed:
      fail_request(req,
                   fmt::format("ERR slotgate cannot authenticate to the cluster ({}): check "
                               "cluster.username/cluster.password (REDIS_USERNAME/REDIS_PASSWORD)",
                               why));
      return;
    case Loss::Unwritten:
      // Never left slotgate: route it again (to a new master, or held until there is one).
      dispatch(req);
      return;
    case Loss::TimedOut:
      // Only this request waited on its lane: nobody else's request is failed with it.
      stats_.outcome_unknown++;
      fail_request(req, fmt::format("ERR no reply within command_timeout ({} ms); the command may "
                                    "still be running on the node, so its outcome is unknown",
                                    options_.command_timeout_ms));
      return;
    case Loss::Written:
      if (req->read_only && req->retries < kMaxReadRetries) {
        req->retries++;
        stats_.retries++;
        dispatch(req);
        return;
      }
      stats_.outcome_unknown++;
      fail_request(req, fmt::format("ERR outcome unknown: the connection to the master was lost "
                                    "({}) before it answered; the command may or may not have been "
                                    "applied",
                                    why));
      return;
  }
}

std::unique_ptr<backend::BackendConnection> Router::open_dedicated(const std::string& address,
                                                                   int protocol) {
  std::string host;
  uint16_t port = 0;
  if (!cluster::split_address(address, host, port)) return nullptr;
  auto conn = std::make_unique<backend::BackendConnection>(
      loop_, address, host, port, creds_, *this, options_.connect_timeout_ms, protocol);
  conn->mark_dedicated();
  return conn;
}

void Router::on_backend_closed(backend::BackendConnection& conn, std::string_view why,
                               bool auth_failed) {
  if (conn.ever_ready()) stats_.count_backend_connection_closed(conn.address());
  if (conn.closed_by_owner()) return;
  backend::BackendPool& pool = backends(conn.protocol());
  if (conn.timed_out()) {
    // A lane whose slow command passed command_timeout: the node is busy, not gone.
    stats_.count_backend_error(conn.address(), "timeout");
    spdlog::debug(
        "cluster node {}: a command that may run long got no reply within "
        "command_timeout; its own connection is closed",
        conn.address());
    pool.closed(conn, conn.ever_ready(), false, why);
    return;
  }
  stats_.count_backend_error(conn.address(), auth_failed ? "auth" : "connection");
  if (!shutting_down_) {
    // Once per event: an established connection that drops is news, and so is the
    // first failed attempt after a good connection (or ever: a node known by a
    // name that does not resolve); the retries that follow while the node is down
    // are not (debug only).
    if (auth_failed) {
      spdlog::error("cluster node {}: {}", conn.address(), why);
    } else if (conn.ever_ready()) {
      spdlog::warn("connection to cluster node {} lost: {}", conn.address(), why);
    } else if (pool.failures(conn.address()) == 0) {
      spdlog::warn("cannot connect to cluster node {}: {} (retrying with backoff)", conn.address(),
                   why);
    } else {
      spdlog::debug("cannot connect to cluster node {}: {}", conn.address(), why);
    }
    feedback_.node_unreachable(conn.address());
  }
  if (conn.dedicated_owner_conn()) {
    if (!conn.ever_ready() && !auth_failed) pool.connect_failed(conn.address(), why);
  } else {
    pool.closed(conn, conn.ever_ready(), auth_failed, why);
  }
}

void Router::on_backend_ready(backend::BackendConnection& conn) {
  if (conn.lane()) return;  // a lane opening is not a reconnect
  stats_.count_backend_reconnect(conn.address());
}

}  // namespace slotgate::router
