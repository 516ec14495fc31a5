// The command table: every command and subcommand Redis 7.0 knows, with arity, flags, ACL
// categories, the legacy (first, last, step) triple and the key-specs, generated from a real
// redis-server (command_table.inc), plus slotgate's routing policy per command. Key extraction
// follows Redis's own algorithm so that key_positions() equals COMMAND GETKEYS.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "commands/routing.hpp"

namespace slotgate::commands {

// Command flags as COMMAND reports them.
enum Flag : uint32_t {
  kWrite = 1u << 0,
  kReadOnly = 1u << 1,
  kDenyOom = 1u << 2,
  kAdmin = 1u << 3,
  kPubSub = 1u << 4,
  kNoScript = 1u << 5,
  kBlocking = 1u << 6,
  kLoading = 1u << 7,
  kStale = 1u << 8,
  kFast = 1u << 9,
  kNoAuth = 1u << 10,
  kMayReplicate = 1u << 11,  // Redis 7.0's COMMAND does not report it; kept for later versions
  kMovableKeys = 1u << 12,
  kNoMandatoryKeys = 1u << 13,
  kAllowBusy = 1u << 14,
  kSkipMonitor = 1u << 15,
  kSkipSlowlog = 1u << 16,
  kNoMulti = 1u << 17,
  kAsking = 1u << 18,
  kNoAsyncLoading = 1u << 19,
  kModule = 1u << 20,
};

// ACL categories, one bit each (COMMAND shows them as "@read", ...).
enum AclCategory : uint64_t {
  kAcl_keyspace = 1ull << 0,
  kAcl_read = 1ull << 1,
  kAcl_write = 1ull << 2,
  kAcl_set = 1ull << 3,
  kAcl_sortedset = 1ull << 4,
  kAcl_list = 1ull << 5,
  kAcl_hash = 1ull << 6,
  kAcl_string = 1ull << 7,
  kAcl_bitmap = 1ull << 8,
  kAcl_hyperloglog = 1ull << 9,
  kAcl_geo = 1ull << 10,
  kAcl_stream = 1ull << 11,
  kAcl_pubsub = 1ull << 12,
  kAcl_admin = 1ull << 13,
  kAcl_fast = 1ull << 14,
  kAcl_slow = 1ull << 15,
  kAcl_blocking = 1ull << 16,
  kAcl_dangerous = 1ull << 17,
  kAcl_connection = 1ull << 18,
  kAcl_transaction = 1ull << 19,
  kAcl_scripting = 1ull << 20,
};

// Key-spec flags (how the command touches the key).
enum KeySpecFlag : uint32_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,  // a shard channel (SPUBLISH, SSUBSCRIBE): hashed like a key, not a key
  kKeyIncomplete = 1u << 9,
  kKeyVariableFlags = 1u << 10,
};

enum class BeginSearch : uint8_t { Index, Keyword, Unknown };
enum class FindKeys : uint8_t { Range, KeyNum, Unknown };

struct BeginSearchSpec {
  BeginSearch type;
  int index;                 // Index: argv position of the first key
  std::string_view keyword;  // Keyword: the keyword preceding the first key
  int startfrom;             // Keyword: where to start looking; negative = from the end, backwards
};

struct FindKeysSpec {
  FindKeys type;
  int lastkey;    // Range: last key relative to the first; negative = from the end of argv
  int keystep;    // Range and KeyNum: distance between keys
  int limit;      // Range with lastkey -1: only 1/limit of the remaining args are keys
  int keynumidx;  // KeyNum: position of numkeys relative to the begin-search result
  int firstkey;   // KeyNum: position of the first key relative to the begin-search result
};

struct KeySpec {
  uint32_t flags;  // KeySpecFlag bits
  BeginSearchSpec begin_search;
  FindKeysSpec find_keys;
  std::string_view notes;
};

// Redis's C fallback for key extraction (its `getkeys_proc`), used where the key-specs cannot
// answer: INCOMPLETE/unknown specs, VARIABLE_FLAGS, or a spec that rejects the arguments.
enum class GetKeysProc : uint8_t {
  None,
  NumKeysAt1,          // ZUNION LMPOP ...: numkeys at 1, keys from 2
  NumKeysAt2,          // EVAL FCALL BLMPOP ...: numkeys at 2, keys from 3
  NumKeysAt2WithDest,  // ZUNIONSTORE ...: destination at 1, numkeys at 2, keys from 3
  Sort,
  SortRo,
  Migrate,
  GeoRadius,
  XRead,
  Set,
  Bitfield,
};

