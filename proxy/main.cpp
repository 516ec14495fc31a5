// slotgate: wiring. Builds the configuration, the topology refresher, one worker
// (event loop + listener + router) per core and the admin HTTP server, then
// waits for signals: SIGTERM/SIGINT drain and exit (a second one exits at once),
// SIGHUP reloads what can change safely.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <vector>

#include "admin/admin_server.hpp"
#include "client/acl_user.hpp"
#include "cluster/event_log.hpp"
#include "cluster/replica_monitor.hpp"
#include "cluster/topology_refresher.hpp"
#include "commands/command_doc.hpp"
#include "config/command_line.hpp"
#include "config/reload_plan.hpp"
#include "config/units.hpp"
#include "metrics/metrics.hpp"
#include "net/loop.hpp"
#include "net/timer.hpp"
#include "worker/client_tls.hpp"
#include "worker/server_state.hpp"
#include "worker/worker.hpp"

using namespace slotgate;

namespace {

// One JSON object per line, every string escaped (log messages quote node
// errors, which may contain anything).
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto secs = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
    std::time_t t = std::chrono::system_clock::to_time_t(msg.time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    long long ms = secs.time_since_epoch().count() % 1000;
    std::string line = fmt::format(R"({{"time":"{}.{:03d}Z","level":")", ts, ms);
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += R"(","msg":")";
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"':
          line += "\\\"";
          break;
        case '\\':
          line += "\\\\";
          break;
        case '\n':
          line += "\\n";
          break;
        case '\r':
          line += "\\r";
          break;
        case '\t':
          line += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            line += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
          } else {
            line += c;
          }
      }
    }
    line += "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

