// The status page, /events and /stats, without sockets.
#include <catch2/catch.hpp>

#include <string>

#include "admin/admin_routes.hpp"
#include "admin/stats_json.hpp"
#include "admin/web_assets.hpp"
#include "cluster/event_log.hpp"
#include "metrics/metrics.hpp"

using namespace slotgate;
using admin::AdminHooks;
using admin::route;

TEST_CASE("the page, its script and its style are embedded and served with a strict CSP") {
  AdminHooks hooks;
  const auto page = route("GET", "/", hooks);
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("<script src=\"/app.js\"></script>") != std::string::npos);
  CHECK(page.extra_headers.find("Content-Security-Policy: default-src 'none'; script-src 'self'") !=
        std::string::npos);
  const auto script = route("GET", "/app.js", hooks);
  CHECK(script.status == 200);
  CHECK(script.content_type == "text/javascript; charset=utf-8");
  CHECK(script.body.find("/events") != std::string::npos);
  CHECK(route("GET", "/style.css", hooks).content_type == "text/css; charset=utf-8");
  CHECK(route("HEAD", "/", hooks).status == 200);
  CHECK(route("POST", "/", hooks).status == 405);
  CHECK(route("GET", "/index.html", hooks).body == page.body);
  // The assets are the files as written (no truncation at a NUL or a quote).
  for (const auto& a : admin::web_assets()) CHECK(a.body.size() > 100);
}

TEST_CASE("/events serves the event log, 503 without one") {
  AdminHooks hooks;
  CHECK(route("GET", "/events", hooks).status == 503);
  cluster::EventLog log;
  log.add("failover", "10.0.0.3:6379 promoted");
  hooks.events = &log;
  const auto r = route("GET", "/events?since=0", hooks);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body.find("\"kind\":\"failover\"") != std::string::npos);
}

TEST_CASE("/stats has the same families as /metrics, histograms with cumulative buckets") {
  AdminHooks hooks;
  CHECK(route("GET", "/stats", hooks).status == 503);
  metrics::Metrics m("1.2.3");
  metrics::WorkerStats w;
  w.count_command("get", metrics::CommandResult::Ok, 0.0002);
  w.count_command("get", metrics::CommandResult::Ok, 0.003);
  w.held_now = 2;
  w.held_oldest_seconds = 1.5;
  m.publish(w);
  hooks.metrics = &m;
  const auto r = route("GET", "/stats", hooks);
  REQUIRE(r.status == 200);
  CHECK(r.body.find("\"slotgate_build_info\":{\"type\":\"gauge\",\"series\":[{\"labels\":{"
                    "\"version\":\"1.2.3\"},\"value\":1}]}") != std::string::npos);
  CHECK(r.body.find("\"slotgate_requests_held_now\":{\"type\":\"gauge\",\"series\":[{\"labels\":{},"
                    "\"value\":2}]}") != std::string::npos);
  CHECK(r.body.find("{\"labels\":{\"worker\":\"0\"},\"value\":1.5}") != std::string::npos);
  CHECK(r.body.find("{\"labels\":{\"command\":\"get\"},\"count\":2,\"sum\":") != std::string::npos);
  CHECK(r.body.find("[0.00025,1],[5e-04,1],[0.001,1],[0.0025,1],[0.005,2]") != std::string::npos);
  CHECK(r.body.find("[\"+Inf\",2]") != std::string::npos);
  const std::string text = m.render_text();
  for (const auto& family : m.collect()) {
    CHECK(text.find("# TYPE " + family.name + " ") != std::string::npos);
    CHECK(r.body.find("\"" + family.name + "\":") != std::string::npos);
  }
}

TEST_CASE("stats_json writes values that are not finite as null") {
  prometheus::MetricFamily f;
  f.name = "x";
  f.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric c;
  c.gauge.value = std::numeric_limits<double>::quiet_NaN();
  f.metric.push_back(c);
  CHECK(admin::stats_json({f}, 5) ==
        "{\"unix_ms\":5,\"families\":{\"x\":{\"type\":\"gauge\",\"series\":[{\"labels\":{},"
        "\"value\":null}]}}}");
}
