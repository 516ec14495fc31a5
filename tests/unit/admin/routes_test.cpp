// What each admin endpoint answers, without sockets.
#include <catch2/catch.hpp>

#include "admin/admin_routes.hpp"
#include "metrics/metrics.hpp"

using namespace slotgate;
using admin::AdminHooks;
using admin::route;

namespace {

// Three masters, one replica, all slots covered.
std::shared_ptr<const cluster::ClusterView> full_view() {
  auto r = cluster::ClusterView::from_nodes(
      "1111111111111111111111111111111111111111 10.0.0.1:6379@16379 master - 0 0 1 connected "
      "0-5460\n"
      "2222222222222222222222222222222222222222 10.0.0.2:6379@16379 master - 0 0 2 connected "
      "5461-10922\n"
      "3333333333333333333333333333333333333333 10.0.0.3:6379@16379 myself,master - 0 0 3 "
      "connected 10923-16383\n"
      "4444444444444444444444444444444444444444 10.0.0.4:6379@16379 slave "
      "1111111111111111111111111111111111111111 0 0 1 connected\n",
      7);
  REQUIRE(std::holds_alternative<cluster::ClusterView::Ptr>(r));
  return std::get<cluster::ClusterView::Ptr>(r);
}

}  // namespace

TEST_CASE("/healthz follows loops_responsive") {
  AdminHooks hooks;
  CHECK(route("GET", "/healthz", hooks).status == 200);  // no hook: healthy
  hooks.loops_responsive = [] { return true; };
  const auto ok = route("GET", "/healthz", hooks);
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok\n");
  hooks.loops_responsive = [] { return false; };
  CHECK(route("GET", "/healthz", hooks).status == 503);
}

TEST_CASE("/readyz gives a one-line reason when not ready") {
  AdminHooks hooks;
  hooks.ready = [] { return true; };
  CHECK(route("GET", "/readyz", hooks).status == 200);
  hooks.ready = [] { return false; };
  auto r = route("GET", "/readyz", hooks);
  CHECK(r.status == 503);
  CHECK(r.body == "not ready: cluster topology not discovered yet\n");
  hooks.current_view = [] { return full_view(); };
  r = route("GET", "/readyz", hooks);
  CHECK(r.status == 503);
  CHECK(r.body == "not ready: shutting down or cluster unreachable\n");
}

TEST_CASE("/topology is JSON, 503 before discovery") {
  AdminHooks hooks;
  auto r = route("GET", "/topology", hooks);
  CHECK(r.status == 503);
  CHECK(r.content_type == "application/json");
  hooks.current_view = [] { return std::shared_ptr<const cluster::ClusterView>(); };
  CHECK(route("GET", "/topology", hooks).status == 503);
  hooks.current_view = [] { return full_view(); };
  r = route("GET", "/topology", hooks);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK_THAT(r.body, Catch::StartsWith("{") && Catch::Contains("10.0.0.2:6379"));
}

TEST_CASE("/topology turned off (admin.topology: false) is 404 and shows nothing") {
  AdminHooks hooks;
  hooks.current_view = [] { return full_view(); };
  hooks.topology = false;
  for (const char* method : {"GET", "HEAD", "POST"}) {
    const auto r = route(method, "/topology", hooks);
    CHECK(r.status == 404);
    CHECK(r.body.find("10.0.0") == std::string::npos);
  }
  CHECK(route("GET", "/healthz", hooks).status == 200);
}

TEST_CASE("/metrics renders the registry in the Prometheus text format") {
  AdminHooks hooks;
  CHECK(route("GET", "/metrics", hooks).status == 503);
  metrics::Metrics m("0.0.1");
  hooks.metrics = &m;
  const auto r = route("GET", "/metrics?x=1", hooks);  // the query is ignored
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(r.body, Catch::Contains("slotgate_build_info{version=\"0.0.1\"} 1"));
}

TEST_CASE("unknown paths are 404, other methods 405 with Allow") {
  AdminHooks hooks;
  CHECK(route("GET", "/admin", hooks).status == 404);
  CHECK(route("GET", "/metricsx", hooks).status == 404);
  const auto r = route("POST", "/metrics", hooks);
  CHECK(r.status == 405);
  CHECK(r.allow == "GET, HEAD");
  CHECK(route("DELETE", "/healthz", hooks).status == 405);
  CHECK(route("HEAD", "/healthz", hooks).status == 200);
}

TEST_CASE("a throwing hook is a 500, not a crash") {
  AdminHooks hooks;
  hooks.ready = []() -> bool { throw std::runtime_error("boom"); };
  const auto r = route("GET", "/readyz", hooks);
  CHECK(r.status == 500);
  CHECK(r.body == "internal error: boom\n");
}

TEST_CASE("responses serialise with length and connection headers") {
  const auto r = admin::text_response(200, "ok");
  CHECK(admin::serialize(r, true, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
        "3\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\nok\n");
  // HEAD: the same headers, no body.
  CHECK(admin::serialize(r, false, false) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
        "3\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
}
