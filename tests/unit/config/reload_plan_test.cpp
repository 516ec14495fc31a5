// SIGHUP reload: what applies live, what needs a restart, and that secrets are not printed.
#include <catch2/catch.hpp>

#include "config/reload_plan.hpp"

using namespace slotgate::config;
using std::chrono::milliseconds;

TEST_CASE("identical configs need nothing") {
  // Named, not temporaries: g++ 12 -O3 reports a false maybe-uninitialized on
  // two Config{} temporaries in one full-expression.
  const Config running;
  const Config wanted;
  CHECK(plan_reload(running, wanted).empty());
}

TEST_CASE("timeouts, limits and log level apply live") {
  Config a, b;
  b.cluster.failover_hold = milliseconds(5'000);
  b.clients.max_request_size = 1ULL << 20;
  b.log.level = LogLevel::Debug;
  b.cluster.seeds = {{"10.0.0.1", 7000}};
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.need_restart.empty());
  CHECK(p.applied == std::vector<std::string>{
                         "cluster.seeds: [127.0.0.1:7000] -> [10.0.0.1:7000]",
                         "cluster.failover_hold: 20s -> 5s",
                         "clients.max_request_size: 512mb -> 1mb",
                         "log.level: info -> debug",
                     });
}

TEST_CASE("listen, workers and admin.listen need a restart") {
  Config a, b;
  b.listen = {"127.0.0.1", 6380};
  b.workers = 4;
  b.admin.listen.reset();
  b.admin.topology = false;
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.need_restart == std::vector<std::string>{
                              "listen: 0.0.0.0:6379 -> 127.0.0.1:6380",
                              "workers: auto -> 4",
                              "admin.listen: 127.0.0.1:9121 -> \"\"",
                              "admin.topology: true -> false",
                          });
  // Until the restart the process keeps its sockets and threads, and the announce
  // address derived from listen must keep naming the port that is really open.
  CHECK(p.applied.empty());
  CHECK(p.effective == a);
  CHECK(p.effective.announce_address() == HostPort{"127.0.0.1", 6379});
}

TEST_CASE("the effective config takes the live changes and keeps the restart-only fields") {
  Config a, b;
  b.listen = {"127.0.0.1", 6380};
  b.announce = HostPort{"203.0.113.1", 6379};
  b.cluster.command_timeout = milliseconds(1'000);
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.effective.listen == a.listen);
  CHECK(p.effective.announce == b.announce);
  CHECK(p.effective.cluster.command_timeout == milliseconds(1'000));
  CHECK(p.applied.size() == 3);  // announce, node_id (derived from it), command_timeout
}

TEST_CASE("secrets are reported as changed, never printed") {
  Config a, b;
  b.cluster.password = "hunter2";
  b.clients.password = "letmein";
  b.clients.users = {UserConfig{"app", "pw", false, {"*"}, true, {"*"}, {}, {}}};
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.applied == std::vector<std::string>{"cluster.password: changed",
                                              "clients.password: changed",
                                              "clients.users: changed (now [app])"});
  for (const std::string& line : p.applied) {
    CHECK(line.find("hunter2") == std::string::npos);
    CHECK(line.find("letmein") == std::string::npos);
  }
}

TEST_CASE("a change of backend kind or address needs a restart") {
  Config a, b;
  b.backend.kind = BackendKind::Standalone;
  b.backend.address = HostPort{"redis.dev", 6379};
  const ReloadPlan p = plan_reload(a, b);
  CHECK(p.need_restart ==
        std::vector<std::string>{"backend: cluster -> standalone redis.dev:6379"});
  CHECK(p.effective.backend == a.backend);
}
