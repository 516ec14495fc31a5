#include "client/auth_throttle.hpp"

#include <algorithm>

namespace slotgate::client {

bool AuthThrottle::allowed(std::string_view address, uint64_t now_ms,
                           const AuthThrottleLimits& limits) {
  if (limits.max_failures == 0) return true;
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(address));
  return it == entries_.end() || it->second.blocked_until_ms <= now_ms;
}

void AuthThrottle::failed(std::string_view address, uint64_t now_ms,
                          const AuthThrottleLimits& limits) {
  if (limits.max_failures == 0) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxAddresses) make_room(now_ms, limits);
    it = entries_.emplace(std::string(address), Entry{now_ms, 0, 0}).first;
  }
  Entry& e = it->second;
  if (now_ms - e.window_start_ms > limits.window_ms && e.blocked_until_ms <= now_ms) {
    e = Entry{now_ms, 0, 0};
  }
  if (++e.failures >= limits.max_failures) e.blocked_until_ms = now_ms + limits.block_ms;
}

void AuthThrottle::make_room(uint64_t now_ms, const AuthThrottleLimits& limits) {
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.blocked_until_ms <= now_ms &&
           now_ms - kv.second.window_start_ms > limits.window_ms;
  });
  if (entries_.size() < kMaxAddresses) return;
  auto oldest =
      std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start_ms < b.second.window_start_ms;
      });
  entries_.erase(oldest);
}

size_t AuthThrottle::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::string_view peer_host(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const size_t close = peer.find(']');
    return close == std::string_view::npos ? peer : peer.substr(1, close - 1);
  }
  const size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

}  // namespace slotgate::client
