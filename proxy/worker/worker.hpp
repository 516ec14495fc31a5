// worker::Worker: one event loop thread. It owns its listener (SO_REUSEPORT, so the kernel spreads
// connections over workers), its client sessions, its router and backend connections, and its copy
// of the cluster view. Nothing here is shared with other workers except ServerState and the
// published view. Sessions reach their worker only through client::SessionHost, which it
// implements.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/session_host.hpp"
#include "cluster/cluster_view.hpp"
#include "cluster/topology_feedback.hpp"
#include "config/config.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "net/tcp_listener.hpp"
#include "net/timer.hpp"
#include "router/router.hpp"
#include "worker/server_state.hpp"

namespace slotgate::metrics {
class Metrics;
}

namespace slotgate::worker {

using client::ClientSession;

class Worker final : public client::SessionHost {
 public:
  Worker(int index, ServerState& state, cluster::TopologyFeedback& feedback,
         metrics::Metrics* metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds the listener (on the calling thread, so bind errors surface at start-up).
  // `node_index`: which emulated cluster node this port stands for (0 normally).
  std::string listen(const config::HostPort& address, bool reuse_port, uint32_t node_index = 0);
  // A TLS listener (tls_listen, plus one per further emulated node): its clients handshake
  // with ServerState::client_tls() and are told the TLS ports in the cluster emulation.
  std::string listen_tls(const config::HostPort& address, uint32_t node_index = 0);
  void start_thread();
  void join();

  // Thread-safe: hand a new cluster view to this worker.
  void post_view(std::shared_ptr<const cluster::ClusterView> view);
  // Thread-safe: stop accepting, let clients finish, close them when idle.
  void post_drain();
  // Thread-safe: close everything and stop the loop.
  void post_stop();
  // Thread-safe: the configuration changed (SIGHUP).
  void post_config_changed();
  // Thread-safe: run `task` on this worker's loop thread (CLIENT KILL/UNBLOCK from another).
  void post_task(std::function<void()> task) override;
  // CLIENT PAUSE on this worker (posted to every worker): until `until_ms` (steady clock),
  // hold the commands of its clients: all of them, or only writes. until_ms 0 = unpause.
  void set_pause(uint64_t until_ms, bool writes_only) override;
  // Loop thread: true when a command (write or not) must wait; the session is then resumed
  // when the pause ends.
  bool paused_for(bool is_write, ClientSession& session) override;
  bool pausing() const override { return pause_until_ms_ != 0; }
  // Loop thread: the open session with this id, or null.
  ClientSession* find_session(uint64_t id) override;
  // Seconds since the loop last ran its periodic tick (for /healthz).
  uint64_t ms_since_tick() const;
  size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

  // Counters INFO sums over all workers. Only this worker's thread writes them (a relaxed
  // load and store, no read-modify-write), so counting costs no shared lock or atomic add.
  struct SessionCounters {
    std::atomic<uint64_t> commands{0};     // total_commands_processed
    std::atomic<int64_t> blocked{0};       // sessions waiting in a blocking command
    std::atomic<int64_t> pubsub{0};        // subscribed sessions (recounted every tick)
    std::atomic<uint64_t> ops_per_sec{0};  // instantaneous_ops_per_sec (every tick)
  };
  const SessionCounters& counters() const { return counters_; }
  void count_command() override { bump(counters_.commands, 1); }
  void count_blocked(int64_t delta) override { bump(counters_.blocked, delta); }

  // Loop-thread API used by sessions (client::SessionHost).
  net::Loop& loop() override { return loop_; }
  router::Router& router() override { return *router_; }
  const config::Config& config() const override { return *config_; }
  // The configuration config() refers to, for what must outlive a reload (a session's user).
  const std::shared_ptr<const config::Config>& config_snapshot() const override { return config_; }
  metrics::WorkerStats& stats() override { return stats_; }
  int index() const { return index_; }
  void session_closed(ClientSession& session, std::string_view why) override;
  void note_output_limit(const std::string& peer, size_t bytes) override;
  // A session's memory_usage() went from `before` to `after`. Cheap: adds to this worker's
  // total and publishes it to the proxy-wide budget only when it moved by a step; going
  // over clients.max_memory schedules enforce_client_memory() on the next loop turn.
  void client_memory_changed(uint64_t before, uint64_t after) override;
  // Sessions of this worker (CLIENT LIST shows this worker's clients).
  void for_each_session(const std::function<void(ClientSession&)>& f) override {
    for (auto& [ptr, s] : sessions_) f(*s);
  }

  // The whole proxy, as sessions see it (answered from ServerState).
  std::vector<client::SessionHost*> hosts() const override;
  client::SessionDirectory& sessions() override { return state_.sessions; }
  std::string redis_version() const override { return state_.redis_version(); }
  uint64_t count_auth_failure() override { return state_.auth_failures.fetch_add(1) + 1; }
  client::AclLog& acl_log() override { return state_.acl_log; }
  client::AuthThrottle& auth_throttle() override { return state_.auth_throttle; }
  client::ProxyInfo proxy_info() const override;

 private:
  void on_connection(uint32_t node_index, bool tls = false);
  void close_listeners();
  void on_wake();
  void tick();
  void apply_config();
  void publish_client_memory(uint64_t biggest, bool may_evict);
  // While all clients together exceed clients.max_memory and this worker holds the
  // biggest client, close that client (Redis's maxmemory-clients). Never called from
  // inside a session, so a session never has to survive its own eviction mid-call.
  void enforce_client_memory();
  template <typename T, typename D>
  static void bump(std::atomic<T>& a, D delta) {
    a.store(a.load(std::memory_order_relaxed) + static_cast<T>(delta), std::memory_order_relaxed);
  }
  void sample_ops(uint64_t now_ms);

  int index_;
  ServerState& state_;
  metrics::Metrics* metrics_;
  std::shared_ptr<const config::Config> config_;
  uint64_t config_generation_ = 0;
  net::Loop loop_;
  metrics::WorkerStats stats_;
  std::unique_ptr<router::Router> router_;
  std::vector<std::unique_ptr<net::TcpListener>> listeners_;
  std::vector<std::unique_ptr<net::TcpListener>> tls_listeners_;
  std::unique_ptr<net::Timer> tick_timer_;
  std::unique_ptr<net::Async> wake_;
  std::unique_ptr<net::Timer> evict_timer_;
  std::unique_ptr<net::Timer> pause_timer_;
  uint64_t pause_until_ms_ = 0;  // 0: not paused
  bool pause_writes_only_ = false;
  std::vector<uint64_t> paused_sessions_;  // ids of sessions holding a command
  void end_pause();
  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  std::thread thread_;

  std::mutex mu_;  // guards the posted_* fields
  std::shared_ptr<const cluster::ClusterView> posted_view_;
  bool posted_drain_ = false;
  bool posted_stop_ = false;
  bool posted_config_ = false;
  std::vector<std::function<void()>> posted_tasks_;

  bool draining_ = false;
  uint64_t last_publish_ms_ = 0;
  uint64_t last_output_limit_log_ms_ = 0;
  // Client memory: this worker's exact total, what it last published to the budget, the
  // biggest single client seen since the last rescan (tick), and the publish step.
  uint64_t client_memory_ = 0;
  uint64_t client_memory_published_ = 0;
  uint64_t biggest_client_ = 0;
  uint64_t client_memory_step_ = 64 * 1024;
  uint64_t client_memory_limit_ = 1ULL << 30;
  bool evict_scheduled_ = false;
  SessionCounters counters_;
  // instantaneous_ops_per_sec as Redis computes it: the mean of the last 16 samples.
  static constexpr size_t kOpsSamples = 16;
  uint64_t ops_samples_[kOpsSamples] = {};
  size_t ops_sample_index_ = 0;
  uint64_t ops_last_commands_ = 0;
  uint64_t ops_last_ms_ = 0;
  std::atomic<uint64_t> last_tick_ms_{0};
  std::atomic<size_t> session_count_{0};
};

}  // namespace slotgate::worker
