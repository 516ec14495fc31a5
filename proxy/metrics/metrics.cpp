#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <vector>

namespace slotgate::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr size_t kSlots = 16384;

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {kLatencyBuckets.begin(), kLatencyBuckets.end()};
}

void add(prometheus::Family<prometheus::Counter>& family, const prometheus::Labels& labels,
         uint64_t now, uint64_t before) {
  if (now > before) family.Add(labels).Increment(static_cast<double>(now - before));
}

void add(prometheus::Family<prometheus::Counter>& family, uint64_t now, uint64_t before) {
  add(family, {}, now, before);
}

void add(prometheus::Family<prometheus::Histogram>& family, const prometheus::Labels& labels,
         const LatencyHistogram& now, const LatencyHistogram& before) {
  if (now == before) return;
  std::vector<double> increments(kBuckets + 1);
  for (size_t i = 0; i <= kBuckets; ++i)
    increments[i] = static_cast<double>(now.counts[i] - before.counts[i]);
  family.Add(labels, latency_buckets())
      .ObserveMultiple(increments, now.sum_seconds - before.sum_seconds);
}

}  // namespace

Metrics::Metrics(std::string_view version)
    : client_connections_(BuildGauge()
                              .Name("slotgate_client_connections")
                              .Help("Client connections open now")
                              .Register(registry_)),
      client_connections_limit_(BuildGauge()
                                    .Name("slotgate_client_connections_limit")
                                    .Help("clients.max_clients: connections beyond it are refused")
                                    .Register(registry_)),
      connections_accepted_(BuildCounter()
                                .Name("slotgate_client_connections_accepted_total")
                                .Help("Client connections accepted")
                                .Register(registry_)),
      connections_rejected_(BuildCounter()
                                .Name("slotgate_client_connections_rejected_total")
                                .Help("Client connections refused (max_clients, draining)")
                                .Register(registry_)),
      client_memory_(BuildGauge()
                         .Name("slotgate_client_memory_bytes")
                         .Help("Bytes all clients hold in query buffers, queued and held replies "
                               "and output buffers (bounded by clients.max_memory)")
                         .Register(registry_)),
      client_evictions_(BuildCounter()
                            .Name("slotgate_client_evictions_total")
                            .Help("Clients closed because all clients together used more than "
                                  "clients.max_memory (the biggest one goes first)")
                            .Register(registry_)),
      acl_denials_(BuildCounter()
                       .Name("slotgate_acl_denials_total")
                       .Help("Commands refused with NOPERM by a user's ACL rules")
                       .Register(registry_)),
      auth_throttled_(BuildCounter()
                          .Name("slotgate_auth_throttled_total")
                          .Help("AUTH attempts refused unchecked: too many failures from the "
                                "client's address")
                          .Register(registry_)),
      client_memory_limit_(BuildGauge()
                               .Name("slotgate_client_memory_limit_bytes")
                               .Help("clients.max_memory in force (auto resolved): above it the "
                                     "client holding the most is closed")
                               .Register(registry_)),
      commands_(BuildCounter()
                    .Name("slotgate_commands_total")
                    .Help("Client commands by command name and result (ok, error, refused)")
                    .Register(registry_)),
      command_duration_(BuildHistogram()
                            .Name("slotgate_command_duration_seconds")
                            .Help("Time from a complete client command to its complete reply")
                            .Register(registry_)),
      backend_requests_(BuildCounter()
                            .Name("slotgate_backend_requests_total")
                            .Help("Requests sent to each cluster node")
                            .Register(registry_)),
      backend_errors_(BuildCounter()
                          .Name("slotgate_backend_errors_total")
                          .Help("Failures talking to each cluster node, by kind")
                          .Register(registry_)),
      backend_reconnects_(BuildCounter()
                              .Name("slotgate_backend_reconnects_total")
                              .Help("Reconnections to each cluster node")
                              .Register(registry_)),
      backend_connections_(BuildGauge()
                               .Name("slotgate_backend_connections")
                               .Help("Connections open now from this slotgate to each cluster node")
                               .Register(registry_)),
      backend_duration_(BuildHistogram()
                            .Name("slotgate_backend_request_duration_seconds")
                            .Help("Time from a request being sent to a cluster node until its "
                                  "reply, per node")
                            .Register(registry_)),
      redirections_(BuildCounter()
                        .Name("slotgate_redirections_total")
                        .Help("MOVED and ASK redirections followed (kind unconfirmed: to a node "
                              "the topology did not list, routed by a refresh instead)")
                        .Register(registry_)),
      cluster_errors_(
          BuildCounter()
              .Name("slotgate_cluster_errors_total")
              .Help("TRYAGAIN, CLUSTERDOWN and LOADING replies seen from the cluster, and "
                    "blocked commands a demoted master ended (UNBLOCKED, run again)")
              .Register(registry_)),
      topology_refreshes_(BuildCounter()
                              .Name("slotgate_topology_refreshes_total")
                              .Help("Topology refreshes by trigger and result")
                              .Register(registry_)),
      view_version_(BuildGauge()
                        .Name("slotgate_topology_view_version")
                        .Help("Version of the slot map in use")
                        .Register(registry_)),
      view_age_(BuildGauge()
                    .Name("slotgate_topology_view_age_seconds")
                    .Help("Seconds since the slot map in use was built (since start before the "
                          "first one)")
                    .Register(registry_)),
      refresh_age_(BuildGauge()
                       .Name("slotgate_topology_refresh_age_seconds")
                       .Help("Seconds since a cluster node last answered a topology refresh "
                             "(since start before the first); the view is only rebuilt when "
                             "the topology changes, so this is the freshness to alert on")
                       .Register(registry_)),
      slots_uncovered_(BuildGauge()
                           .Name("slotgate_slots_uncovered")
                           .Help("Hash slots without a known master")
                           .Register(registry_)),
      cluster_nodes_(BuildGauge()
                         .Name("slotgate_cluster_nodes")
                         .Help("Cluster nodes in the slot map by role")
                         .Register(registry_)),
      held_(BuildCounter()
                .Name("slotgate_requests_held_total")
                .Help("Requests held because their slot had no reachable master")
                .Register(registry_)),
      held_expired_(BuildCounter()
                        .Name("slotgate_requests_held_expired_total")
                        .Help("Held requests that failed after failover_hold or the queue limit")
                        .Register(registry_)),
      hold_time_(BuildHistogram()
                     .Name("slotgate_request_hold_seconds")
                     .Help("Time requests spent held waiting for a master")
                     .Register(registry_)),
      held_now_(BuildGauge()
                    .Name("slotgate_requests_held_now")
                    .Help("Requests held now, waiting for their slot's master")
                    .Register(registry_)),
      held_oldest_(BuildGauge()
                       .Name("slotgate_requests_held_oldest_seconds")
                       .Help("Age of the oldest request held now, per worker (0 = none held)")
                       .Register(registry_)),
      fanout_(BuildCounter()
                  .Name("slotgate_fanout_subrequests_total")
                  .Help("Sub-requests sent for commands split across slots or broadcast")
                  .Register(registry_)),
      retries_(BuildCounter()
                   .Name("slotgate_retries_total")
                   .Help("Requests sent again after a connection loss or TRYAGAIN")
                   .Register(registry_)),
      outcome_unknown_(BuildCounter()
                           .Name("slotgate_outcome_unknown_total")
                           .Help("Writes failed with an unknown outcome (master lost before "
                                 "answering)")
                           .Register(registry_)),
      bytes_received_(BuildCounter()
                          .Name("slotgate_bytes_received_total")
                          .Help("Bytes read from clients")
                          .Register(registry_)),
      bytes_sent_(BuildCounter()
                      .Name("slotgate_bytes_sent_total")
                      .Help("Bytes written to clients")
                      .Register(registry_)),
      draining_(BuildGauge()
                    .Name("slotgate_draining")
                    .Help("1 while shutting down (no new clients accepted)")
                    .Register(registry_)),
      build_info_(BuildGauge()
                      .Name("slotgate_build_info")
                      .Help("Always 1; the version label says which build runs")
                      .Register(registry_)),
      started_ns_(now_ns()) {
  // Series that should exist from the first scrape, so rate() and alerts see 0, not absence.
  client_connections_.Add({});
  connections_accepted_.Add({});
  connections_rejected_.Add({});
  client_memory_.Add({});
  client_evictions_.Add({});
  acl_denials_.Add({});
  auth_throttled_.Add({});
  for (const char* kind : {"moved", "ask", "unconfirmed"}) redirections_.Add({{"kind", kind}});
  for (const char* kind : {"tryagain", "clusterdown", "loading", "unblocked"})
    cluster_errors_.Add({{"kind", kind}});
  view_version_.Add({});
  view_age_.Add({});
  refresh_age_.Add({});
  slots_uncovered_.Add({}).Set(kSlots);
  for (const char* role : {"master", "replica"}) cluster_nodes_.Add({{"role", role}});
  held_.Add({});
  held_expired_.Add({});
  hold_time_.Add({}, latency_buckets());
  held_now_.Add({});
  fanout_.Add({});
  retries_.Add({});
  outcome_unknown_.Add({});
  bytes_received_.Add({});
  bytes_sent_.Add({});
  draining_.Add({});
  build_info_.Add({{"version", std::string(version)}}).Set(1);
}

