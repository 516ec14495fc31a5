// Key extraction: representative commands for every key-spec kind and Redis's fallbacks, and
// the whole getkeys corpus (whose expectations the integration test checks against Redis).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "test_util.hpp"

using namespace slotgate::commands;
using slotgate::commands::testing::Args;

namespace {

// Key positions of a command line, or {-1} when key_positions refuses the arguments.
std::vector<int> keys_of(const std::string& line, KeySearch search = KeySearch::Keys) {
  Args a(line);
  const CommandSpec* spec = lookup(a.views);
  REQUIRE(spec != nullptr);
  std::vector<uint32_t> out;
  if (!key_positions(*spec, a.views, out, search)) return {-1};
  return {out.begin(), out.end()};
}

using V = std::vector<int>;
const V kRefused{-1};

}  // namespace

TEST_CASE("fixed positions: index begin-search with a range") {
  CHECK(keys_of("GET k") == V{1});
  CHECK(keys_of("MSET a 1 b 2 c 3") == V{1, 3, 5});  // step 2
  CHECK(keys_of("DEL a b c") == V{1, 2, 3});         // to the end
  CHECK(keys_of("RENAME a b") == V{1, 2});           // two specs
  CHECK(keys_of("BITOP AND dst a b") == V{2, 3, 4});
  CHECK(keys_of("LCS a b") == V{1, 2});
  CHECK(keys_of("OBJECT ENCODING k") == V{2});
  CHECK(keys_of("MEMORY USAGE k SAMPLES 5") == V{2});
  CHECK(keys_of("XINFO STREAM s FULL") == V{2});
  CHECK(keys_of("BLPOP a b 0") == V{1, 2});  // the timeout is not a key
  CHECK(keys_of("PING") == V{});
  CHECK(keys_of("GET") == kRefused);  // arity
  CHECK(keys_of("GET a b") == kRefused);
}

TEST_CASE("numkeys: keynum find-keys") {
  CHECK(keys_of("EVAL s 0") == V{});  // keys are optional for scripts
  CHECK(keys_of("EVAL s 2 a b x") == V{3, 4});
  CHECK(keys_of("EVALSHA sha 1 a x") == V{3});
  CHECK(keys_of("FCALL f 2 a b x") == V{3, 4});
  CHECK(keys_of("ZUNIONSTORE dst 2 a b WEIGHTS 1 2") == V{1, 3, 4});
  CHECK(keys_of("ZUNION 2 a b WITHSCORES") == V{2, 3});
  CHECK(keys_of("ZDIFF 1 a") == V{2});
  CHECK(keys_of("SINTERCARD 2 a b LIMIT 1") == V{2, 3});
  CHECK(keys_of("LMPOP 2 a b LEFT") == V{2, 3});
  CHECK(keys_of("BLMPOP 0 2 a b LEFT") == V{3, 4});
  CHECK(keys_of("ZMPOP 1 a MIN") == V{2});
  CHECK(keys_of("BZMPOP 0 2 a b MAX") == V{3, 4});
}

TEST_CASE("malformed numkeys is refused the way COMMAND GETKEYS refuses it") {
  CHECK(keys_of("EVAL s 3 a b") == V{});  // EVAL: no keys, Redis will say numkeys is too big
  CHECK(keys_of("ZUNION 0 a") == kRefused);
  CHECK(keys_of("ZUNION x a") == kRefused);
  CHECK(keys_of("ZINTER 3 a b") == kRefused);
  CHECK(keys_of("SINTERCARD 3 a b") == kRefused);
  CHECK(keys_of("BZMPOP 1 0 a MAX") == kRefused);
  CHECK(keys_of("ZUNIONSTORE dst 0 a") == kRefused);
  // Redis's fallback parses numkeys with atoi: "2abc" counts as 2 and the dest comes last.
  CHECK(keys_of("ZUNIONSTORE dst 2abc a b") == V{3, 4, 1});
}

TEST_CASE("keyword begin-search: XREAD/XREADGROUP STREAMS take half of the rest") {
  CHECK(keys_of("XREAD COUNT 2 STREAMS a b 0 0") == V{4, 5});
  CHECK(keys_of("xread block 0 streams a $") == V{4});
  CHECK(keys_of("XREADGROUP GROUP g c COUNT 1 STREAMS a b > >") == V{7, 8});
  CHECK(keys_of("XREAD STREAMS a") == kRefused);
  // A group named "streams" is found first, exactly like Redis's key-spec search does.
  CHECK(keys_of("XREADGROUP GROUP streams c STREAMS a >") == V{5});
}

