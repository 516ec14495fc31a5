// metrics command names: the fixed set of command names used as the "command"
// label. Why fixed: a label value per distinct client-sent name would let a
// client (or a typo loop) create unbounded time series; anything not a Redis
// command is counted as "other".
#pragma once

#include <cstddef>
#include <string_view>

namespace slotgate::metrics {

inline constexpr size_t kKnownCommands = 240;
// The index used for names that are not Redis commands.
inline constexpr size_t kOtherCommand = kKnownCommands;
// Slots in a per-command table: every known command plus "other".
inline constexpr size_t kCommandSlots = kKnownCommands + 1;

// Index of a lower-case command name in [0, kKnownCommands), or kOtherCommand. No allocation.
size_t command_index(std::string_view lower_name);
// The label for an index ("get", "other").
std::string_view command_label(size_t index);

}  // namespace slotgate::metrics
