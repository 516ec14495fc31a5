// read_from and max_replica_lag: parsed globally and per user, bad values named with their key.
#include <catch2/catch.hpp>

#include "config/reload_plan.hpp"
#include "config/yaml_loader.hpp"

using namespace slotgate::config;

TEST_CASE("read_from is read under cluster and per user, master by default") {
  LoadResult r = load_yaml(
      "cluster:\n  read_from: prefer-replica\n  max_replica_lag: 3s\nclients:\n  users:\n"
      "    - name: app\n      password: pw\n      read_from: nearest\n"
      "    - name: other\n      password: pw\n",
      "slotgate.yaml");
  REQUIRE(r.errors.empty());
  REQUIRE(r.config);
  CHECK(r.config->cluster.read_from == ReadFrom::PreferReplica);
  CHECK(r.config->cluster.max_replica_lag == std::chrono::milliseconds(3000));
  CHECK(r.config->clients.users[0].read_from == ReadFrom::Nearest);
  CHECK_FALSE(r.config->clients.users[1].read_from.has_value());
  CHECK(Config{}.cluster.read_from == ReadFrom::Master);
  CHECK(parse_read_from("replica") == ReadFrom::Replica);
  CHECK(to_string(ReadFrom::PreferReplica) == "prefer-replica");
}

TEST_CASE("a bad read_from or max_replica_lag names its key") {
  LoadResult bad = load_yaml("cluster:\n  read_from: slave\n", "slotgate.yaml");
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors.front().find("cluster.read_from") != std::string::npos);
  CHECK(bad.errors.front().find("prefer-replica") != std::string::npos);
  LoadResult user = load_yaml(
      "clients:\n  users:\n    - name: a\n      password: p\n      read_from: any\n", "x.yaml");
  REQUIRE(user.errors.size() == 1);
  CHECK(user.errors.front().find("clients.users[0].read_from") != std::string::npos);
  LoadResult lag = load_yaml("cluster:\n  max_replica_lag: 200ms\n", "slotgate.yaml");
  REQUIRE(lag.errors.size() == 1);
  CHECK(lag.errors.front().find("cluster.max_replica_lag") != std::string::npos);
}

TEST_CASE("read_from and max_replica_lag change on SIGHUP") {
  Config a, b;
  b.cluster.read_from = ReadFrom::Replica;
  b.cluster.max_replica_lag = std::chrono::milliseconds(2000);
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.need_restart.empty());
  CHECK(p.applied.size() == 2);
  CHECK(p.applied[0] == "cluster.read_from: master -> replica");
}
