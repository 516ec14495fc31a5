// admin::AdminServer: the admin HTTP server (/metrics /healthz /readyz
// /topology) on its own thread and its own event loop, so a slow scrape or a
// misbehaving HTTP client never delays a Redis request, and a stuck worker loop
// does not take /healthz down with it (that is what /healthz must detect).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "admin/admin_hooks.hpp"
#include "admin/http_connection.hpp"
#include "config/host_port.hpp"
#include "net/loop.hpp"
#include "net/tcp_listener.hpp"
#include "net/timer.hpp"

namespace slotgate::admin {

inline constexpr size_t kMaxAdminConnections = 64;

class AdminServer {
 public:
  // Binds address (a numeric IP) and starts the thread; the error text says why binding failed.
  static std::variant<std::unique_ptr<AdminServer>, std::string> start(
      const config::HostPort& address, AdminHooks hooks);
  // Closes the listener and every connection and joins the thread. Idempotent;
  // call it from any thread except the admin thread.
  void stop();
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  explicit AdminServer(AdminHooks hooks);
  void on_connection();
  void on_finished(HttpConnection* connection);
  void shut_down_on_loop();

  AdminHooks hooks_;
  net::Loop loop_;  // declared before every handle: destroyed after them
  std::unique_ptr<net::TcpListener> listener_;
  std::unique_ptr<net::Async> stop_request_;
  net::Timer reaper_;
  std::unordered_map<HttpConnection*, std::unique_ptr<HttpConnection>> connections_;
  std::vector<std::unique_ptr<HttpConnection>> finished_;  // destroyed on the next loop turn
  uint16_t port_ = 0;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace slotgate::admin
