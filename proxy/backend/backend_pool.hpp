// backend::BackendPool: a worker's connections to the cluster's nodes, one
// multiplexed connection per node address. A node whose connection cannot be
// established is "down" for a short, growing backoff; the router holds requests
// for its slots meanwhile instead of hammering it with connects.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backend/backend_connection.hpp"

namespace slotgate::backend {

struct PoolOptions {
  uint64_t connect_timeout_ms = 1000;
  uint64_t backoff_min_ms = 100;
  uint64_t backoff_max_ms = 1000;
  int protocol = 2;  // what the pool's connections speak (RESP2 or RESP3)
};

class BackendPool {
 public:
  BackendPool(net::Loop& loop, Credentials creds, BackendEvents& events, PoolOptions options);
  ~BackendPool();

  // What the pool knows about one node address. Entries are created on first use and never
  // removed, so a pointer to one stays valid for the pool's life: the router keeps one per
  // node of its view and skips the address lookup on every request. Only the pool reads
  // or writes the fields.
  struct Node {
    std::string address;
    std::unique_ptr<BackendConnection> conn;
    std::vector<std::unique_ptr<BackendConnection>> lanes;
    uint32_t failures = 0;
    uint64_t down_until_ms = 0;
    bool auth_failed = false;
    std::string last_error;
    bool readonly = false;  // its connections send READONLY (a replica serving reads)
  };
  // The entry for `address`, created if new.
  Node& node(const std::string& address);

  // The connection to `address` ("host:port"), created on first use. nullptr while the
  // node is in backoff after failed connects, or when the address cannot be parsed.
  BackendConnection* get(const std::string& address) { return get(node(address)); }
  BackendConnection* get(Node& n);
  // A connection to `address` for a command that may run long: an idle lane, or a new one.
  // Lanes are separate from the shared connection, so a slow command neither delays the
  // requests queued there nor, when it passes command_timeout, fails them. Beyond
  // kMaxLanes per node, the least busy lane is shared. nullptr like get().
  BackendConnection* get_lane(const std::string& address);
  static constexpr size_t kMaxLanes = 8;
  // From now on the node's connections (the open ones too) send READONLY: a cluster replica then
  // serves reads of its master's slots instead of answering MOVED.
  void want_readonly(Node& n);
  bool is_down(const std::string& address) const;
  // Failed connection attempts since the last connection that worked.
  uint32_t failures(const std::string& address) const;
  // Why the last connection to the node failed or was lost ("" if none did).
  std::string_view last_error(const std::string& address) const;
  // The node rejected slotgate's credentials on the last attempt.
  bool auth_failed(const std::string& address) const;
  bool auth_failed(const Node& n) const;
  // Called from BackendEvents::on_backend_closed: the connection leaves the pool and is
  // handed to the loop (net::Loop::release_later) because it is still on the call stack.
  void closed(BackendConnection& conn, bool was_ready, bool auth_failed, std::string_view why);
  // A connection outside the pool (a session's dedicated one) could not connect:
  // the node is down for everyone, with the same backoff.
  void connect_failed(const std::string& address, std::string_view why);
  // Fails connections whose oldest request waited longer than timeout_ms (a lane: time_out()).
  void check_timeouts(uint64_t now_ms, uint64_t timeout_ms);
  // Closes idle lanes beyond one per node: a burst of slow commands does not leave its
  // connections open on the nodes.
  void trim_idle_lanes();
  // Closes every connection (shutdown); outstanding requests are handed back.
  void close_all(std::string_view why);
  void set_credentials(const Credentials& creds) { creds_ = creds; }
  // SIGHUP: connections made from now on use it (one already connecting keeps its timer).
  void set_connect_timeout(uint64_t ms) { options_.connect_timeout_ms = ms; }
  size_t size() const { return nodes_.size(); }

 private:
  net::Loop& loop_;
  Credentials creds_;
  BackendEvents& events_;
  PoolOptions options_;
  std::unordered_map<std::string, Node> nodes_;
  std::unique_ptr<BackendConnection> connect(const std::string& address);
};

}  // namespace slotgate::backend
