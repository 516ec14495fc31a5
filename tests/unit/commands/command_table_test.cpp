// The command table: lookup, arity, flags and the routing policy attached to each command.
#include <catch2/catch.hpp>

#include <set>

#include "commands/command_table.hpp"
#include "commands/routing_policy.hpp"
#include "test_util.hpp"

using namespace slotgate::commands;
using slotgate::commands::testing::Args;

namespace {
const CommandSpec& spec_of(const std::string& line) {
  Args a(line);
  const CommandSpec* spec = lookup(a.views);
  REQUIRE(spec != nullptr);
  return *spec;
}
}  // namespace

TEST_CASE("the table holds every Redis 7.0 command, sorted by name") {
  CHECK(redis_version() == "7.0.15");
  CHECK(command_count() == 240);
  const auto all = all_commands();
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  size_t subcommands = 0;
  for (const CommandSpec& c : all) {
    subcommands += c.subcommand_count;
    for (const CommandSpec& s : c.subs()) {
      CHECK(s.name.substr(0, c.name.size() + 1) == std::string(c.name) + "|");
    }
  }
  // 126 subcommands in Redis 7.0.15, plus the three 7.2 extras (generate_table.EXTRAS).
  CHECK(subcommands == 129);
  CHECK(find_full("client|setinfo") != nullptr);
  CHECK(find_full("cluster|myshardid") != nullptr);
}

TEST_CASE("lookup is case-insensitive and resolves subcommands") {
  CHECK(spec_of("get k").name == "get");
  CHECK(spec_of("GeT k").name == "get");
  CHECK(spec_of("CLIENT setname x").name == "client|setname");
  CHECK(spec_of("config GET maxmemory").name == "config|get");
  CHECK(spec_of("Object ENCODING k").name == "object|encoding");
  CHECK(spec_of("cluster set-config-epoch 1").name == "cluster|set-config-epoch");
  // Unknown or missing subcommand: the container itself, so Redis can name the error.
  CHECK(spec_of("client nosuch").name == "client");
  CHECK(spec_of("client").name == "client");
  // A plain command never looks at args[1].
  CHECK(spec_of("get setname").name == "get");

  Args unknown("nosuchcommand a");
  CHECK(lookup(unknown.views) == nullptr);
  CHECK(lookup({}) == nullptr);
  CHECK(find("MGET") != nullptr);
  CHECK(find("client|setname") == nullptr);  // top-level only
  CHECK(find(std::string(500, 'a')) == nullptr);
  REQUIRE(find_full("CLIENT|SetName") != nullptr);
  CHECK(find_full("client|setname")->arity == 3);
  CHECK(find_full("client|nosuch") == nullptr);
}

TEST_CASE("find() reaches every top-level command by its name in any case, and nothing else") {
  for (const CommandSpec& c : all_commands()) {
    std::string upper(c.name), mixed(c.name);
    for (size_t i = 0; i < upper.size(); ++i) {
      if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
      if (i % 2 == 0) mixed[i] = upper[i];
    }
    CHECK(find(c.name) == &c);
    CHECK(find(upper) == &c);
    CHECK(find(mixed) == &c);
    // Near misses: a prefix, an extension, one byte changed.
    CHECK(find(c.name.substr(0, c.name.size() - 1)) != &c);
    const std::string longer = std::string(c.name) + "x";  // lpush → lpushx is a command
    const CommandSpec* found = find(longer);
    CHECK((found == nullptr || found->name == longer));
    std::string changed(c.name);
    changed.back() = '#';
    CHECK(find(changed) == nullptr);
  }
  CHECK(find("") == nullptr);
  CHECK(find("get\r\n") == nullptr);
}

TEST_CASE("arity follows Redis: positive is exact, negative is a minimum") {
  const CommandSpec& get = spec_of("get k");
  CHECK(get.arity == 2);
  CHECK(arity_ok(get, 2));
  CHECK_FALSE(arity_ok(get, 1));
  CHECK_FALSE(arity_ok(get, 3));
  const CommandSpec& mset = spec_of("mset a 1");
  CHECK(mset.arity == -3);
  CHECK(arity_ok(mset, 3));
  CHECK(arity_ok(mset, 5));
  CHECK_FALSE(arity_ok(mset, 2));
  // Subcommand arity counts the container name too.
  CHECK(arity_ok(spec_of("client setname x"), 3));
  CHECK_FALSE(arity_ok(spec_of("client setname x"), 2));
}

