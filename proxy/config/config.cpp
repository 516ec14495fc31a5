#include "config/config.hpp"

#include <atomic>

#include <cctype>
#include <cstdio>

#include "text/ascii.hpp"

namespace slotgate::config {

namespace {
std::atomic<UsersValidator> g_users_validator{nullptr};
}  // namespace

void set_users_validator(UsersValidator v) {
  g_users_validator.store(v);
}
UsersValidator users_validator() {
  return g_users_validator.load();
}

HostPort Config::announce_address() const {
  if (announce) return *announce;
  HostPort a = listen;
  if (a.host == "0.0.0.0") a.host = "127.0.0.1";
  if (a.host == "::") a.host = "::1";
  return a;
}

HostPort Config::tls_announce_address() const {
  if (tls_announce) return *tls_announce;
  HostPort a = tls_listen.value_or(listen);
  if (announce) {
    a.host = announce->host;
  } else if (a.host == "0.0.0.0") {
    a.host = "127.0.0.1";
  } else if (a.host == "::") {
    a.host = "::1";
  }
  return a;
}

namespace {
// FNV-1a, five rounds of 32 bits = 40 hex digits.
std::string id_from(const std::string& seed) {
  std::string id;
  for (uint32_t round = 0; round < 5; ++round) {
    uint32_t h = 2166136261u ^ (round * 0x9e3779b9u);
    for (char c : seed) {
      h ^= static_cast<unsigned char>(c);
      h *= 16777619u;
    }
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", h);
    id += buf;
  }
  return id;
}
}  // namespace

std::string Config::effective_node_id() const {
  if (!node_id.empty()) return node_id;
  // Why not random: several slotgate replicas sit behind one Service address, and a
  // cluster-mode client that reconnects to another replica must see the same node,
  // or it believes the topology changed.
  return id_from(announce_address().to_string());
}

std::string Config::emulated_node_id(uint32_t index) const {
  if (index == 0) return effective_node_id();
  HostPort a = announce_address();
  a.port = static_cast<uint16_t>(a.port + index);
  return node_id.empty() ? id_from(a.to_string()) : id_from(node_id + "#" + std::to_string(index));
}

unsigned Config::effective_workers() const {
  if (workers != 0) return workers;
  return auto_workers().workers;
}

uint64_t Config::effective_client_max_memory() const {
  if (clients.max_memory != 0) return clients.max_memory;
  return auto_client_memory().bytes;
}

const ClientMemoryDefault& auto_client_memory() {
  static const ClientMemoryDefault d = client_memory_default(cgroup_memory_limit());
  return d;
}

const CpuLimit& auto_workers() {
  // Read once: the limit of a running process does not change under it often enough
  // to matter, and INFO asks for it on every call.
  static const CpuLimit limit = available_cpus();
  return limit;
}

std::string_view to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::Standalone:
      return "standalone";
    case BackendKind::Sentinel:
      return "sentinel";
    case BackendKind::Cluster:
      break;
  }
  return "cluster";
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Trace:
      return "trace";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

std::string_view to_string(LogFormat format) {
  return format == LogFormat::Json ? "json" : "text";
}

using text::lower;

std::optional<LogLevel> parse_log_level(std::string_view text) {
  const std::string s = lower(text);
  if (s == "trace") return LogLevel::Trace;
  if (s == "debug") return LogLevel::Debug;
  if (s == "info") return LogLevel::Info;
  if (s == "warn" || s == "warning") return LogLevel::Warn;
  if (s == "error") return LogLevel::Error;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  const std::string s = lower(text);
  if (s == "text") return LogFormat::Text;
  if (s == "json") return LogFormat::Json;
  return std::nullopt;
}

}  // namespace slotgate::config
