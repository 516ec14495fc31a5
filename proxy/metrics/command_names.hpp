// metrics command names: the fixed set of command names used as the "command"
// label. Why fixed: a label value per distinct client-sent name would let a
// client (or a typo loop) create unbounded time series; anything not a Redis
// command is counted as "other". The set is the command table's top-level commands:
// each CommandSpec carries its metrics_index, so a command added to the table is
// counted without a second list.
#pragma once

#include <cstddef>
#include <string_view>

namespace slotgate::metrics {

// The index used for names that are not Redis commands (after every known command).
size_t other_command();
// Slots in a per-command table: every known command plus "other".
size_t command_slots();

// Index of a command name (any case; "client|list" counts as "client"), or other_command().
// No allocation. The data path uses CommandSpec::metrics_index instead.
size_t command_index(std::string_view name);
// The label for an index ("get", "other").
std::string_view command_label(size_t index);

}  // namespace slotgate::metrics
