#include "cluster/event_log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "cluster/topology_json.hpp"

namespace slotgate::cluster {
namespace {

std::string iso_time(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return text;
}

}  // namespace

EventLog::EventLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

void EventLog::add(std::string_view kind, std::string_view message) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  add_at(std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), kind, message);
}

void EventLog::add_at(int64_t unix_ms, std::string_view kind, std::string_view message) {
  std::lock_guard lock(mu_);
  if (events_.size() >= capacity_) events_.pop_front();
  events_.push_back({next_seq_++, unix_ms, std::string(kind), std::string(message)});
}

std::vector<ClusterEvent> EventLog::snapshot() const {
  std::lock_guard lock(mu_);
  return {events_.begin(), events_.end()};
}

uint64_t EventLog::total() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

std::string EventLog::to_json(uint64_t since_seq) const {
  const std::vector<ClusterEvent> events = snapshot();
  std::string out = "{\"capacity\":" + std::to_string(capacity_);
  out += ",\"total\":" + std::to_string(events.empty() ? 0 : events.back().seq);
  out += ",\"events\":[";
  bool first = true;
  for (const ClusterEvent& e : events) {
    if (e.seq <= since_seq) continue;
    if (!first) out.push_back(',');
    first = false;
    out += "{\"seq\":" + std::to_string(e.seq);
    out += ",\"time\":\"" + iso_time(e.unix_ms) + "\"";
    out += ",\"unix_ms\":" + std::to_string(e.unix_ms);
    out += ",\"kind\":";
    append_json_string(out, e.kind);
    out += ",\"message\":";
    append_json_string(out, e.message);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

}  // namespace slotgate::cluster
