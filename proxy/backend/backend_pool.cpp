#include "backend/backend_pool.hpp"

#include <algorithm>

#include "cluster/cluster_view.hpp"
#include "net/loop.hpp"

namespace slotgate::backend {

BackendPool::BackendPool(net::Loop& loop, Credentials creds, BackendEvents& events,
                         PoolOptions options)
    : loop_(loop), creds_(std::move(creds)), events_(events), options_(options) {}

BackendPool::~BackendPool() {
  close_all("slotgate is shutting down");
}

BackendPool::Node& BackendPool::node(const std::string& address) {
  auto [it, added] = nodes_.try_emplace(address);
  if (added) it->second.address = address;
  return it->second;
}

BackendConnection* BackendPool::get(Node& n) {
  if (n.conn && !n.conn->closed()) return n.conn.get();
  // Closed without the pool being told (closed by its owner): account for it first.
  if (n.conn) closed(*n.conn, n.conn->ever_ready(), false, "connection closed");
  if (loop_.now_ms() < n.down_until_ms) return nullptr;
  auto conn = connect(n.address);
  if (!conn) return nullptr;
  if (n.conn) loop_.release_later(std::move(n.conn));
  n.conn = std::move(conn);
  if (n.readonly) n.conn->send_readonly();
  return n.conn.get();
}

void BackendPool::want_readonly(Node& n) {
  if (n.readonly) return;
  n.readonly = true;
  if (n.conn && !n.conn->closed()) n.conn->send_readonly();
  for (auto& lane : n.lanes) {
    if (!lane->closed()) lane->send_readonly();
  }
}

std::unique_ptr<BackendConnection> BackendPool::connect(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  if (!cluster::split_address(address, host, port)) return nullptr;
  return std::make_unique<BackendConnection>(loop_, address, host, port, creds_, events_,
                                             options_.connect_timeout_ms, options_.protocol);
}

BackendConnection* BackendPool::get_lane(const std::string& address) {
  if (is_down(address)) return nullptr;
  Node& n = node(address);
  BackendConnection* least = nullptr;
  for (auto& c : n.lanes) {
    if (c->closed()) continue;
    if (c->oldest_sent_ms() == 0) return c.get();  // no request outstanding: idle
    if (least == nullptr || c->outstanding() < least->outstanding()) least = c.get();
  }
  if (least != nullptr && n.lanes.size() >= kMaxLanes) return least;
  auto conn = connect(address);
  if (!conn) return nullptr;
  conn->mark_lane();
  if (n.readonly) conn->send_readonly();
  n.lanes.push_back(std::move(conn));
  return n.lanes.back().get();
}

bool BackendPool::is_down(const std::string& address) const {
  auto it = nodes_.find(address);
  if (it == nodes_.end()) return false;
  const Node& n = it->second;
  if (n.conn && !n.conn->closed()) return false;
  return loop_.now_ms() < n.down_until_ms;
}

void BackendPool::closed(BackendConnection& conn, bool was_ready, bool auth_failed,
                         std::string_view why) {
  auto it = nodes_.find(conn.address());
  if (it == nodes_.end()) return;
  Node& n = it->second;
  if (conn.lane()) {
    auto lane = std::find_if(n.lanes.begin(), n.lanes.end(),
                             [&conn](const auto& c) { return c.get() == &conn; });
    if (lane == n.lanes.end()) return;
    loop_.release_later(std::move(*lane));
    n.lanes.erase(lane);
    // A slow command's timeout says nothing about the node; a lane that could not
    // connect does, like the shared connection.
    if (conn.timed_out() || (was_ready && !auth_failed)) return;
  } else {
    if (n.conn.get() != &conn) return;
    loop_.release_later(std::move(n.conn));
  }
  n.last_error.assign(why);
  n.auth_failed = auth_failed;
  if (was_ready && !auth_failed) {
    // An established connection dropped: one immediate reconnect is worth trying.
    n.failures = 0;
    n.down_until_ms = 0;
    return;
  }
  n.failures = std::min<uint32_t>(n.failures + 1, 16);
  uint64_t backoff = options_.backoff_min_ms << std::min<uint32_t>(n.failures - 1, 10);
  n.down_until_ms = loop_.now_ms() + std::min(backoff, options_.backoff_max_ms);
}

uint32_t BackendPool::failures(const std::string& address) const {
  auto it = nodes_.find(address);
  return it == nodes_.end() ? 0 : it->second.failures;
}

std::string_view BackendPool::last_error(const std::string& address) const {
  auto it = nodes_.find(address);
  return it == nodes_.end() ? std::string_view() : std::string_view(it->second.last_error);
}

bool BackendPool::auth_failed(const std::string& address) const {
  auto it = nodes_.find(address);
  return it != nodes_.end() && auth_failed(it->second);
}

bool BackendPool::auth_failed(const Node& n) const {
  return n.auth_failed && loop_.now_ms() < n.down_until_ms;
}

void BackendPool::connect_failed(const std::string& address, std::string_view why) {
  Node& n = node(address);
  n.last_error.assign(why);
  n.failures = std::min<uint32_t>(n.failures + 1, 16);
  uint64_t backoff = options_.backoff_min_ms << std::min<uint32_t>(n.failures - 1, 10);
  n.down_until_ms =
      std::max(n.down_until_ms, loop_.now_ms() + std::min(backoff, options_.backoff_max_ms));
}

void BackendPool::check_timeouts(uint64_t now_ms, uint64_t timeout_ms) {
  // Failing a connection re-routes its requests, which may add entries to nodes_:
  // pick the victims first, then fail them.
  std::vector<BackendConnection*> late;
  auto check = [&](BackendConnection* c) {
    if (c == nullptr || c->closed()) return;
    uint64_t oldest = c->oldest_sent_ms();
    if (oldest != 0 && now_ms > oldest + timeout_ms) late.push_back(c);
  };
  for (auto& [addr, n] : nodes_) {
    check(n.conn.get());
    for (auto& lane : n.lanes) check(lane.get());
  }
  for (BackendConnection* c : late) {
    if (c->lane()) {
      c->time_out("no reply within command_timeout");
    } else {
      c->fail("no reply within command_timeout");
    }
  }
}

void BackendPool::trim_idle_lanes() {
  for (auto& [addr, n] : nodes_) {
    bool kept_one = false;
    for (auto it = n.lanes.begin(); it != n.lanes.end();) {
      BackendConnection& lane = **it;
      const bool idle = !lane.closed() && lane.ready() && lane.oldest_sent_ms() == 0;
      if (idle && kept_one) {
        lane.close_quietly();  // nothing outstanding: nobody is told anything
        loop_.release_later(std::move(*it));
        it = n.lanes.erase(it);
        continue;
      }
      kept_one = kept_one || idle;
      ++it;
    }
  }
}

void BackendPool::close_all(std::string_view why) {
  std::vector<BackendConnection*> open;
  for (auto& [addr, n] : nodes_) {
    if (n.conn && !n.conn->closed()) open.push_back(n.conn.get());
    for (auto& lane : n.lanes) {
      if (!lane->closed()) open.push_back(lane.get());
    }
  }
  for (BackendConnection* c : open) c->fail(why);
  for (auto& [addr, n] : nodes_) {
    n.conn.reset();
    n.lanes.clear();
  }
}

}  // namespace slotgate::backend
