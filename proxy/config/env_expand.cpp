#include "config/env_expand.hpp"

#include <cctype>
#include <cstdlib>

namespace slotgate::config {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

EnvExpansion expand_env(std::string_view text) {
  EnvExpansion r;
  r.value.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      r.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      r.value += text[i++];
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      r.error = "unclosed '${' in '" + std::string(text) + "'";
      return r;
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    std::string_view name = body;
    std::string_view fallback;
    bool has_fallback = false;
    if (const size_t dash = body.find(":-"); dash != std::string_view::npos) {
      name = body.substr(0, dash);
      fallback = body.substr(dash + 2);
      has_fallback = true;
    }
    if (!valid_name(name)) {
      r.error = "invalid environment variable name '" + std::string(name) + "' in '${" +
                std::string(body) + "}'";
      return r;
    }
    const std::string name_str(name);
    const char* env = std::getenv(name_str.c_str());
    if (env != nullptr && (*env != '\0' || !has_fallback)) {
      r.value += env;
    } else if (has_fallback) {
      r.value += fallback;
    } else {
      r.error = "environment variable '" + name_str + "' is not set (use $${" + name_str +
                "} for a literal, or ${" + name_str + ":-default})";
      return r;
    }
    i = close + 1;
  }
  return r;
}

}  // namespace slotgate::config
