#include "admin/web_routes.hpp"

#include <array>

#include "admin/stats_json.hpp"
#include "admin/web_assets.hpp"
#include "metrics/metrics.hpp"

namespace slotgate::admin {
namespace {

// The page loads only its own script and style and talks only to this port; no inline
// script, no frames, so a hostile cluster node name shown on it cannot run anything.
constexpr std::string_view kPageHeaders =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n";

HttpResponse asset(std::string_view path) {
  for (const WebAsset& a : web_assets()) {
    if (a.path != path) continue;
    HttpResponse r;
    r.content_type = std::string(a.content_type);
    r.body = std::string(a.body);
    r.extra_headers = std::string(kPageHeaders);
    return r;
  }
  return text_response(404, "not found");
}

HttpResponse page(const AdminHooks&) {
  return asset("/");
}
HttpResponse script(const AdminHooks&) {
  return asset("/app.js");
}
HttpResponse style(const AdminHooks&) {
  return asset("/style.css");
}

HttpResponse json(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.body += '\n';
  r.extra_headers = "X-Content-Type-Options: nosniff\r\n";
  return r;
}

HttpResponse events(const AdminHooks& hooks) {
  if (hooks.events == nullptr) return text_response(503, "the event log is not enabled");
  return json(hooks.events->to_json());
}

HttpResponse stats(const AdminHooks& hooks) {
  if (hooks.metrics == nullptr) return text_response(503, "metrics are not enabled");
  return json(stats_json(hooks.metrics->collect()));
}

}  // namespace

Endpoint web_endpoint(std::string_view path) {
  if (path == "/" || path == "/index.html") return &page;
  if (path == "/app.js") return &script;
  if (path == "/style.css") return &style;
  if (path == "/events") return &events;
  if (path == "/stats") return &stats;
  return nullptr;
}

}  // namespace slotgate::admin
