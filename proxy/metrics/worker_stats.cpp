#include "metrics/worker_stats.hpp"

namespace slotgate::metrics {
std::string_view to_string(CommandResult result) {
  switch (result) {
    case CommandResult::Ok:
      return "ok";
    case CommandResult::Error:
      return "error";
    case CommandResult::Refused:
      return "refused";
  }
  return "ok";
}

void WorkerStats::count_command(size_t index, CommandResult result, double seconds) {
  CommandStats& c = commands[index < commands.size() ? index : other_command()];
  ++c.by_result[static_cast<size_t>(result)];
  c.latency.observe(seconds);
}

const CommandStats& WorkerStats::command(std::string_view name) const {
  return commands[command_index(name)];
}

BackendStats& WorkerStats::backend(std::string_view address) {
  auto it = backends.find(address);
  if (it == backends.end()) it = backends.emplace(std::string(address), BackendStats{}).first;
  return it->second;
}

void WorkerStats::count_backend_request(std::string_view address) {
  ++backend(address).requests;
}

void WorkerStats::count_backend_reconnect(std::string_view address) {
  BackendStats& b = backend(address);
  ++b.reconnects;
  ++b.connections_open;
}

void WorkerStats::count_backend_connection_closed(std::string_view address) {
  --backend(address).connections_open;
}

void WorkerStats::count_backend_error(std::string_view address, std::string_view kind) {
  BackendStats& b = backend(address);
  for (auto& [k, n] : b.errors) {
    if (k == kind) {
      ++n;
      return;
    }
  }
  b.errors.emplace_back(std::string(kind), 1);
}

void WorkerStats::count_tls_failure(std::string_view side, std::string_view reason) {
  std::string key = std::string(side) + " " + std::string(reason);
  for (auto& [k, n] : tls_failures) {
    if (k == key) {
      ++n;
      return;
    }
  }
  tls_failures.emplace_back(std::move(key), 1);
}

}  // namespace slotgate::metrics