TEST_CASE("incomplete and unknown key-specs fall back to Redis's own parsers") {
  CHECK(keys_of("SORT a") == V{1});
  CHECK(keys_of("SORT a STORE b") == V{1, 3});
  CHECK(keys_of("SORT a BY w_* GET # LIMIT 0 10 STORE dst") == V{1, 10});
  CHECK(keys_of("SORT a STORE x STORE y") == V{1, 5});
  CHECK(keys_of("SORT_RO a BY x") == V{1});
  CHECK(keys_of("MIGRATE host 6379 k 0 5000") == V{3});
  CHECK(keys_of("MIGRATE host 6379 \"\" 0 5000 KEYS a b") == V{7, 8});
  CHECK(keys_of("MIGRATE host 6379 \"\" 0 5000 AUTH2 u keys KEYS a") == V{10});
  CHECK(keys_of("MIGRATE host 6379 k 0 5000 KEYS a") == kRefused);
  CHECK(keys_of("GEORADIUS k 0 0 1 m STORE dst") == V{1, 7});
  CHECK(keys_of("GEORADIUS k 0 0 1 m STOREDIST dst") == V{1, 7});
  CHECK(keys_of("GEORADIUS k 0 0 1 m STORE d1 STOREDIST d2") == V{1, 7, 9});
  CHECK(keys_of("GEORADIUS k 0 0 1 m STORE") == V{1});
  CHECK(keys_of("GEORADIUSBYMEMBER k m 1 km STORE d") == V{1, 6});
  CHECK(keys_of("SET k v GET") == V{1});
  CHECK(keys_of("BITFIELD k GET u8 0") == V{1});
}

TEST_CASE("shard channels count as keys only when asked for") {
  CHECK(keys_of("SPUBLISH ch msg") == V{});
  CHECK(keys_of("SPUBLISH ch msg", KeySearch::KeysAndShardChannels) == V{1});
  CHECK(keys_of("SSUBSCRIBE a b", KeySearch::KeysAndShardChannels) == V{1, 2});
  CHECK_FALSE(find("spublish")->has_keys());
  CHECK(find("get")->has_keys());
  CHECK(find("sort")->has_keys());
}

TEST_CASE("key flags follow the key-spec or the fallback parser") {
  Args a("SET k v GET");
  std::vector<KeyRef> refs;
  REQUIRE(key_refs(*lookup(a.views), a.views, refs));
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].flags == (kKeyRW | kKeyAccess | kKeyUpdate));
  Args b("SORT a STORE b");
  refs.clear();
  REQUIRE(key_refs(*lookup(b.views), b.views, refs));
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].flags == (kKeyRO | kKeyAccess));
  CHECK(refs[1].flags == (kKeyOW | kKeyUpdate));
}

TEST_CASE("key_positions appends and does not allocate when the vector has room") {
  Args a("MSET a 1 b 2");
  std::vector<uint32_t> out{99};
  out.reserve(16);
  const uint32_t* data = out.data();
  REQUIRE(key_positions(*lookup(a.views), a.views, out));
  CHECK(out == std::vector<uint32_t>{99, 1, 3});
  CHECK(out.data() == data);
  // A refused search leaves what was there before.
  Args z("ZUNION 0 a");
  REQUIRE_FALSE(key_positions(*lookup(z.views), z.views, out));
  CHECK(out == std::vector<uint32_t>{99, 1, 3});
}

TEST_CASE("every line of the getkeys corpus (checked against Redis 7.0) matches") {
  std::ifstream in(SLOTGATE_SOURCE_DIR "/tests/unit/commands/getkeys_corpus.txt");
  REQUIRE(in.good());
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t arrow = line.find("=>");
    REQUIRE(arrow != std::string::npos);
    const std::string command = line.substr(0, arrow);
    std::string expected = line.substr(arrow + 2);
    expected.erase(0, expected.find_first_not_of(' '));
    INFO(line);
    ++lines;

    Args a(command);
    const CommandSpec* spec = lookup(a.views);
    REQUIRE(spec != nullptr);
    std::vector<uint32_t> out;
    const bool ok = key_positions(*spec, a.views, out);
    if (expected == "!") {
      CHECK_FALSE(ok);
    } else if (expected == "-") {
      CHECK_FALSE(spec->has_keys());
      CHECK(ok);
      CHECK(out.empty());
    } else {
      CHECK(ok);
      std::string got;
      for (uint32_t p : out) got += (got.empty() ? "" : " ") + std::to_string(p);
      CHECK(got == expected);
    }
  }
  CHECK(lines > 300);
}
