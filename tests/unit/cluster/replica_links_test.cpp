// The staleness guard's input: replicas as their master's INFO replication lists them.
#include <catch2/catch.hpp>

#include "cluster/cluster_view.hpp"
#include "cluster/replica_monitor.hpp"

using namespace slotgate::cluster;

TEST_CASE("INFO replication of a master gives each replica's address, state, offset and lag") {
  const std::string info =
      "# Replication\r\nrole:master\r\nconnected_slaves:3\r\n"
      "slave0:ip=10.0.0.2,port=6379,state=online,offset=1234,lag=0\r\n"
      "slave1:ip=10.0.0.3,port=6380,state=wait_bgsave,offset=0,lag=7\r\n"
      "slave2:ip=::1,port=7001,state=online,offset=99,lag=12\r\n"
      "slaveX:ip=1.2.3.4,port=1,state=online\r\n"
      "slave3:ip=,port=1\r\nslave4:ip=1.1.1.1,port=99999,state=online\r\n"
      "master_repl_offset:1234\r\n";
  const auto links = parse_replica_links(info);
  REQUIRE(links.size() == 3);
  CHECK(links[0].address == "10.0.0.2:6379");
  CHECK(links[0].online);
  CHECK(links[0].offset == 1234);
  CHECK(links[0].lag_s == 0);
  CHECK_FALSE(links[1].online);
  CHECK(links[1].lag_s == 7);
  CHECK(links[2].address == "::1:7001");
  CHECK(parse_replica_links("# Replication\nrole:slave\nmaster_host:10.0.0.1\n").empty());
}
