// client::ClientMemoryBudget: the proxy-wide budget for client buffers
// (clients.max_memory), like Redis's maxmemory-clients. Every worker counts its own
// clients' memory (query buffers, queued and held replies, output buffers) in plain
// integers and publishes its total here only in coarse steps, so no shared cache line
// is touched per command. When the published totals together exceed the budget, the
// worker holding the biggest client closes it; the others leave it to that worker.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace slotgate::client {

class ClientMemoryBudget {
 public:
  static constexpr size_t kMaxWorkers = 1024;  // config: workers is at most 1024

  // A worker publishes again once its total moved by this much (1/64 of the budget,
  // between 64 KiB and 4 MiB): N workers can hide at most N steps from each other.
  static uint64_t step_for(uint64_t budget) {
    return std::clamp<uint64_t>(budget / 64, 64 * 1024, 4 * 1024 * 1024);
  }

  // Worker `worker`'s clients use `total` bytes; its biggest client uses `biggest`.
  void publish(size_t worker, uint64_t total, uint64_t biggest) {
    Share& s = shares_[worker];
    s.total.store(total, std::memory_order_relaxed);
    s.biggest.store(biggest, std::memory_order_relaxed);
    size_t seen = workers_.load(std::memory_order_relaxed);
    while (worker >= seen && !workers_.compare_exchange_weak(seen, worker + 1)) {
    }
  }

  // The sum of what the workers published.
  uint64_t total() const {
    uint64_t sum = 0;
    const size_t n = workers_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i) sum += shares_[i].total.load(std::memory_order_relaxed);
    return sum;
  }

  // Whether `worker`, whose biggest client uses `biggest` bytes, holds the biggest client of
  // the proxy (ties go to the lower worker index, so exactly one worker acts).
  bool holds_biggest(size_t worker, uint64_t biggest) const {
    const size_t n = workers_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i) {
      if (i == worker) continue;
      uint64_t other = shares_[i].biggest.load(std::memory_order_relaxed);
      if (other > biggest || (other == biggest && i < worker)) return false;
    }
    return true;
  }

 private:
  struct alignas(64) Share {
    std::atomic<uint64_t> total{0};
    std::atomic<uint64_t> biggest{0};
  };
  std::array<Share, kMaxWorkers> shares_{};
  std::atomic<size_t> workers_{0};
};

}  // namespace slotgate::client