TEST_CASE("flags, ACL categories and legacy key triple come from COMMAND") {
  const CommandSpec& get = spec_of("get k");
  CHECK(get.has(kReadOnly));
  CHECK(get.has(kFast));
  CHECK_FALSE(get.has(kWrite));
  CHECK((get.acl_categories & kAcl_read) != 0);
  CHECK((get.acl_categories & kAcl_string) != 0);
  CHECK(get.first_key == 1);
  CHECK(get.last_key == 1);
  CHECK(get.key_step == 1);

  const CommandSpec& mset = spec_of("mset a 1");
  CHECK(mset.key_step == 2);
  CHECK(mset.last_key == -1);

  CHECK(spec_of("eval s 0").has(kMovableKeys));
  CHECK(spec_of("eval s 0").has(kNoMandatoryKeys));
  CHECK(spec_of("blpop a 0").has(kBlocking));
  CHECK((spec_of("blpop a 0").acl_categories & kAcl_blocking) != 0);
  CHECK(spec_of("auth x").has(kNoAuth));
  CHECK(spec_of("flushall").has(kWrite));
  CHECK((spec_of("flushall").acl_categories & kAcl_dangerous) != 0);
  CHECK(spec_of("subscribe c").has(kPubSub));
  CHECK(spec_of("script kill").has(kAllowBusy));
  CHECK((spec_of("multi").acl_categories & kAcl_transaction) != 0);
  CHECK((spec_of("eval s 0").acl_categories & kAcl_scripting) != 0);
  CHECK((spec_of("ping").acl_categories & kAcl_connection) != 0);
  CHECK((spec_of("del k").acl_categories & kAcl_keyspace) != 0);
  CHECK((spec_of("config set a b").acl_categories & kAcl_admin) != 0);

  const CommandSpec& xread = spec_of("xread streams a 0");
  REQUIRE(xread.key_spec_count == 1);
  const KeySpec& ks = xread.key_specs[0];
  CHECK(ks.begin_search.type == BeginSearch::Keyword);
  CHECK(ks.begin_search.keyword == "STREAMS");
  CHECK(ks.begin_search.startfrom == 1);
  CHECK(ks.find_keys.type == FindKeys::Range);
  CHECK(ks.find_keys.lastkey == -1);
  CHECK(ks.find_keys.limit == 2);
  CHECK((ks.flags & kKeyRO) != 0);

  const CommandSpec& migrate = spec_of("migrate h 1 k 0 1");
  REQUIRE(migrate.key_spec_count == 2);
  CHECK(migrate.key_specs[1].begin_search.startfrom == -2);
  CHECK((migrate.key_specs[1].flags & kKeyIncomplete) != 0);
  CHECK((spec_of("set k v").key_specs[0].flags & kKeyVariableFlags) != 0);
  CHECK(spec_of("sort k").key_specs[1].begin_search.type == BeginSearch::Unknown);
  const CommandSpec& zu = spec_of("zunionstore d 1 a");
  REQUIRE(zu.key_spec_count == 2);
  CHECK(zu.key_specs[1].find_keys.type == FindKeys::KeyNum);
  CHECK(zu.key_specs[1].find_keys.keynumidx == 0);
  CHECK(zu.key_specs[1].find_keys.firstkey == 1);
  CHECK((spec_of("spublish c m").key_specs[0].flags & kKeyNotKey) != 0);
  CHECK(spec_of("client list").tips.size() == 1);
}

