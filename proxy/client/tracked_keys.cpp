#include "client/tracked_keys.hpp"

namespace slotgate::client {

using Mode = TrackingOptions::Mode;

bool TrackedKeys::set_caching(bool yes) {
  if ((options_.mode == Mode::OptIn && !yes) || (options_.mode == Mode::OptOut && yes)) {
    return false;
  }
  if (options_.mode != Mode::OptIn && options_.mode != Mode::OptOut) return false;
  caching_set_ = true;
  return true;
}

bool TrackedKeys::remembers_reads() const {
  switch (options_.mode) {
    case Mode::Default:
      return true;
    case Mode::Bcast:
      return false;  // told about every key under its prefixes, read or not
    case Mode::OptIn:
      return caching_set_;
    case Mode::OptOut:
      return !caching_set_;
  }
  return false;
}

bool TrackedKeys::remember(std::string_view key) {
  if (keys_.size() >= max_keys_ && keys_.find(std::string(key)) == keys_.end()) return false;
  keys_.emplace(key);
  return true;
}

bool TrackedKeys::under_prefix(std::string_view key) const {
  if (options_.prefixes.empty()) return true;
  for (const auto& p : options_.prefixes) {
    if (key.starts_with(p)) return true;
  }
  return false;
}

std::vector<std::string> TrackedKeys::invalidated(std::span<const std::string> keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) {
    if (options_.mode == Mode::Bcast) {
      if (under_prefix(k)) out.push_back(k);
    } else if (keys_.erase(k) > 0) {
      out.push_back(k);
    }
  }
  return out;
}

}  // namespace slotgate::client
