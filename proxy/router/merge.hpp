// router::merge_replies: the one reply of a split or broadcast command, made from the
// replies of its parts. Which merge a command gets is data in the command table
// (CommandSpec::merge); the merges themselves are a table of pure functions over
// parsed values (merge.cpp), one per commands::Merge kind. Every merge answers with
// the first error among the parts, except AllOk (which says which keys may not have
// been written) and AnyOk (SCRIPT KILL: one master saying OK is enough).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/routing.hpp"
#include "resp/value.hpp"

namespace slotgate::router {

struct MergeParts {
  std::span<const resp::Value> replies;  // one per part, in part order
  // KeyOrder: per part, the argument indices (1-based, as in the command) of its keys.
  std::span<const std::vector<uint32_t>> keys;
  // AllOk of a split command: per part, its keys as text ("k1, k2"); empty for a broadcast.
  std::span<const std::string> labels;
  std::string_view command;  // the command's name, for error texts
};

resp::Value merge_replies(commands::Merge kind, const MergeParts& parts);

}  // namespace slotgate::router
