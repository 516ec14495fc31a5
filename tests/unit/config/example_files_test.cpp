// The example files shipped in config/ load without errors.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "config/yaml_loader.hpp"

using namespace slotgate::config;

TEST_CASE("config/slotgate.yaml loads and points at the local test cluster") {
  LoadResult r = load_file(SLOTGATE_SOURCE_DIR "/config/slotgate.yaml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  CHECK(r.config->listen == HostPort{"127.0.0.1", 6380});
  CHECK(r.config->admin.listen == HostPort{"127.0.0.1", 9121});
  CHECK(r.config->cluster.seeds ==
        std::vector<HostPort>{{"127.0.0.1", 7000}, {"127.0.0.1", 7001}, {"127.0.0.1", 7002}});
}

TEST_CASE("config/slotgate.k8s.yaml loads with its secrets from the environment") {
  ::setenv("REDIS_PASSWORD", "backend-secret", 1);
  ::setenv("SLOTGATE_PASSWORD", "client-secret", 1);
  ::setenv("SLOTGATE_ANNOUNCE", "203.0.113.10:6379", 1);
  LoadResult r = load_file(SLOTGATE_SOURCE_DIR "/config/slotgate.k8s.yaml");
  ::unsetenv("REDIS_PASSWORD");
  ::unsetenv("SLOTGATE_PASSWORD");
  ::unsetenv("SLOTGATE_ANNOUNCE");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  CHECK(r.config->listen == HostPort{"0.0.0.0", 6379});
  CHECK(r.config->announce_address() == HostPort{"203.0.113.10", 6379});
  CHECK(r.config->admin.listen == HostPort{"0.0.0.0", 9121});
  CHECK(r.config->cluster.seeds ==
        std::vector<HostPort>{{"redis-cluster-headless.redis.svc.cluster.local", 6379}});
  CHECK(r.config->cluster.password == "backend-secret");
  CHECK(r.config->clients.password == "client-secret");
}

TEST_CASE("the Kubernetes manifests open the admin port for probes and scraping") {
  // The built-in default is loopback; a pod's kubelet and Prometheus need it open.
  for (const char* file : {"/config/slotgate.k8s.yaml", "/k8s/base/slotgate.yaml"}) {
    ::setenv("REDIS_PASSWORD", "x", 1);
    ::setenv("SLOTGATE_PASSWORD", "y", 1);
    ::setenv("SLOTGATE_ANNOUNCE", "203.0.113.10:6379", 1);
    LoadResult r = load_file(std::string(SLOTGATE_SOURCE_DIR) + file);
    ::unsetenv("REDIS_PASSWORD");
    ::unsetenv("SLOTGATE_PASSWORD");
    ::unsetenv("SLOTGATE_ANNOUNCE");
    INFO(file << ": " << (r.errors.empty() ? std::string() : r.errors.front()));
    REQUIRE(r.config);
    CHECK(r.config->admin.listen == HostPort{"0.0.0.0", 9121});
    CHECK(r.config->admin.topology);
  }
}

TEST_CASE("config/slotgate.standalone.yaml loads as a standalone backend") {
  LoadResult r = load_file(SLOTGATE_SOURCE_DIR "/config/slotgate.standalone.yaml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  CHECK(r.config->backend.kind == BackendKind::Standalone);
  CHECK(r.config->backend.address == HostPort{"127.0.0.1", 6379});
}

TEST_CASE("config/slotgate.sentinel.yaml loads as a Sentinel backend") {
  LoadResult r = load_file(SLOTGATE_SOURCE_DIR "/config/slotgate.sentinel.yaml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  CHECK(r.config->backend.kind == BackendKind::Sentinel);
  CHECK(r.config->backend.sentinels.size() == 3);
  CHECK(r.config->backend.master_name == "mymaster");
}
