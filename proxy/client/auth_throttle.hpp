// client::AuthThrottle: failed AUTH/HELLO AUTH attempts per source address. After
// `max_failures` failures within `window`, further attempts from that address are answered
// with an error without checking the password until `block` has passed — a password cannot be
// guessed faster than that through slotgate. The table is bounded (`kMaxAddresses`): when full,
// expired entries go first, then the oldest, so an attacker with many addresses cannot grow it.
// Shared by every worker under a mutex (AUTH is not on the hot path).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace slotgate::client {

struct AuthThrottleLimits {
  uint32_t max_failures = 10;  // 0 = never throttle
  uint64_t window_ms = 60'000;
  uint64_t block_ms = 60'000;
};

class AuthThrottle {
 public:
  static constexpr size_t kMaxAddresses = 10'000;

  // False while `address` is blocked.
  bool allowed(std::string_view address, uint64_t now_ms, const AuthThrottleLimits& limits);
  void failed(std::string_view address, uint64_t now_ms, const AuthThrottleLimits& limits);
  size_t size() const;

 private:
  struct Entry {
    uint64_t window_start_ms = 0;
    uint32_t failures = 0;
    uint64_t blocked_until_ms = 0;
  };
  void make_room(uint64_t now_ms, const AuthThrottleLimits& limits);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// The address part of "ip:port" / "[v6]:port" (a client's peer), without the port.
std::string_view peer_host(std::string_view peer);

}  // namespace slotgate::client
