// metrics::LatencyHistogram: a plain, single-writer histogram with the
// latency buckets used by every slotgate duration metric. Workers fill it
// without atomics; Metrics::publish hands the increments to prometheus-cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace slotgate::metrics {

// Upper bounds in seconds (Prometheus "le"), from 100µs (a pipelined GET on the
// same host) to 10s (a request held through a whole failover).
inline constexpr std::array<double, 16> kLatencyBuckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
inline constexpr size_t kBuckets = kLatencyBuckets.size();

struct LatencyHistogram {
  // counts[i]: observations in bucket i alone (not cumulative); counts[kBuckets] is +Inf.
  std::array<uint64_t, kBuckets + 1> counts{};
  double sum_seconds = 0;

  void observe(double seconds);
  uint64_t total() const;
  bool operator==(const LatencyHistogram&) const = default;
};

}  // namespace slotgate::metrics
