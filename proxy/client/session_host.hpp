// client::SessionHost: everything a client session asks of the place that hosts it, and
// nothing more. The worker part implements it (worker::Worker: one event loop with its
// router, backends and counters), so client/ never includes worker/ and the dependency runs
// one way: worker -> client. Read this file to know what a session can reach outside itself:
// its loop and router, the configuration, the counters it bumps, CLIENT PAUSE, the closing
// of a session, and the few proxy-wide facts that local commands (INFO, HELLO, CLIENT
// KILL/LIST/PAUSE/UNBLOCK) need from the other workers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::config {
struct Config;
}
namespace slotgate::metrics {
class WorkerStats;
}
namespace slotgate::net {
class Loop;
}
namespace slotgate::router {
class Router;
}

namespace slotgate::client {

class AclLog;
class AuthThrottle;
class ClientSession;
class SessionDirectory;

// What INFO shows about the whole proxy: the host gathers it from every worker.
struct ProxyInfo {
  std::string redis_version;  // the cluster's, learned at discovery
  uint64_t uptime_seconds = 0;
  int64_t connected_clients = 0;
  uint64_t total_connections = 0;
  uint64_t rejected_connections = 0;
  uint64_t auth_failures = 0;
  // Summed over the workers' own counters.
  int64_t blocked_clients = 0;
  int64_t pubsub_clients = 0;
  uint64_t commands_processed = 0;
  uint64_t ops_per_sec = 0;
};

class SessionHost {
 public:
  virtual ~SessionHost() = default;

  // ---- the host's loop thread: what a session uses while it runs ----
  virtual net::Loop& loop() = 0;
  virtual router::Router& router() = 0;
  virtual const config::Config& config() const = 0;
  // The configuration config() refers to, for what must outlive a reload (a session's user).
  virtual const std::shared_ptr<const config::Config>& config_snapshot() const = 0;
  virtual metrics::WorkerStats& stats() = 0;
  // total_commands_processed and blocked_clients of INFO, counted per host.
  virtual void count_command() = 0;
  virtual void count_blocked(int64_t delta) = 0;
  // CLIENT PAUSE in force on this host.
  virtual bool pausing() const = 0;
  // True when a command (write or not) must wait; the session is then resumed when the
  // pause ends.
  virtual bool paused_for(bool is_write, ClientSession& session) = 0;
  // The session has closed; the host destroys it once it is off the call stack.
  virtual void session_closed(ClientSession& session, std::string_view why) = 0;
  virtual void note_output_limit(const std::string& peer, size_t bytes) = 0;
  // A session's memory_usage() went from `before` to `after` (clients.max_memory).
  virtual void client_memory_changed(uint64_t before, uint64_t after) = 0;
  // The sessions of this host (CLIENT LIST shows this worker's clients).
  virtual void for_each_session(const std::function<void(ClientSession&)>& f) = 0;

  // ---- reaching another host (CLIENT KILL/UNBLOCK/PAUSE from a session elsewhere) ----
  // Thread-safe: run `task` on this host's loop thread.
  virtual void post_task(std::function<void()> task) = 0;
  // This host's loop thread: the open session with this id, or null.
  virtual ClientSession* find_session(uint64_t id) = 0;
  // This host's loop thread: hold its clients' commands (all, or only writes) until
  // `until_ms` (steady clock); 0 ends the pause.
  virtual void set_pause(uint64_t until_ms, bool writes_only) = 0;

  // ---- the whole proxy ----
  // Every host of the process, this one included.
  virtual std::vector<SessionHost*> hosts() const = 0;
  // Every open session of the process, for CLIENT KILL / CLIENT UNBLOCK.
  virtual SessionDirectory& sessions() = 0;
  virtual std::string redis_version() const = 0;
  // Counts a failed AUTH/HELLO proxy-wide; returns the new total.
  virtual uint64_t count_auth_failure() = 0;
  // Thread-safe: slotgate's ACL LOG and the per-address AUTH failure table.
  virtual AclLog& acl_log() = 0;
  virtual AuthThrottle& auth_throttle() = 0;
  virtual ProxyInfo proxy_info() const = 0;
};

}  // namespace slotgate::client