int64_t Metrics::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Metrics::publish(WorkerStats& stats) {
  StatsCounters& was = stats.published_;
  publish_scalars(stats, was);
  publish_commands(stats, was);
  publish_backends(stats, was);
  publish_tls(stats, was);
}

// Connections, redirections, holds, bytes: add the differences, then remember the values.
void Metrics::publish_scalars(const WorkerStats& stats, StatsCounters& was) {
  if (const int64_t d = stats.connections_open - was.connections_open; d != 0) {
    client_connections_.Add({}).Increment(static_cast<double>(d));
  }
  if (const int64_t d = stats.client_memory - was.client_memory; d != 0) {
    client_memory_.Add({}).Increment(static_cast<double>(d));
  }
  add(client_evictions_, stats.client_evictions, was.client_evictions);
  add(acl_denials_, stats.acl_denials, was.acl_denials);
  add(auth_throttled_, stats.auth_throttled, was.auth_throttled);
  add(connections_accepted_, stats.connections_accepted, was.connections_accepted);
  add(connections_rejected_, stats.connections_rejected, was.connections_rejected);
  add(redirections_, {{"kind", "moved"}}, stats.moved, was.moved);
  add(redirections_, {{"kind", "ask"}}, stats.ask, was.ask);
  add(redirections_, {{"kind", "unconfirmed"}}, stats.redirects_unconfirmed,
      was.redirects_unconfirmed);
  add(cluster_errors_, {{"kind", "tryagain"}}, stats.tryagain, was.tryagain);
  add(cluster_errors_, {{"kind", "clusterdown"}}, stats.clusterdown, was.clusterdown);
  add(cluster_errors_, {{"kind", "loading"}}, stats.loading, was.loading);
  add(cluster_errors_, {{"kind", "unblocked"}}, stats.unblocked_by_failover,
      was.unblocked_by_failover);
  add(held_, stats.held_requests, was.held_requests);
  add(held_expired_, stats.held_expired, was.held_expired);
  add(hold_time_, {}, stats.held_time, was.held_time);
  if (const int64_t d = stats.held_now - was.held_now; d != 0) {
    held_now_.Add({}).Increment(static_cast<double>(d));
  }
  held_oldest_.Add({{"worker", std::to_string(stats.worker)}}).Set(stats.held_oldest_seconds);
  add(fanout_, stats.fanout_subrequests, was.fanout_subrequests);
  add(retries_, stats.retries, was.retries);
  add(outcome_unknown_, stats.outcome_unknown, was.outcome_unknown);
  add(bytes_received_, stats.bytes_in, was.bytes_in);
  add(bytes_sent_, stats.bytes_out, was.bytes_out);

  was.connections_accepted = stats.connections_accepted;
  was.connections_rejected = stats.connections_rejected;
  was.connections_open = stats.connections_open;
  was.client_memory = stats.client_memory;
  was.client_evictions = stats.client_evictions;
  was.acl_denials = stats.acl_denials;
  was.auth_throttled = stats.auth_throttled;
  was.moved = stats.moved;
  was.ask = stats.ask;
  was.redirects_unconfirmed = stats.redirects_unconfirmed;
  was.tryagain = stats.tryagain;
  was.clusterdown = stats.clusterdown;
  was.loading = stats.loading;
  was.unblocked_by_failover = stats.unblocked_by_failover;
  was.held_requests = stats.held_requests;
  was.held_expired = stats.held_expired;
  was.held_time = stats.held_time;
  was.held_now = stats.held_now;
  was.fanout_subrequests = stats.fanout_subrequests;
  was.retries = stats.retries;
  was.outcome_unknown = stats.outcome_unknown;
  was.bytes_in = stats.bytes_in;
  was.bytes_out = stats.bytes_out;
}

