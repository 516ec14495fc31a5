#include "config/command_line.hpp"

// CLI11 is header-only (Debian's libcli11-dev installs it in /usr/include/CLI).
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <vector>

#include "config/yaml_loader.hpp"

namespace slotgate::config {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

void override_from_env(const char* name, std::string& field) {
  const char* value = std::getenv(name);
  if (value != nullptr && *value != '\0') field = value;
}

struct Flags {
  std::string config_file;
  std::string check_config_file;
  std::optional<std::string> listen, announce, workers, admin, log_level, log_format;
  std::vector<std::string> seeds;
  bool version = false;
};

// Applies the flags that were given; returns the errors of those that do not parse.
std::vector<std::string> apply_flags(const Flags& f, Config& config) {
  std::vector<std::string> errors;
  auto address = [&](const char* flag, const std::string& text) -> std::optional<HostPort> {
    auto parsed = parse_host_port(text);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      errors.push_back(std::string(flag) + ": " + *err);
      return std::nullopt;
    }
    return std::get<HostPort>(parsed);
  };
  if (f.listen) {
    if (auto hp = address("--listen", *f.listen)) config.listen = *hp;
  }
  if (f.announce) {
    if (f.announce->empty()) {
      config.announce.reset();
    } else if (auto hp = address("--announce", *f.announce)) {
      config.announce = *hp;
    }
  }
  if (!f.seeds.empty()) {
    std::vector<HostPort> seeds;
    for (const std::string& s : f.seeds) {
      if (auto hp = address("--seed", s)) seeds.push_back(*hp);
    }
    config.cluster.seeds = std::move(seeds);
  }
  if (f.admin) {
    if (f.admin->empty()) {
      config.admin.listen.reset();
    } else if (auto hp = address("--admin", *f.admin)) {
      config.admin.listen = *hp;
    }
  }
  if (f.workers) {
    if (*f.workers == "auto") {
      config.workers = 0;
    } else {
      unsigned w = 0;
      const auto [end, ec] =
          std::from_chars(f.workers->data(), f.workers->data() + f.workers->size(), w);
      if (ec != std::errc() || end != f.workers->data() + f.workers->size() || w < 1 || w > 1024) {
        errors.push_back("--workers: expected 'auto' or a number from 1 to 1024, got '" +
                         *f.workers + "'");
      } else {
        config.workers = w;
      }
    }
  }
  if (f.log_level) {
    if (auto level = parse_log_level(*f.log_level)) {
      config.log.level = *level;
    } else {
      errors.push_back("--log-level: expected trace, debug, info, warn or error, got '" +
                       *f.log_level + "'");
    }
  }
  if (f.log_format) {
    if (auto format = parse_log_format(*f.log_format)) {
      config.log.format = *format;
    } else {
      errors.push_back("--log-format: expected text or json, got '" + *f.log_format + "'");
    }
  }
  return errors;
}

}  // namespace

void apply_env_overrides(Config& config) {
  override_from_env("REDIS_USERNAME", config.cluster.username);
  override_from_env("REDIS_PASSWORD", config.cluster.password);
  override_from_env("SENTINEL_USERNAME", config.backend.sentinel_username);
  override_from_env("SENTINEL_PASSWORD", config.backend.sentinel_password);
  override_from_env("SLOTGATE_PASSWORD", config.clients.password);
}

std::variant<Config, Exit> from_command_line(int argc, const char* const* argv,
                                             const char* version) {
  Flags f;
  CLI::App app{"slotgate: one Redis endpoint in front of a Redis Cluster", "slotgate"};
  app.add_option("--config", f.config_file, "YAML configuration file");
  app.add_option("--listen", f.listen, "client address HOST:PORT (default 0.0.0.0:6379)");
  app.add_option("--announce", f.announce, "address given to cluster-mode clients HOST:PORT");
  app.add_option("--seed", f.seeds, "cluster seed HOST:PORT (repeatable; replaces the file's)");
  app.add_option("--workers", f.workers, "worker threads: N or auto");
  app.add_option("--admin", f.admin, "admin HTTP address HOST:PORT (\"\" disables)");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn or error");
  app.add_option("--log-format", f.log_format, "text or json");
  app.add_option("--check-config", f.check_config_file,
                 "validate FILE, print 'config OK' or the errors, and exit");
  app.add_flag("--version", f.version, "print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    const int rc = app.exit(e, out, err);
    // CLI11 has its own codes per error class; callers only need help vs usage error.
    return Exit{rc == 0 ? 0 : 2, out.str(), err.str()};
  }
  if (f.version) return Exit{0, std::string("slotgate ") + version + "\n", ""};

  const bool checking = !f.check_config_file.empty();
  const std::string& file = checking ? f.check_config_file : f.config_file;
  Config config;
  if (!file.empty()) {
    LoadResult loaded = load_file(file);
    if (!loaded.config) return Exit{1, "", join_lines(loaded.errors)};
    config = std::move(*loaded.config);
  }
  apply_env_overrides(config);
  std::vector<std::string> errors = apply_flags(f, config);
  if (!errors.empty()) {
    return Exit{2, "", join_lines(errors) + "Run with --help for more information.\n"};
  }
  errors = validate(config);
  if (!errors.empty()) return Exit{1, "", join_lines(errors)};
  if (checking) return Exit{0, "config OK\n", ""};
  return config;
}

}  // namespace slotgate::config
