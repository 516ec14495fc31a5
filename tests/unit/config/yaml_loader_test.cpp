// Loading slotgate.yaml: defaults, every key, and errors that name file, line and key.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "config/env_expand.hpp"
#include "config/password_hash.hpp"
#include "config/yaml_loader.hpp"

using namespace slotgate::config;
using std::chrono::milliseconds;

namespace {

Config load_ok(std::string_view text) {
  LoadResult r = load_yaml(text, "slotgate.yaml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.errors.empty());
  REQUIRE(r.config);
  return *r.config;
}

// The single error of a document that must fail.
std::string load_error(std::string_view text) {
  LoadResult r = load_yaml(text, "slotgate.yaml");
  REQUIRE_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  return r.errors.front();
}

}  // namespace

TEST_CASE("an empty file gives the defaults") {
  const Config c = load_ok("");
  const Config defaults;  // named: a Config{} temporary trips g++ 12's maybe-uninitialized at -O3
  CHECK(c == defaults);
  CHECK(c.listen == HostPort{"0.0.0.0", 6379});
  CHECK(c.announce_address() == HostPort{"127.0.0.1", 6379});
  CHECK(c.workers == 0);
  CHECK(c.effective_workers() >= 1);
  CHECK(c.cluster.seeds == std::vector<HostPort>{{"127.0.0.1", 7000}});
  CHECK(c.cluster.failover_hold == milliseconds(20'000));
  CHECK(c.clients.max_request_size == 512ULL << 20);
  CHECK(c.clients.config_set_allowed == std::vector<std::string>{"notify-keyspace-events"});
  CHECK(c.admin.listen == HostPort{"127.0.0.1", 9121});  // loopback unless a file opens it
  CHECK(c.admin.topology);
  CHECK(c.log.level == LogLevel::Info);
  CHECK(c.shutdown_grace == milliseconds(25'000));
  CHECK(load_ok("# only a comment\n") == defaults);
}

TEST_CASE("every key is read into its typed field") {
  const Config c = load_ok(R"(
listen: 127.0.0.1:6380
announce: 203.0.113.7:6379
workers: 3
node_id: 0123456789ABCDEF0123456789abcdef01234567
cluster:
  seeds: [10.0.0.1:7000, "redis.svc:6379"]
  username: proxy
  password: s3cret
  refresh_interval: 5s
  connect_timeout: 250ms
  command_timeout: 2s
  failover_hold: 0
  hold_queue_limit: 50
  max_redirects: 3
clients:
  password: hello
  users:
    - name: app
      password: pw1
      readonly: true
      keys: ["app:*", "shared:*"]
    - name: admin
      password: pw2
  max_clients: 20
  idle_timeout: 5m
  max_request_size: 1mb
  max_pipeline_size: 2mb
  output_buffer_limit: 64kb
  config_set_allowed: [Notify-Keyspace-Events, maxmemory-policy]
admin:
  listen: ""
  topology: false
log:
  level: debug
  format: json
shutdown_grace: 3s
)");
  CHECK(c.listen == HostPort{"127.0.0.1", 6380});
  CHECK(c.announce_address() == HostPort{"203.0.113.7", 6379});
  CHECK(c.workers == 3);
  CHECK(c.node_id == "0123456789abcdef0123456789abcdef01234567");
  CHECK(c.effective_node_id() == c.node_id);
  CHECK(c.cluster.seeds == std::vector<HostPort>{{"10.0.0.1", 7000}, {"redis.svc", 6379}});
  CHECK(c.cluster.username == "proxy");
  CHECK(c.cluster.password == "s3cret");
  CHECK(c.cluster.refresh_interval == milliseconds(5'000));
  CHECK(c.cluster.connect_timeout == milliseconds(250));
  CHECK(c.cluster.command_timeout == milliseconds(2'000));
  CHECK(c.cluster.failover_hold == milliseconds(0));
  CHECK(c.cluster.hold_queue_limit == 50);
  CHECK(c.cluster.max_redirects == 3);
  CHECK(c.clients.password == "hello");
  REQUIRE(c.clients.users.size() == 2);
  // Limited to key patterns: no scripts and no channels unless the file says so.
  CHECK(c.clients.users[0] ==
        UserConfig{"app", sha256_hex("pw1"), true, {"app:*", "shared:*"}, false, {}, {}, {}});
  CHECK(c.clients.users[1] ==
        UserConfig{"admin", sha256_hex("pw2"), false, {"*"}, true, {"*"}, {}, {}});
  CHECK(c.clients.max_clients == 20);
  CHECK(c.clients.idle_timeout == milliseconds(300'000));
  CHECK(c.clients.max_request_size == 1ULL << 20);
  CHECK(c.clients.max_pipeline_size == 2ULL << 20);
  CHECK(c.clients.output_buffer_limit == 64 * 1024);
  CHECK(c.clients.config_set_allowed ==
        std::vector<std::string>{"notify-keyspace-events", "maxmemory-policy"});
  CHECK_FALSE(c.admin.listen);
  CHECK_FALSE(c.admin.topology);
  CHECK(c.log.level == LogLevel::Debug);
  CHECK(c.log.format == LogFormat::Json);
  CHECK(c.shutdown_grace == milliseconds(3'000));
}

TEST_CASE("workers: auto, a single seed as a scalar, a key without value keeps the default") {
  const Config c = load_ok("workers: auto\ncluster:\n  seeds: 10.1.1.1:7000\nannounce:\n");
  CHECK(c.workers == 0);
  CHECK(c.cluster.seeds == std::vector<HostPort>{{"10.1.1.1", 7000}});
  CHECK_FALSE(c.announce);
}

TEST_CASE("the derived node id is stable, 40 hex digits and follows announce") {
  Config a = load_ok("announce: 10.0.0.5:6379\n");
  Config b = load_ok("announce: 10.0.0.5:6379\nworkers: 2\n");
  Config c = load_ok("announce: 10.0.0.6:6379\n");
  CHECK(a.effective_node_id().size() == 40);
  CHECK(a.effective_node_id().find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a.effective_node_id() == b.effective_node_id());
  CHECK(a.effective_node_id() != c.effective_node_id());
}

TEST_CASE("errors name the file, the line and the key path") {
  CHECK(load_error("listen: 0.0.0.0:6379\ncluster:\n  failover_hold: abc\n") ==
        "slotgate.yaml:3: cluster.failover_hold: invalid duration 'abc' (use e.g. 250ms, 20s, 5m, "
        "1h)");
  CHECK(load_error("clients:\n  max_request_size: lots\n") ==
        "slotgate.yaml:2: clients.max_request_size: invalid size 'lots' (use e.g. 100b, 64kb, "
        "512mb, 1gb)");
  CHECK(load_error("listen: localhost\n") ==
        "slotgate.yaml:1: listen: missing port in address 'localhost' (use HOST:PORT)");
  CHECK(load_error("\n\nworkers: 0\n") ==
        "slotgate.yaml:3: workers: expected 'auto' or a number of threads from 1 to 1024, got '0'");
  CHECK(load_error("cluster:\n  seeds:\n    - 10.0.0.1:7000\n    - 10.0.0.2\n") ==
        "slotgate.yaml:4: cluster.seeds[1]: missing port in address '10.0.0.2' (use HOST:PORT)");
  CHECK(load_error("cluster:\n  max_redirects: -1\n") ==
        "slotgate.yaml:2: cluster.max_redirects: expected a whole number, got '-1'");
  CHECK(load_error("cluster:\n  max_redirects: 1000\n") ==
        "slotgate.yaml:2: cluster.max_redirects: must be between 0 and 100");
  CHECK(load_error("cluster:\n  refresh_interval: 0\n") ==
        "slotgate.yaml:2: cluster.refresh_interval: must be greater than 0");
  CHECK(load_error("log:\n  level: loud\n") ==
        "slotgate.yaml:2: log.level: expected one of trace, debug, info, warn, error; got 'loud'");
  CHECK(load_error("log:\n  format: xml\n") ==
        "slotgate.yaml:2: log.format: expected text or json, got 'xml'");
  CHECK(load_error("node_id: abc\n") ==
        "slotgate.yaml:1: node_id: a node id is 40 hex digits (as Redis uses), got 'abc'");
  CHECK(load_error("cluster: 5\n") == "slotgate.yaml:1: cluster: expected a mapping of settings");
  CHECK(load_error("listen: [a, b]\n") == "slotgate.yaml:1: listen: expected a single value");
  CHECK(load_error("- a\n- b\n") ==
        "slotgate.yaml:1: the configuration must be a mapping of keys (e.g. 'listen: "
        "0.0.0.0:6379')");
}

TEST_CASE("unknown keys are errors with a did-you-mean") {
  CHECK(load_error("clients:\n  max_clients: 5\n  pasword: x\n") ==
        "slotgate.yaml:3: unknown key 'clients.pasword' (did you mean 'clients.password'?)");
  CHECK(load_error("lisen: 0.0.0.0:1\n") ==
        "slotgate.yaml:1: unknown key 'lisen' (did you mean 'listen'?)");
  CHECK(load_error("colour: blue\n") == "slotgate.yaml:1: unknown key 'colour'");
  CHECK(
      load_error("clients:\n  users:\n    - name: a\n      password: b\n      readOnly: true\n") ==
      "slotgate.yaml:5: unknown key 'clients.users[0].readOnly' (did you mean "
      "'clients.users[0].readonly'?)");
}

TEST_CASE("user entries are checked") {
  CHECK(load_error("clients:\n  users:\n    - password: x\n") ==
        "slotgate.yaml:3: clients.users[0]: a user needs a name");
  CHECK(load_error("clients:\n  users:\n    - name: app\n") ==
        "slotgate.yaml:3: clients.users[0]: user 'app' needs a password");
  CHECK(load_error("clients:\n  users:\n    - {name: a, password: x}\n    - {name: a, password: "
                   "y}\n") == "slotgate.yaml:4: clients.users[1]: user 'a' is defined twice");
  CHECK(load_error("clients:\n  users:\n    - {name: a, password: x, readonly: maybe}\n") ==
        "slotgate.yaml:3: clients.users[0].readonly: expected true or false, got 'maybe'");
  CHECK(load_error("clients:\n  users: app\n") ==
        "slotgate.yaml:2: clients.users: expected a list of users (- name: ... password: ...)");
}

TEST_CASE("user scripts and channels default by whether keys are limited") {
  LoadResult r = load_yaml(
      "clients:\n  users:\n"
      "    - {name: a, password: x}\n"
      "    - {name: b, password: x, keys: ['r:*']}\n"
      "    - {name: c, password: x, keys: ['r:*'], scripts: true, channels: ['news.*']}\n"
      "    - {name: d, password: x, scripts: false, channels: []}\n",
      "f.yaml");
  REQUIRE(r.config);
  const auto& u = r.config->clients.users;
  REQUIRE(u.size() == 4);
  CHECK((u[0].scripts && u[0].channels == std::vector<std::string>{"*"} && u[0].all_keys()));
  CHECK((!u[1].scripts && u[1].channels.empty() && !u[1].all_keys()));
  CHECK((u[2].scripts && u[2].channels == std::vector<std::string>{"news.*"}));
  CHECK((!u[3].scripts && u[3].channels.empty()));
  CHECK(load_error("clients:\n  users:\n    - {name: \"a\\nb\", password: x}\n") ==
        "slotgate.yaml:3: clients.users[0].name: a user name cannot contain spaces or control "
        "characters");
}

TEST_CASE("invalid YAML reports the line of the syntax error") {
  const std::string e = load_error("listen: 0.0.0.0:6379\ncluster:\n  seeds: [a:1\n");
  CHECK_THAT(e, Catch::StartsWith("slotgate.yaml:") && Catch::Contains("invalid YAML"));
}

TEST_CASE("all errors of a file are reported at once") {
  LoadResult r = load_yaml("listen: x\nworkers: none\nlog:\n  level: loud\n", "f.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 3);
  CHECK_THAT(r.errors[0], Catch::StartsWith("f.yaml:1: listen:"));
  CHECK_THAT(r.errors[1], Catch::StartsWith("f.yaml:2: workers:"));
  CHECK_THAT(r.errors[2], Catch::StartsWith("f.yaml:4: log.level:"));
}

TEST_CASE("relations between keys are validated") {
  CHECK(load_error("clients:\n  max_request_size: 2mb\n  max_pipeline_size: 1mb\n") ==
        "slotgate.yaml: clients.max_pipeline_size (1mb) must be at least clients.max_request_size "
        "(2mb), or a single large command could never be sent");
  CHECK_THAT(load_error("listen: 0.0.0.0:9121\n"), Catch::Contains("same port as listen"));
}

TEST_CASE("${VAR} is expanded from the environment") {
  ::setenv("SG_TEST_PW", "from-env", 1);
  ::setenv("SG_TEST_EMPTY", "", 1);
  ::unsetenv("SG_TEST_UNSET");
  CHECK(expand_env("${SG_TEST_PW}").value == "from-env");
  CHECK(expand_env("a-${SG_TEST_PW}-b").value == "a-from-env-b");
  CHECK(expand_env("$${SG_TEST_PW}").value == "${SG_TEST_PW}");
  CHECK(expand_env("cost: $5").value == "cost: $5");
  CHECK(expand_env("${SG_TEST_UNSET:-fallback}").value == "fallback");
  CHECK(expand_env("${SG_TEST_EMPTY:-fallback}").value == "fallback");
  CHECK(expand_env("${SG_TEST_EMPTY}").value.empty());
  CHECK(expand_env("${SG_TEST_UNSET:-}").ok());
  CHECK_THAT(expand_env("${SG_TEST_UNSET}").error,
             Catch::StartsWith("environment variable 'SG_TEST_UNSET' is not set"));
  CHECK_THAT(expand_env("${SG_TEST_PW").error, Catch::Contains("unclosed"));
  CHECK_THAT(expand_env("${1BAD}").error, Catch::Contains("invalid environment variable name"));

  const Config c = load_ok("cluster:\n  password: ${SG_TEST_PW}\n  username: u-${SG_TEST_PW}\n");
  CHECK(c.cluster.password == "from-env");
  CHECK(c.cluster.username == "u-from-env");
  // Why the value, not the text, is expanded: a secret with YAML syntax in it stays intact.
  ::setenv("SG_TEST_PW", "a: b # c", 1);
  CHECK(load_ok("clients:\n  password: ${SG_TEST_PW}\n").clients.password == "a: b # c");
  CHECK(load_error("listen: 0.0.0.0:6379\nclients:\n  password: ${SG_TEST_UNSET}\n") ==
        "slotgate.yaml:3: clients.password: environment variable 'SG_TEST_UNSET' is not set (use "
        "$${SG_TEST_UNSET} for a literal, or ${SG_TEST_UNSET:-default})");
  ::unsetenv("SG_TEST_PW");
  ::unsetenv("SG_TEST_EMPTY");
}

TEST_CASE("a missing file is reported with its path") {
  LoadResult r = load_file("/nonexistent/slotgate.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0],
             Catch::StartsWith("cannot read configuration file /nonexistent/slotgate.yaml"));
}

TEST_CASE("clients.max_memory: auto (the default) or a size") {
  CHECK(load_ok("").clients.max_memory == 0);
  CHECK(load_ok("").effective_client_max_memory() == auto_client_memory().bytes);
  CHECK(load_ok("clients:\n  max_memory: auto\n").clients.max_memory == 0);
  const Config c = load_ok("clients:\n  max_memory: 256mb\n");
  CHECK(c.clients.max_memory == 256ULL << 20);
  CHECK(c.effective_client_max_memory() == 256ULL << 20);
  CHECK_THAT(load_error("clients:\n  max_memory: lots\n"),
             Catch::Contains("slotgate.yaml:2") && Catch::Contains("clients.max_memory"));
  CHECK_THAT(load_error("clients:\n  max_memory: 0\n"), Catch::Contains("greater than 0"));
}

TEST_CASE("backend.kind sentinel names its Sentinels, the master name and their credentials") {
  Config c = load_ok(
      "backend:\n  kind: sentinel\n  sentinels: [s1:26379, 's2:26380']\n  master_name: mymaster\n"
      "  sentinel_username: watcher\n  sentinel_password: pw\n");
  CHECK(c.backend.kind == BackendKind::Sentinel);
  REQUIRE(c.backend.sentinels.size() == 2);
  CHECK(c.backend.sentinels[1] == HostPort{"s2", 26380});
  CHECK(c.backend.master_name == "mymaster");
  CHECK(c.backend.sentinel_username == "watcher");
  CHECK(c.backend.sentinel_password == "pw");
  CHECK_THAT(load_error("backend:\n  kind: sentinel\n  sentinels: [s1:26379]\n"),
             Catch::Contains("backend.master_name"));
  CHECK_THAT(load_error("backend:\n  kind: sentinel\n  master_name: m\n"),
             Catch::Contains("needs backend.sentinels"));
  CHECK_THAT(load_error("backend:\n  sentinels: [s1:26379]\n"),
             Catch::Contains("only used with backend.kind sentinel"));
  CHECK_THAT(load_error("backend:\n  kind: sentinel\n  sentinels: [s1]\n  master_name: m\n"),
             Catch::Contains("backend.sentinels"));
}

TEST_CASE("backend.sentinel_tls reaches the Sentinels with cluster.tls; off by default") {
  const std::string sentinel =
      "backend:\n  kind: sentinel\n  sentinels: [s1:26379]\n  master_name: m\n";
  CHECK_FALSE(load_ok(sentinel).backend.sentinel_tls);
  const Config c =
      load_ok(sentinel + "  sentinel_tls: true\ncluster:\n  tls:\n    ca_file: /etc/ca.pem\n");
  CHECK(c.backend.sentinel_tls);
  CHECK(c.cluster.tls.enabled);
  CHECK_THAT(load_error(sentinel + "  sentinel_tls: true\n"),
             Catch::Contains("backend.sentinel_tls: needs cluster.tls"));
  CHECK_THAT(load_error(sentinel + "  sentinel_tls: true\ncluster:\n  tls:\n    enabled: false\n"),
             Catch::Contains("backend.sentinel_tls: needs cluster.tls"));
  CHECK_THAT(load_error(sentinel + "  sentinel_tls: maybe\n"),
             Catch::Contains("backend.sentinel_tls"));
  CHECK_THAT(load_error("backend:\n  sentinel_tls: true\ncluster:\n  tls: {}\n"),
             Catch::Contains("backend.sentinel_tls: only used with backend.kind sentinel"));
}

TEST_CASE("backend.kind standalone with its address; cluster stays the default") {
  CHECK(load_ok("").backend.kind == BackendKind::Cluster);
  Config c = load_ok("backend:\n  kind: standalone\n  address: redis.dev:6379\n");
  CHECK(c.backend.kind == BackendKind::Standalone);
  CHECK(c.backend.address == HostPort{"redis.dev", 6379});
  CHECK(load_error("backend:\n  kind: standalone\n")
            .find("backend.address: backend.kind standalone needs the Redis address") !=
        std::string::npos);
  CHECK(load_error("backend:\n  kind: sentinal\n")
            .find("backend.kind: expected 'cluster', 'sentinel' or "
                  "'standalone'") != std::string::npos);
  CHECK(load_error("backend:\n  address: redis:6379\n")
            .find("backend.address: only used with backend.kind standalone") != std::string::npos);
  CHECK(load_error("backend:\n  kind: standalone\n  address: redis\n").find("backend.address") !=
        std::string::npos);
}
