// cluster::SentinelWatch: one thread per Sentinel subscribed to the events that say the master
// changed or is in trouble (+switch-master, +sdown, -sdown, +odown). Each event that names
// backend.master_name calls `on_event`, which asks the refresher to discover the master again;
// the events are hints only (the refresher asks every Sentinel and the node's ROLE), so a forged
// or stale message costs one refresh, never a wrong master. A lost Sentinel is reconnected.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/sentinel_discovery.hpp"

namespace slotgate::cluster {

class SentinelWatch {
 public:
  using OnEvent = std::function<void(std::string_view event, std::string_view payload)>;
  SentinelWatch(SentinelAccess access, OnEvent on_event);
  ~SentinelWatch();
  SentinelWatch(const SentinelWatch&) = delete;
  SentinelWatch& operator=(const SentinelWatch&) = delete;

  void start();
  void stop();
  // backend.sentinel_tls: cluster.tls's files reloaded (SIGHUP); the next (re)connection uses it.
  void set_tls(std::shared_ptr<const net::TlsContext> tls);

  // Whether a message on `channel` with `payload` concerns master `name` (the payload's first
  // word is the master's name for every event watched here, "master <name> <ip> <port>" for
  // +sdown/+odown of the master itself, "slave <ip:port> <ip> <port> @ <name> ..." for a replica).
  static bool concerns(std::string_view payload, std::string_view name);

 private:
  void watch(std::string sentinel);

  std::shared_ptr<const net::TlsContext> tls() const;

  SentinelAccess access_;
  mutable std::mutex tls_mu_;  // guards access_.tls
  OnEvent on_event_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace slotgate::cluster
