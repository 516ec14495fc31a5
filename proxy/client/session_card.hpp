// client::SessionCard: what CLIENT LIST and CLIENT INFO show of one session, readable from any
// worker thread. The owning session writes the numbers (relaxed atomics, when a command is
// dispatched and at each tick); the strings (name, library) live in the SessionDirectory entry
// and are written under its lock when a connection command changes them. A reader on another
// worker reads a card only under the directory's lock, and a session leaves the directory
// before its card is destroyed, so the card a reader sees is always alive.
#pragma once

#include <atomic>
#include <cstdint>

namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::client {

struct SessionCard {
  std::atomic<uint64_t> last_activity_ms{0};
  // The last command dispatched (a static table entry; null before the first).
  std::atomic<const commands::CommandSpec*> last_command{nullptr};
  std::atomic<int32_t> multi{-1};  // commands queued in MULTI, -1 outside a transaction
  std::atomic<uint32_t> sub{0}, psub{0}, ssub{0};
  std::atomic<uint32_t> resp{2};
  std::atomic<uint64_t> tot_mem{0};
  std::atomic<int32_t> fd{-1};
  std::atomic<bool> no_evict{false};
  std::atomic<bool> tracking{false};  // CLIENT TRACKING ON
};

}  // namespace slotgate::client
