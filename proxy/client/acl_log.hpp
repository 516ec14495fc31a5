// client::AclLog: slotgate's own ACL LOG, the proxy-wide record of denied commands, keys,
// channels and failed AUTHs, with the fields and grouping of Redis's (an entry repeating the
// last one's reason, context, object and user within 60 s counts up instead of adding).
// Bounded (the newest `kMaxEntries`; objects cut at `kMaxObject` bytes) so a client cannot
// grow it; shared by every worker under a mutex (denials are rare and off the fast path).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace slotgate::client {

struct AclLogEntry {
  uint64_t count = 1;
  std::string reason;   // command, key, channel, auth
  std::string context;  // toplevel, multi
  std::string object;   // the command, key or channel denied ("AUTH" for auth)
  std::string username;
  std::string client_info;  // CLIENT INFO of the client at the time
  uint64_t created_ms = 0;  // steady clock
  uint64_t updated_ms = 0;
};

class AclLog {
 public:
  static constexpr size_t kMaxEntries = 128;  // Redis's acl-log-max-len default
  static constexpr size_t kMaxObject = 512;

  void add(AclLogEntry e);
  // The newest first, at most `count`.
  std::vector<AclLogEntry> newest(size_t count) const;
  void reset();

 private:
  mutable std::mutex mu_;
  std::deque<AclLogEntry> entries_;  // newest at the front
};

}  // namespace slotgate::client
