#include "config/reload_plan.hpp"

#include "config/units.hpp"

namespace slotgate::config {
namespace {

std::string show(const HostPort& hp) {
  return hp.to_string();
}
std::string show(const std::optional<HostPort>& hp) {
  return hp ? hp->to_string() : "\"\"";
}
std::string show(milliseconds d) {
  return format_duration(d);
}
std::string show(uint64_t n) {
  return std::to_string(n);
}
std::string show(uint32_t n) {
  return std::to_string(n);
}
std::string show(LogLevel l) {
  return std::string(to_string(l));
}
std::string show(LogFormat f) {
  return std::string(to_string(f));
}
std::string show(bool b) {
  return b ? "true" : "false";
}
std::string show(const std::string& s) {
  return s.empty() ? "\"\"" : s;
}
std::string show_size_or_auto(uint64_t bytes) {
  return bytes == 0 ? "auto" : format_size(bytes);
}
std::string show_workers(unsigned w) {
  return w == 0 ? "auto" : std::to_string(w);
}
std::string show(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}
std::string show(const std::vector<HostPort>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i].to_string();
  return out + "]";
}

class Planner {
 public:
  ReloadPlan plan;

  template <typename T>
  void live(const char* key, const T& a, const T& b) {
    if (!(a == b)) plan.applied.push_back(std::string(key) + ": " + show(a) + " -> " + show(b));
  }
  template <typename T>
  void restart(const char* key, const T& a, const T& b) {
    if (!(a == b))
      plan.need_restart.push_back(std::string(key) + ": " + show(a) + " -> " + show(b));
  }
  void size(const char* key, uint64_t a, uint64_t b) {
    if (a != b)
      plan.applied.push_back(std::string(key) + ": " + format_size(a) + " -> " + format_size(b));
  }
  // Never print a secret into the log.
  void secret(const char* key, const std::string& a, const std::string& b) {
    if (a != b) plan.applied.push_back(std::string(key) + ": changed");
  }
};

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& wanted) {
  Planner p;
  p.restart("listen", running.listen, wanted.listen);
  if (running.workers != wanted.workers) {
    p.plan.need_restart.push_back("workers: " + show_workers(running.workers) + " -> " +
                                  show_workers(wanted.workers));
  }
  p.restart("admin.listen", running.admin.listen, wanted.admin.listen);
  p.restart("admin.topology", running.admin.topology, wanted.admin.topology);
  p.restart("emulated_nodes", running.emulated_nodes, wanted.emulated_nodes);
  p.restart("tls_listen", running.tls_listen, wanted.tls_listen);
  if (running.cluster.tls != wanted.cluster.tls)
    p.plan.need_restart.push_back("cluster.tls: changed");
  if (running.backend != wanted.backend) {
    // The kind decides how the topology is found; the refresher is built once at start-up.
    auto show_backend = [](const BackendConfig& b) {
      return std::string(to_string(b.kind)) + (b.address ? " " + b.address->to_string() : "");
    };
    p.plan.need_restart.push_back("backend: " + show_backend(running.backend) + " -> " +
                                  show_backend(wanted.backend));
  }

  p.plan.effective = wanted;
  p.plan.effective.listen = running.listen;
  p.plan.effective.workers = running.workers;
  p.plan.effective.admin = running.admin;
  p.plan.effective.emulated_nodes = running.emulated_nodes;
  p.plan.effective.backend = running.backend;
  p.plan.effective.tls_listen = running.tls_listen;
  p.plan.effective.cluster.tls = running.cluster.tls;
  const Config& next = p.plan.effective;
  const ClusterConfig& rc = running.cluster;
  const ClusterConfig& nc = next.cluster;
  const ClientsConfig& rl = running.clients;
  const ClientsConfig& nl = next.clients;

  // Why announce and node_id are live: they only appear in replies to CLUSTER
  // SLOTS/NODES/MYID, which are built from the current Config on every call.
  p.live("announce", running.announce_address(), next.announce_address());
  if (running.tls_listen)
    p.live("tls_announce", running.tls_announce_address(), next.tls_announce_address());
  p.live("node_id", running.effective_node_id(), next.effective_node_id());
  p.live("cluster.seeds", rc.seeds, nc.seeds);
  p.live("cluster.username", rc.username, nc.username);
  p.secret("cluster.password", rc.password, nc.password);
  p.live("cluster.refresh_interval", rc.refresh_interval, nc.refresh_interval);
  p.live("cluster.connect_timeout", rc.connect_timeout, nc.connect_timeout);
  p.live("cluster.command_timeout", rc.command_timeout, nc.command_timeout);
  p.live("cluster.failover_hold", rc.failover_hold, nc.failover_hold);
  p.live("cluster.hold_queue_limit", rc.hold_queue_limit, nc.hold_queue_limit);
  p.live("cluster.max_redirects", rc.max_redirects, nc.max_redirects);
  p.live("cluster.read_from", std::string(to_string(rc.read_from)),
         std::string(to_string(nc.read_from)));
  p.live("cluster.max_replica_lag", rc.max_replica_lag, nc.max_replica_lag);
  p.secret("clients.password", rl.password, nl.password);
  if (rl.users != nl.users) {
    std::vector<std::string> names;
    for (const UserConfig& u : nl.users) names.push_back(u.name);
    p.plan.applied.push_back("clients.users: changed (now " + show(names) + ")");
  }
  p.live("clients.max_clients", rl.max_clients, nl.max_clients);
  p.live("clients.idle_timeout", rl.idle_timeout, nl.idle_timeout);
  p.live("clients.auth_max_failures", rl.auth_max_failures, nl.auth_max_failures);
  p.live("clients.auth_failure_window", rl.auth_failure_window, nl.auth_failure_window);
  p.live("clients.auth_block_time", rl.auth_block_time, nl.auth_block_time);
  p.size("clients.max_request_size", rl.max_request_size, nl.max_request_size);
  p.size("clients.max_pipeline_size", rl.max_pipeline_size, nl.max_pipeline_size);
  p.size("clients.output_buffer_limit", rl.output_buffer_limit, nl.output_buffer_limit);
  p.live("clients.max_memory", show_size_or_auto(rl.max_memory), show_size_or_auto(nl.max_memory));
  p.live("clients.config_set_allowed", rl.config_set_allowed, nl.config_set_allowed);
  p.live("clients.resp3", rl.resp3, nl.resp3);
  // The files themselves are re-read on every SIGHUP and when they change (main.cpp).
  if (running.tls != next.tls) p.plan.applied.push_back("tls: changed");
  p.live("log.level", running.log.level, next.log.level);
  p.live("log.format", running.log.format, next.log.format);
  p.live("shutdown_grace", running.shutdown_grace, next.shutdown_grace);
  return p.plan;
}

}  // namespace slotgate::config