// slotgate_commands_total and the command latency, for the commands whose counts moved.
void Metrics::publish_commands(const WorkerStats& stats, StatsCounters& was) {
  for (size_t i = 0; i < command_slots(); ++i) {
    const CommandStats& now = stats.commands[i];
    CommandStats& before = was.commands[i];
    if (now == before) continue;
    const std::string command(command_label(i));
    for (size_t r = 0; r < kCommandResults; ++r) {
      add(commands_,
          {{"command", command}, {"result", std::string(to_string(static_cast<CommandResult>(r)))}},
          now.by_result[r], before.by_result[r]);
    }
    add(command_duration_, {{"command", command}}, now.latency, before.latency);
    before = now;
  }
}

// Per node: requests, reconnects, open connections, latency and errors by kind.
void Metrics::publish_backends(const WorkerStats& stats, StatsCounters& was) {
  for (const auto& [address, now] : stats.backends) {
    auto it = was.backends.find(address);
    if (it == was.backends.end()) it = was.backends.emplace(address, BackendStats{}).first;
    BackendStats& before = it->second;
    add(backend_requests_, {{"node", address}}, now.requests, before.requests);
    add(backend_reconnects_, {{"node", address}}, now.reconnects, before.reconnects);
    if (const int64_t d = now.connections_open - before.connections_open; d != 0) {
      backend_connections_.Add({{"node", address}}).Increment(static_cast<double>(d));
    }
    add(backend_duration_, {{"node", address}}, now.latency, before.latency);
    for (const auto& [kind, count] : now.errors) {
      uint64_t previous = 0;
      for (const auto& [k, c] : before.errors) {
        if (k == kind) previous = c;
      }
      add(backend_errors_, {{"node", address}, {"kind", kind}}, count, previous);
    }
    before = now;
  }
}