TEST_CASE("routing policy of the commands slotgate treats specially") {
  struct Case {
    const char* line;
    Routing routing;
    Merge merge;
  };
  const Case cases[] = {
      {"ping", Routing::Local, Merge::None},
      {"echo x", Routing::Local, Merge::None},
      {"hello 3", Routing::Local, Merge::None},
      {"auth pw", Routing::Local, Merge::None},
      {"select 0", Routing::Local, Merge::None},
      {"quit", Routing::Local, Merge::None},
      {"reset", Routing::Local, Merge::None},
      {"readonly", Routing::Local, Merge::None},
      {"client setname x", Routing::Local, Merge::None},
      {"client getname", Routing::Local, Merge::None},
      {"client id", Routing::Local, Merge::None},
      {"command count", Routing::Local, Merge::None},
      {"command getkeys get k", Routing::Local, Merge::None},
      {"command docs get", Routing::AnyNode, Merge::None},
      {"command", Routing::AnyNode, Merge::None},
      {"info", Routing::Local, Merge::None},
      {"cluster slots", Routing::Local, Merge::None},
      {"cluster shards", Routing::Local, Merge::None},
      {"cluster nodes", Routing::Local, Merge::None},
      {"cluster keyslot k", Routing::Local, Merge::None},
      {"cluster countkeysinslot 1", Routing::SlotArgument, Merge::None},
      {"cluster getkeysinslot 1 10", Routing::SlotArgument, Merge::None},
      {"get k", Routing::Keyed, Merge::None},
      {"msetnx a 1 b 2", Routing::Keyed, Merge::None},
      {"eval s 0", Routing::Keyed, Merge::None},
      {"spublish c m", Routing::Keyed, Merge::None},
      {"xread streams a 0", Routing::Keyed, Merge::None},
      {"xreadgroup group g c streams a >", Routing::Keyed, Merge::None},
      {"object encoding k", Routing::Keyed, Merge::None},
      {"mget a b", Routing::Split, Merge::KeyOrder},
      {"mset a 1 b 2", Routing::Split, Merge::AllOk},
      {"del a b", Routing::Split, Merge::SumIntegers},
      {"unlink a b", Routing::Split, Merge::SumIntegers},
      {"exists a b", Routing::Split, Merge::SumIntegers},
      {"touch a b", Routing::Split, Merge::SumIntegers},
      {"time", Routing::AnyNode, Merge::None},
      {"publish c m", Routing::AnyNode, Merge::None},
      {"lolwut", Routing::AnyNode, Merge::None},
      {"object help", Routing::AnyNode, Merge::None},
      {"config get maxmemory", Routing::AnyNode, Merge::None},
      {"keys *", Routing::AllMasters, Merge::ConcatArrays},
      {"dbsize", Routing::AllMasters, Merge::SumIntegers},
      {"flushall", Routing::AllMasters, Merge::AllOk},
      {"flushdb", Routing::AllMasters, Merge::AllOk},
      {"randomkey", Routing::AllMasters, Merge::Random},
      {"script load s", Routing::AllMasters, Merge::SameReply},
      {"script flush", Routing::AllMasters, Merge::AllOk},
      {"script exists a", Routing::AllMasters, Merge::AllTrue},
      {"function load s", Routing::AllMasters, Merge::SameReply},
      {"function delete l", Routing::AllMasters, Merge::AllOk},
      {"config set a b", Routing::AllMasters, Merge::AllOk},
      {"pubsub numsub c", Routing::AllMasters, Merge::SumPairs},
      {"pubsub channels", Routing::AllMasters, Merge::UnionArrays},
      {"scan 0", Routing::Scan, Merge::None},
      {"multi", Routing::Transaction, Merge::None},
      {"exec", Routing::Transaction, Merge::None},
      {"discard", Routing::Transaction, Merge::None},
      {"watch a", Routing::Transaction, Merge::None},
      {"unwatch", Routing::Transaction, Merge::None},
      {"blpop a 0", Routing::Blocking, Merge::None},
      {"brpop a 0", Routing::Blocking, Merge::None},
      {"blmove a b left left 0", Routing::Blocking, Merge::None},
      {"brpoplpush a b 0", Routing::Blocking, Merge::None},
      {"blmpop 0 1 a left", Routing::Blocking, Merge::None},
      {"bzpopmin a 0", Routing::Blocking, Merge::None},
      {"bzpopmax a 0", Routing::Blocking, Merge::None},
      {"bzmpop 0 1 a min", Routing::Blocking, Merge::None},
      {"wait 1 0", Routing::Blocking, Merge::None},
      {"subscribe c", Routing::PubSub, Merge::None},
      {"psubscribe c*", Routing::PubSub, Merge::None},
      {"unsubscribe", Routing::PubSub, Merge::None},
      {"punsubscribe", Routing::PubSub, Merge::None},
      {"ssubscribe c", Routing::PubSub, Merge::None},
      {"sunsubscribe", Routing::PubSub, Merge::None},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    const CommandSpec& spec = spec_of(c.line);
    CHECK(spec.routing == c.routing);
    CHECK(spec.merge == c.merge);
  }
}

