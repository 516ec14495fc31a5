#include <catch2/catch.hpp>

#include "cluster/cluster_view.hpp"
#include "cluster/sentinel_discovery.hpp"
#include "cluster/sentinel_watch.hpp"

using namespace slotgate;
using namespace slotgate::cluster;

namespace {
resp::Value bulk(std::string s) {
  resp::Value v;
  v.type = resp::Type::BulkString;
  v.str = std::move(s);
  return v;
}
resp::Value array(std::vector<resp::Value> e) {
  resp::Value v;
  v.type = resp::Type::Array;
  v.elements = std::move(e);
  return v;
}
resp::Value replica(const char* ip, const char* port, const char* flags) {
  return array({bulk("name"), bulk(std::string(ip) + ":" + port), bulk("ip"), bulk(ip),
                bulk("port"), bulk(port), bulk("flags"), bulk(flags)});
}
}  // namespace

TEST_CASE("a master counts only when more than half of the answering Sentinels name it") {
  CHECK(quorum_choice({"10.0.0.1:6379", "10.0.0.1:6379", "10.0.0.2:6379"}) == "10.0.0.1:6379");
  CHECK(quorum_choice({"10.0.0.2:6379"}) == "10.0.0.2:6379");
  CHECK_FALSE(quorum_choice({"10.0.0.1:6379", "10.0.0.2:6379"}));
  CHECK_FALSE(quorum_choice({"a:1", "a:1", "b:1", "b:1"}));
  CHECK_FALSE(quorum_choice({}));
}

TEST_CASE("GET-MASTER-ADDR-BY-NAME's reply is an address, or nothing") {
  auto ok = parse_master_addr(array({bulk("10.0.0.5"), bulk("6380")}));
  REQUIRE(ok);
  CHECK(ok->host == "10.0.0.5");
  CHECK(ok->port == 6380);
  resp::Value null;
  CHECK_FALSE(parse_master_addr(null));
  CHECK_FALSE(parse_master_addr(array({bulk("10.0.0.5"), bulk("70000")})));
  CHECK_FALSE(parse_master_addr(array({bulk(""), bulk("6379")})));
  CHECK_FALSE(parse_master_addr(array({bulk("10.0.0.5")})));
}

TEST_CASE("SENTINEL REPLICAS gives the replicas that are up") {
  auto reply = array({replica("10.0.0.2", "6379", "slave"),
                      replica("10.0.0.3", "6379", "s_down,slave,disconnected"),
                      replica("10.0.0.4", "bad", "slave"), replica("10.0.0.6", "6381", "slave")});
  auto up = parse_sentinel_replicas(reply);
  REQUIRE(up.size() == 2);
  CHECK(up[0] == SentinelEndpoint{"10.0.0.2", 6379});
  CHECK(up[1] == SentinelEndpoint{"10.0.0.6", 6381});
  CHECK(parse_sentinel_replicas(bulk("nonsense")).empty());
}

TEST_CASE("Sentinel events are matched to the configured master name") {
  CHECK(SentinelWatch::concerns("mymaster 10.0.0.1 6379 10.0.0.2 6379", "mymaster"));
  CHECK_FALSE(SentinelWatch::concerns("other 10.0.0.1 6379 10.0.0.2 6379", "mymaster"));
  CHECK(SentinelWatch::concerns("master mymaster 10.0.0.1 6379", "mymaster"));
  CHECK(SentinelWatch::concerns("slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster 10.0.0.1 6379",
                                "mymaster"));
  CHECK_FALSE(SentinelWatch::concerns("slave 10.0.0.2:6379 10.0.0.2 6379 @ other 10.0.0.1 6379",
                                      "mymaster"));
  CHECK_FALSE(SentinelWatch::concerns("", "mymaster"));
}

TEST_CASE("a Sentinel view: the confirmed master owns every slot, replicas hang off it") {
  auto view = ClusterView::sentinel("10.0.0.1", 6379, Role::Master,
                                    {{"10.0.0.2", 6379}, {"10.0.0.3", 6379}}, 1);
  CHECK(view->single_node());
  CHECK(view->from_sentinel());  // /topology says "sentinel", not "standalone"
  CHECK(view->covers_all_slots());
  REQUIRE(view->master_indices().size() == 1);
  const uint16_t master = view->master_indices()[0];
  CHECK(view->node(master).address == "10.0.0.1:6379");
  CHECK(view->replicas_of(master).size() == 2);
  // Named by the Sentinels but ROLE says replica: no slot has an owner, requests wait.
  auto unconfirmed = ClusterView::sentinel("10.0.0.1", 6379, Role::Replica, {}, 2);
  CHECK(unconfirmed->covered_slots() == 0);
}
