// admin::web_assets(): the status page's files (proxy/admin/web/*), embedded in the
// binary at build time by proxy/admin/web/embed_web_assets.cmake, so the page works offline in a
// cluster with no CDN and no files next to the binary.
#pragma once

#include <span>
#include <string_view>

namespace slotgate::admin {

struct WebAsset {
  std::string_view path;          // "/", "/app.js", "/style.css"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

std::span<const WebAsset> web_assets();

}  // namespace slotgate::admin
