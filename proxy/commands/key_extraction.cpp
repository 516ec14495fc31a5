// Key extraction: which arguments of a command are keys. Mirrors Redis 7.0's
// getKeysFromCommandWithSpecs so that the answer equals COMMAND GETKEYS: key-specs first
// (index/keyword begin-search, range/keynum find-keys), and Redis's per-command fallbacks
// (getkeys_proc) where a spec is INCOMPLETE, unknown, carries VARIABLE_FLAGS, or rejects the
// arguments. Appends into the caller's vector; never allocates when it has capacity.
#include <climits>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "commands/command_table.hpp"
#include "resp/integer_text.hpp"
#include "text/ascii.hpp"

namespace slotgate::commands {
namespace {

using text::iequals;

// C's atoi as glibc does it (strtol, clamped, then narrowed to int): the getkeys_procs use it,
// so "2abc" counts as 2 and "abc" as 0 there.
int c_atoi(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  long long v = 0;
  bool clamped = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (!clamped && v > (LLONG_MAX - (s[i] - '0')) / 10) clamped = true;
    if (!clamped) v = v * 10 + (s[i] - '0');
  }
  long long r = clamped ? (negative ? LLONG_MIN : LLONG_MAX) : (negative ? -v : v);
  return static_cast<int>(static_cast<uint32_t>(static_cast<uint64_t>(r)));
}

// Collects key positions; remembers where it started so a failed search can be undone.
template <class Ref>
struct Sink {
  std::vector<Ref>& out;
  size_t start;

