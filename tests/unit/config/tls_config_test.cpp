// The tls: section, tls_listen and cluster.tls: read into their fields, bad values named.
#include <catch2/catch.hpp>

#include "config/reload_plan.hpp"
#include "config/yaml_loader.hpp"

using namespace slotgate::config;

namespace {

LoadResult load(std::string_view text) {
  return load_yaml(text, "slotgate.yaml");
}

std::string errors_of(std::string_view text) {
  LoadResult r = load(text);
  REQUIRE_FALSE(r.config);
  std::string all;
  for (const auto& e : r.errors) all += e + "\n";
  return all;
}

}  // namespace

TEST_CASE("tls: and cluster.tls: are read into their fields") {
  LoadResult r = load(R"(
tls_listen: 0.0.0.0:6380
tls:
  cert_file: /c.crt
  key_file: /c.key
  ca_file: /ca.crt
  client_auth: Required
  min_version: TLSv1.3
  handshake_timeout: 2s
  watch_interval: 0
  cert_users: {svc.example.com: app}
clients:
  users: [{name: app, password: pw}]
cluster:
  tls:
    ca_file: /redis-ca.crt
    server_name: redis.internal
)");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  const Config& c = *r.config;
  REQUIRE(c.tls_listen);
  CHECK(c.tls_listen->port == 6380);
  CHECK(c.tls.client_auth == "required");
  CHECK(c.tls.min_version == "TLSv1.3");
  CHECK(c.tls.handshake_timeout == std::chrono::seconds(2));
  CHECK(c.tls.watch_interval.count() == 0);
  CHECK(c.tls.cert_users ==
        std::vector<std::pair<std::string, std::string>>{{"svc.example.com", "app"}});
  CHECK(c.cluster.tls.enabled);
  CHECK(c.cluster.tls.ca_file == "/redis-ca.crt");
  CHECK(c.cluster.tls.server_name == "redis.internal");
  CHECK_FALSE(c.cluster.tls.insecure_skip_verify);
  CHECK_FALSE(Config().cluster.tls.enabled);
}

TEST_CASE("bad TLS settings are errors that name the key") {
  CHECK_THAT(errors_of("tls:\n  client_auth: maybe\n"), Catch::Contains("tls.client_auth"));
  CHECK_THAT(errors_of("tls:\n  min_version: TLSv1.0\n"), Catch::Contains("tls.min_version"));
  CHECK_THAT(errors_of("tls_listen: 0.0.0.0:6380\n"), Catch::Contains("tls_listen: needs"));
  CHECK_THAT(errors_of("tls:\n  client_auth: required\n"), Catch::Contains("needs tls.ca_file"));
  CHECK_THAT(errors_of("tls:\n  cert_users: {a: nobody}\n"), Catch::Contains("no user 'nobody'"));
  CHECK_THAT(errors_of("cluster:\n  tls:\n    cert_file: /x\n"),
             Catch::Contains("cert_file and key_file"));
  CHECK_THAT(errors_of("tls:\n  cert_flie: /x\n"), Catch::Contains("did you mean 'tls.cert_file'"));
}

TEST_CASE("the tls: section reloads live, tls_listen and cluster.tls need a restart") {
  Config running = *load("tls_listen: 0.0.0.0:6380\ntls: {cert_file: /a, key_file: /b}\n").config;
  Config wanted = *load(
                       "tls_listen: 0.0.0.0:6381\ntls: {cert_file: /c, key_file: /b}\n"
                       "cluster: {tls: {ca_file: /ca}}\n")
                       .config;
  ReloadPlan plan = plan_reload(running, wanted);
  CHECK(plan.effective.tls.cert_file == "/c");
  CHECK(plan.effective.tls_listen->port == 6380);
  CHECK_FALSE(plan.effective.cluster.tls.enabled);
  CHECK(plan.need_restart.size() == 2);
}

TEST_CASE(
    "TLS cluster-mode clients are told tls_announce, or announce's host on tls_listen's port") {
  const char* base = R"(
tls_listen: 0.0.0.0:6380
tls: {cert_file: /c.crt, key_file: /c.key}
)";
  LoadResult derived = load(base);
  REQUIRE(derived.config);
  CHECK(derived.config->tls_announce_address() == HostPort{"127.0.0.1", 6380});
  LoadResult behind_lb = load(std::string(base) + "announce: 203.0.113.9:6379\n");
  REQUIRE(behind_lb.config);
  CHECK(behind_lb.config->tls_announce_address() == HostPort{"203.0.113.9", 6380});
  LoadResult own = load(std::string(base) +
                        "announce: 203.0.113.9:6379\ntls_announce: redis.example.com:16380\n");
  REQUIRE(own.config);
  CHECK(own.config->tls_announce_address() == HostPort{"redis.example.com", 16380});
}

TEST_CASE("tls_announce needs tls_listen; TLS ports may not overlap the emulated plain ones") {
  CHECK_THAT(errors_of("tls_announce: 1.2.3.4:6380\n"),
             Catch::Contains("tls_announce: needs tls_listen"));
  // Three emulated nodes take 6379-6381 and 6380-6382: 6380 and 6381 would be bound twice.
  CHECK_THAT(errors_of(R"(
listen: 0.0.0.0:6379
emulated_nodes: 3
tls_listen: 0.0.0.0:6380
tls: {cert_file: /c.crt, key_file: /c.key}
)"),
             Catch::Contains("uses the same port as listen (each takes emulated_nodes ports)"));
  CHECK(load(R"(
listen: 0.0.0.0:6379
emulated_nodes: 3
tls_listen: 0.0.0.0:6382
tls: {cert_file: /c.crt, key_file: /c.key}
)")
            .config);
}
