// client::SessionDirectory: who is connected, proxy-wide, for CLIENT KILL and CLIENT UNBLOCK
// (a session on one worker may name a session on another). Written when a session connects,
// authenticates, blocks or closes, never per ordinary command; read under its lock by the
// rare admin command, which then asks the owning worker (its SessionHost) to act. One
// directory serves the whole process: the worker part keeps it in its ServerState.
// CLIENT LIST / CLIENT INFO read each session's SessionCard through visit(), under the lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/session_card.hpp"

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
    uint64_t created_ms = 0;
    std::string name, lib_name, lib_ver;
    // Valid only inside visit(): the session removes its entry before the card dies.
    const SessionCard* card = nullptr;
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
  // CLIENT SETNAME / SETINFO / HELLO / RESET changed what CLIENT LIST shows by name.
  void set_identity(uint64_t id, std::string_view name, std::string_view lib_name,
                    std::string_view lib_ver) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) {
      it->second.name = name;
      it->second.lib_name = lib_name;
      it->second.lib_ver = lib_ver;
    }
  }
  // Calls f(entry) for every entry, in id order, under the lock (entry.card may be read).
  template <typename F>
  void visit(F&& f) const {
    std::lock_guard lock(mu_);
    std::vector<const Entry*> sorted;
    sorted.reserve(entries_.size());
    for (const auto& [id, e] : entries_) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(),
              [](const Entry* a, const Entry* b) { return a->id < b->id; });
    for (const Entry* e : sorted) f(*e);
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
