// config env expansion: "${VAR}" in a configuration value is replaced by the
// environment variable VAR, so secrets come from a Kubernetes Secret instead of
// the file. "${VAR:-fallback}" uses fallback when VAR is unset or empty; "$${"
// writes a literal "${". An unset variable without a fallback is an error that
// names it: silently running with an empty password is worse than not starting.
#pragma once

#include <string>
#include <string_view>

namespace slotgate::config {

struct EnvExpansion {
  std::string value;
  std::string error;  // empty when the expansion succeeded
  bool ok() const { return error.empty(); }
};

EnvExpansion expand_env(std::string_view text);

}  // namespace slotgate::config
