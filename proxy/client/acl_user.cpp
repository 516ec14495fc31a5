#include "client/acl_user.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "commands/command_reply.hpp"
#include "config/password_hash.hpp"
#include "text/ascii.hpp"
#include "text/glob.hpp"

namespace slotgate::client {

namespace {

using commands::CommandSpec;

constexpr std::string_view kSyntaxError = "Syntax error";
constexpr std::string_view kUnknownName = "Unknown command or category name in ACL";
constexpr std::string_view kBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
constexpr std::string_view kNoSuchPassword =
    "The password you are trying to remove from the user does not exist";
constexpr std::string_view kKeyAfterStar =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kChannelAfterStar =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";

// Every command and subcommand, in table order, and each one's place in that order.
struct CommandIndex {
  std::vector<const CommandSpec*> specs;
  std::unordered_map<const CommandSpec*, size_t> index;
  CommandIndex() {
    for (const CommandSpec& c : commands::all_commands()) {
      add(c);
      for (const CommandSpec& sub : c.subs()) add(sub);
    }
  }
  void add(const CommandSpec& c) {
    index.emplace(&c, specs.size());
    specs.push_back(&c);
  }
};

const CommandIndex& command_index() {
  static const CommandIndex idx;
  return idx;
}

void set_command(AclUser& u, const CommandSpec& c, bool allow) {
  u.commands[acl_command_index(c)] = allow;
  for (const CommandSpec& sub : c.subs()) u.commands[acl_command_index(sub)] = allow;
}

bool valid_hash(std::string_view h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<std::string> add_key_pattern(AclUser& u, std::string_view rule) {
  if (u.all_keys) return std::string(kKeyAfterStar);
  uint8_t perms = 0;
  size_t at = 1;
  if (rule[0] == '%') {
    for (;; ++at) {
      if (at >= rule.size()) return std::string(kSyntaxError);
      const char c = text::to_upper(rule[at]);
      if (c == 'R') {
        perms |= kAclRead;
      } else if (c == 'W') {
        perms |= kAclWrite;
      } else if (rule[at] == '~') {
        ++at;
        break;
      } else {
        return std::string(kSyntaxError);
      }
    }
    if (perms == 0) return std::string(kSyntaxError);
  } else {
    perms = kAclReadWrite;
  }
  const std::string_view pattern = rule.substr(at);
  if (pattern == "*" && perms == kAclReadWrite) {
    u.all_keys = true;
    u.keys.clear();
  }
  u.keys.push_back({std::string(pattern), perms});
  return std::nullopt;
}

std::optional<std::string> add_channel(AclUser& u, std::string_view pattern) {
  if (u.all_channels) return std::string(kChannelAfterStar);
  if (pattern == "*") {
    u.all_channels = true;
    u.channels.clear();
  }
  u.channels.emplace_back(pattern);
  return std::nullopt;
}

void set_category(AclUser& u, uint64_t bit, bool allow) {
  for (const CommandSpec* c : command_index().specs) {
    if ((c->acl_categories & bit) != 0) u.commands[acl_command_index(*c)] = allow;
  }
}

std::optional<std::string> command_rule(AclUser& u, std::string_view rule) {
  const bool allow = rule[0] == '+';
  const std::string_view name = rule.substr(1);
  if (!name.empty() && name[0] == '@') {
    const std::string_view cat = name.substr(1);
    if (text::iequals(cat, "all")) {
      u.commands.assign(acl_command_count(), allow);
      u.command_rules.clear();
    } else if (const uint64_t bit = commands::acl_category_bit(cat); bit != 0) {
      set_category(u, bit, allow);
    } else {
      return std::string(kUnknownName);
    }
    u.command_rules.push_back(std::string(1, rule[0]) + "@" + text::lower(cat));
    return std::nullopt;
  }
  const size_t bar = name.find('|');
  const CommandSpec* top = commands::find(name.substr(0, bar));
  if (top == nullptr) return std::string(kUnknownName);
  if (bar == std::string_view::npos) {
    set_command(u, *top, allow);
  } else {
    if (!top->is_container()) {
      // Redis 7.0 takes "+select|0" as "SELECT with first argument 0"; slotgate does not.
      if (allow) return "first-argument rules (+command|arg) are not supported by slotgate";
      return std::string(kUnknownName);
    }
    const CommandSpec* sub = commands::find_full(name);
    if (sub == nullptr || sub == top) return std::string(kUnknownName);
    set_command(u, *sub, allow);
  }
  u.command_rules.push_back(std::string(1, rule[0]) + text::lower(name));
  return std::nullopt;
}

std::optional<std::string> password_rule(AclUser& u, std::string_view rule) {
  const bool hashed = rule[0] == '#' || rule[0] == '!';
  const bool add = rule[0] == '>' || rule[0] == '#';
  std::string hash = hashed ? std::string(rule.substr(1)) : config::sha256_hex(rule.substr(1));
  if (hashed && !valid_hash(hash)) return std::string(kBadHash);
  auto it = std::find(u.password_hashes.begin(), u.password_hashes.end(), hash);
  if (add) {
    if (it == u.password_hashes.end()) u.password_hashes.push_back(std::move(hash));
    u.nopass = false;
  } else {
    if (it == u.password_hashes.end()) return std::string(kNoSuchPassword);
    u.password_hashes.erase(it);
  }
  return std::nullopt;
}

bool key_allowed(const AclUser& u, std::string_view key, uint32_t key_flags) {
  uint8_t need = 0;
  if ((key_flags & commands::kKeyAccess) != 0) need |= kAclRead;
  if ((key_flags & (commands::kKeyInsert | commands::kKeyDelete | commands::kKeyUpdate)) != 0) {
    need |= kAclWrite;
  }
  return std::any_of(u.keys.begin(), u.keys.end(), [&](const AclKeyPattern& p) {
    return (p.perms & need) == need && text::glob_match(p.pattern, key, text::Case::Sensitive);
  });
}

bool channel_allowed(const AclUser& u, std::string_view channel, bool is_pattern) {
  return std::any_of(u.channels.begin(), u.channels.end(), [&](const std::string& p) {
    return is_pattern ? p == channel : text::glob_match(p, channel, text::Case::Sensitive);
  });
}

// The shorthand (readonly, keys, channels, scripts) as slotgate has always read it: commands
// the user may not run are cleared from an allow-everything set.
void apply_shorthand(AclUser& u, const config::UserConfig& cfg) {
  u.enabled = true;
  u.from_shorthand = true;
  u.commands.assign(acl_command_count(), true);
  u.command_rules = {"+@all"};
  for (const std::string& k : cfg.keys) (void)add_key_pattern(u, "~" + k);
  for (const std::string& ch : cfg.channels) (void)add_channel(u, ch);
  const bool limited = !u.all_keys;
  for (const CommandSpec* c : command_index().specs) {
    // Administrative commands show or change what every client sees; CLIENT LIST answers
    // with the user's own sessions only. Scripts and functions can touch keys they do not
    // declare, and EVAL/FCALL can write without saying so (only their _RO forms are
    // read-only). KEYS, SCAN, FLUSHALL...: their keys are not in the arguments.
    const bool scripting = (c->acl_categories & commands::kAcl_scripting) != 0;
    const bool writes =
        c->has(commands::kWrite) || (scripting && !c->has(commands::kReadOnly) && c->has_keys());
    const bool deny = (c->has(commands::kAdmin) && !c->has_trait(commands::kOwnSessions) &&
                       (cfg.readonly || limited)) ||
                      (scripting && !cfg.scripts) || (cfg.readonly && writes) ||
                      (limited && c->has_trait(commands::kAnyKey));
    if (deny && !c->has(commands::kNoAuth)) u.commands[acl_command_index(*c)] = false;
  }
}

}  // namespace

AclUser::AclUser() : commands(acl_command_count(), false) {}

bool AclUser::allows(const CommandSpec& spec) const {
  return spec.has(commands::kNoAuth) || commands[acl_command_index(spec)];
}

std::string AclUser::describe() const {
  std::string out = enabled ? "on" : "off";
  if (nopass) out += " nopass";
  for (const std::string& h : password_hashes) out += " #" + h;
  for (const AclKeyPattern& k : keys) {
    if (k.perms == kAclReadWrite) {
      out += " ~" + k.pattern;
    } else {
      out += k.perms == kAclRead ? " %R~" : " %W~";
      out += k.pattern;
    }
  }
  if (!all_channels) out += " resetchannels";
  for (const std::string& c : channels) out += " &" + c;
  if (command_rules.empty() || command_rules.front() != "+@all") out += " -@all";
  for (const std::string& r : command_rules) {
    if (r != "-@all") out += " " + r;
  }
  if (from_shorthand) {
    // Written out here rather than kept: a session holds its user, and this list is long.
    for (const CommandSpec* c : command_index().specs) {
      if (!allows(*c)) out += " -" + std::string(c->name);
    }
  }
  return out;
}

std::optional<std::string> apply_acl_rule(AclUser& u, std::string_view rule) {
  using text::iequals;
  if (rule.empty()) return std::string(kSyntaxError);
  if (iequals(rule, "on")) {
    u.enabled = true;
  } else if (iequals(rule, "off")) {
    u.enabled = false;
  } else if (iequals(rule, "nopass")) {
    u.nopass = true;
    u.password_hashes.clear();
  } else if (iequals(rule, "resetpass")) {
    u.nopass = false;
    u.password_hashes.clear();
  } else if (iequals(rule, "allkeys")) {
    return apply_acl_rule(u, "~*");
  } else if (iequals(rule, "resetkeys")) {
    u.all_keys = false;
    u.keys.clear();
  } else if (iequals(rule, "allchannels")) {
    return apply_acl_rule(u, "&*");
  } else if (iequals(rule, "resetchannels")) {
    u.all_channels = false;
    u.channels.clear();
  } else if (iequals(rule, "allcommands")) {
    return apply_acl_rule(u, "+@all");
  } else if (iequals(rule, "nocommands")) {
    return apply_acl_rule(u, "-@all");
  } else if (iequals(rule, "reset")) {
    AclUser fresh;
    fresh.name = std::move(u.name);
    u = std::move(fresh);
  } else if (iequals(rule, "sanitize-payload") || iequals(rule, "skip-sanitize-payload") ||
             iequals(rule, "clearselectors")) {
    // RESTORE payload checks and selectors: nothing slotgate keeps.
  } else if (rule[0] == '>' || rule[0] == '<' || rule[0] == '#' || rule[0] == '!') {
    return password_rule(u, rule);
  } else if (rule[0] == '~' || rule[0] == '%') {
    return add_key_pattern(u, rule);
  } else if (rule[0] == '&') {
    return add_channel(u, rule.substr(1));
  } else if (rule[0] == '+' || rule[0] == '-') {
    return command_rule(u, rule);
  } else if (rule[0] == '(') {
    return "selectors are not supported by slotgate";
  } else {
    return std::string(kSyntaxError);
  }
  return std::nullopt;
}

std::vector<std::string> split_acl_rules(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::string acl_rule_error(std::string_view rule, std::string_view reason) {
  return fmt::format("Error in ACL SETUSER modifier '{}': {}", rule, reason);
}

AclBuild build_acl_user(const config::UserConfig& cfg) {
  AclUser u;
  u.name = cfg.name;
  if (cfg.rules.empty()) {
    apply_shorthand(u, cfg);
  }
  // `password:` is the rule ">password" (kept only as its hash).
  if (!cfg.password_sha256.empty()) (void)apply_acl_rule(u, "#" + cfg.password_sha256);
  for (const std::string& rule : cfg.rules) {
    if (auto err = apply_acl_rule(u, rule)) {
      return {std::nullopt, fmt::format("user '{}': {}", cfg.name, acl_rule_error(rule, *err))};
    }
  }
  return {std::move(u), {}};
}

std::string check_acl_users(const config::ClientsConfig& clients) {
  for (const config::UserConfig& u : clients.users) {
    AclBuild b = build_acl_user(u);
    if (!b.user) return b.error;
  }
  return {};
}

AclVerdict check_acl(const AclUser& u, const CommandSpec& spec,
                     std::span<const std::string_view> args,
                     std::vector<commands::KeyRef>& scratch) {
  if (!u.allows(spec)) return {AclDenial::Command, 0};
  if (!u.all_keys && spec.has_keys()) {
    scratch.clear();
    if (commands::key_refs(spec, args, scratch)) {
      for (const commands::KeyRef& k : scratch) {
        if (!key_allowed(u, args[k.pos], k.flags)) return {AclDenial::Key, k.pos};
      }
    }
  }
  if (!u.all_channels && spec.channels != commands::ChannelArgs::None) {
    using commands::ChannelArgs;
    const size_t last =
        spec.channels == ChannelArgs::First ? std::min<size_t>(2, args.size()) : args.size();
    const bool patterns = spec.channels == ChannelArgs::AllPatterns;
    for (size_t i = 1; i < last; ++i) {
      if (!channel_allowed(u, args[i], patterns)) {
        return {AclDenial::Channel, static_cast<uint32_t>(i)};
      }
    }
  }
  return {};
}

std::string acl_denial_text(AclDenial denial, const CommandSpec& spec) {
  switch (denial) {
    case AclDenial::Command:
      return fmt::format("NOPERM this user has no permissions to run the '{}' command", spec.name);
    case AclDenial::Key:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    case AclDenial::Channel:
      return "NOPERM this user has no permissions to access one of the channels used as "
             "arguments";
    case AclDenial::None:
      break;
  }
  return {};
}

size_t acl_command_count() {
  return command_index().specs.size();
}

size_t acl_command_index(const CommandSpec& spec) {
  return command_index().index.at(&spec);
}

}  // namespace slotgate::client
