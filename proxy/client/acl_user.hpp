// client::AclUser: one of slotgate's users as Redis's ACL sees it — on/off, password hashes,
// key patterns with read/write permissions, channel patterns and the set of commands it may
// run — built from Redis ACL rule syntax (`apply_acl_rule`, the modifiers of ACL SETUSER) and
// checked against the command table (`check_acl`): categories, subcommands, every key position
// the key-specs name with their read/write flags, and Pub/Sub channels. Pure logic: no I/O.
//
// Not supported (refused with a clear error): selectors `(...)` and first-argument rules for
// commands without subcommands (`+select|0`).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_table.hpp"
#include "config/config.hpp"

namespace slotgate::client {

enum AclPerm : uint8_t { kAclRead = 1, kAclWrite = 2, kAclReadWrite = 3 };

struct AclKeyPattern {
  std::string pattern;
  uint8_t perms;  // AclPerm bits
  bool operator==(const AclKeyPattern&) const = default;
};

struct AclUser {
  std::string name;
  bool enabled = false;
  bool nopass = false;
  std::vector<std::string> password_hashes;  // SHA-256, 64 lower-case hex digits
  bool all_keys = false;
  bool all_channels = false;
  std::vector<AclKeyPattern> keys;
  std::vector<std::string> channels;
  std::vector<bool> commands;              // indexed by acl_command_index()
  std::vector<std::string> command_rules;  // as given, for ACL LIST / GETUSER
  bool from_shorthand = false;             // readonly/keys/...: describe() lists what is denied

  AclUser();  // Redis's fresh user: off, no password, no keys, channels or commands
  bool allows(const commands::CommandSpec& spec) const;
  // "on nopass #… ~k* %R~r* resetchannels &c* -@all +@read": Redis's ACL LIST form.
  std::string describe() const;
};

// One modifier of ACL SETUSER. Returns the reason Redis gives when it is refused ("Syntax
// error", "Unknown command or category name in ACL", ...), or nothing when applied.
std::optional<std::string> apply_acl_rule(AclUser& user, std::string_view rule);
// Splits a rules string at spaces (a YAML `rules: "on >pw ~* +@all"`).
std::vector<std::string> split_acl_rules(std::string_view text);
// Redis's error for a refused rule: "Error in ACL SETUSER modifier '<rule>': <reason>".
std::string acl_rule_error(std::string_view rule, std::string_view reason);

// A user from the configuration: `rules` applied in order to a fresh user, or the shorthand
// (`readonly`, `keys`, `channels`, `scripts`) translated into the same model. The error names
// the user and the rule.
struct AclBuild {
  std::optional<AclUser> user;
  std::string error;
};
AclBuild build_acl_user(const config::UserConfig& cfg);
// Every user of the configuration: the first error, or empty.
std::string check_acl_users(const config::ClientsConfig& clients);

enum class AclDenial : uint8_t { None, Command, Key, Channel };
struct AclVerdict {
  AclDenial denial = AclDenial::None;
  uint32_t arg = 0;  // the argument denied (Key, Channel)
};
// Redis's ACLCheckAllPerm for one command: command bit, then every key (with the key-spec's
// access/insert/delete/update flags as read/write), then every published or subscribed
// channel (PSUBSCRIBE patterns must be one of the user's patterns literally). `scratch` is
// reused between calls.
AclVerdict check_acl(const AclUser& user, const commands::CommandSpec& spec,
                     std::span<const std::string_view> args,
                     std::vector<commands::KeyRef>& scratch);
// Redis 7.0's NOPERM texts (without the leading '-').
std::string acl_denial_text(AclDenial denial, const commands::CommandSpec& spec);

// Dense index of every command and subcommand of the table (for AclUser::commands).
size_t acl_command_count();
size_t acl_command_index(const commands::CommandSpec& spec);

}  // namespace slotgate::client