void Metrics::topology_refresh(std::string_view trigger, bool ok) {
  topology_refreshes_.Add({{"trigger", std::string(trigger)}, {"result", ok ? "ok" : "error"}})
      .Increment();
  if (ok) refreshed_at_ns_.store(now_ns(), std::memory_order_relaxed);
}

void Metrics::set_view(uint64_t version, size_t slots_covered, size_t masters, size_t replicas) {
  view_version_.Add({}).Set(static_cast<double>(version));
  slots_uncovered_.Add({}).Set(
      static_cast<double>(slots_covered >= kSlots ? 0 : kSlots - slots_covered));
  cluster_nodes_.Add({{"role", "master"}}).Set(static_cast<double>(masters));
  cluster_nodes_.Add({{"role", "replica"}}).Set(static_cast<double>(replicas));
  view_set_at_ns_.store(now_ns(), std::memory_order_relaxed);
}

void Metrics::set_client_limits(uint64_t max_clients, uint64_t max_memory) {
  client_connections_limit_.Add({}).Set(static_cast<double>(max_clients));
  client_memory_limit_.Add({}).Set(static_cast<double>(max_memory));
}

void Metrics::set_draining(bool draining) {
  draining_.Add({}).Set(draining ? 1 : 0);
}

std::vector<prometheus::MetricFamily> Metrics::collect() {
  int64_t set_at = view_set_at_ns_.load(std::memory_order_relaxed);
  // Before the first view the age counts from start, so "never discovered" alerts too.
  if (set_at == 0) set_at = started_ns_;
  const int64_t now = now_ns();
  view_age_.Add({}).Set(static_cast<double>(now - set_at) / 1e9);
  int64_t refreshed_at = refreshed_at_ns_.load(std::memory_order_relaxed);
  if (refreshed_at == 0) refreshed_at = started_ns_;
  refresh_age_.Add({}).Set(static_cast<double>(now - refreshed_at) / 1e9);
  return registry_.Collect();
}

std::string Metrics::render_text() {
  return prometheus::TextSerializer().Serialize(collect());
}

void Metrics::publish_tls(const WorkerStats& stats, StatsCounters& was) {
  add(tls_handshakes_, {{"side", "client"}}, stats.tls_handshakes_client,
      was.tls_handshakes_client);
  was.tls_handshakes_client = stats.tls_handshakes_client;
  for (const auto& [key, n] : stats.tls_failures) {
    uint64_t before = 0;
    for (const auto& [k, m] : was.tls_failures) {
      if (k == key) before = m;
    }
    const size_t space = key.find(' ');
    add(tls_failures_, {{"side", key.substr(0, space)}, {"reason", key.substr(space + 1)}}, n,
        before);
  }
  was.tls_failures = stats.tls_failures;
}

void Metrics::count_node_tls_failure(std::string_view node, std::string_view reason) {
  tls_failures_.Add({{"side", "node"}, {"reason", std::string(reason)}}).Increment();
  backend_errors_.Add({{"node", std::string(node)}, {"kind", "tls"}}).Increment();
}

void Metrics::count_tls_reload(bool ok) {
  tls_reloads_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

}  // namespace slotgate::metrics
