// cluster::EventLog: the recent history of the cluster as slotgate saw it — failovers,
// new masters, slots moving, nodes failing and coming back, SIGHUP reloads — kept in a
// bounded ring in memory for the admin page and GET /events. Events are rare (a few per
// topology change), so a mutex is fine; nothing on the request path writes here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::cluster {

struct ClusterEvent {
  uint64_t seq = 0;     // 1, 2, 3, ... in the order the events were added
  int64_t unix_ms = 0;  // wall-clock time the event was recorded
  std::string kind;     // "failover", "slots_moved", "node_failed", "config_reload", ...
  std::string message;  // one line for a human
};

class EventLog {
 public:
  static constexpr size_t kDefaultCapacity = 256;
  explicit EventLog(size_t capacity = kDefaultCapacity);

  // Thread-safe. The oldest event is dropped once the ring is full.
  void add(std::string_view kind, std::string_view message);
  void add_at(int64_t unix_ms, std::string_view kind, std::string_view message);
  std::vector<ClusterEvent> snapshot() const;
  uint64_t total() const;  // events ever added (dropped ones included)
  size_t capacity() const { return capacity_; }

  // {"capacity":256,"total":N,"events":[{"seq":..,"time":"2026-01-02T03:04:05.678Z",
  //  "unix_ms":..,"kind":"..","message":".."},...]}, oldest first. since_seq > 0 keeps
  // only the events after that one.
  std::string to_json(uint64_t since_seq = 0) const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ClusterEvent> events_;
  uint64_t next_seq_ = 1;
};

}  // namespace slotgate::cluster
