// ClusterView: building snapshots from CLUSTER SHARDS / SLOTS / NODES replies (hand-built
// resp::Values shaped like Redis 7.0's answers) and the copy-on-write patches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cluster/cluster_view.hpp"

using slotgate::cluster::ClusterView;
using slotgate::cluster::Health;
using slotgate::cluster::Role;
using slotgate::cluster::SlotRange;
using slotgate::resp::Value;

namespace {

const std::string kIdA(40, 'a'), kIdB(40, 'b'), kIdC(40, 'c');
const std::string kIdD(40, 'd'), kIdE(40, 'e'), kIdF(40, 'f'), kIdG = std::string(39, '0') + "9";

Value b(std::string s) {
  return Value::bulk(std::move(s));
}
Value n(long long v) {
  return Value::integer_of(v);
}

// One node entry of CLUSTER SHARDS, in RESP2 flat form or as a RESP3 map.
Value shard_node(const std::string& id, int port, const std::string& role,
                 const std::string& health, bool resp3 = false,
                 std::string endpoint = "127.0.0.1") {
  std::vector<Value> kv = {b("id"),
                           b(id),
                           b("port"),
                           n(port),
                           b("ip"),
                           b("127.0.0.1"),
                           b("endpoint"),
                           b(std::move(endpoint)),
                           b("role"),
                           b(role),
                           b("replication-offset"),
                           n(42),
                           b("health"),
                           b(health)};
  return resp3 ? Value::map(std::move(kv)) : Value::array(std::move(kv));
}

Value shard(std::vector<long long> slots, std::vector<Value> nodes, bool resp3 = false) {
  std::vector<Value> slot_values;
  for (long long s : slots) slot_values.push_back(n(s));
  std::vector<Value> kv = {b("slots"), Value::array(std::move(slot_values)), b("nodes"),
                           Value::array(std::move(nodes))};
  return resp3 ? Value::map(std::move(kv)) : Value::array(std::move(kv));
}

// 3 masters (7000-7002), 3 replicas (7003-7005; 7004 has failed), and the old master of the
// third shard (7006), flagged fail after its replica 7002 was promoted.
Value six_node_shards(bool resp3 = false) {
  return Value::array({
      shard({0, 5460},
            {shard_node(kIdA, 7000, "master", "online", resp3),
             shard_node(kIdD, 7003, "replica", "online", resp3)},
            resp3),
      shard({5461, 10922},
            {shard_node(kIdB, 7001, "master", "online", resp3),
             shard_node(kIdE, 7004, "replica", "fail", resp3)},
            resp3),
      shard({10923, 16383},
            {shard_node(kIdG, 7006, "master", "fail", resp3),
             shard_node(kIdC, 7002, "master", "online", resp3),
             shard_node(kIdF, 7005, "replica", "loading", resp3)},
            resp3),
  });
}

ClusterView::Ptr must(ClusterView::Result result) {
  if (auto* error = std::get_if<std::string>(&result)) FAIL("unexpected error: " << *error);
  return std::get<ClusterView::Ptr>(std::move(result));
}

std::string error_of(ClusterView::Result result) {
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

const std::string& owner_address(const ClusterView& view, int slot) {
  static const std::string none = "(none)";
  const auto index = view.master_of(static_cast<uint16_t>(slot));
  return index == ClusterView::kNoNode ? none : view.node(index).address;
}

}  // namespace

TEST_CASE("an empty view owns nothing", "[view]") {
  ClusterView view;
  CHECK(view.nodes().empty());
  CHECK(view.master_of(0) == ClusterView::kNoNode);
  CHECK(view.covered_slots() == 0);
  CHECK_FALSE(view.covers_all_slots());
  CHECK(view.describe() == "0 masters, 0 replicas, 0/16384 slots");
}

TEST_CASE("CLUSTER SHARDS with 3 masters and 3 replicas", "[view][shards]") {
  const bool resp3 = GENERATE(false, true);
  INFO("resp3 = " << resp3);
  auto view = must(ClusterView::from_shards(six_node_shards(resp3), 7));

  CHECK(view->version() == 7);
  CHECK(view->nodes().size() == 7);
  CHECK(view->covers_all_slots());
  CHECK(owner_address(*view, 0) == "127.0.0.1:7000");
  CHECK(owner_address(*view, 5460) == "127.0.0.1:7000");
  CHECK(owner_address(*view, 5461) == "127.0.0.1:7001");
  // The failed old master is listed first in its shard but does not own the slots.
  CHECK(owner_address(*view, 10923) == "127.0.0.1:7002");
  CHECK(owner_address(*view, 16383) == "127.0.0.1:7002");

  const auto masters = view->master_indices();
  REQUIRE(masters.size() == 3);
  CHECK(view->node(masters[0]).id == kIdA);
  CHECK(view->node(masters[1]).id == kIdB);
  CHECK(view->node(masters[2]).id == kIdC);

  const auto replica = view->find_by_id(kIdE);
  REQUIRE(replica);
  CHECK(view->node(*replica).role == Role::Replica);
  CHECK(view->node(*replica).health == Health::Failed);
  CHECK(view->node(*replica).master_id == kIdB);
  CHECK(view->node(*view->find_by_id(kIdF)).health == Health::Loading);
  CHECK(view->node(*view->find_by_id(kIdF)).master_id == kIdC);
  CHECK(view->node(*view->find_by_id(kIdG)).health == Health::Failed);
  CHECK(view->ranges_of(*view->find_by_id(kIdG)).empty());

  CHECK(view->describe() == "3 masters, 2 replicas, 16384/16384 slots, 2 failed");
}

TEST_CASE("CLUSTER SHARDS: a shard whose only master failed leaves its slots unowned",
          "[view][shards]") {
  auto reply = Value::array({
      shard({0, 99, 200, 299}, {shard_node(kIdA, 7000, "master", "online")}),
      shard({100, 199}, {shard_node(kIdB, 7001, "master", "fail"),
                         shard_node(kIdD, 7003, "replica", "online")}),
      // The shape Redis gives a failed master after failover: a shard of its own, no slots.
      shard({}, {shard_node(kIdG, 7006, "master", "fail")}),
  });
  auto view = must(ClusterView::from_shards(reply, 1));
  CHECK(view->covered_slots() == 200);
  CHECK(view->master_of(150) == ClusterView::kNoNode);
  CHECK(owner_address(*view, 250) == "127.0.0.1:7000");
  CHECK(view->ranges_of(0) == std::vector<SlotRange>{{0, 99}, {200, 299}});
  // The replica still knows whose replica it is.
  CHECK(view->node(*view->find_by_id(kIdD)).master_id == kIdB);
}

TEST_CASE("CLUSTER SHARDS: unusable endpoints fall back to ip, then to the asked host",
          "[view][shards]") {
  Value unknown_endpoint = shard_node(kIdA, 7000, "master", "online", false, "?");
  Value no_ip = shard_node(kIdB, 7001, "master", "online", false, "");
  no_ip.elements[5] = b("");  // ip ""
  auto reply = Value::array({shard({0, 8191}, {unknown_endpoint}), shard({8192, 16383}, {no_ip})});
  auto view = must(ClusterView::from_shards(reply, "seed.redis", 1));
  CHECK(owner_address(*view, 0) == "127.0.0.1:7000");
  CHECK(owner_address(*view, 9000) == "seed.redis:7001");
  CHECK(view->node(view->master_of(9000)).host == "seed.redis");
  CHECK(view->node(view->master_of(9000)).port == 7001);
}

TEST_CASE("CLUSTER SHARDS: with cluster.tls a node is reached on the tls-port it announces",
          "[view][shards]") {
  Value both = shard_node(kIdA, 7000, "master", "online");
  both.elements.push_back(b("tls-port"));
  both.elements.push_back(n(17000));
  Value tls_only = shard_node(kIdB, 0, "master", "online");  // --port 0 --tls-port 7001
  tls_only.elements.push_back(b("tls-port"));
  tls_only.elements.push_back(n(7001));
  auto reply = Value::array({shard({0, 8191}, {both}), shard({8192, 16383}, {tls_only})});
  auto tls = must(ClusterView::from_shards(reply, "seed", 1, /*tls_port=*/true));
  CHECK(owner_address(*tls, 0) == "127.0.0.1:17000");
  CHECK(owner_address(*tls, 9000) == "127.0.0.1:7001");
  auto plain = must(ClusterView::from_shards(reply, "seed", 1));
  CHECK(owner_address(*plain, 0) == "127.0.0.1:7000");
}

TEST_CASE("CLUSTER SHARDS: error replies and malformed replies are errors", "[view][shards]") {
  CHECK(error_of(ClusterView::from_shards(Value::error("ERR unknown subcommand 'SHARDS'"), 1))
            .find("unknown subcommand") != std::string::npos);
  CHECK_FALSE(error_of(ClusterView::from_shards(Value::bulk("x"), 1)).empty());
  // Odd number of slot bounds.
  CHECK_FALSE(
      error_of(
          ClusterView::from_shards(
              Value::array({shard({0, 1, 2}, {shard_node(kIdA, 7000, "master", "online")})}), 1))
          .empty());
  // Slot out of range.
  CHECK_FALSE(
      error_of(
          ClusterView::from_shards(
              Value::array({shard({0, 16384}, {shard_node(kIdA, 7000, "master", "online")})}), 1))
          .empty());
  // Unknown role.
  CHECK_FALSE(
      error_of(ClusterView::from_shards(
                   Value::array({shard({0, 1}, {shard_node(kIdA, 7000, "boss", "online")})}), 1))
          .empty());
  // Missing port.
  Value no_port = shard_node(kIdA, 7000, "master", "online");
  no_port.elements[3] = Value::null();
  CHECK_FALSE(
      error_of(ClusterView::from_shards(Value::array({shard({0, 1}, {no_port})}), 1)).empty());
}

namespace {

Value slot_node(Value host, int port, std::string id = "", bool with_metadata = true) {
  std::vector<Value> entry = {std::move(host), n(port)};
  if (!id.empty()) entry.push_back(b(std::move(id)));
  if (with_metadata) entry.push_back(Value::array({b("hostname"), b("redis-0")}));
  return Value::array(std::move(entry));
}

}  // namespace

TEST_CASE("CLUSTER SLOTS with replicas, a master with two ranges and an empty host",
          "[view][slots]") {
  auto reply = Value::array({
      Value::array({n(0), n(4999), slot_node(b("10.0.0.1"), 6379, kIdA),
                    slot_node(b("10.0.0.4"), 6379, kIdD)}),
      Value::array(
          {n(5000), n(10922), slot_node(b(""), 6380, kIdB), slot_node(Value::null(), 6383, kIdE)}),
      Value::array({n(10923), n(16383), slot_node(b("10.0.0.1"), 6379, kIdA)}),
  });
  auto view = must(ClusterView::from_slots(reply, "redis.svc", 3));
  CHECK(view->nodes().size() == 4);
  CHECK(view->covers_all_slots());
  CHECK(owner_address(*view, 0) == "10.0.0.1:6379");
  CHECK(owner_address(*view, 16383) == "10.0.0.1:6379");
  CHECK(owner_address(*view, 5000) == "redis.svc:6380");
  CHECK(view->ranges_of(*view->find_by_id(kIdA)) ==
        std::vector<SlotRange>{{0, 4999}, {10923, 16383}});
  const auto replica = view->find_by_address("redis.svc:6383");
  REQUIRE(replica);
  CHECK(view->node(*replica).role == Role::Replica);
  CHECK(view->node(*replica).master_id == kIdB);
  CHECK(view->master_indices().size() == 2);
  CHECK(view->describe() == "2 masters, 2 replicas, 16384/16384 slots");
}

TEST_CASE("CLUSTER SLOTS of an old server without node ids", "[view][slots]") {
  auto reply = Value::array({
      Value::array({n(0), n(8191), slot_node(b("10.0.0.1"), 6379, "", false)}),
      Value::array({n(8192), n(16383), slot_node(b("10.0.0.2"), 6379, "", false)}),
      Value::array({n(100), n(100), slot_node(b("10.0.0.1"), 6379, "", false)}),
  });
  auto view = must(ClusterView::from_slots(reply, "", 1));
  CHECK(view->nodes().size() == 2);
  CHECK(view->node(0).id.empty());
  CHECK_FALSE(view->find_by_id(""));
  CHECK(owner_address(*view, 9000) == "10.0.0.2:6379");
}

TEST_CASE("CLUSTER SLOTS: malformed replies are errors", "[view][slots]") {
  CHECK(error_of(ClusterView::from_slots(Value::error("CLUSTERDOWN Hash slot not served"), "", 1))
            .find("CLUSTERDOWN") != std::string::npos);
  CHECK_FALSE(
      error_of(ClusterView::from_slots(Value::array({Value::array({n(0), n(5)})}), "", 1)).empty());
  CHECK_FALSE(
      error_of(ClusterView::from_slots(
                   Value::array({Value::array({n(5), n(4), slot_node(b("10.0.0.1"), 6379, kIdA)})}),
                   "", 1))
          .empty());
  CHECK_FALSE(error_of(ClusterView::from_slots(
                           Value::array(
                               {Value::array({n(0), n(4), slot_node(b("10.0.0.1"), 70000, kIdA)})}),
                           "", 1))
                  .empty());
}

namespace {

// Captured from a Redis 7.0 cluster after 7204 failed and its replica 7206 took over, plus
// a noaddr node, a node in handshake and slots being migrated.
const std::string kNodesText =
    "2fecc0f75cc671cb7e31d25380977722b4d6c59f 127.0.0.1:7202@17202 myself,master - 0 "
    "1795321706000 1 connected 0-5460 [5460->-76f1e9a3f2c3ac236fa1929a825ed2eb3bdad4d1]\n"
    "b15fc50d29f09c51132a05f703197690be91d243 127.0.0.1:7205@17205 slave "
    "76f1e9a3f2c3ac236fa1929a825ed2eb3bdad4d1 0 1795321707858 2 connected\n"
    "ac55b89a2d04a911f7feaf5a2f183c8f1225eecd 127.0.0.1:7207@17207,redis-5 slave "
    "2fecc0f75cc671cb7e31d25380977722b4d6c59f 0 1795321708864 1 connected\n"
    "4a2e684f875089e685dd42fcc67445f869d1bdcc 127.0.0.1:7206@17206 master - 0 1795321706000 7 "
    "connected 10923-16383\n"
    "76f1e9a3f2c3ac236fa1929a825ed2eb3bdad4d1 127.0.0.1:7203@17203 master,fail? - 0 "
    "1795321707000 2 connected 5461-10921 10922 [5460-<-2fecc0f75cc671cb7e31d25380977722b4d6c59f]\n"
    "bd181e12763ff2454209e6b195cba372652ce9f8 127.0.0.1:7204@17204 master,fail - 1795321685746 "
    "1795321683738 3 disconnected 100-200\n"
    "cccccccccccccccccccccccccccccccccccccccc :0@0 master,noaddr - 0 0 4 disconnected 300\n"
    "dddddddddddddddddddddddddddddddddddddddd 127.0.0.1:7299@17299 handshake - 0 0 0 "
    "connected\r\n"
    "\n";

}  // namespace

TEST_CASE("CLUSTER NODES text with myself, fail, noaddr, handshake and migrations",
          "[view][nodes]") {
  auto view = must(ClusterView::from_nodes(kNodesText, 9));
  CHECK(view->nodes().size() == 7);  // handshake node skipped
  CHECK_FALSE(view->find_by_address("127.0.0.1:7299"));
  CHECK(view->covers_all_slots());
  CHECK(owner_address(*view, 0) == "127.0.0.1:7202");
  // Migrating slot 5460 still belongs to the node that lists it plainly.
  CHECK(owner_address(*view, 5460) == "127.0.0.1:7202");
  CHECK(owner_address(*view, 10922) == "127.0.0.1:7203");  // fail? is only a suspicion
  CHECK(owner_address(*view, 16383) == "127.0.0.1:7206");
  // Slots claimed by a failed or noaddr node are not taken from their owner.
  CHECK(owner_address(*view, 150) == "127.0.0.1:7202");

  const auto failed = view->find_by_id("bd181e12763ff2454209e6b195cba372652ce9f8");
  REQUIRE(failed);
  CHECK(view->node(*failed).health == Health::Failed);
  CHECK(view->ranges_of(*failed).empty());
  CHECK(view->node(*view->find_by_id(std::string(40, 'c'))).health == Health::Failed);

  const auto replica = view->find_by_address("127.0.0.1:7207");  // ",hostname" dropped
  REQUIRE(replica);
  CHECK(view->node(*replica).role == Role::Replica);
  CHECK(view->node(*replica).master_id == "2fecc0f75cc671cb7e31d25380977722b4d6c59f");
  CHECK(view->ranges_of(*view->find_by_address("127.0.0.1:7203")) ==
        std::vector<SlotRange>{{5461, 10922}});
  CHECK(view->describe() == "3 masters, 2 replicas, 16384/16384 slots, 2 failed");
}

TEST_CASE("CLUSTER NODES: a lone node with an empty ip uses the fallback host", "[view][nodes]") {
  auto view = must(ClusterView::from_nodes(
      std::string(40, 'a') + " :7201@17201 myself,master - 0 0 0 connected 0-16383\n", 1,
      "127.0.0.1"));
  CHECK(owner_address(*view, 42) == "127.0.0.1:7201");
}

TEST_CASE("CLUSTER NODES: malformed lines are errors", "[view][nodes]") {
  CHECK_FALSE(error_of(ClusterView::from_nodes("abc 1.2.3.4:1 master\n", 1)).empty());
  CHECK_FALSE(
      error_of(ClusterView::from_nodes("a 1.2.3.4:99999@1 master - 0 0 0 connected 0-1\n", 1))
          .empty());
  CHECK_FALSE(
      error_of(ClusterView::from_nodes("a 1.2.3.4:1@2 master - 0 0 0 connected 0-16384\n", 1))
          .empty());
  CHECK_FALSE(
      error_of(ClusterView::from_nodes("a 1.2.3.4:1@2 master - 0 0 0 connected x\n", 1)).empty());
}

TEST_CASE("with_slot_moved patches one slot in a copy", "[view][patch]") {
  auto view = must(ClusterView::from_shards(six_node_shards(), 1));

  SECTION("to a known replica, which becomes a master") {
    auto moved = view->with_slot_moved(100, "127.0.0.1", 7003, 2);
    CHECK(moved->version() == 2);
    CHECK(owner_address(*moved, 100) == "127.0.0.1:7003");
    const auto& promoted = moved->node(moved->master_of(100));
    CHECK(promoted.role == Role::Master);
    CHECK(promoted.master_id.empty());
    CHECK(moved->ranges_of(moved->master_of(0)) == std::vector<SlotRange>{{0, 99}, {101, 5460}});
    CHECK(moved->master_indices().size() == 4);
    // The published snapshot is untouched.
    CHECK(owner_address(*view, 100) == "127.0.0.1:7000");
    CHECK(view->node(*view->find_by_id(kIdD)).role == Role::Replica);
    CHECK_FALSE(moved->same_slot_map(*view));
  }
  SECTION("to an unknown node, which is added as a master without id") {
    auto moved = view->with_slot_moved(16000, "10.1.2.3", 6379, 2);
    CHECK(moved->nodes().size() == view->nodes().size() + 1);
    const auto added = moved->find_by_address("10.1.2.3:6379");
    REQUIRE(added);
    CHECK(moved->node(*added).id.empty());
    CHECK(moved->node(*added).role == Role::Master);
    CHECK(moved->node(*added).host == "10.1.2.3");
    CHECK(moved->node(*added).port == 6379);
    CHECK(moved->master_of(16000) == *added);
    CHECK(moved->covers_all_slots());
  }
  SECTION("to its current owner changes nothing in the slot map") {
    auto moved = view->with_slot_moved(0, "127.0.0.1", 7000, 2);
    CHECK(moved->same_slot_map(*view));
  }
}

TEST_CASE("with_node_failed drops the node's slots until a refresh", "[view][patch]") {
  auto view = must(ClusterView::from_shards(six_node_shards(), 1));
  auto failed = view->with_node_failed("127.0.0.1:7001", 2);
  CHECK(failed->version() == 2);
  CHECK(failed->master_of(6000) == ClusterView::kNoNode);
  CHECK(failed->covered_slots() == 16384 - 5462);
  CHECK_FALSE(failed->covers_all_slots());
  CHECK(failed->node(*failed->find_by_id(kIdB)).health == Health::Failed);
  CHECK(failed->master_indices().size() == 2);
  CHECK(owner_address(*failed, 0) == "127.0.0.1:7000");
  CHECK(view->master_of(6000) != ClusterView::kNoNode);

  // An unknown address changes nothing but the version.
  auto same = view->with_node_failed("10.9.9.9:1", 3);
  CHECK(same->version() == 3);
  CHECK(same->same_slot_map(*view));

  // A later MOVED to the node revives it.
  auto back = failed->with_slot_moved(6000, "127.0.0.1", 7001, 4);
  CHECK(back->node(back->master_of(6000)).health == Health::Online);
}

TEST_CASE("same_slot_map compares owners by address, not by node index", "[view]") {
  auto shards = must(ClusterView::from_shards(six_node_shards(), 1));
  // The same map from CLUSTER SLOTS lists nodes in another order and without the failed ones.
  auto slots = must(ClusterView::from_slots(
      Value::array({
          Value::array({n(10923), n(16383), slot_node(b("127.0.0.1"), 7002, kIdC)}),
          Value::array({n(5461), n(10922), slot_node(b("127.0.0.1"), 7001, kIdB)}),
          Value::array({n(0), n(5460), slot_node(b("127.0.0.1"), 7000, kIdA),
                        slot_node(b("127.0.0.1"), 7003, kIdD)}),
      }),
      "", 2));
  CHECK(shards->same_slot_map(*slots));
  CHECK(slots->same_slot_map(*shards));
  CHECK_FALSE(slots->same_slot_map(ClusterView()));
  CHECK(ClusterView().same_slot_map(ClusterView()));
  auto moved = slots->with_slot_moved(5461, "127.0.0.1", 7000, 3);
  CHECK_FALSE(shards->same_slot_map(*moved));
}

TEST_CASE("find_by_address prefers a live node when a replaced one shares its address", "[view]") {
  auto view = must(ClusterView::from_nodes(
      std::string(40, '1') + " 10.0.0.1:6379@16379 master,fail - 0 0 1 disconnected\n" +
          std::string(40, '2') + " 10.0.0.1:6379@16379 master - 0 0 2 connected 0-16383\n",
      1));
  const auto index = view->find_by_address("10.0.0.1:6379");
  REQUIRE(index);
  CHECK(view->node(*index).id == std::string(40, '2'));
  CHECK_FALSE(view->find_by_address("10.0.0.1:6380"));
}

TEST_CASE("CLUSTER SHARDS replication offsets are kept per node, for the admin page's lag") {
  auto r = ClusterView::from_shards(six_node_shards(), 1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(r));
  const auto& view = *std::get<ClusterView::Ptr>(r);
  for (const auto& node : view.nodes()) CHECK(node.replication_offset == 42);
  // CLUSTER NODES carries no offsets.
  auto nodes =
      ClusterView::from_nodes(kIdA + " 10.0.0.1:6379@16379 master - 0 0 1 connected 0-16383\n", 1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(nodes));
  CHECK(std::get<ClusterView::Ptr>(nodes)->nodes()[0].replication_offset == -1);
}

TEST_CASE("the same cluster read from any node gives the nodes in one order", "[view][shards]") {
  // Each node lists the shards in the order of its own hash table; the view does not.
  auto a = six_node_shards();
  auto reversed = a;
  std::reverse(reversed.elements.begin(), reversed.elements.end());
  auto x = must(ClusterView::from_shards(a, 1));
  auto y = must(ClusterView::from_shards(reversed, 1));
  std::vector<std::string> ox, oy;
  for (const auto& node : x->nodes()) ox.push_back(node.address);
  for (const auto& node : y->nodes()) oy.push_back(node.address);
  CHECK(ox == oy);
  // Shards by first slot, each master before its replicas; nodes without slots last.
  CHECK(ox == std::vector<std::string>{"127.0.0.1:7000", "127.0.0.1:7003", "127.0.0.1:7001",
                                       "127.0.0.1:7004", "127.0.0.1:7002", "127.0.0.1:7005",
                                       "127.0.0.1:7006"});
  for (int slot : {0, 5461, 16383}) {
    CHECK(x->node(x->master_of(static_cast<slotgate::cluster::Slot>(slot))).address ==
          y->node(y->master_of(static_cast<slotgate::cluster::Slot>(slot))).address);
  }
}

TEST_CASE("a standalone Redis is one node: as a master every slot, as a replica none") {
  auto master = ClusterView::standalone("10.1.2.3", 6380, Role::Master, 4);
  CHECK(master->single_node());
  CHECK_FALSE(master->from_sentinel());
  CHECK(master->covers_all_slots());
  REQUIRE(master->nodes().size() == 1);
  CHECK(master->node(0).address == "10.1.2.3:6380");
  CHECK(master->master_of(0) == 0);
  CHECK(master->master_of(16383) == 0);
  CHECK(master->version() == 4);
  auto replica = ClusterView::standalone("10.1.2.3", 6380, Role::Replica, 5);
  CHECK(replica->single_node());
  CHECK(replica->covered_slots() == 0);
  CHECK(replica->master_of(100) == ClusterView::kNoNode);
  // The address it resolves to is part of the view: a new address is a new slot map.
  CHECK_FALSE(master->same_slot_map(*ClusterView::standalone("10.1.2.4", 6380, Role::Master, 6)));
  CHECK_FALSE(ClusterView().single_node());
}