TEST_CASE("refused commands carry a reason for the client") {
  for (const char* line : {"shutdown",
                           "debug sleep 0",
                           "failover",
                           "monitor",
                           "sync",
                           "psync a 1",
                           "replicaof a 1",
                           "slaveof a 1",
                           "swapdb 0 1",
                           "move k 1",
                           "migrate h 1 k 0 1",
                           "module load x",
                           "module unload x",
                           "cluster addslots 1",
                           "cluster setslot 1 node x",
                           "cluster forget x",
                           "cluster meet h 1",
                           "cluster reset",
                           "cluster failover",
                           "acl setuser u",
                           "acl deluser u",
                           "save"}) {
    INFO(line);
    const CommandSpec& spec = spec_of(line);
    CHECK(spec.routing == Routing::Refused);
    CHECK_FALSE(spec.refused_reason.empty());
  }
}

TEST_CASE("CLIENT subcommands about slotgate's own sessions are answered locally") {
  for (const char* line :
       {"client kill id 1", "client kill 1.2.3.4:5", "client pause 1", "client unpause",
        "client unblock 1", "client no-evict on", "client reply off", "client tracking on",
        "client getredir", "client trackinginfo", "client caching yes"}) {
    INFO(line);
    CHECK(spec_of(line).routing == Routing::Local);
  }
}

TEST_CASE("every routing policy entry names a command of the table") {
  for (const Policy& p : kPolicies) {
    INFO(p.name);
    CHECK(find_full(p.name) != nullptr);
    if (p.routing == Routing::Refused) CHECK_FALSE(p.refused_reason.empty());
  }
}

TEST_CASE("commands without a policy entry get defaults from their facts") {
  CHECK(spec_of("hget h f").routing == Routing::Keyed);  // keyed
  CHECK(spec_of("pfselftest").routing == Routing::AnyNode);
  CHECK(spec_of("latency help").routing == Routing::AnyNode);
  CHECK(spec_of("client nosuch").routing == Routing::AnyNode);  // container: backend errors
}

TEST_CASE("every trait entry names a command of the table") {
  for (const Traits& t : kTraits) {
    INFO(t.name);
    CHECK(find_full(t.name) != nullptr);
    CHECK((t.traits != 0 || t.channels != ChannelArgs::None || t.session != SessionOp::None));
  }
}

TEST_CASE("each command appears at most once in the policy and trait tables") {
  // traits_of()/policy lookups take the first entry: a second entry for the same name would be
  // silently ignored (two branches once each added one for config|set).
  std::set<std::string_view> seen;
  for (const Traits& t : kTraits) {
    INFO(t.name);
    CHECK(seen.insert(t.name).second);
  }
  seen.clear();
  for (const Policy& p : kPolicies) {
    INFO(p.name);
    CHECK(seen.insert(p.name).second);
  }
}

