// Builds COMMAND COUNT/INFO/LIST/GETKEYS replies from the command table. The shapes (field
// order, flag order, sets vs arrays) follow redis-server 7.0 so clients that parse COMMAND
// INFO (cluster-aware client libraries do) see what a real node would send.
#include "commands/command_reply.hpp"

#include <string>
#include <utility>
#include <vector>

#include "text/ascii.hpp"
#include "text/glob.hpp"

namespace slotgate::commands {
namespace {

using resp::Type;
using resp::Value;

struct Named {
  uint64_t bit;
  std::string_view name;
};

// In the order redis-server prints them.
constexpr Named kFlagNames[] = {
    {kWrite, "write"},
    {kReadOnly, "readonly"},
    {kDenyOom, "denyoom"},
    {kModule, "module"},
    {kAdmin, "admin"},
    {kPubSub, "pubsub"},
    {kNoScript, "noscript"},
    {kBlocking, "blocking"},
    {kLoading, "loading"},
    {kStale, "stale"},
    {kSkipMonitor, "skip_monitor"},
    {kSkipSlowlog, "skip_slowlog"},
    {kAsking, "asking"},
    {kFast, "fast"},
    {kNoAuth, "no_auth"},
    {kMayReplicate, "may_replicate"},
    {kNoMandatoryKeys, "no_mandatory_keys"},
    {kNoAsyncLoading, "no_async_loading"},
    {kNoMulti, "no_multi"},
    {kMovableKeys, "movablekeys"},
    {kAllowBusy, "allow_busy"},
};

constexpr Named kAclNames[] = {
    {kAcl_keyspace, "keyspace"},
    {kAcl_read, "read"},
    {kAcl_write, "write"},
    {kAcl_set, "set"},
    {kAcl_sortedset, "sortedset"},
    {kAcl_list, "list"},
    {kAcl_hash, "hash"},
    {kAcl_string, "string"},
    {kAcl_bitmap, "bitmap"},
    {kAcl_hyperloglog, "hyperloglog"},
    {kAcl_geo, "geo"},
    {kAcl_stream, "stream"},
    {kAcl_pubsub, "pubsub"},
    {kAcl_admin, "admin"},
    {kAcl_fast, "fast"},
    {kAcl_slow, "slow"},
    {kAcl_blocking, "blocking"},
    {kAcl_dangerous, "dangerous"},
    {kAcl_connection, "connection"},
    {kAcl_transaction, "transaction"},
    {kAcl_scripting, "scripting"},
};

constexpr Named kKeyFlagNames[] = {
    {kKeyRO, "RO"},
    {kKeyRW, "RW"},
    {kKeyOW, "OW"},
    {kKeyRM, "RM"},
    {kKeyAccess, "access"},
    {kKeyUpdate, "update"},
    {kKeyInsert, "insert"},
    {kKeyDelete, "delete"},
    {kKeyNotKey, "not_key"},
    {kKeyIncomplete, "incomplete"},
    {kKeyVariableFlags, "variable_flags"},
};

Value set_of(std::vector<Value> elements, int protocol) {
  Value v = Value::array(std::move(elements));
  if (protocol >= 3) v.type = Type::Set;
  return v;
}

// Redis sends maps as flat arrays in RESP2 and as real maps in RESP3.
Value map_of(std::vector<Value> kv, int protocol) {
  return protocol >= 3 ? Value::map(std::move(kv)) : Value::array(std::move(kv));
}

Value bulk(std::string_view s) {
  return Value::bulk(std::string(s));
}

Value names_set(uint64_t bits, std::span<const Named> table, std::string_view prefix,
                int protocol) {
  std::vector<Value> out;
  for (const Named& n : table) {
    if (bits & n.bit) out.push_back(Value::simple(std::string(prefix) + std::string(n.name)));
  }
  return set_of(std::move(out), protocol);
}

Value key_spec_value(const KeySpec& ks, int protocol) {
  std::vector<Value> kv;
  if (!ks.notes.empty()) {
    kv.push_back(bulk("notes"));
    kv.push_back(bulk(ks.notes));
  }
  kv.push_back(bulk("flags"));
  kv.push_back(names_set(ks.flags, kKeyFlagNames, "", protocol));

  std::vector<Value> bs;
  std::vector<Value> bs_spec;
  switch (ks.begin_search.type) {
    case BeginSearch::Index:
      bs = {bulk("type"), bulk("index")};
      bs_spec = {bulk("index"), Value::integer_of(ks.begin_search.index)};
      break;
    case BeginSearch::Keyword:
      bs = {bulk("type"), bulk("keyword")};
      bs_spec = {bulk("keyword"), bulk(ks.begin_search.keyword), bulk("startfrom"),
                 Value::integer_of(ks.begin_search.startfrom)};
      break;
    case BeginSearch::Unknown:
      bs = {bulk("type"), bulk("unknown")};
      break;
  }
  bs.push_back(bulk("spec"));
  bs.push_back(map_of(std::move(bs_spec), protocol));
  kv.push_back(bulk("begin_search"));
  kv.push_back(map_of(std::move(bs), protocol));

  std::vector<Value> fk;
  std::vector<Value> fk_spec;
  const FindKeysSpec& f = ks.find_keys;
  switch (f.type) {
    case FindKeys::Range:
      fk = {bulk("type"), bulk("range")};
      fk_spec = {bulk("lastkey"), Value::integer_of(f.lastkey),
                 bulk("keystep"), Value::integer_of(f.keystep),
                 bulk("limit"),   Value::integer_of(f.limit)};
      break;
    case FindKeys::KeyNum:
      fk = {bulk("type"), bulk("keynum")};
      fk_spec = {bulk("keynumidx"), Value::integer_of(f.keynumidx),
                 bulk("firstkey"),  Value::integer_of(f.firstkey),
                 bulk("keystep"),   Value::integer_of(f.keystep)};
      break;
    case FindKeys::Unknown:
      fk = {bulk("type"), bulk("unknown")};
      break;
  }
  fk.push_back(bulk("spec"));
  fk.push_back(map_of(std::move(fk_spec), protocol));
  kv.push_back(bulk("find_keys"));
  kv.push_back(map_of(std::move(fk), protocol));
  return map_of(std::move(kv), protocol);
}

using text::iequals;

template <class Pred>
void collect_names(std::span<const CommandSpec> specs, const Pred& keep, std::vector<Value>& out) {
  for (const CommandSpec& spec : specs) {
    if (keep(spec)) out.push_back(bulk(spec.name));
    collect_names(spec.subs(), keep, out);
  }
}

}  // namespace

Value command_info_entry(const CommandSpec& spec, int protocol) {
  std::vector<Value> tips;
  for (std::string_view tip : spec.tips) tips.push_back(Value::simple(std::string(tip)));
  std::vector<Value> key_specs;
  for (const KeySpec& ks : spec.specs()) key_specs.push_back(key_spec_value(ks, protocol));
  std::vector<Value> subs;
  for (const CommandSpec& sub : spec.subs()) subs.push_back(command_info_entry(sub, protocol));

  std::vector<Value> e;
  e.reserve(10);
  e.push_back(bulk(spec.name));
  e.push_back(Value::integer_of(spec.arity));
  e.push_back(names_set(spec.flags, kFlagNames, "", protocol));
  e.push_back(Value::integer_of(spec.first_key));
  e.push_back(Value::integer_of(spec.last_key));
  e.push_back(Value::integer_of(spec.key_step));
  e.push_back(names_set(spec.acl_categories, kAclNames, "@", protocol));
  e.push_back(set_of(std::move(tips), protocol));
  e.push_back(Value::array(std::move(key_specs)));
  e.push_back(Value::array(std::move(subs)));
  return Value::array(std::move(e));
}

Value command_count_reply() {
  return Value::integer_of(static_cast<long long>(command_count()));
}

Value command_info_reply(std::span<const std::string_view> names, int protocol) {
  std::vector<Value> out;
  if (names.empty()) {
    for (const CommandSpec& spec : all_commands())
      out.push_back(command_info_entry(spec, protocol));
    return Value::array(std::move(out));
  }
  for (std::string_view name : names) {
    const CommandSpec* spec = find_full(name);
    out.push_back(spec != nullptr ? command_info_entry(*spec, protocol) : Value::null());
  }
  return Value::array(std::move(out));
}

Value command_list_reply(std::span<const std::string_view> filter) {
  std::vector<Value> out;
  if (filter.empty()) {
    collect_names(
        all_commands(), [](const CommandSpec&) { return true; }, out);
    return Value::array(std::move(out));
  }
  if (filter.size() != 3 || !iequals(filter[0], "filterby")) {
    return Value::error("ERR syntax error");
  }
  const std::string_view kind = filter[1];
  const std::string_view arg = filter[2];
  if (iequals(kind, "module")) return Value::array({});  // slotgate loads no modules
  if (iequals(kind, "aclcat")) {
    const uint64_t bit = acl_category_bit(arg);
    if (bit == 0) return Value::array({});
    collect_names(
        all_commands(), [bit](const CommandSpec& s) { return (s.acl_categories & bit) != 0; }, out);
    return Value::array(std::move(out));
  }
  if (iequals(kind, "pattern")) {
    collect_names(
        all_commands(),
        [arg](const CommandSpec& s) {
          return text::glob_match(arg, s.name, text::Case::Insensitive);
        },
        out);
    return Value::array(std::move(out));
  }
  return Value::error("ERR syntax error");
}

Value command_getkeys_reply(std::span<const std::string_view> cmd_args, bool with_flags,
                            int protocol) {
  const CommandSpec* spec = lookup(cmd_args);
  // A container with an unknown subcommand is no command at all for GETKEYS.
  if (spec == nullptr || (spec->is_container() && cmd_args.size() >= 2)) {
    return Value::error("ERR Invalid command specified");
  }
  if (!spec->has_keys()) return Value::error("ERR The command has no key arguments");
  if (!arity_ok(*spec, cmd_args.size())) {
    return Value::error("ERR Invalid number of arguments specified for command");
  }
  std::vector<KeyRef> refs;
  if (!key_refs(*spec, cmd_args, refs)) {
    return Value::error("ERR Invalid arguments specified for command");
  }
  std::vector<Value> out;
  out.reserve(refs.size());
  for (const KeyRef& ref : refs) {
    if (!with_flags) {
      out.push_back(bulk(cmd_args[ref.pos]));
      continue;
    }
    out.push_back(
        Value::array({bulk(cmd_args[ref.pos]), names_set(ref.flags, kKeyFlagNames, "", protocol)}));
  }
  return Value::array(std::move(out));
}

Value command_reply(std::span<const std::string_view> args, int protocol) {
  if (args.size() < 2) return Value::error("ERR COMMAND without a subcommand is not answered here");
  const std::string_view sub = args[1];
  const auto rest = args.subspan(2);
  if (iequals(sub, "count") && rest.empty()) return command_count_reply();
  if (iequals(sub, "info")) return command_info_reply(rest, protocol);
  if (iequals(sub, "list")) return command_list_reply(rest);
  if (iequals(sub, "getkeys") && !rest.empty()) return command_getkeys_reply(rest, false, protocol);
  if (iequals(sub, "getkeysandflags") && !rest.empty()) {
    return command_getkeys_reply(rest, true, protocol);
  }
  const CommandSpec* spec = lookup(args);
  if (spec == nullptr || spec->is_container()) {
    return Value::error("ERR unknown subcommand '" + std::string(sub) + "'. Try COMMAND HELP.");
  }
  return Value::error("ERR wrong number of arguments for '" + std::string(spec->name) +
                      "' command");
}

uint64_t acl_category_bit(std::string_view name) {
  for (const Named& n : kAclNames) {
    if (text::iequals(n.name, name)) return n.bit;
  }
  return 0;
}

std::span<const std::string_view> acl_category_names() {
  static const auto names = [] {
    std::vector<std::string_view> v;
    for (const Named& n : kAclNames) v.push_back(n.name);
    return v;
  }();
  return names;
}

}  // namespace slotgate::commands
