// worker::ServerState: what every worker shares — counters shown by INFO, the
// running configuration (replaced on SIGHUP), the emulated node's identity and
// the Redis version the cluster runs. Read on the data path only through atomics
// or a snapshot taken once per connection/command that needs it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/acl_log.hpp"
#include "client/auth_throttle.hpp"
#include "client/client_memory.hpp"
#include "client/session_directory.hpp"
#include "config/config.hpp"
#include "net/tls.hpp"

namespace slotgate::worker {

class Worker;

class ServerState {
 public:
  explicit ServerState(std::shared_ptr<const config::Config> cfg)
      : config_(std::move(cfg)), started_(std::chrono::steady_clock::now()) {}

  std::shared_ptr<const config::Config> config() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  void set_config(std::shared_ptr<const config::Config> cfg) {
    std::lock_guard lock(mu_);
    config_ = std::move(cfg);
    config_generation_.fetch_add(1, std::memory_order_release);
  }
  // What new TLS clients handshake with (nullptr without tls_listen); main replaces it when
  // the certificate changes, connections keep the one they started with.
  std::shared_ptr<const net::TlsContext> client_tls() const {
    std::lock_guard lock(mu_);
    return client_tls_;
  }
  void set_client_tls(std::shared_ptr<const net::TlsContext> tls) {
    std::lock_guard lock(mu_);
    client_tls_ = std::move(tls);
  }
  // cluster.tls, built at start and again from its files on SIGHUP (changing the settings
  // needs a restart); nullptr = plain. New connections to the nodes use the current one.
  std::shared_ptr<const net::TlsContext> backend_tls() const {
    std::lock_guard lock(mu_);
    return backend_tls_;
  }
  void set_backend_tls(std::shared_ptr<const net::TlsContext> tls) {
    std::lock_guard lock(mu_);
    backend_tls_ = std::move(tls);
    // Workers take it over with the configuration (their tick compares the generation).
    config_generation_.fetch_add(1, std::memory_order_release);
  }
  uint64_t config_generation() const { return config_generation_.load(std::memory_order_acquire); }

  // The Redis version of the cluster (learned at discovery), shown by HELLO and INFO.
  std::string redis_version() const {
    std::lock_guard lock(mu_);
    return redis_version_;
  }
  void set_redis_version(std::string v) {
    std::lock_guard lock(mu_);
    redis_version_ = std::move(v);
  }

  // Every worker registers itself once, before its thread starts; INFO and CLIENT KILL read
  // the list (rarely) to sum per-worker counters or reach another worker's sessions.
  void add_worker(Worker* w) {
    std::lock_guard lock(mu_);
    workers_.push_back(w);
  }
  std::vector<Worker*> workers() const {
    std::lock_guard lock(mu_);
    return workers_;
  }

  uint64_t uptime_seconds() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started_)
                                     .count());
  }

  std::atomic<uint64_t> next_client_id{1};
  std::atomic<int64_t> connected_clients{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> auth_failures{0};
  std::atomic<bool> draining{false};
  // clients.max_memory: each worker's published share of client buffer memory.
  client::ClientMemoryBudget client_memory;
  // Every open session, for CLIENT KILL / CLIENT UNBLOCK across workers.
  client::SessionDirectory sessions;
  // ACL LOG and AUTH failures per source address, proxy-wide.
  client::AclLog acl_log;
  client::AuthThrottle auth_throttle;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const net::TlsContext> client_tls_;
  std::shared_ptr<const net::TlsContext> backend_tls_;
  std::atomic<uint64_t> config_generation_{0};
  std::string redis_version_ = "7.0.15";
  std::vector<Worker*> workers_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace slotgate::worker
