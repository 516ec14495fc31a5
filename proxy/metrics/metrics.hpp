// metrics::Metrics: the process-wide Prometheus registry (prometheus-cpp core)
// and every slotgate_* metric family. Workers feed it through publish() with
// the deltas of their own WorkerStats; the control plane (topology refresh,
// drain) sets its values directly; the admin server renders it as text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/worker_stats.hpp"

namespace slotgate::metrics {

class Metrics {
 public:
  explicit Metrics(std::string_view version = "unknown");
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return registry_; }

  // Adds what changed in stats since the last publish of this stats object. Call
  // it on the thread that owns stats (the worker), e.g. from a 1 s timer and once
  // more when the worker stops. Thread-safe against other workers and render_text().
  void publish(WorkerStats& stats);

  // Control-plane values (not on the request path).
  // trigger: "periodic", "moved", "connection_lost", "uncovered", "startup", ...
  void topology_refresh(std::string_view trigger, bool ok);
  void set_view(uint64_t version, size_t slots_covered, size_t masters, size_t replicas);
  void set_draining(bool draining);
  // clients.max_clients and the resolved clients.max_memory, at start and on SIGHUP.
  void set_client_limits(uint64_t max_clients, uint64_t max_memory);
  // A changed certificate could not be loaded (the previous one stays in use).
  void count_tls_reload(bool ok);
  // A TLS handshake with a cluster node failed outside a worker (topology connections).
  void count_node_tls_failure(std::string_view node, std::string_view reason);

  // Prometheus text exposition format 0.0.4.
  std::string render_text();
  // The same values as structured families (for the admin page's JSON).
  std::vector<prometheus::MetricFamily> collect();

 private:
  void publish_scalars(const WorkerStats& stats, StatsCounters& was);
  void publish_commands(const WorkerStats& stats, StatsCounters& was);
  void publish_backends(const WorkerStats& stats, StatsCounters& was);
  void publish_tls(const WorkerStats& stats, StatsCounters& was);
  static int64_t now_ns();

  prometheus::Registry registry_;
  prometheus::Family<prometheus::Gauge>& client_connections_;
  prometheus::Family<prometheus::Gauge>& client_connections_limit_;
  prometheus::Family<prometheus::Counter>& connections_accepted_;
  prometheus::Family<prometheus::Counter>& connections_rejected_;
  prometheus::Family<prometheus::Gauge>& client_memory_;
  prometheus::Family<prometheus::Counter>& client_evictions_;
  prometheus::Family<prometheus::Counter>& acl_denials_;
  prometheus::Family<prometheus::Counter>& auth_throttled_;
  prometheus::Family<prometheus::Gauge>& client_memory_limit_;
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Family<prometheus::Histogram>& command_duration_;
  prometheus::Family<prometheus::Counter>& backend_requests_;
  prometheus::Family<prometheus::Counter>& backend_errors_;
  prometheus::Family<prometheus::Counter>& backend_reconnects_;
  prometheus::Family<prometheus::Gauge>& backend_connections_;
  prometheus::Family<prometheus::Histogram>& backend_duration_;
  prometheus::Family<prometheus::Counter>& redirections_;
  prometheus::Family<prometheus::Counter>& cluster_errors_;
  prometheus::Family<prometheus::Counter>& topology_refreshes_;
  prometheus::Family<prometheus::Gauge>& view_version_;
  prometheus::Family<prometheus::Gauge>& view_age_;
  prometheus::Family<prometheus::Gauge>& refresh_age_;
  prometheus::Family<prometheus::Gauge>& slots_uncovered_;
  prometheus::Family<prometheus::Gauge>& cluster_nodes_;
  prometheus::Family<prometheus::Counter>& held_;
  prometheus::Family<prometheus::Counter>& held_expired_;
  prometheus::Family<prometheus::Histogram>& hold_time_;
  prometheus::Family<prometheus::Gauge>& held_now_;
  prometheus::Family<prometheus::Gauge>& held_oldest_;
  prometheus::Family<prometheus::Counter>& fanout_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& outcome_unknown_;
  prometheus::Family<prometheus::Counter>& bytes_received_;
  prometheus::Family<prometheus::Counter>& bytes_sent_;
  prometheus::Family<prometheus::Gauge>& draining_;
  prometheus::Family<prometheus::Gauge>& build_info_;

  // When the current view was set (steady clock, ns); the age is computed at
  // render time so a proxy stuck with an old view shows a growing number.
  const int64_t started_ns_;
  std::atomic<int64_t> view_set_at_ns_{0};   // 0 = no view yet
  std::atomic<int64_t> refreshed_at_ns_{0};  // last successful refresh; 0 = none yet
  prometheus::Family<prometheus::Counter>& tls_handshakes_ =
      prometheus::BuildCounter()
          .Name("slotgate_tls_handshakes_total")
          .Help("TLS handshakes completed, by side (client: clients -> slotgate)")
          .Register(registry_);
  prometheus::Family<prometheus::Counter>& tls_failures_ =
      prometheus::BuildCounter()
          .Name("slotgate_tls_handshake_failures_total")
          .Help("TLS handshakes that failed, by side and reason")
          .Register(registry_);
  prometheus::Family<prometheus::Counter>& tls_reloads_ =
      prometheus::BuildCounter()
          .Name("slotgate_tls_certificate_reloads_total")
          .Help("Certificate reloads (SIGHUP or changed files), by result")
          .Register(registry_);
};

}  // namespace slotgate::metrics
