// admin routes: which endpoint answers what. A pure function of the request
// line and the hooks, so it is tested without sockets.
//   GET /metrics   Prometheus text format 0.0.4
//   GET /healthz   200 "ok" while the event loops answer (liveness)
//   GET /readyz    200 when slotgate can serve traffic, else 503 with the reason (readiness)
//   GET /topology  the current ClusterView as JSON, 503 before the first discovery
//                  (404 when hooks.topology is false: admin.topology)
//   GET /          the read-only status page (and its /app.js /style.css), see web_routes.hpp
//   GET /events    recent topology events (failovers, slot moves, reloads) as JSON
//   GET /stats     every slotgate_* series as JSON, for the page's live view
// HEAD is accepted wherever GET is. Other methods get 405, unknown paths 404.
#pragma once

#include <string_view>

#include "admin/admin_hooks.hpp"
#include "admin/http_response.hpp"

namespace slotgate::admin {

// target: the request-target as sent ("/metrics?debug=1"); the query is ignored.
HttpResponse route(std::string_view method, std::string_view target, const AdminHooks& hooks);

}  // namespace slotgate::admin
