// config command line: the full start-up sequence that turns argv into the
// Config to run with. Order of precedence, lowest first: built-in defaults, the
// --config file, credentials from the environment (REDIS_USERNAME,
// REDIS_PASSWORD, SLOTGATE_PASSWORD — when set and non-empty, so an empty
// variable from a template never wipes a password written in the file), then
// command-line flags. Calling it again with the same argv is how a SIGHUP reload
// re-reads the file with the same overrides.
#pragma once

#include <string>
#include <variant>

#include "config/config.hpp"

namespace slotgate::config {

// The process should print out (stdout) and err (stderr) and exit with code:
// --help and --version (0), --check-config (0 valid / 1 invalid), a bad
// configuration file (1), bad arguments (2).
struct Exit {
  int code = 0;
  std::string out;
  std::string err;
};

std::variant<Config, Exit> from_command_line(int argc, const char* const* argv,
                                             const char* version);

// Applies REDIS_USERNAME / REDIS_PASSWORD / SLOTGATE_PASSWORD when set and non-empty.
void apply_env_overrides(Config& config);

}  // namespace slotgate::config
