// Replies to the COMMAND subcommands slotgate answers from its own table: COUNT, INFO, LIST,
// GETKEYS and GETKEYSANDFLAGS, built as resp::Value in the shape redis-server 7.0 uses.
// COMMAND without arguments and COMMAND DOCS are forwarded to a backend by the router.
#pragma once

#include <span>
#include <string_view>

#include "commands/command_table.hpp"
#include "resp/value.hpp"

namespace slotgate::commands {

// args is the whole client command: args[0] == "COMMAND", args[1] the subcommand. protocol is
// the client's RESP version (2 or 3): RESP3 gets sets and maps where Redis sends them.
resp::Value command_reply(std::span<const std::string_view> args, int protocol = 2);

resp::Value command_count_reply();
// COMMAND INFO [name ...]: no names = every command; an unknown name gives a null entry.
resp::Value command_info_reply(std::span<const std::string_view> names, int protocol = 2);
// COMMAND LIST [FILTERBY MODULE m | ACLCAT cat | PATTERN glob] (args after LIST).
resp::Value command_list_reply(std::span<const std::string_view> filter);
// COMMAND GETKEYS / GETKEYSANDFLAGS cmd arg... (cmd_args starts at the inspected command).
resp::Value command_getkeys_reply(std::span<const std::string_view> cmd_args, bool with_flags,
                                  int protocol = 2);
// One COMMAND INFO entry (also used for subcommands).
resp::Value command_info_entry(const CommandSpec& spec, int protocol = 2);

// ACL categories by name ("read", no '@'; case-insensitive): the bit, or 0 when unknown.
uint64_t acl_category_bit(std::string_view name);
// Every ACL category name, in the order ACL CAT lists them.
std::span<const std::string_view> acl_category_names();

}  // namespace slotgate::commands
