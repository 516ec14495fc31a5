#include "admin/stats_json.hpp"

#include <charconv>
#include <chrono>
#include <cmath>

#include "cluster/topology_json.hpp"

namespace slotgate::admin {
namespace {

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // Shortest text that reads back as the same double (0.00025, not 0.00025000000000000001).
  char text[40];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  out.append(text, ec == std::errc() ? end : text);
}

std::string_view type_name(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Summary:
      return "summary";
    default:
      return "untyped";
  }
}

void append_series(std::string& out, prometheus::MetricType type,
                   const prometheus::ClientMetric& m) {
  out += "{\"labels\":{";
  for (size_t i = 0; i < m.label.size(); ++i) {
    if (i > 0) out.push_back(',');
    cluster::append_json_string(out, m.label[i].name);
    out.push_back(':');
    cluster::append_json_string(out, m.label[i].value);
  }
  out += "}";
  switch (type) {
    case prometheus::MetricType::Counter:
      out += ",\"value\":";
      append_number(out, m.counter.value);
      break;
    case prometheus::MetricType::Gauge:
      out += ",\"value\":";
      append_number(out, m.gauge.value);
      break;
    case prometheus::MetricType::Histogram: {
      out += ",\"count\":" + std::to_string(m.histogram.sample_count);
      out += ",\"sum\":";
      append_number(out, m.histogram.sample_sum);
      out += ",\"buckets\":[";
      for (size_t i = 0; i < m.histogram.bucket.size(); ++i) {
        const auto& b = m.histogram.bucket[i];
        if (i > 0) out.push_back(',');
        out.push_back('[');
        if (std::isinf(b.upper_bound)) {
          out += "\"+Inf\"";
        } else {
          append_number(out, b.upper_bound);
        }
        out += "," + std::to_string(b.cumulative_count) + "]";
      }
      out += "]";
      break;
    }
    default:
      out += ",\"value\":";
      append_number(out, m.untyped.value);
  }
  out.push_back('}');
}

}  // namespace

std::string stats_json(const std::vector<prometheus::MetricFamily>& families, int64_t unix_ms) {
  std::string out = "{\"unix_ms\":" + std::to_string(unix_ms) + ",\"families\":{";
  bool first = true;
  for (const auto& family : families) {
    if (!first) out.push_back(',');
    first = false;
    cluster::append_json_string(out, family.name);
    out += ":{\"type\":\"";
    out += type_name(family.type);
    out += "\",\"series\":[";
    for (size_t i = 0; i < family.metric.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_series(out, family.type, family.metric[i]);
    }
    out += "]}";
  }
  out += "}}";
  return out;
}

std::string stats_json(const std::vector<prometheus::MetricFamily>& families) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return stats_json(families, std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

}  // namespace slotgate::admin