struct CommandSpec {
  std::string_view name;  // "get", "client|setname"
  int arity;              // Redis arity (negative = minimum), counting the command name(s)
  uint32_t flags;         // Flag bits
  uint64_t acl_categories;
  int first_key, last_key, key_step;  // legacy triple (as COMMAND shows it)
  const KeySpec* key_specs;
  uint8_t key_spec_count;
  const CommandSpec* subcommands;  // sorted by name
  uint16_t subcommand_count;
  std::span<const std::string_view> tips;  // "nondeterministic_output", "request_policy:..."
  GetKeysProc getkeys;
  Routing routing;
  Merge merge;
  std::string_view refused_reason;  // for Routing::Refused: shown to the client
  uint16_t traits;                  // Trait bits (routing.hpp)
  ChannelArgs channels;             // which arguments are Pub/Sub channels
  SessionOp session;                // Routing::Transaction / PubSub: what the session does
  ChannelKind channel_kind;         // subscription commands: which kind of name they take
  LocalHandler local;               // Routing::Local: the handler that answers it
  // Index of the top-level command in all_commands() (a subcommand carries its container's):
  // the per-command metrics are kept in an array indexed by it, labelled by that name.
  uint16_t metrics_index;

  bool has_trait(uint16_t trait) const { return (traits & trait) != 0; }

  std::span<const KeySpec> specs() const { return {key_specs, key_spec_count}; }
  std::span<const CommandSpec> subs() const { return {subcommands, subcommand_count}; }
  bool is_container() const { return subcommand_count > 0; }
  bool has(uint32_t flag) const { return (flags & flag) != 0; }
  bool runs_user_code() const { return (traits & kRunsUserCode) != 0; }
  bool may_run_long() const { return (traits & kMayRunLong) != 0; }
  // True if Redis considers the command to take keys (COMMAND GETKEYS accepts it).
  bool has_keys() const;
};

// Case-insensitive. For a container command, resolves the subcommand from args[1]
// (case-insensitive). Returns nullptr for an unknown command; for a known container with an
// unknown or missing subcommand returns the container itself.
const CommandSpec* lookup(std::span<const std::string_view> args);
const CommandSpec* find(std::string_view name);  // top-level only, case-insensitive
// Full name as COMMAND shows it: "get" or "client|setname" (case-insensitive).
const CommandSpec* find_full(std::string_view name);
bool arity_ok(const CommandSpec&, size_t argc);

enum class KeySearch : uint8_t {
  Keys,                  // what COMMAND GETKEYS returns
  KeysAndShardChannels,  // also SPUBLISH/SSUBSCRIBE/SUNSUBSCRIBE channels (they pick a slot too)
};

// Appends the argument indices of the keys in args (args[0] is the command name) to out (out
// is not cleared). Must not allocate when out already has capacity. Returns false when Redis
// would refuse the arguments instead of naming keys (COMMAND GETKEYS answers "Invalid number
// of arguments" or "Invalid arguments specified"): wrong arity, numkeys not an integer or
// larger than the args, a mandatory key missing. Keyless commands return true and add nothing.
bool key_positions(const CommandSpec&, std::span<const std::string_view> args,
                   std::vector<uint32_t>& out, KeySearch search = KeySearch::Keys);

struct KeyRef {
  uint32_t pos;
  uint32_t flags;  // KeySpecFlag bits, as COMMAND GETKEYSANDFLAGS shows them
};
bool key_refs(const CommandSpec&, std::span<const std::string_view> args, std::vector<KeyRef>& out,
              KeySearch search = KeySearch::Keys);

size_t command_count();  // number of top-level commands
// All top-level specs, sorted by name (for COMMAND COUNT / LIST / INFO built locally).
std::span<const CommandSpec> all_commands();
std::string_view redis_version();  // the redis-server the table was generated from

}  // namespace slotgate::commands
