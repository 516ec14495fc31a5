#include "admin/admin_routes.hpp"

#include <chrono>
#include <exception>

#include "admin/web_routes.hpp"
#include "cluster/slot.hpp"
#include "cluster/topology_json.hpp"
#include "metrics/metrics.hpp"

namespace slotgate::admin {
namespace {

HttpResponse metrics_endpoint(const AdminHooks& hooks) {
  if (hooks.metrics == nullptr) return text_response(503, "metrics are not enabled");
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = hooks.metrics->render_text();
  return r;
}

HttpResponse healthz(const AdminHooks& hooks) {
  if (hooks.loops_responsive && !hooks.loops_responsive())
    return text_response(503, "event loops are not responding");
  return text_response(200, "ok");
}

HttpResponse readyz(const AdminHooks& hooks) {
  if (!hooks.ready || hooks.ready()) return text_response(200, "ready");
  // Why the reason is worked out here: `kubectl describe pod` shows the probe's body,
  // and "not ready" alone sends the operator to the logs.
  const auto view = hooks.current_view ? hooks.current_view() : nullptr;
  if (view == nullptr || view->nodes().empty())
    return text_response(503, "not ready: cluster topology not discovered yet");
  if (view->single_node() && view->covered_slots() == 0) {
    return text_response(503, std::string("not ready: ") +
                                  (view->from_sentinel() ? "the master the Sentinels named, "
                                                         : "the standalone Redis at ") +
                                  view->node(0).address +
                                  " is a replica (ROLE slave); requests wait for it to be a "
                                  "master");
  }
  if (!view->covers_all_slots()) {
    return text_response(
        503, "not ready: " + std::to_string(cluster::kSlotCount - view->covered_slots()) +
                 " of 16384 slots have no reachable master");
  }
  return text_response(503, "not ready: shutting down or cluster unreachable");
}

HttpResponse topology(const AdminHooks& hooks) {
  HttpResponse r;
  r.content_type = "application/json";
  const auto view = hooks.current_view ? hooks.current_view() : nullptr;
  if (view == nullptr) {
    r.status = 503;
    r.body = "{\"error\":\"cluster topology not discovered yet\"}\n";
    return r;
  }
  const auto offsets =
      hooks.replication_offsets ? hooks.replication_offsets() : std::map<std::string, int64_t>{};
  const auto migrations =
      hooks.migrations ? hooks.migrations() : std::map<std::string, cluster::NodeMigrations>{};
  r.body = cluster::to_json(*view, std::chrono::steady_clock::now(), &offsets, &migrations);
  r.body += '\n';
  return r;
}

}  // namespace

HttpResponse route(std::string_view method, std::string_view target, const AdminHooks& hooks) {
  const std::string_view path = target.substr(0, target.find('?'));
  HttpResponse (*endpoint)(const AdminHooks&) = nullptr;
  if (path == "/metrics") {
    endpoint = &metrics_endpoint;
  } else if (path == "/healthz") {
    endpoint = &healthz;
  } else if (path == "/readyz") {
    endpoint = &readyz;
  } else if (path == "/topology" && hooks.topology) {
    endpoint = &topology;
  } else if (auto* web = web_endpoint(path)) {
    endpoint = web;
  } else {
    return text_response(
        404, "not found: the endpoints are / /metrics /healthz /readyz /topology /events /stats");
  }
  if (method != "GET" && method != "HEAD") {
    HttpResponse r = text_response(405, "method not allowed: use GET");
    r.allow = "GET, HEAD";
    return r;
  }
  try {
    return endpoint(hooks);
  } catch (const std::exception& e) {
    return text_response(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace slotgate::admin
