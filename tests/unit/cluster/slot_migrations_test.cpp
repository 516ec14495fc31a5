#include <catch2/catch.hpp>

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
