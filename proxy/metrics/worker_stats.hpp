// metrics::WorkerStats: the counters one worker thread keeps about its own
// traffic. Only that worker writes them, so counting is a plain increment — no
// atomics, no shared cache lines, no prometheus-cpp call per request. About once
// a second the worker calls Metrics::publish(stats), which adds the difference
// since the previous publish to the shared registry.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "metrics/command_names.hpp"
#include "metrics/latency_histogram.hpp"

namespace slotgate::metrics {

enum class CommandResult : uint8_t { Ok, Error, Refused };
inline constexpr size_t kCommandResults = 3;
std::string_view to_string(CommandResult result);  // "ok", "error", "refused"

struct CommandStats {
  std::array<uint64_t, kCommandResults> by_result{};  // indexed by CommandResult
  LatencyHistogram latency;
  bool operator==(const CommandStats&) const = default;
};

struct BackendStats {
  uint64_t requests = 0;
  uint64_t reconnects = 0;
  int64_t connections_open = 0;  // ready connections to the node now (this worker's)
  // From a request being sent to the node until its reply
  // (slotgate_backend_request_duration_seconds).
  LatencyHistogram latency;
  double recent_latency_s = 0;  // weighted mean of the latest latencies (read_from nearest)
  // Error kinds are a handful of fixed words ("timeout", "connection", ...): a
  // short vector searched linearly beats a map and allocates once per kind.
  std::vector<std::pair<std::string, uint64_t>> errors;
};

// Heterogeneous lookup, so counting for a node address given as a string_view
// does not build a std::string once the node is known.
struct AddressHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using BackendStatsMap = std::unordered_map<std::string, BackendStats, AddressHash, std::equal_to<>>;

// The counter values; WorkerStats adds the counting methods and the last
// published copy of these values.
struct StatsCounters {
  uint64_t connections_accepted = 0, connections_rejected = 0;
  int64_t connections_open = 0;
  // Bytes this worker's clients hold in buffers (gauge), and clients closed because all
  // clients together went over clients.max_memory.
  int64_t client_memory = 0;
  uint64_t client_evictions = 0;
  // NOPERM answers (ACL rules), and AUTH attempts refused unchecked (too many failures from
  // the address).
  uint64_t acl_denials = 0, auth_throttled = 0;
  uint64_t moved = 0, ask = 0, tryagain = 0, clusterdown = 0, loading = 0;
  // Blocked commands a demoted master ended with -UNBLOCKED, run again on the new master.
  uint64_t unblocked_by_failover = 0;
  uint64_t redirects_unconfirmed = 0;  // MOVED/ASK to a node the view did not know
  uint64_t held_requests = 0, held_expired = 0;
  LatencyHistogram held_time;
  uint64_t fanout_subrequests = 0, retries = 0, outcome_unknown = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  // Gauges the worker sets just before it publishes (from its router, once a second).
  int64_t held_now = 0;
  double held_oldest_seconds = 0;
  std::vector<CommandStats> commands = std::vector<CommandStats>(command_slots());
  BackendStatsMap backends;
  // TLS handshakes of clients (side "client"); failures by "side reason" (a handful of fixed
  // words, see net::TlsChannel). Failed handshakes with nodes are backend connection failures.
  uint64_t tls_handshakes_client = 0;
  std::vector<std::pair<std::string, uint64_t>> tls_failures;
};

class Metrics;

class WorkerStats : public StatsCounters {
 public:
  int worker = 0;  // the worker's index: the label of its per-worker gauges

  // index: CommandSpec::metrics_index, or other_command() for what is no Redis command.
  void count_command(size_t index, CommandResult result, double seconds);
  // By name, in any case (anything not a Redis command is counted as "other"). Does not
  // allocate.
  void count_command(std::string_view name, CommandResult result, double seconds) {
    count_command(command_index(name), result, seconds);
  }
  // Allocate only the first time an address (or error kind) is seen.
  void count_backend_request(std::string_view address);
  void count_backend_error(std::string_view address, std::string_view kind);
  void count_backend_reconnect(std::string_view address);
  // A connection that was ready (counted by count_backend_reconnect) is closed.
  void count_backend_connection_closed(std::string_view address);

  const CommandStats& command(std::string_view name) const;
  // side: "client" or "backend"; reason: net::TlsChannel::failure_class() or "timeout".
  void count_tls_failure(std::string_view side, std::string_view reason);

  // The node's counters, created the first time. Entries are never removed, so the
  // reference stays valid for the worker's life: the router keeps it per connection
  // and counts each request through it without a lookup.
  BackendStats& backend(std::string_view address);

 private:
  friend class Metrics;
  StatsCounters published_;  // the values at the last Metrics::publish
};

}  // namespace slotgate::metrics
