// The static command table (generated facts from command_table.inc, folded together with
// routing_policy.hpp at compile time) and name lookup. Nothing here allocates.
#include "commands/command_table.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "commands/routing_policy.hpp"

namespace slotgate::commands {
namespace table {

constexpr bool spec_names_a_key(std::span<const KeySpec> specs) {
  for (const KeySpec& ks : specs) {
    if ((ks.flags & kKeyNotKey) == 0) return true;
  }
  return false;
}

// One table row: Redis's facts as generated, plus the proxy's policy for that name.
constexpr CommandSpec make_command(std::string_view name, int arity, uint32_t flags, uint64_t acl,
                                   int first, int last, int step, std::span<const KeySpec> specs,
                                   std::span<const std::string_view> tips,
                                   std::span<const CommandSpec> subs, GetKeysProc getkeys,
                                   uint16_t metrics_index) {
  const bool keyed = getkeys != GetKeysProc::None || spec_names_a_key(specs);
  const int listed = policy_index(name);
  const Traits traits = traits_of(name);
  const Policy policy = listed >= 0
                            ? kPolicies[listed]
                            : default_policy(name, keyed, (flags & kAdmin) != 0, !subs.empty());
  return CommandSpec{name,
                     arity,
                     flags,
                     acl,
                     first,
                     last,
                     step,
                     specs.data(),
                     static_cast<uint8_t>(specs.size()),
                     subs.data(),
                     static_cast<uint16_t>(subs.size()),
                     tips,
                     getkeys,
                     policy.routing,
                     policy.merge,
                     policy.refused_reason,
                     traits.traits,
                     traits.channels,
                     traits.session,
                     traits.channel_kind,
                     policy.local,
                     metrics_index};
}

#include "commands/command_table.inc"

}  // namespace table

namespace {

// Longest command name Redis 7.0 has is well below this; longer input cannot be a command.
constexpr size_t kMaxName = 64;

struct LowerName {
  std::array<char, kMaxName> buf{};
  size_t len = 0;

  bool append(std::string_view s) {
    if (len + s.size() > buf.size()) return false;
    for (char c : s) {
      buf[len++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return true;
  }
  std::string_view view() const { return {buf.data(), len}; }
};

const CommandSpec* search(std::span<const CommandSpec> specs, std::string_view lower_name) {
  auto it = std::lower_bound(
      specs.begin(), specs.end(), lower_name,
      [](const CommandSpec& spec, std::string_view name) { return spec.name < name; });
  if (it == specs.end() || it->name != lower_name) return nullptr;
  return &*it;
}

const CommandSpec* find_sub(const CommandSpec& container, std::string_view sub) {
  LowerName full;
  if (!full.append(container.name) || !full.append("|") || !full.append(sub)) return nullptr;
  return search(container.subs(), full.view());
}

// FNV-1a over the lower-case name.
size_t name_hash(std::string_view lower_name) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : lower_name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return static_cast<size_t>(h);
}

// find() runs for every client command: an open-addressing hash of the top-level names,
// built once, answers with one name compare where the binary search needed about eight.
class NameIndex {
 public:
  NameIndex() {
    static_assert(std::size(table::kCommands) < kSlots / 2, "NameIndex::kSlots too small");
    for (size_t i = 0; i < std::size(table::kCommands); ++i) {
      size_t at = name_hash(table::kCommands[i].name) & (kSlots - 1);
      while (slots_[at] != 0) at = (at + 1) & (kSlots - 1);
      slots_[at] = static_cast<uint16_t>(i + 1);
    }
  }

  const CommandSpec* find(std::string_view lower_name) const {
    for (size_t at = name_hash(lower_name) & (kSlots - 1); slots_[at] != 0;
         at = (at + 1) & (kSlots - 1)) {
      const CommandSpec& spec = table::kCommands[slots_[at] - 1];
      if (spec.name == lower_name) return &spec;
    }
    return nullptr;
  }

 private:
  static constexpr size_t kSlots = 1024;  // a power of two, over twice the command count
  std::array<uint16_t, kSlots> slots_{};  // index + 1 into kCommands; 0 is empty
};

}  // namespace

const CommandSpec* find(std::string_view name) {
  LowerName lower;
  if (!lower.append(name)) return nullptr;
  static const NameIndex index;
  return index.find(lower.view());
}

const CommandSpec* find_full(std::string_view name) {
  const size_t bar = name.find('|');
  const CommandSpec* top = find(name.substr(0, bar));
  if (top == nullptr || bar == std::string_view::npos) return top;
  return find_sub(*top, name.substr(bar + 1));
}

const CommandSpec* lookup(std::span<const std::string_view> args) {
  if (args.empty()) return nullptr;
  const CommandSpec* top = find(args[0]);
  if (top == nullptr || !top->is_container() || args.size() < 2) return top;
  const CommandSpec* sub = find_sub(*top, args[1]);
  return sub != nullptr ? sub : top;
}

bool arity_ok(const CommandSpec& spec, size_t argc) {
  if (spec.arity >= 0) return argc == static_cast<size_t>(spec.arity);
  return argc >= static_cast<size_t>(-spec.arity);
}

size_t command_count() {
  return std::size(table::kCommands);
}

std::span<const CommandSpec> all_commands() {
  return table::kCommands;
}

std::string_view redis_version() {
  return table::kRedisVersion;
}

}  // namespace slotgate::commands
