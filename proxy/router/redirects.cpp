// Redirects and transient errors: what the router does with a node's reply before the
// client sees it. MOVED/ASK are followed (only to nodes the cluster has confirmed),
// TRYAGAIN/LOADING/CLUSTERDOWN/MASTERDOWN are retried through hold(), a refused
// transaction (EXECABORT after a MOVED while queueing) is sent again, and NOAUTH is
// explained. The words themselves are classified in one place: cluster_signal.*.
#include <fmt/format.h>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/redirect.hpp"
#include "resp/reply_writer.hpp"
#include "router/cluster_signal.hpp"
#include "router/router.hpp"

namespace slotgate::router {

namespace {
// How long a request waits for the refresh that confirms (or not) a redirect to a node the
// view does not know, when no new view arrives earlier (an unchanged one is not published).
constexpr uint64_t kConfirmWaitMs = 500;
}  // namespace

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

// A transaction whose MULTI or queued commands were refused: EXEC answered EXECABORT. If the
// node sent us elsewhere (the slot moved, a failover), the transaction never ran, so it can go
// again to the right node — unless it depended on WATCH, whose guard lived on this connection:
// then it is reported aborted, as Redis reports a WATCH whose keys changed. (These errors come
// from Redis queueing the commands, never from a script: scripts run at EXEC.) True when it was
// sent again (or answered) here; false when EXEC's reply is the client's answer.
bool Router::resend_refused_transaction(Request* req, std::string_view frame,
                                        backend::BackendConnection& from) {
  std::string err = std::move(req->absorbed_error);
  req->absorbed_error.clear();
  ClusterSignal signal = signal_of(err);
  if (single_node() && is_redirect(signal)) signal = ClusterSignal::None;
  if (is_redirect(signal) || is_transient(signal)) {
    if (req->dedicated != nullptr) {
      std::string null_reply;
      resp::append_null_array(null_reply, req->protocol);
      complete(req, null_reply);
      return true;
    }
    req->absorb_replies = req->absorb_count;
    if (is_redirect(signal) && redirect(req, err, from.address())) return true;
    if (is_transient(signal)) {
      retry_later(req, frame, "transaction refused by a node in transition");
      return true;
    }
  }
  return false;
}

void Router::observe_node_latency(Request* req, backend::BackendConnection& from) {
  if (req->sent_ns == 0) return;
  metrics::BackendStats& node = node_stats(from);
  const double seconds = static_cast<double>(loop_.now_ns() - req->sent_ns) / 1e9;
  node.latency.observe(seconds);
  // read_from nearest compares nodes by this (an exponentially weighted mean).
  node.recent_latency_s =
      node.recent_latency_s == 0 ? seconds : 0.9 * node.recent_latency_s + 0.1 * seconds;
  req->sent_ns = 0;
}

void Router::on_reply(Request* req, std::string_view frame, const resp::FrameScanner& info,
                      backend::BackendConnection& from) {
  observe_node_latency(req, from);
  req->target.clear();
  bool asked = req->asking;
  req->asking = false;
  if (!req->absorbed_error.empty() && resend_refused_transaction(req, frame, from)) return;
  // What a script or function returns is the client's data, errors included: it may
  // have written before returning "-MOVED ..." or "-TRYAGAIN ...", so it is never
  // taken for a cluster signal (which would re-run it, or connect where it says).
  const bool user_data = req->spec != nullptr && req->spec->runs_user_code();
  if (info.is_error() && !user_data) {
    std::string_view text = info.error_text();
    if (req->spec != nullptr && req->spec->has(commands::kBlocking) &&
        (unblocked_by_role_change(text) || (req->rehoming && unblocked_on_request(text)))) {
      // BLPOP & co. blocked on a master that a failover (or REPLICAOF) demoted, or on one the
      // slot's master moved away from, whose block slotgate ended (rehoming): it ended having
      // served nothing, so the command runs again on the slot's master now, and the client
      // keeps waiting as if nothing happened. Its own wait starts over there, with a fresh
      // failover_hold for finding that master (it may have blocked for hours already).
      req->rehoming = false;
      stats_.unblocked_by_failover++;
      req->deadline_ms = 0;
      retry_later(req, frame, "the master was demoted while the command was blocked");
      return;
    }
    switch (ClusterSignal signal = signal_of(text)) {
      case ClusterSignal::Moved:
      case ClusterSignal::Ask:
        // A standalone Redis never redirects; such a reply cannot be confirmed: it is data.
        if (!single_node() && redirect(req, text, from.address())) return;
        break;
      case ClusterSignal::TryAgain:
      case ClusterSignal::Loading:
      case ClusterSignal::ClusterDown:
      case ClusterSignal::MasterDown:
      case ClusterSignal::ReadOnly:
        // Transient states (a multi-key slot resharding, a node loading, a failover, a demoted
        // master's READONLY): the command did not run, so it is retried until the deadline.
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

}  // namespace slotgate::router
