// config YAML loader: YAML text -> validated Config. Every error names the file,
// the line and the key path, so a typo in a ConfigMap is found from the log line
// alone: "slotgate.yaml:12: cluster.failover_hold: invalid duration 'abc' (...)".
// Unknown keys are errors too (with a did-you-mean), because a misspelt key that
// silently keeps its default is the hardest configuration bug to see.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace slotgate::config {

struct LoadResult {
  std::optional<Config> config;  // set exactly when errors is empty
  std::vector<std::string> errors;
};

// Load YAML text (file_name only for messages). ${VAR} is expanded from the
// environment in every value (see env_expand.hpp).
LoadResult load_yaml(std::string_view text, std::string_view file_name);
LoadResult load_file(const std::string& path);

// Checks the relations between fields that no single key can check (also after
// command-line overrides). Returns messages without a line number.
std::vector<std::string> validate(const Config& config);

}  // namespace slotgate::config