  explicit Sink(std::vector<Ref>& o) : out(o), start(o.size()) {}
  void add(int pos, uint32_t flags) {
    if constexpr (std::is_same_v<Ref, KeyRef>) {
      out.push_back(KeyRef{static_cast<uint32_t>(pos), flags});
    } else {
      (void)flags;
      out.push_back(static_cast<uint32_t>(pos));
    }
  }
  size_t count() const { return out.size() - start; }
  void reset() { out.resize(start); }
};

enum class SpecResult { Found, Skipped, Invalid };

// One key-spec against the arguments (Redis's getKeysUsingKeySpecs loop body).
template <class S>
SpecResult apply_spec(const CommandSpec& cmd, const KeySpec& spec,
                      std::span<const std::string_view> args, S& sink) {
  const long long argc = static_cast<long long>(args.size());
  long long first = 0;
  switch (spec.begin_search.type) {
    case BeginSearch::Index:
      first = spec.begin_search.index;
      break;
    case BeginSearch::Keyword: {
      // Why the odd bounds: Redis never inspects the last argument when searching forwards,
      // nor argv[1] when searching backwards (a keyword there could not precede a key anyway).
      const int from = spec.begin_search.startfrom;
      const long long start = from > 0 ? from : argc + from;
      const long long end = from > 0 ? argc - 1 : 1;
      for (long long i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (iequals(args[static_cast<size_t>(i)], spec.begin_search.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first == 0) return SpecResult::Skipped;  // keyword absent: this spec names no key
      break;
    }
    case BeginSearch::Unknown:
      return SpecResult::Invalid;
  }

  long long last = 0;
  long long step = 1;
  const FindKeysSpec& fk = spec.find_keys;
  switch (fk.type) {
    case FindKeys::Range:
      step = fk.keystep;
      if (fk.lastkey >= 0) {
        last = first + fk.lastkey;
      } else if (fk.limit == 0) {
        last = argc + fk.lastkey;
      } else {
        // XREAD STREAMS k1 k2 id1 id2: only the first 1/limit of the rest are keys.
        last = first + ((argc - first) / fk.limit + fk.lastkey);
      }
      break;
    case FindKeys::KeyNum: {
      step = fk.keystep;
      const long long numkeys_at = first + fk.keynumidx;
      if (fk.keynumidx >= argc || numkeys_at >= argc) return SpecResult::Invalid;
      const auto parsed = resp::parse_integer(args[static_cast<size_t>(numkeys_at)]);
      if (!parsed || *parsed < 0) return SpecResult::Invalid;
      const long long numkeys = *parsed;
      first += fk.firstkey;
      // Redis narrows numkeys to int here; mirror it so huge counts fail the same way.
      last = first + static_cast<int>(static_cast<uint32_t>(numkeys)) - 1;
      break;
    }
    case FindKeys::Unknown:
      return SpecResult::Invalid;
  }

  if (last >= argc || last < first || first >= argc) return SpecResult::Invalid;
  if (step <= 0) return SpecResult::Invalid;
  for (long long i = first; i <= last; i += step) {
    if (i >= argc) {
      if (cmd.arity < 0) continue;  // variadic command given a bad count: no key, no crash
      return SpecResult::Invalid;
    }
    sink.add(static_cast<int>(i), spec.flags);
  }
  // INCOMPLETE: the spec may have missed keys, so Redis discards the result and asks the
  // command's own getkeys_proc instead.
  if (spec.flags & kKeyIncomplete) return SpecResult::Invalid;
  return SpecResult::Found;
}

// Redis's genericGetKeys: COMMAND [dest] numkeys key [key ...]; the destination comes last.
template <class S>
void numkeys_proc(int store_at, int count_at, int first_at, std::span<const std::string_view> args,
                  S& sink) {
  const int argc = static_cast<int>(args.size());
  if (count_at >= argc) return;
  const int num = c_atoi(args[static_cast<size_t>(count_at)]);
  if (num < 1 || num > argc - first_at) return;
  for (int i = 0; i < num; ++i) sink.add(first_at + i, 0);
  if (store_at != 0) sink.add(store_at, 0);
}

template <class S>
void sort_proc(std::span<const std::string_view> args, S& sink) {
  // SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst]: only STORE names a
  // key we can see; the last STORE wins, as in SORT itself.
  const int argc = static_cast<int>(args.size());
  int store = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = args[static_cast<size_t>(i)];
    if (iequals(arg, "limit")) {
      i += 2;
    } else if (iequals(arg, "store") && i + 1 < argc) {
      store = i + 1;  // the next argument is then looked at as an option too, as Redis does
    } else if (iequals(arg, "get") || iequals(arg, "by")) {
      i += 1;
    }
  }
  sink.add(1, kKeyRO | kKeyAccess);
  if (store != 0) sink.add(store, kKeyOW | kKeyUpdate);
}

template <class S>
void migrate_proc(std::span<const std::string_view> args, S& sink) {
  // MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...]
  const int argc = static_cast<int>(args.size());
  int first = 3;
  int num = 1;
  if (argc > 6) {
    for (int i = 6; i < argc; ++i) {
      const std::string_view arg = args[static_cast<size_t>(i)];
      if (iequals(arg, "keys")) {
        if (!args[3].empty()) {
          num = 0;  // KEYS needs an empty key argument; MIGRATE will answer the syntax error
        } else {
          first = i + 1;
          num = argc - first;
        }
        break;
      }
      if (iequals(arg, "auth")) {
        i += 1;
      } else if (iequals(arg, "auth2")) {
        i += 2;
      }
    }
  }
  for (int i = 0; i < num; ++i) sink.add(first + i, kKeyRW | kKeyAccess | kKeyDelete);
}

template <class S>
void georadius_proc(std::span<const std::string_view> args, S& sink) {
  // The last STORE/STOREDIST wins, like GEORADIUS itself.
  const int argc = static_cast<int>(args.size());
  int stored = -1;
  for (int i = 5; i < argc; ++i) {
    const std::string_view arg = args[static_cast<size_t>(i)];
    if ((iequals(arg, "store") || iequals(arg, "storedist")) && i + 1 < argc) {
      stored = i + 1;
      ++i;
    }
  }
  sink.add(1, 0);
  if (stored != -1) sink.add(stored, 0);
}

template <class S>
void xread_proc(std::span<const std::string_view> args, S& sink) {
  // Find the STREAMS option by parsing the options before it, because "streams" may also be
  // a group, consumer or key name.
  const int argc = static_cast<int>(args.size());
  int streams = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = args[static_cast<size_t>(i)];
    if (iequals(arg, "block") || iequals(arg, "count")) {
      i += 1;
    } else if (iequals(arg, "group")) {
      i += 2;
    } else if (iequals(arg, "noack")) {
      continue;
    } else if (iequals(arg, "streams")) {
      streams = i;
      break;
    } else {
      break;
    }
  }
  if (streams == -1) return;
  const int rest = argc - streams - 1;
  if (rest == 0 || rest % 2 != 0) return;
  for (int i = 0; i < rest / 2; ++i) sink.add(streams + 1 + i, 0);
}

template <class S>
void set_proc(std::span<const std::string_view> args, S& sink) {
  for (size_t i = 3; i < args.size(); ++i) {
    if (iequals(args[i], "get")) {
      sink.add(1, kKeyRW | kKeyAccess | kKeyUpdate);
      return;
    }
  }
  sink.add(1, kKeyOW | kKeyUpdate);
}

template <class S>
void bitfield_proc(std::span<const std::string_view> args, S& sink) {
  // Read-only only if every operation is GET (and OVERFLOW); anything else may write.
  const int argc = static_cast<int>(args.size());
  bool readonly = true;
  for (int i = 2; i < argc; ++i) {
    const int remaining = argc - i - 1;
    const std::string_view arg = args[static_cast<size_t>(i)];
    if (iequals(arg, "get") && remaining >= 2) {
      i += 2;
    } else if ((iequals(arg, "set") || iequals(arg, "incrby")) && remaining >= 3) {
      readonly = false;
      break;
    } else if (iequals(arg, "overflow") && remaining >= 1) {
      i += 1;
    } else {
      readonly = false;
      break;
    }
  }
  sink.add(1, readonly ? (kKeyRO | kKeyAccess) : (kKeyRW | kKeyAccess | kKeyUpdate));
}

template <class S>
void run_proc(GetKeysProc proc, std::span<const std::string_view> args, S& sink) {
  switch (proc) {
    case GetKeysProc::None:
      return;
    case GetKeysProc::NumKeysAt1:
      return numkeys_proc(0, 1, 2, args, sink);
    case GetKeysProc::NumKeysAt2:
      return numkeys_proc(0, 2, 3, args, sink);
    case GetKeysProc::NumKeysAt2WithDest:
      return numkeys_proc(1, 2, 3, args, sink);
    case GetKeysProc::Sort:
      return sort_proc(args, sink);
    case GetKeysProc::SortRo:
      return sink.add(1, kKeyRO | kKeyAccess);
    case GetKeysProc::Migrate:
      return migrate_proc(args, sink);
    case GetKeysProc::GeoRadius:
      return georadius_proc(args, sink);
    case GetKeysProc::XRead:
      return xread_proc(args, sink);
    case GetKeysProc::Set:
      return set_proc(args, sink);
    case GetKeysProc::Bitfield:
      return bitfield_proc(args, sink);
  }
}

template <class Ref>
bool extract(const CommandSpec& cmd, std::span<const std::string_view> args, std::vector<Ref>& out,
             KeySearch search) {
  if (!arity_ok(cmd, args.size())) return false;
  const bool channels = search == KeySearch::KeysAndShardChannels;
  bool has_spec = false;
  bool variable_flags = false;
  for (const KeySpec& ks : cmd.specs()) {
    if (channels || (ks.flags & kKeyNotKey) == 0) has_spec = true;
    if (ks.flags & kKeyVariableFlags) variable_flags = true;
  }
  if (!has_spec && cmd.getkeys == GetKeysProc::None) return true;  // a keyless command

  Sink<Ref> sink(out);
  bool answered = false;
  // Redis prefers the key-specs when their flags are reliable; any spec that cannot answer
  // sends the whole command to its getkeys_proc.
  if (has_spec && !variable_flags) {
    answered = true;
    for (const KeySpec& ks : cmd.specs()) {
      if (!channels && (ks.flags & kKeyNotKey)) continue;
      if (apply_spec(cmd, ks, args, sink) == SpecResult::Invalid) {
        sink.reset();
        answered = false;
        break;
      }
    }
  }
  if (!answered) run_proc(cmd.getkeys, args, sink);
  // COMMAND GETKEYS treats "no keys" as invalid arguments unless keys are optional (EVAL 0).
  return sink.count() > 0 || cmd.has(kNoMandatoryKeys);
}

}  // namespace

bool CommandSpec::has_keys() const {
  if (getkeys != GetKeysProc::None) return true;
  for (const KeySpec& ks : specs()) {
    if ((ks.flags & kKeyNotKey) == 0) return true;
  }
  return false;
}

bool key_positions(const CommandSpec& cmd, std::span<const std::string_view> args,
                   std::vector<uint32_t>& out, KeySearch search) {
  return extract(cmd, args, out, search);
}

bool key_refs(const CommandSpec& cmd, std::span<const std::string_view> args,
              std::vector<KeyRef>& out, KeySearch search) {
  return extract(cmd, args, out, search);
}

}  // namespace slotgate::commands
