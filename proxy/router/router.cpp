// What every routing kind shares: submit() picks the kind of a command (keyed, split,
// broadcast, SCAN) from the command table and its keys; complete()/fail_request() end a
// request (a part goes back to its parent); the backend events (replies, lost
// connections) come in here; tick() drives pools and holds. See router.hpp for the
// files of each kind.
#include "router/router.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/reply_writer.hpp"
#include "router/session_routing.hpp"

namespace slotgate::router {

namespace {
constexpr int kMaxReadRetries = 3;
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
  view_entries_.assign(view_ ? 2 * view_->nodes().size() : 0, nullptr);
  index_replicas();
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
  if (spec.routing == commands::Routing::Scan && !single_node()) {
    scan(req, args);
    return;
  }
  if (key_scratch_.empty()) {
    if (spec.routing == commands::Routing::AllMasters) {
      broadcast(req);
      return;
    }
    req->keyed = false;
    if (spec.channels == commands::ChannelArgs::First &&
        spec.routing == commands::Routing::AnyNode) {
      // PUBLISH (SPUBLISH goes to its channel's slot): any node would deliver it cluster-wide,
      // but it answers with the receivers on the node that ran it: use the master slotgate's
      // own subscribers listen on, so the count includes them.
      req->keyed = true;
      req->slot = kSubscriptionSlot;
    }
    dispatch(req);
    return;
  }
  cluster::Slot slot = cluster::key_slot(args[key_scratch_[0]]);
  // A standalone Redis holds every key: the command goes as it is, as to a plain Redis.
  bool one_slot = true;
  for (size_t i = 1; i < key_scratch_.size() && !single_node(); ++i) {
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

void Router::tick() {
  for (auto* pool : {&backends2_, &backends3_}) {
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
  pool_.answer(req, reply);
}

void Router::abandon(Request* req) {
  pool_.abandon(req);
}

metrics::BackendStats& Router::node_stats(backend::BackendConnection& conn) {
  if (conn.stats() == nullptr) conn.set_stats(&stats_.backend(conn.address()));
  return *conn.stats();
}

void Router::on_backend_reply(backend::Call* call, std::string_view frame,
                              const resp::FrameScanner& info, backend::BackendConnection& from) {
  // Every Call this router sends is a Request (dispatch).
  Request* req = static_cast<Request*>(call);
  if (req->batch_size > 0) {
    on_batch_reply(req, frame, info, from);
    return;
  }
  if (req->absorb_replies > 0) {
    absorb_reply(req, info);
    return;
  }
  on_reply(req, frame, info, from);
}

void Router::absorb_reply(Request* req, const resp::FrameScanner& info) {
  // MULTI's +OK and the +QUEUED of each queued command: the request stays at the
  // front of the connection's FIFO until EXEC's reply, remembering the first error.
  req->absorb_replies--;
  if (info.is_error() && req->absorbed_error.empty()) req->absorbed_error.assign(info.error_text());
}

void Router::on_backend_lost(backend::Call* call, Loss loss, std::string_view why) {
  Request* req = static_cast<Request*>(call);
  if (req->batch_size > 0) {
    on_batch_lost(req, loss, why);
    return;
  }
  std::string address = req->target;
  req->target.clear();
  req->asking = false;
  req->rehoming = false;  // the block it was to end is gone with the connection
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
  if (std::string_view tls = conn.tls_failure_class(); !tls.empty()) {
    // A node whose certificate slotgate refuses (or that refuses slotgate's): its own kind,
    // so a CA mix-up is not read as a network problem.
    stats_.count_backend_error(conn.address(), "tls");
    stats_.count_tls_failure("node", tls);
  } else {
    stats_.count_backend_error(conn.address(), auth_failed ? "auth" : "connection");
  }
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
