// admin web routes: the read-only status page and the JSON it polls.
//   GET /           index.html (slot map, live traffic, events)
//   GET /app.js     the page's script; GET /style.css its style sheet
//   GET /events     the EventLog as JSON ({"capacity","total","events":[...]}), oldest first
//   GET /stats      every metric family as JSON (counters, gauges, histograms), read from
//                   the same registry /metrics renders; the page derives rates from it
// Nothing here writes: the page has no buttons that change slotgate or the cluster.
#pragma once

#include <string_view>

#include "admin/admin_hooks.hpp"
#include "admin/http_response.hpp"

namespace slotgate::admin {

using Endpoint = HttpResponse (*)(const AdminHooks&);

// The endpoint serving path, or nullptr when path is not one of the above.
Endpoint web_endpoint(std::string_view path);

}  // namespace slotgate::admin
