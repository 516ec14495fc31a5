// client::SessionDirectory: who is connected, proxy-wide, for CLIENT KILL and CLIENT UNBLOCK
// (a session on one worker may name a session on another). Written when a session connects,
// authenticates, blocks or closes, never per ordinary command; read under its lock by the
// rare admin command, which then asks the owning worker (its SessionHost) to act. One
// directory serves the whole process: the worker part keeps it in its ServerState.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace slotgate::client {

class SessionHost;

class SessionDirectory {
 public:
  struct Entry {
    uint64_t id = 0;
    SessionHost* worker = nullptr;  // the worker hosting the session
    std::string addr, laddr;
    std::string user;  // empty: the default user
    bool blocked = false;
  };

  void add(Entry e) {
    std::lock_guard lock(mu_);
    entries_[e.id] = std::move(e);
  }
  void remove(uint64_t id) {
    std::lock_guard lock(mu_);
    entries_.erase(id);
  }
  void set_user(uint64_t id, std::string user) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) it->second.user = std::move(user);
  }
  void set_blocked(uint64_t id, bool blocked) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) it->second.blocked = blocked;
  }
  // Copies of the entries `match` accepts.
  template <typename F>
  std::vector<Entry> find(F&& match) const {
    std::lock_guard lock(mu_);
    std::vector<Entry> out;
    for (const auto& [id, e] : entries_) {
      if (match(e)) out.push_back(e);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace slotgate::client