void setup_logging(const config::LogConfig& log) {
  static bool created = false;
  if (!created) {
    auto logger = spdlog::stderr_color_mt("slotgate");
    spdlog::set_default_logger(logger);
    created = true;
  }
  switch (log.level) {
    case config::LogLevel::Trace:
      spdlog::set_level(spdlog::level::trace);
      break;
    case config::LogLevel::Debug:
      spdlog::set_level(spdlog::level::debug);
      break;
    case config::LogLevel::Info:
      spdlog::set_level(spdlog::level::info);
      break;
    case config::LogLevel::Warn:
      spdlog::set_level(spdlog::level::warn);
      break;
    case config::LogLevel::Error:
      spdlog::set_level(spdlog::level::err);
      break;
  }
  if (log.format == config::LogFormat::Json) {
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
}

cluster::RefresherOptions refresher_options(const config::Config& cfg,
                                            const worker::ServerState& state) {
  cluster::RefresherOptions o;
  o.tls = state.backend_tls();
  o.tls_server_name = cfg.cluster.tls.server_name;
  for (const auto& s : cfg.cluster.seeds) o.seeds.push_back(s.to_string());
  if (cfg.backend.kind == config::BackendKind::Standalone && cfg.backend.address) {
    o.standalone = true;
    o.seeds = {cfg.backend.address->to_string()};
  }
  if (cfg.backend.kind == config::BackendKind::Sentinel) {
    o.sentinel = true;
    for (const auto& s : cfg.backend.sentinels) o.sentinels.sentinels.push_back(s.to_string());
    o.sentinels.master_name = cfg.backend.master_name;
    o.sentinels.username = cfg.backend.sentinel_username;
    o.sentinels.password = cfg.backend.sentinel_password;
    if (cfg.backend.sentinel_tls) {
      o.sentinels.tls = o.tls;
      o.sentinels.tls_server_name = o.tls_server_name;
    }
    o.sentinels.connect_timeout_ms = static_cast<uint64_t>(cfg.cluster.connect_timeout.count());
    o.sentinels.command_timeout_ms =
        std::max<uint64_t>(static_cast<uint64_t>(cfg.cluster.command_timeout.count()), 1000);
  }
  o.username = cfg.cluster.username;
  o.password = cfg.cluster.password;
  o.refresh_interval_ms = static_cast<uint64_t>(cfg.cluster.refresh_interval.count());
  o.connect_timeout_ms = static_cast<uint64_t>(cfg.cluster.connect_timeout.count());
  o.command_timeout_ms =
      std::max<uint64_t>(static_cast<uint64_t>(cfg.cluster.command_timeout.count()), 1000);
  return o;
}

// Reads from replicas: the monitor runs while the configuration sends some reads to replicas.
cluster::ReplicaMonitorOptions replica_monitor_options(const config::Config& cfg,
                                                       const worker::ServerState& state) {
  cluster::ReplicaMonitorOptions o;
  o.tls = state.backend_tls();
  o.tls_server_name = cfg.cluster.tls.server_name;
  o.enabled = cfg.cluster.read_from != config::ReadFrom::Master;
  for (const auto& u : cfg.clients.users) {
    o.enabled =
        o.enabled || u.read_from.value_or(config::ReadFrom::Master) != config::ReadFrom::Master;
  }
  o.max_lag_ms = static_cast<uint64_t>(cfg.cluster.max_replica_lag.count());
  o.username = cfg.cluster.username;
  o.password = cfg.cluster.password;
  o.connect_timeout_ms = static_cast<uint64_t>(cfg.cluster.connect_timeout.count());
  o.command_timeout_ms =
      std::max<uint64_t>(static_cast<uint64_t>(cfg.cluster.command_timeout.count()), 1000);
  return o;
}

using Workers = std::vector<std::unique_ptr<worker::Worker>>;

// What the topology refresher tells the rest of the process: each new view goes to the
// workers and the metrics, refreshes are counted, changes go to the event log.
cluster::TopologyRefresher::Hooks refresher_hooks(Workers& workers, metrics::Metrics& metrics,
                                                  worker::ServerState& state,
                                                  cluster::EventLog& events) {
  cluster::TopologyRefresher::Hooks hooks;
  hooks.publish = [&workers, &metrics](std::shared_ptr<const cluster::ClusterView> view) {
    size_t masters = view->master_indices().size();
    metrics.set_view(view->version(), view->covered_slots(), masters,
                     view->nodes().size() - std::min(view->nodes().size(), masters));
    for (auto& w : workers) w->post_view(view);
  };
  hooks.refreshed = [&metrics](std::string_view trigger, bool ok) {
    metrics.topology_refresh(trigger, ok);
  };
  hooks.tls_failure = [&metrics](std::string_view node, std::string_view reason) {
    metrics.count_node_tls_failure(node, reason);
  };
  hooks.redis_version = [&state](std::string v) { state.set_redis_version(std::move(v)); };
  hooks.event = [&events](std::string_view kind, std::string_view message) {
    events.add(kind, message);
  };
  return hooks;
}

// One worker per configured thread, each listening on the client port (SO_REUSEPORT) and on
// one more port per emulated cluster node; the same for tls_listen. False (logged) when a
// port cannot be opened.
bool start_listening(Workers& workers, const config::Config& cfg, worker::ServerState& state,
                     cluster::TopologyRefresher& refresher, metrics::Metrics& metrics) {
  const unsigned worker_count = cfg.effective_workers();
  for (unsigned i = 0; i < worker_count; ++i) {
    workers.push_back(
        std::make_unique<worker::Worker>(static_cast<int>(i), state, refresher, &metrics));
    for (uint32_t node = 0; node < cfg.emulated_nodes; ++node) {
      config::HostPort address = cfg.listen;
      address.port = static_cast<uint16_t>(address.port + node);
      std::string err = workers.back()->listen(address, /*reuse_port=*/true, node);
      if (!err.empty()) {
        spdlog::critical("{}", err);
        return false;
      }
      if (!cfg.tls_listen) continue;
      // The TLS side mirrors the plain one: emulated node i is also at tls_listen + i.
      address = *cfg.tls_listen;
      address.port = static_cast<uint16_t>(address.port + node);
      if (err = workers.back()->listen_tls(address, node); !err.empty()) {
        spdlog::critical("tls_listen: {}", err);
        return false;
      }
    }
  }
  return true;
}

// The certificate for tls_listen, before any worker accepts. False (logged) when it cannot load.
bool load_client_tls(worker::ClientTls& client_tls, const config::Config& cfg) {
  if (!cfg.tls_listen) return true;
  if (std::string err = client_tls.load(cfg.tls); !err.empty()) {
    spdlog::critical("{}", err);
    return false;
  }
  spdlog::info("TLS clients on {}", cfg.tls_listen->to_string());
  return true;
}

// cluster.tls: one client context for every connection to the nodes.
bool load_cluster_tls(worker::ServerState& state, const config::Config& cfg) {
  if (!cfg.cluster.tls.enabled) return true;
  auto made = net::TlsContext::create(worker::cluster_tls_options(cfg.cluster.tls));
  if (auto* err = std::get_if<std::string>(&made)) {
    spdlog::critical("cluster.tls: {}", *err);
    return false;
  }
  state.set_backend_tls(std::get<std::shared_ptr<const net::TlsContext>>(made));
  return true;
}

// SIGHUP: cluster.tls's files again (a renewed client certificate or CA bundle). New
// connections to the nodes use them; open ones keep theirs; a file that does not load keeps
// the previous context in use.
void reload_cluster_tls(worker::ServerState& state, cluster::TopologyRefresher& refresher,
                        cluster::ReplicaMonitor& replicas) {
  const config::Config& cfg = *state.config();
  if (!cfg.cluster.tls.enabled) return;
  auto made = net::TlsContext::create(worker::cluster_tls_options(cfg.cluster.tls));
  if (auto* err = std::get_if<std::string>(&made)) {
    spdlog::error("SIGHUP: cluster.tls not reloaded, the previous files stay in use: {}", *err);
    return;
  }
  state.set_backend_tls(std::get<std::shared_ptr<const net::TlsContext>>(made));
  refresher.reconfigure(refresher_options(cfg, state));
  replicas.reconfigure(replica_monitor_options(cfg, state));
  spdlog::info("SIGHUP: cluster.tls files reloaded");
}

admin::AdminHooks admin_hooks(const config::Config& cfg, Workers& workers,
                              cluster::TopologyRefresher& refresher, worker::ServerState& state,
                              metrics::Metrics& metrics, cluster::EventLog& events,
                              std::atomic<bool>& had_full_view) {
  admin::AdminHooks ah;
  ah.current_view = [&refresher] { return refresher.current(); };
  ah.loops_responsive = [&workers] {
    for (auto& w : workers) {
      if (w->ms_since_tick() > 2000) return false;
    }
    return true;
  };
  ah.ready = [&refresher, &state, &had_full_view] {
    // Ready once a view covering every slot was loaded, and it stays ready
    // through a failover hold: clients keep their connections, held requests
    // complete when the new master is known, and a Service must not drop every
    // slotgate endpoint at once because one master died.
    if (!had_full_view.load()) {
      auto v = refresher.current();
      if (v != nullptr && v->covers_all_slots()) had_full_view = true;
    }
    // A standalone Redis that is a replica serves nothing (requests wait for a master).
    auto v = refresher.current();
    const bool standalone_replica = v != nullptr && v->single_node() && v->covered_slots() == 0;
    return !state.draining.load() && had_full_view.load() && !standalone_replica;
  };
  ah.metrics = &metrics;
  ah.topology = cfg.admin.topology;
  ah.events = &events;
  ah.replication_offsets = [&refresher] { return refresher.replication_offsets(); };
  ah.migrations = [&refresher] { return refresher.migrations(); };
  return ah;
}

void log_started(const config::Config& cfg) {
  spdlog::info("slotgate {} listening on {} with {} worker(s){}; admin on {}", SLOTGATE_VERSION,
               cfg.listen.to_string(), cfg.effective_workers(),
               cfg.workers == 0 ? " = auto: " + config::auto_workers().explain() : std::string(),
               cfg.admin.listen ? cfg.admin.listen->to_string() : std::string("(disabled)"));

  spdlog::info("clients.max_memory: {}", cfg.clients.max_memory != 0
                                             ? config::format_size(cfg.clients.max_memory)
                                             : "auto = " + config::auto_client_memory().explain());
}

// SIGHUP: read the configuration again with the same command line and apply what can
// change while clients are connected; log (and keep) what needs a restart.
void reload(int argc, char** argv, worker::ServerState& state, cluster::EventLog& events,
            cluster::TopologyRefresher& refresher, cluster::ReplicaMonitor& replicas,
            metrics::Metrics& metrics) {
  auto next = config::from_command_line(argc, argv, SLOTGATE_VERSION);
  if (auto* exit = std::get_if<config::Exit>(&next)) {
    spdlog::error("SIGHUP: configuration not reloaded: {}",
                  exit->err.empty() ? exit->out : exit->err);
    events.add("config_reload", "SIGHUP: configuration not reloaded: " +
                                    (exit->err.empty() ? exit->out : exit->err));
    return;
  }
  auto next_cfg = std::make_shared<const config::Config>(std::get<config::Config>(next));
  auto plan = config::plan_reload(*state.config(), *next_cfg);
  if (plan.empty()) {
    spdlog::info("SIGHUP: configuration unchanged");
    events.add("config_reload", "SIGHUP: configuration unchanged");
    return;
  }
  for (const auto& line : plan.applied) spdlog::info("SIGHUP: applied {}", line);
  std::string summary = "SIGHUP: configuration reloaded";
  for (const auto& line : plan.applied) summary += "; applied " + line;
  for (const auto& line : plan.need_restart) {
    spdlog::warn("SIGHUP: {} needs a restart to take effect", line);
    summary += "; " + line + " needs a restart";
  }
  events.add("config_reload", summary);
  // What cannot change without a restart (listen, workers, admin) stays as it
  // runs, so the announced address always names a port that is open.
  auto effective = std::make_shared<const config::Config>(plan.effective);
  setup_logging(effective->log);
  refresher.reconfigure(refresher_options(*effective, state));
  replicas.reconfigure(replica_monitor_options(*effective, state));
  for (const std::string& name :
       refresher.keep_node_settings(effective->clients.config_set_allowed)) {
    const std::string line = "SIGHUP: forgot the remembered CONFIG SET " + name +
                             " (no longer in clients.config_set_allowed): promoted and new nodes "
                             "do not get it any more";
    spdlog::info("{}", line);
    events.add("config_reload", line);
  }
  state.set_config(effective);
  metrics.set_client_limits(effective->clients.max_clients,
                            effective->effective_client_max_memory());
}

// `slotgate --command-table` prints the README's command table (docs are generated from
// the table, not written twice).
bool print_command_table(int argc, char** argv) {
  if (argc != 2 || std::string_view(argv[1]) != "--command-table") return false;
  std::fputs(commands::handling_markdown().c_str(), stdout);
  return true;
}

// The admin HTTP server, when configured; false (logged) when its port cannot be opened.
bool start_admin(std::unique_ptr<admin::AdminServer>& server, admin::AdminHooks hooks,
                 const config::Config& cfg) {
  if (!cfg.admin.listen) return true;
  auto started = admin::AdminServer::start(*cfg.admin.listen, std::move(hooks));
  if (auto* err = std::get_if<std::string>(&started)) {
    spdlog::critical("admin server: {}", *err);
    return false;
  }
  server = std::move(std::get<std::unique_ptr<admin::AdminServer>>(started));
  return true;
}

// SIGTERM/SIGINT: no new connections, clients finish what they sent for up to
// shutdown_grace, then the workers and the main loop stop. A second signal stops at once.
class Shutdown {
 public:
  Shutdown(net::Loop& loop, Workers& workers, worker::ServerState& state, metrics::Metrics& metrics)
      : loop_(loop), workers_(workers), state_(state), metrics_(metrics) {}

  void begin_drain() {
    if (draining_) {
      spdlog::warn("second termination signal: exiting now");
      stop_all();
      return;
    }
    draining_ = true;
    state_.draining = true;
    metrics_.set_draining(true);
    deadline_ = std::chrono::steady_clock::now() + state_.config()->shutdown_grace;
    spdlog::info("draining: no new connections; waiting up to {} ms for clients to finish",
                 state_.config()->shutdown_grace.count());
    for (auto& w : workers_) w->post_drain();
  }

  // Every 100 ms: done when the last client left or the grace is over.
  void check() {
    if (!draining_) return;
    size_t open = 0;
    for (auto& w : workers_) open += w->session_count();
    if (open == 0 || std::chrono::steady_clock::now() >= deadline_) {
      if (open > 0) spdlog::warn("shutdown grace over: closing {} client connection(s)", open);
      stop_all();
    }
  }

 private:
  void stop_all() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& w : workers_) w->post_stop();
    loop_.stop();
  }

  net::Loop& loop_;
  Workers& workers_;
  worker::ServerState& state_;
  metrics::Metrics& metrics_;
  bool draining_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

