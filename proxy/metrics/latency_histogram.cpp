#include "metrics/latency_histogram.hpp"

#include <algorithm>

namespace slotgate::metrics {

void LatencyHistogram::observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // also catches NaN
  // A value equal to a bound belongs to that bucket (Prometheus' "le" is <=).
  const auto it = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds);
  ++counts[static_cast<size_t>(it - kLatencyBuckets.begin())];
  sum_seconds += seconds;
}

uint64_t LatencyHistogram::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

}  // namespace slotgate::metrics
