#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <variant>

#include "cluster/slot_migrations.hpp"

using namespace slotgate::cluster;

namespace {
const std::string A(40, 'a'), B(40, 'b'), C(40, 'c');
}

TEST_CASE("own migrations come from the myself line of CLUSTER NODES") {
  const std::string text =
      B + " 10.0.0.2:6379@16379 master - 0 1 2 connected 5461-10922 [7000-<-" + A + "]\n" + A +
      " 10.0.0.1:6379@16379,host-a myself,master - 0 0 1 connected 0-5460 [100->-" + B +
      "] [200-<-" + C + "] [5000->-" + C + "]\r\n" + C +
      " 10.0.0.3:6379@16379 master - 0 1 3 connected 10923-16383\n";
  NodeMigrations m = parse_own_migrations(text);
  REQUIRE(m.migrating.size() == 2);
  CHECK(m.migrating[0] == SlotMigration{100, B});
  CHECK(m.migrating[1] == SlotMigration{5000, C});
  REQUIRE(m.importing.size() == 1);
  CHECK(m.importing[0] == SlotMigration{200, C});
}

TEST_CASE("other nodes' migrations and a node without any give nothing") {
  const std::string text = B + " 10.0.0.2:6379@16379 master - 0 1 2 connected [7000-<-" + A +
                           "]\n" + A +
                           " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-16383\n";
  CHECK(parse_own_migrations(text).empty());
  CHECK(parse_own_migrations("").empty());
}

TEST_CASE("malformed migration entries are skipped") {
  const std::string text = A + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected [16384->-" +
                           B + "] [x->-" + B + "] [1->-short] [2-?-" + B + "] [-1->-" + B +
                           "] [3->-" + std::string(40, 'G') + "] [4->-" + B + "\n";
  CHECK(parse_own_migrations(text).empty());
}

namespace {

ClusterView::Ptr three_masters() {
  const std::string text = A + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460\n" + B +
                           " 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922\n" + C +
                           " 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383\n";
  auto result = ClusterView::from_nodes(text, 1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(result));
  return std::get<ClusterView::Ptr>(result);
}

}  // namespace

TEST_CASE("a move seen from either end is one migration_started, then one migration_finished") {
  const auto view = three_masters();
  std::map<std::string, NodeMigrations> none;
  std::map<std::string, NodeMigrations> target_only{{"10.0.0.2:6379", {{}, {{100, A}}}}};
  std::map<std::string, NodeMigrations> both{{"10.0.0.1:6379", {{{100, B}, {101, B}}, {}}},
                                             {"10.0.0.2:6379", {{}, {{100, A}, {101, A}}}}};
  auto started = describe_migration_changes(none, target_only, *view);
  REQUIRE(started.size() == 1);
  CHECK(started[0] ==
        ViewChange{"migration_started", "slot 100 migrating from 10.0.0.1:6379 to 10.0.0.2:6379"});
  // The source now says so too: the same move for slot 100, a new one for 101.
  auto more = describe_migration_changes(target_only, both, *view);
  REQUIRE(more.size() == 1);
  CHECK(more[0].message == "slot 101 migrating from 10.0.0.1:6379 to 10.0.0.2:6379");
  CHECK(describe_migration_changes(both, both, *view).empty());
  auto finished = describe_migration_changes(both, none, *view);
  REQUIRE(finished.size() == 1);
  CHECK(finished[0] == ViewChange{"migration_finished",
                                  "2 slots (100-101) no longer migrating from 10.0.0.1:6379 to "
                                  "10.0.0.2:6379; served by 10.0.0.1:6379"});
}

TEST_CASE("a peer the view does not know is named by its id's first characters") {
  const auto view = three_masters();
  const std::string unknown(40, 'd');
  std::map<std::string, NodeMigrations> after{{"10.0.0.3:6379", {{{16000, unknown}}, {}}}};
  auto changes = describe_migration_changes({}, after, *view);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].message == "slot 16000 migrating from 10.0.0.3:6379 to dddddddd");
}
