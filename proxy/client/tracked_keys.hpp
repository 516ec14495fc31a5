// client::TrackedKeys: one session's client-side-caching state, as Redis keeps it per client:
// the mode CLIENT TRACKING ON chose (default, BCAST with prefixes, OPTIN, OPTOUT), the
// CLIENT CACHING yes|no for the next command, and the keys the session read. The nodes
// report every change to slotgate (BCAST on the session's tracking links); this table decides
// which of those invalidations the client hears: in BCAST mode the keys under its prefixes,
// otherwise the keys it read, each once (Redis forgets a key after its first invalidation,
// until the client reads it again). Pure logic, no I/O.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace slotgate::client {

struct TrackingOptions {
  enum class Mode : unsigned char { Default, Bcast, OptIn, OptOut };
  Mode mode = Mode::Default;
  std::vector<std::string> prefixes;  // BCAST only; empty: every key
};

class TrackedKeys {
 public:
  // At most max_keys remembered keys per session (Redis bounds its table too).
  static constexpr size_t kDefaultMaxKeys = 100'000;
  explicit TrackedKeys(TrackingOptions options, size_t max_keys = kDefaultMaxKeys)
      : options_(std::move(options)), max_keys_(max_keys) {}

  const TrackingOptions& options() const { return options_; }
  // CLIENT CACHING yes|no: OPTIN tracks the next command only after yes, OPTOUT skips the
  // next command after no. False: the mode does not take this value (Redis's error).
  bool set_caching(bool yes);
  // A command finished outside MULTI (not CLIENT CACHING itself): the CACHING choice ends.
  void command_done() { caching_set_ = false; }
  // Whether the keys of a read-only command the client sends now are remembered.
  bool remembers_reads() const;
  // False when the table is full and `key` is new: the caller invalidates everything
  // (clear()) and remembers it again, so a client reading ever more keys costs bounded memory.
  bool remember(std::string_view key);
  // Of the keys a node reported changed, those the client must be told about; remembered
  // keys among them are forgotten.
  std::vector<std::string> invalidated(std::span<const std::string> keys);
  // Everything is invalid (a node flushed, or slotgate may have missed invalidations).
  void clear() { keys_.clear(); }
  size_t size() const { return keys_.size(); }

 private:
  bool under_prefix(std::string_view key) const;

  TrackingOptions options_;
  size_t max_keys_;
  bool caching_set_ = false;  // CLIENT CACHING given for the next command
  std::unordered_set<std::string> keys_;
};

}  // namespace slotgate::client
