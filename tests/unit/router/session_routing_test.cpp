// router::session_routing: the node and slot choices behind a session's subscriptions,
// transactions and blocking commands.
#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "commands/command_table.hpp"
#include "router/session_routing.hpp"

using slotgate::cluster::ClusterView;
using slotgate::cluster::key_slot;
namespace router = slotgate::router;
namespace commands = slotgate::commands;

namespace {

const std::string kIdA(40, 'a'), kIdB(40, 'b'), kIdC(40, 'c');

ClusterView::Ptr view_of(const std::string& nodes) {
  auto result = ClusterView::from_nodes(nodes, 1);
  if (auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  return std::get<ClusterView::Ptr>(std::move(result));
}

// Two masters: A owns 0-8191, B owns 8192-16383; C is B's replica.
ClusterView::Ptr two_masters() {
  return view_of(kIdA + " 10.0.0.1:6379@16379 master - 0 0 1 connected 0-8191\n" + kIdB +
                 " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + kIdC +
                 " 10.0.0.3:6379@16379 slave " + kIdB + " 0 0 2 connected\n");
}

const commands::CommandSpec& spec_of(std::vector<std::string_view> args) {
  const commands::CommandSpec* spec = commands::lookup(args);
  REQUIRE(spec != nullptr);
  return *spec;
}

}  // namespace

TEST_CASE("subscriptions live on the master of slot 0, or the first master without one") {
  auto view = two_masters();
  CHECK(router::subscription_master(view.get()) == "10.0.0.1:6379");
  CHECK(router::masters_except(view.get(), "10.0.0.1:6379") ==
        std::vector<std::string>{"10.0.0.2:6379"});
  auto without_slot0 = view_of(kIdB + " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n");
  CHECK(router::subscription_master(without_slot0.get()) == "10.0.0.2:6379");
  CHECK(router::subscription_master(nullptr).empty());
  CHECK(router::masters_except(nullptr, "").empty());
}

TEST_CASE("a slot's master, and whether an address is a master") {
  auto view = two_masters();
  CHECK(router::master_address(view.get(), 100) == "10.0.0.1:6379");
  CHECK(router::master_address(view.get(), 9000) == "10.0.0.2:6379");
  CHECK(router::master_address(nullptr, 9000).empty());
  CHECK(router::is_master(view.get(), "10.0.0.2:6379"));
  CHECK_FALSE(router::is_master(view.get(), "10.0.0.3:6379"));  // a replica
  CHECK_FALSE(router::is_master(view.get(), "10.9.9.9:6379"));  // unknown
}

TEST_CASE("shard channels of one SSUBSCRIBE must share a slot") {
  const std::vector<std::string> same{"{room}a", "{room}b"};
  REQUIRE(router::shard_channels_slot(same));
  CHECK(*router::shard_channels_slot(same) == key_slot("room"));
  CHECK_FALSE(router::shard_channels_slot(std::vector<std::string>{"a", "b"}));
}

TEST_CASE("the common slot of a command's keys, for MULTI and WATCH") {
  std::vector<uint32_t> scratch;
  std::vector<std::string_view> mset{"mset", "{u}1", "x", "{u}2", "y"};
  auto keys = router::common_slot(spec_of(mset), mset, scratch);
  CHECK_FALSE(keys.cross_slot);
  REQUIRE(keys.slot);
  CHECK(*keys.slot == key_slot("u"));
  std::vector<std::string_view> cross{"mget", "a", "b"};
  CHECK(router::common_slot(spec_of(cross), cross, scratch).cross_slot);
  std::vector<std::string_view> keyless{"ping"};
  keys = router::common_slot(spec_of(keyless), keyless, scratch);
  CHECK_FALSE(keys.cross_slot);
  CHECK_FALSE(keys.slot);
  std::vector<std::string_view> spublish{"spublish", "ch", "msg"};  // shard channels count
  CHECK(router::common_slot(spec_of(spublish), spublish, scratch).slot == key_slot("ch"));
}

TEST_CASE("a transaction runs on its keys' slot, else the watched one; WATCH holds on its node") {
  CHECK(router::transaction_slot(5, 7) == 5);
  CHECK(router::transaction_slot(std::nullopt, 7) == 7);
  CHECK_FALSE(router::transaction_slot(std::nullopt, std::nullopt));
  auto view = two_masters();
  CHECK(router::watch_still_holds(view.get(), 100, "10.0.0.1:6379"));
  CHECK_FALSE(router::watch_still_holds(view.get(), 9000, "10.0.0.1:6379"));  // slot moved
  CHECK_FALSE(router::watch_still_holds(nullptr, 100, "10.0.0.1:6379"));
}

TEST_CASE("blocking commands, and XREAD only with BLOCK before STREAMS") {
  std::vector<std::string_view> blpop{"blpop", "q", "0"};
  CHECK(router::blocks(spec_of(blpop), blpop));
  std::vector<std::string_view> xread_block{"XREAD", "COUNT",   "1", "BlOcK",
                                            "0",     "STREAMS", "s", "$"};
  CHECK(router::blocks(spec_of(xread_block), xread_block));
  std::vector<std::string_view> xread{"xread", "streams", "block", "0"};  // a stream named block
  CHECK_FALSE(router::blocks(spec_of(xread), xread));
  std::vector<std::string_view> group{"xreadgroup", "group",   "g", "c", "block",
                                      "10",         "streams", "s", ">"};
  CHECK(router::blocks(spec_of(group), group));
  std::vector<std::string_view> get{"get", "block"};
  CHECK_FALSE(router::blocks(spec_of(get), get));
}

TEST_CASE("on a standalone Redis keys of any slots share the one node: no CROSSSLOT") {
  auto view = ClusterView::standalone("10.0.0.9", 6379, slotgate::cluster::Role::Master, 1);
  std::vector<uint32_t> scratch;
  std::vector<std::string_view> cross{"mget", "a", "b"};
  auto keys = router::common_slot(spec_of(cross), cross, scratch, view.get());
  CHECK_FALSE(keys.cross_slot);
  CHECK(keys.slot == router::kSingleNodeSlot);
  std::vector<std::string_view> other{"set", "b", "1"};
  CHECK(router::common_slot(spec_of(other), other, scratch, view.get()).slot == keys.slot);
  CHECK(router::shard_channels_slot(std::vector<std::string>{"a", "b"}, view.get()) ==
        router::kSingleNodeSlot);
  CHECK(router::master_address(view.get(), 12345) == "10.0.0.9:6379");
  // A cluster view keeps Redis Cluster's rule.
  CHECK(router::common_slot(spec_of(cross), cross, scratch, two_masters().get()).cross_slot);
}