// A SIGHUP that arrives before its handler is installed (a configuration reloader signalling
// a pod that is still loading the slot map) would end the process: the default action. It is
// held blocked from the start of main(), in every thread started after (they inherit the
// mask), and released in the main thread once the handler exists; a pending one is then
// delivered there and applied like any other.
void hold_sighup(bool hold);

void ignore_sigpipe_hold_sighup() {
  ::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not a signal
  hold_sighup(true);
}

void hold_sighup(bool hold) {
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  pthread_sigmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &hup, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  // Users' ACL rules name commands and categories: the config part checks them through this.
  config::set_users_validator(&client::check_acl_users);
  if (print_command_table(argc, argv)) return 0;
  auto parsed = config::from_command_line(argc, argv, SLOTGATE_VERSION);
  if (auto* exit = std::get_if<config::Exit>(&parsed)) {
    if (!exit->out.empty()) std::fputs(exit->out.c_str(), stdout);
    if (!exit->err.empty()) std::fputs(exit->err.c_str(), stderr);
    return exit->code;
  }
  auto cfg = std::make_shared<const config::Config>(std::get<config::Config>(parsed));
  setup_logging(cfg->log);
  ignore_sigpipe_hold_sighup();

  worker::ServerState state(cfg);
  metrics::Metrics metrics(SLOTGATE_VERSION);
  cluster::EventLog events;  // for the admin page and /events
  metrics.set_client_limits(cfg->clients.max_clients, cfg->effective_client_max_memory());
  Workers workers;
  worker::ClientTls client_tls(state, metrics);
  if (!load_client_tls(client_tls, *cfg)) return 1;
  if (!load_cluster_tls(state, *cfg)) return 1;
  cluster::TopologyRefresher refresher(refresher_options(*cfg, state),
                                       refresher_hooks(workers, metrics, state, events));
  refresher.keep_node_settings(cfg->clients.config_set_allowed);
  if (!start_listening(workers, *cfg, state, refresher, metrics)) return 1;

  if (std::string err = refresher.load_initial(); !err.empty()) {
    // Keep running: requests wait (up to failover_hold) and readiness stays false
    // until a seed answers.
    spdlog::warn("could not load the cluster topology yet: {}", err);
  }
  refresher.start();
  cluster::ReplicaMonitor replicas(
      replica_monitor_options(*cfg, state), [&refresher] { return refresher.current(); },
      [&refresher](const std::map<std::string, bool>& serves) {
        refresher.set_replicas_serving(serves);
      });
  replicas.start();

  std::unique_ptr<admin::AdminServer> admin_server;
  std::atomic<bool> had_full_view{false};
  if (!start_admin(admin_server,
                   admin_hooks(*cfg, workers, refresher, state, metrics, events, had_full_view),
                   *cfg)) {
    return 1;
  }

  for (auto& w : workers) w->start_thread();
  log_started(*cfg);

  // The main thread only waits for signals and runs the drain.
  net::Loop loop;
  Shutdown shutdown(loop, workers, state, metrics);
  net::Signal sigterm(loop, SIGTERM, [&] { shutdown.begin_drain(); });
  net::Signal sigint(loop, SIGINT, [&] { shutdown.begin_drain(); });
  net::Signal sighup(loop, SIGHUP, [&] {
    reload(argc, argv, state, events, refresher, replicas, metrics);
    client_tls.reload(state.config()->tls, "SIGHUP");
    reload_cluster_tls(state, refresher, replicas);
  });
  hold_sighup(false);
  net::Timer watchdog(loop);
  watchdog.start(100, 100, [&] { shutdown.check(); });
  // Certificates rotated in place (a Secret's symlink swap) are noticed without a SIGHUP.
  net::Timer cert_watch(loop);
  if (const auto every = static_cast<uint64_t>(cfg->tls.watch_interval.count());
      cfg->tls_listen && every > 0) {
    cert_watch.start(every, every, [&] { client_tls.check_files(state.config()->tls); });
  }
  loop.run();

  for (auto& w : workers) w->join();
  replicas.stop();
  refresher.stop();
  if (admin_server) admin_server->stop();
  workers.clear();
  spdlog::info("slotgate stopped");
  return 0;
}