TEST_CASE("every local command names its handler; session commands name what the session does") {
  for (const CommandSpec& top : all_commands()) {
    std::vector<const CommandSpec*> specs{&top};
    for (const CommandSpec& sub : top.subs()) specs.push_back(&sub);
    for (const CommandSpec* spec : specs) {
      INFO(spec->name);
      CHECK((spec->routing == Routing::Local) == (spec->local != LocalHandler::None));
      const bool session =
          spec->routing == Routing::Transaction || spec->routing == Routing::PubSub;
      CHECK(session == (spec->session != SessionOp::None));
      CHECK((spec->routing == Routing::PubSub) == (spec->channel_kind != ChannelKind::None));
    }
  }
  CHECK(spec_of("ping").local == LocalHandler::Ping);
  CHECK(spec_of("readwrite").local == LocalHandler::Ok);
  CHECK(spec_of("client no-evict on").local == LocalHandler::ClientNoEvict);
  CHECK(spec_of("cluster keyslot k").local == LocalHandler::ClusterKeyslot);
  CHECK(spec_of("exec").session == SessionOp::Exec);
  CHECK(spec_of("psubscribe p*").session == SessionOp::Subscribe);
  CHECK(spec_of("psubscribe p*").channel_kind == ChannelKind::Pattern);
  CHECK(spec_of("sunsubscribe").session == SessionOp::Unsubscribe);
  CHECK(spec_of("sunsubscribe").channel_kind == ChannelKind::Shard);
}

TEST_CASE("XREAD and XREADGROUP block only with an option; CONFIG SET checks its allow list") {
  CHECK(spec_of("xread streams s 0").has_trait(kBlockOption));
  CHECK(spec_of("xreadgroup group g c streams s 0").has_trait(kBlockOption));
  CHECK_FALSE(spec_of("xrange s - +").has_trait(kBlockOption));
  CHECK(spec_of("config set maxmemory 1").has_trait(kConfigAllowList));
  CHECK_FALSE(spec_of("config get maxmemory").has_trait(kConfigAllowList));
  CHECK(spec_of("client list").has_trait(kOwnSessions));
}

TEST_CASE("scripts and functions run user code and may run long") {
  for (const char* line :
       {"EVAL s 0", "eval_ro s 0", "EVALSHA x 0", "evalsha_ro x 0", "FCALL f 0", "fcall_ro f 0"}) {
    INFO(line);
    CHECK(spec_of(line).runs_user_code());
    CHECK(spec_of(line).may_run_long());
  }
}

TEST_CASE("commands that can keep a node busy may run long; ordinary ones do not") {
  for (const char* line : {"KEYS *", "FLUSHALL", "FLUSHDB SYNC", "SCAN 0 COUNT 100000000",
                           "HSCAN h 0", "SCRIPT FLUSH", "FUNCTION FLUSH"}) {
    INFO(line);
    CHECK(spec_of(line).may_run_long());
    CHECK_FALSE(spec_of(line).runs_user_code());
  }
  for (const char* line : {"GET k", "SET k v", "MGET a b", "SCRIPT KILL", "FUNCTION KILL",
                           "SCRIPT LOAD s", "DBSIZE", "PUBLISH c m"}) {
    INFO(line);
    CHECK_FALSE(spec_of(line).may_run_long());
    CHECK_FALSE(spec_of(line).runs_user_code());
  }
}

TEST_CASE("traits say which commands change the connection, list any key, name channels") {
  CHECK(find_full("hello")->has_trait(kConnectionState));
  CHECK(find_full("select")->has_trait(kConnectionState));
  CHECK(find_full("client|setname")->has_trait(kConnectionState));
  CHECK_FALSE(find_full("client|id")->has_trait(kConnectionState));
  CHECK(find_full("ping")->has_trait(kSameOnNode));
  CHECK_FALSE(find_full("info")->has_trait(kSameOnNode));
  CHECK(find_full("keys")->has_trait(kAnyKey));
  CHECK(find_full("scan")->has_trait(kAnyKey));
  CHECK(find_full("randomkey")->has_trait(kAnyKey));
  CHECK_FALSE(find_full("get")->has_trait(kAnyKey));
  CHECK(find_full("publish")->channels == ChannelArgs::First);
  CHECK(find_full("subscribe")->channels == ChannelArgs::All);
  CHECK(find_full("psubscribe")->channels == ChannelArgs::AllPatterns);
  CHECK(find_full("get")->channels == ChannelArgs::None);
}
