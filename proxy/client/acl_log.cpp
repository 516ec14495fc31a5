#include "client/acl_log.hpp"

#include <algorithm>

namespace slotgate::client {

void AclLog::add(AclLogEntry e) {
  if (e.object.size() > kMaxObject) e.object.resize(kMaxObject);
  if (e.username.size() > kMaxObject) e.username.resize(kMaxObject);
  e.updated_ms = e.created_ms;
  std::lock_guard lock(mu_);
  for (AclLogEntry& old : entries_) {
    if (e.created_ms - old.updated_ms > 60'000) break;  // older ones are older still
    if (old.reason == e.reason && old.context == e.context && old.object == e.object &&
        old.username == e.username) {
      old.count++;
      old.updated_ms = e.created_ms;
      old.client_info = std::move(e.client_info);
      return;
    }
  }
  entries_.push_front(std::move(e));
  if (entries_.size() > kMaxEntries) entries_.pop_back();
}

std::vector<AclLogEntry> AclLog::newest(size_t count) const {
  std::lock_guard lock(mu_);
  const size_t n = std::min(count, entries_.size());
  return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void AclLog::reset() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

}  // namespace slotgate::client
