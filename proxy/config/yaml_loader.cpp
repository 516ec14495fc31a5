#include "config/yaml_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

#include "config/env_expand.hpp"
#include "config/password_hash.hpp"
#include "config/units.hpp"
#include "text/ascii.hpp"

namespace slotgate::config {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

using text::lower;

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Walks one YAML document and fills a Config, collecting every error instead of
// stopping at the first, so one --check-config run shows all of them.
class Loader {
 public:
  explicit Loader(std::string_view file_name) : file_(file_name) {}

  LoadResult load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      errors_.push_back(file_ + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
      return finish();
    }
    if (!root || root.IsNull()) return finish();  // an empty file means all defaults
    if (!root.IsMap()) {
      error(root, "", "the configuration must be a mapping of keys (e.g. 'listen: 0.0.0.0:6379')");
      return finish();
    }
    top_level(root);
    if (errors_.empty()) {
      for (const std::string& e : validate(config_)) errors_.push_back(file_ + ": " + e);
    }
    return finish();
  }

 private:
  using Handler = void (Loader::*)(const YAML::Node&, const std::string&);
  struct Key {
    std::string_view name;
    Handler handler;
  };

  LoadResult finish() {
    LoadResult r;
    r.errors = std::move(errors_);
    if (r.errors.empty()) r.config = std::move(config_);
    return r;
  }

  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    std::string text = file_;
    const int line = node.Mark().line;
    if (line >= 0) text += ":" + std::to_string(line + 1);
    text += ": ";
    if (!path.empty()) text += path + ": ";
    errors_.push_back(text + message);
  }

  // Dispatches each key of a mapping to its handler; unknown keys are errors.
  void section(const YAML::Node& map, const std::string& path, std::initializer_list<Key> keys) {
    for (const auto& entry : map) {
      // Copies: Node is a cheap handle, and a reference into yaml-cpp's iterator
      // proxy would dangle once the full expression ends.
      const YAML::Node key_node = entry.first;
      if (!key_node.IsScalar()) {
        error(key_node, path, "keys must be plain names");
        continue;
      }
      const std::string name = key_node.Scalar();
      const std::string key_path = join_path(path, name);
      const Key* found = nullptr;
      for (const Key& k : keys) {
        if (k.name == name) found = &k;
      }
      if (found == nullptr) {
        std::string message = "unknown key '" + key_path + "'";
        const Key* best = nullptr;
        size_t best_distance = 3;
        for (const Key& k : keys) {
          const size_t d = edit_distance(lower(name), k.name);
          if (d < best_distance) {
            best_distance = d;
            best = &k;
          }
        }
        if (best != nullptr) message += " (did you mean '" + join_path(path, best->name) + "'?)";
        error(key_node, "", message);
        continue;
      }
      const YAML::Node value = entry.second;
      // A key without a value ("announce:") keeps its default. The error mark of a
      // null value is unreliable, so such nodes never reach error().
      if (!value || value.IsNull()) continue;
      (this->*(found->handler))(value, key_path);
    }
  }

  bool expect_map(const YAML::Node& node, const std::string& path) {
    if (node.IsMap()) return true;
    error(node, path, "expected a mapping of settings");
    return false;
  }

  // A scalar with ${VAR} expanded; nullopt (and an error) otherwise.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      error(node, path, "expected a single value");
      return std::nullopt;
    }
    EnvExpansion e = expand_env(node.Scalar());
    if (!e.ok()) {
      error(node, path, e.error);
      return std::nullopt;
    }
    return std::move(e.value);
  }

  std::optional<std::vector<std::string>> scalar_list(const YAML::Node& node,
                                                      const std::string& path) {
    std::vector<std::string> out;
    if (node.IsScalar()) {  // a single value is a list of one
      auto v = scalar(node, path);
      if (!v) return std::nullopt;
      out.push_back(std::move(*v));
      return out;
    }
    if (!node.IsSequence()) {
      error(node, path, "expected a list, e.g. [a, b]");
      return std::nullopt;
    }
    bool ok = true;
    for (size_t i = 0; i < node.size(); ++i) {
      auto v = scalar(node[i], path + "[" + std::to_string(i) + "]");
      if (v) {
        out.push_back(std::move(*v));
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void host_port(const YAML::Node& node, const std::string& path, HostPort& out) {
    auto v = scalar(node, path);
    if (!v) return;
    auto parsed = parse_host_port(*v);
    if (auto* err = std::get_if<std::string>(&parsed)) return error(node, path, *err);
    out = std::get<HostPort>(parsed);
  }

  // "" means "not set" (announce derived, admin disabled).
  void optional_host_port(const YAML::Node& node, const std::string& path,
                          std::optional<HostPort>& out) {
    auto v = scalar(node, path);
    if (!v) return;
    if (v->empty()) {
      out.reset();
      return;
    }
    auto parsed = parse_host_port(*v);
    if (auto* err = std::get_if<std::string>(&parsed)) return error(node, path, *err);
    out = std::get<HostPort>(parsed);
  }

  void duration(const YAML::Node& node, const std::string& path, milliseconds& out,
                bool allow_zero) {
    auto v = scalar(node, path);
    if (!v) return;
    auto parsed = parse_duration(*v);
    if (auto* err = std::get_if<std::string>(&parsed)) return error(node, path, *err);
    const auto d = std::get<milliseconds>(parsed);
    if (!allow_zero && d.count() == 0) return error(node, path, "must be greater than 0");
    out = d;
  }

  void size(const YAML::Node& node, const std::string& path, uint64_t& out) {
    auto v = scalar(node, path);
    if (!v) return;
    auto parsed = parse_size(*v);
    if (auto* err = std::get_if<std::string>(&parsed)) return error(node, path, *err);
    if (std::get<uint64_t>(parsed) == 0) return error(node, path, "must be greater than 0");
    out = std::get<uint64_t>(parsed);
  }

  template <typename T>
  void integer(const YAML::Node& node, const std::string& path, T& out, uint64_t min,
               uint64_t max) {
    auto v = scalar(node, path);
    if (!v) return;
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || v->empty())
      return error(node, path, "expected a whole number, got '" + *v + "'");
    if (n < min || n > max)
      return error(node, path,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = static_cast<T>(n);
  }

  void boolean(const YAML::Node& node, const std::string& path, bool& out) {
    auto v = scalar(node, path);
    if (!v) return;
    const std::string s = lower(*v);
    if (s == "true" || s == "yes" || s == "on") {
      out = true;
    } else if (s == "false" || s == "no" || s == "off") {
      out = false;
    } else {
      error(node, path, "expected true or false, got '" + *v + "'");
    }
  }

  void string(const YAML::Node& node, const std::string& path, std::string& out) {
    if (auto v = scalar(node, path)) out = std::move(*v);
  }

  // ---- top level ----------------------------------------------------------

  void top_level(const YAML::Node& root) {
    section(root, "",
            {{"listen", &Loader::on_listen},
             {"tls_listen", &Loader::on_tls_listen},
             {"tls_announce", &Loader::on_tls_announce},
             {"tls", &Loader::on_tls},
             {"announce", &Loader::on_announce},
             {"workers", &Loader::on_workers},
             {"node_id", &Loader::on_node_id},
             {"emulated_nodes", &Loader::on_emulated_nodes},
             {"backend", &Loader::on_backend},
             {"cluster", &Loader::on_cluster},
             {"clients", &Loader::on_clients},
             {"admin", &Loader::on_admin},
             {"log", &Loader::on_log},
             {"shutdown_grace", &Loader::on_shutdown_grace}});
  }

  void on_listen(const YAML::Node& n, const std::string& p) { host_port(n, p, config_.listen); }
  void on_announce(const YAML::Node& n, const std::string& p) {
    optional_host_port(n, p, config_.announce);
  }
  void on_workers(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (lower(*v) == "auto") {
      config_.workers = 0;
      return;
    }
    unsigned w = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), w);
    if (ec != std::errc() || end != v->data() + v->size() || v->empty() || w < 1 || w > 1024)
      return error(n, p, "expected 'auto' or a number of threads from 1 to 1024, got '" + *v + "'");
    config_.workers = w;
  }
  void on_emulated_nodes(const YAML::Node& n, const std::string& p) {
    integer(n, p, config_.emulated_nodes, 1, 16);
  }
  void on_node_id(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    std::string id = lower(*v);
    const bool hex = std::all_of(
        id.begin(), id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (!id.empty() && (id.size() != 40 || !hex))
      return error(n, p, "a node id is 40 hex digits (as Redis uses), got '" + *v + "'");
    config_.node_id = std::move(id);
  }
  void on_shutdown_grace(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.shutdown_grace, true);
  }

  // ---- backend ------------------------------------------------------------

  void on_backend(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p,
            {{"kind", &Loader::on_backend_kind},
             {"address", &Loader::on_backend_address},
             {"sentinels", &Loader::on_backend_sentinels},
             {"master_name", &Loader::on_backend_master_name},
             {"sentinel_username", &Loader::on_backend_sentinel_username},
             {"sentinel_password", &Loader::on_backend_sentinel_password},
             {"sentinel_tls", &Loader::on_backend_sentinel_tls}});
  }
  void on_backend_kind(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    const std::string kind = lower(*v);
    if (kind == "cluster") {
      config_.backend.kind = BackendKind::Cluster;
    } else if (kind == "standalone") {
      config_.backend.kind = BackendKind::Standalone;
    } else if (kind == "sentinel") {
      config_.backend.kind = BackendKind::Sentinel;
    } else {
      error(n, p, "expected 'cluster', 'sentinel' or 'standalone', got '" + *v + "'");
    }
  }
  void on_backend_address(const YAML::Node& n, const std::string& p) {
    optional_host_port(n, p, config_.backend.address);
  }
  void on_backend_sentinels(const YAML::Node& n, const std::string& p) {
    host_port_list(n, p, config_.backend.sentinels);
  }
  void on_backend_master_name(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.backend.master_name);
  }
  void on_backend_sentinel_username(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.backend.sentinel_username);
  }
  void on_backend_sentinel_password(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.backend.sentinel_password);
  }
  void on_backend_sentinel_tls(const YAML::Node& n, const std::string& p) {
    boolean(n, p, config_.backend.sentinel_tls);
  }

  // ---- cluster ------------------------------------------------------------

  void on_cluster(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p,
            {{"seeds", &Loader::on_seeds},
             {"username", &Loader::on_cluster_username},
             {"password", &Loader::on_cluster_password},
             {"refresh_interval", &Loader::on_refresh_interval},
             {"connect_timeout", &Loader::on_connect_timeout},
             {"command_timeout", &Loader::on_command_timeout},
             {"failover_hold", &Loader::on_failover_hold},
             {"hold_queue_limit", &Loader::on_hold_queue_limit},
             {"max_redirects", &Loader::on_max_redirects},
             {"read_from", &Loader::on_read_from},
             {"max_replica_lag", &Loader::on_max_replica_lag},
             {"tls", &Loader::on_cluster_tls}});
  }
  void on_seeds(const YAML::Node& n, const std::string& p) {
    host_port_list(n, p, config_.cluster.seeds);
  }
  // A non-empty list of host:port (seeds, sentinels); out is left alone on an error.
  void host_port_list(const YAML::Node& n, const std::string& p, std::vector<HostPort>& out) {
    auto list = scalar_list(n, p);
    if (!list) return;
    if (list->empty()) return error(n, p, "at least one address (host:port) is needed");
    std::vector<HostPort> seeds;
    for (size_t i = 0; i < list->size(); ++i) {
      auto parsed = parse_host_port((*list)[i]);
      if (auto* err = std::get_if<std::string>(&parsed)) {
        error(n.IsSequence() ? n[i] : n, p + (n.IsSequence() ? "[" + std::to_string(i) + "]" : ""),
              *err);
        return;
      }
      seeds.push_back(std::get<HostPort>(parsed));
    }
    out = std::move(seeds);
  }
  void on_cluster_username(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.username);
  }
  void on_cluster_password(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.password);
  }
  void on_refresh_interval(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.cluster.refresh_interval, false);
  }
  void on_connect_timeout(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.cluster.connect_timeout, false);
  }
  void on_command_timeout(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.cluster.command_timeout, false);
  }
  void on_failover_hold(const YAML::Node& n, const std::string& p) {
    // 0 is allowed: fail at once instead of holding requests during a failover.
    duration(n, p, config_.cluster.failover_hold, true);
  }
  void on_hold_queue_limit(const YAML::Node& n, const std::string& p) {
    integer(n, p, config_.cluster.hold_queue_limit, 0, 100'000'000);
  }
  void on_max_redirects(const YAML::Node& n, const std::string& p) {
    integer(n, p, config_.cluster.max_redirects, 0, 100);
  }

  void on_read_from(const YAML::Node& n, const std::string& p) {
    std::optional<ReadFrom> v;
    read_from(n, p, v);
    if (v) config_.cluster.read_from = *v;
  }
  void read_from(const YAML::Node& n, const std::string& p, std::optional<ReadFrom>& out) {
    auto v = scalar(n, p);
    if (!v) return;
    out = parse_read_from(lower(*v));
    if (!out) error(n, p, "expected master, prefer-replica, replica or nearest; got '" + *v + "'");
  }
  void on_max_replica_lag(const YAML::Node& n, const std::string& p) {
    // Redis reports a replica's lag in whole seconds: below 1s only a lag of 0 would qualify.
    duration(n, p, config_.cluster.max_replica_lag, false);
    if (config_.cluster.max_replica_lag < milliseconds(1000))
      error(n, p, "must be at least 1s (Redis reports a replica's lag in whole seconds)");
  }

  // ---- clients ------------------------------------------------------------

  void on_clients(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p,
            {{"password", &Loader::on_clients_password},
             {"users", &Loader::on_users},
             {"max_clients", &Loader::on_max_clients},
             {"auth_max_failures", &Loader::on_auth_max_failures},
             {"auth_failure_window", &Loader::on_auth_failure_window},
             {"auth_block_time", &Loader::on_auth_block_time},
             {"idle_timeout", &Loader::on_idle_timeout},
             {"max_request_size", &Loader::on_max_request_size},
             {"max_pipeline_size", &Loader::on_max_pipeline_size},
             {"output_buffer_limit", &Loader::on_output_buffer_limit},
             {"max_memory", &Loader::on_client_max_memory},
             {"config_set_allowed", &Loader::on_config_set_allowed},
             {"resp3", &Loader::on_resp3}});
  }
  void on_clients_password(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.clients.password);
  }
  void on_max_clients(const YAML::Node& n, const std::string& p) {
    integer(n, p, config_.clients.max_clients, 1, 10'000'000);
  }
  void on_auth_max_failures(const YAML::Node& n, const std::string& p) {
    uint64_t v = config_.clients.auth_max_failures;
    integer(n, p, v, 0, 1'000'000);
    config_.clients.auth_max_failures = static_cast<uint32_t>(v);
  }
  void on_auth_failure_window(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.clients.auth_failure_window, false);
  }
  void on_auth_block_time(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.clients.auth_block_time, false);
  }
  void on_idle_timeout(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.clients.idle_timeout, true);
  }
  void on_max_request_size(const YAML::Node& n, const std::string& p) {
    size(n, p, config_.clients.max_request_size);
  }
  void on_max_pipeline_size(const YAML::Node& n, const std::string& p) {
    size(n, p, config_.clients.max_pipeline_size);
  }
  void on_output_buffer_limit(const YAML::Node& n, const std::string& p) {
    size(n, p, config_.clients.output_buffer_limit);
  }
  void on_client_max_memory(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (lower(*v) == "auto") {
      config_.clients.max_memory = 0;
      return;
    }
    size(n, p, config_.clients.max_memory);
  }
  void on_resp3(const YAML::Node& n, const std::string& p) { boolean(n, p, config_.clients.resp3); }
  void on_config_set_allowed(const YAML::Node& n, const std::string& p) {
    auto list = scalar_list(n, p);
    if (!list) return;
    for (std::string& s : *list) s = lower(s);
    config_.clients.config_set_allowed = std::move(*list);
  }

  void on_users(const YAML::Node& n, const std::string& p) {
    if (!n.IsSequence()) return error(n, p, "expected a list of users (- name: ... password: ...)");
    std::vector<UserConfig> users;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string up = p + "[" + std::to_string(i) + "]";
      const YAML::Node u = n[i];
      if (!expect_map(u, up)) continue;
      user_ = UserConfig{};
      user_scripts_.reset();
      user_channels_.reset();
      const size_t before = errors_.size();
      section(u, up,
              {{"name", &Loader::on_user_name},
               {"password", &Loader::on_user_password},
               {"readonly", &Loader::on_user_readonly},
               {"keys", &Loader::on_user_keys},
               {"scripts", &Loader::on_user_scripts},
               {"channels", &Loader::on_user_channels},
               {"read_from", &Loader::on_user_read_from},
               {"rules", &Loader::on_user_rules}});
      if (errors_.size() != before) continue;
      if (!user_.rules.empty() && (u["readonly"] || u["keys"] || u["scripts"] || u["channels"])) {
        error(u, up,
              "user '" + user_.name +
                  "': rules replace readonly/keys/scripts/channels; use one or the other");
        continue;
      }
      // A user limited to key patterns gets nothing that reaches past them unless the file says
      // so: scripts can read any key, and keyspace notifications name every key.
      user_.scripts = user_scripts_.value_or(user_.all_keys());
      user_.channels = user_channels_.value_or(user_.all_keys() ? std::vector<std::string>{"*"}
                                                                : std::vector<std::string>{});
      if (user_.name.empty()) {
        error(u, up, "a user needs a name");
      } else if (user_.name == "default") {
        error(u, up, "'default' is the user of clients.password; choose another name");
      } else if (user_.password_sha256.empty() && user_.rules.empty()) {
        error(u, up, "user '" + user_.name + "' needs a password");
      } else if (std::any_of(users.begin(), users.end(),
                             [&](const UserConfig& o) { return o.name == user_.name; })) {
        error(u, up, "user '" + user_.name + "' is defined twice");
      } else {
        users.push_back(std::move(user_));
      }
    }
    config_.clients.users = std::move(users);
    if (auto check = users_validator(); check != nullptr) {
      if (std::string err = check(config_.clients); !err.empty()) error(n, p, err);
    }
  }
  void on_user_name(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (std::any_of(v->begin(), v->end(), [](char c) { return c <= ' ' || c == 127; }))
      return error(n, p, "a user name cannot contain spaces or control characters");
    user_.name = std::move(*v);
  }
  void on_user_password(const YAML::Node& n, const std::string& p) {
    std::string pw;
    string(n, p, pw);
    if (!pw.empty()) user_.password_sha256 = sha256_hex(pw);
  }
  // A string ("on >pw ~* +@all") or a list of rules; plain passwords become their hashes here.
  void on_user_rules(const YAML::Node& n, const std::string& p) {
    std::vector<std::string> rules;
    if (n.IsScalar()) {
      std::istringstream in(n.Scalar());
      for (std::string r; in >> r;) rules.push_back(std::move(r));
    } else if (auto list = scalar_list(n, p)) {
      rules = std::move(*list);
    } else {
      return;
    }
    for (std::string& r : rules) {
      if (!r.empty() && (r[0] == '>' || r[0] == '<')) {
        r = std::string(r[0] == '>' ? "#" : "!") + sha256_hex(std::string_view(r).substr(1));
      }
    }
    user_.rules = std::move(rules);
  }
  void on_user_readonly(const YAML::Node& n, const std::string& p) {
    boolean(n, p, user_.readonly);
  }
  void on_user_keys(const YAML::Node& n, const std::string& p) {
    if (auto list = scalar_list(n, p)) user_.keys = std::move(*list);
  }
  void on_user_scripts(const YAML::Node& n, const std::string& p) {
    bool v = false;
    const size_t before = errors_.size();
    boolean(n, p, v);
    if (errors_.size() == before) user_scripts_ = v;
  }
  void on_user_read_from(const YAML::Node& n, const std::string& p) {
    read_from(n, p, user_.read_from);
  }
  void on_user_channels(const YAML::Node& n, const std::string& p) {
    if (auto list = scalar_list(n, p)) user_channels_ = std::move(*list);
  }

  // ---- tls, cluster.tls ---------------------------------------------------

  void on_tls_listen(const YAML::Node& n, const std::string& p) {
    optional_host_port(n, p, config_.tls_listen);
  }
  void on_tls_announce(const YAML::Node& n, const std::string& p) {
    optional_host_port(n, p, config_.tls_announce);
  }
  void on_tls(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p,
            {{"cert_file", &Loader::on_tls_cert_file},
             {"key_file", &Loader::on_tls_key_file},
             {"ca_file", &Loader::on_tls_ca_file},
             {"client_auth", &Loader::on_tls_client_auth},
             {"min_version", &Loader::on_tls_min_version},
             {"ciphers", &Loader::on_tls_ciphers},
             {"ciphersuites", &Loader::on_tls_ciphersuites},
             {"handshake_timeout", &Loader::on_tls_handshake_timeout},
             {"watch_interval", &Loader::on_tls_watch_interval},
             {"cert_users", &Loader::on_tls_cert_users}});
  }
  void on_tls_cert_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.tls.cert_file);
  }
  void on_tls_key_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.tls.key_file);
  }
  void on_tls_ca_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.tls.ca_file);
  }
  void on_tls_client_auth(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    const std::string mode = lower(*v);
    if (mode != "none" && mode != "optional" && mode != "required")
      return error(n, p, "expected none, optional or required, got '" + *v + "'");
    config_.tls.client_auth = mode;
  }
  void on_tls_min_version(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (*v != "TLSv1.2" && *v != "TLSv1.3")
      return error(n, p, "expected TLSv1.2 or TLSv1.3, got '" + *v + "'");
    config_.tls.min_version = *v;
  }
  void on_tls_ciphers(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.tls.ciphers);
  }
  void on_tls_ciphersuites(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.tls.ciphersuites);
  }
  void on_tls_handshake_timeout(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.tls.handshake_timeout, false);
  }
  void on_tls_watch_interval(const YAML::Node& n, const std::string& p) {
    duration(n, p, config_.tls.watch_interval, true);
  }
  void on_tls_cert_users(const YAML::Node& n, const std::string& p) {
    if (!n.IsMap()) return error(n, p, "expected a mapping of certificate name: user");
    config_.tls.cert_users.clear();
    for (const auto& entry : n) {
      const std::string name = entry.first.Scalar();
      if (auto user = scalar(entry.second, join_path(p, name)))
        config_.tls.cert_users.emplace_back(name, *user);
    }
  }

  void on_cluster_tls(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    config_.cluster.tls.enabled = true;
    section(n, p,
            {{"enabled", &Loader::on_cluster_tls_enabled},
             {"ca_file", &Loader::on_cluster_tls_ca_file},
             {"cert_file", &Loader::on_cluster_tls_cert_file},
             {"key_file", &Loader::on_cluster_tls_key_file},
             {"server_name", &Loader::on_cluster_tls_server_name},
             {"insecure_skip_verify", &Loader::on_cluster_tls_insecure}});
  }
  void on_cluster_tls_enabled(const YAML::Node& n, const std::string& p) {
    boolean(n, p, config_.cluster.tls.enabled);
  }
  void on_cluster_tls_ca_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.tls.ca_file);
  }
  void on_cluster_tls_cert_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.tls.cert_file);
  }
  void on_cluster_tls_key_file(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.tls.key_file);
  }
  void on_cluster_tls_server_name(const YAML::Node& n, const std::string& p) {
    string(n, p, config_.cluster.tls.server_name);
  }
  void on_cluster_tls_insecure(const YAML::Node& n, const std::string& p) {
    boolean(n, p, config_.cluster.tls.insecure_skip_verify);
  }

  // ---- admin, log ---------------------------------------------------------

  void on_admin(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p, {{"listen", &Loader::on_admin_listen}, {"topology", &Loader::on_admin_topology}});
  }
  void on_admin_topology(const YAML::Node& n, const std::string& p) {
    boolean(n, p, config_.admin.topology);
  }
  void on_admin_listen(const YAML::Node& n, const std::string& p) {
    optional_host_port(n, p, config_.admin.listen);
  }

  void on_log(const YAML::Node& n, const std::string& p) {
    if (!expect_map(n, p)) return;
    section(n, p, {{"level", &Loader::on_log_level}, {"format", &Loader::on_log_format}});
  }
  void on_log_level(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (auto level = parse_log_level(*v)) {
      config_.log.level = *level;
    } else {
      error(n, p, "expected one of trace, debug, info, warn, error; got '" + *v + "'");
    }
  }
  void on_log_format(const YAML::Node& n, const std::string& p) {
    auto v = scalar(n, p);
    if (!v) return;
    if (auto format = parse_log_format(*v)) {
      config_.log.format = *format;
    } else {
      error(n, p, "expected text or json, got '" + *v + "'");
    }
  }

  std::string file_;
  Config config_;
  UserConfig user_;                                        // the user being read by on_users
  std::optional<bool> user_scripts_;                       // its `scripts`, if given
  std::optional<std::vector<std::string>> user_channels_;  // its `channels`, if given
  std::vector<std::string> errors_;
};

// The plain ports [a, a + n) and the TLS ports [b, b + n): emulated nodes take n of each.
bool ports_overlap(uint32_t a, uint32_t b, uint32_t n) {
  n = std::max<uint32_t>(n, 1);
  return a < b + n && b < a + n;
}

}  // namespace

std::vector<std::string> validate(const Config& config) {
  std::vector<std::string> errors;
  const ClientsConfig& c = config.clients;
  if (c.max_pipeline_size < c.max_request_size) {
    errors.push_back("clients.max_pipeline_size (" + format_size(c.max_pipeline_size) +
                     ") must be at least clients.max_request_size (" +
                     format_size(c.max_request_size) +
                     "), or a single large command could never be sent");
  }
  if (config.admin.listen && config.admin.listen->port == config.listen.port &&
      (config.admin.listen->host == config.listen.host || config.listen.host == "0.0.0.0" ||
       config.admin.listen->host == "0.0.0.0")) {
    errors.push_back("admin.listen (" + config.admin.listen->to_string() +
                     ") uses the same port as listen (" + config.listen.to_string() + ")");
  }
  const TlsConfig& t = config.tls;
  if (config.tls_listen && (t.cert_file.empty() || t.key_file.empty()))
    errors.push_back("tls_listen: needs tls.cert_file and tls.key_file");
  if (t.client_auth != "none" && t.ca_file.empty())
    errors.push_back("tls.client_auth " + t.client_auth + ": needs tls.ca_file");
  if (config.tls_listen &&
      ports_overlap(config.tls_listen->port, config.listen.port, config.emulated_nodes))
    errors.push_back("tls_listen (" + config.tls_listen->to_string() +
                     ") uses the same port as listen" +
                     (config.emulated_nodes > 1 ? " (each takes emulated_nodes ports)" : ""));
  if (config.tls_announce && !config.tls_listen) errors.push_back("tls_announce: needs tls_listen");
  for (const auto& [name, user] : t.cert_users) {
    bool known = false;
    for (const auto& u : c.users) known = known || u.name == user;
    if (!known)
      errors.push_back("tls.cert_users." + name + ": no user '" + user + "' in clients.users");
  }
  const ClusterTlsConfig& ct = config.cluster.tls;
  if (ct.cert_file.empty() != ct.key_file.empty())
    errors.push_back("cluster.tls: cert_file and key_file go together");
  if (config.cluster.seeds.empty()) errors.push_back("cluster.seeds: at least one seed is needed");
  if (config.backend.kind == BackendKind::Standalone && !config.backend.address) {
    errors.push_back(
        "backend.address: backend.kind standalone needs the Redis address (host:port)");
  }
  const BackendConfig& b = config.backend;
  if (b.kind == BackendKind::Sentinel && (b.sentinels.empty() || b.master_name.empty())) {
    errors.push_back(
        "backend.sentinels: backend.kind sentinel needs backend.sentinels (host:port of each "
        "Sentinel) and backend.master_name (the name the Sentinels monitor)");
  }
  if (b.kind != BackendKind::Sentinel && (!b.sentinels.empty() || !b.master_name.empty())) {
    errors.push_back(
        "backend.sentinels: backend.sentinels and backend.master_name are only used with "
        "backend.kind sentinel");
  }
  if (b.sentinel_tls && b.kind != BackendKind::Sentinel)
    errors.push_back("backend.sentinel_tls: only used with backend.kind sentinel");
  if (b.sentinel_tls && !ct.enabled) {
    errors.push_back(
        "backend.sentinel_tls: needs cluster.tls (the Sentinels are reached with its CA, client "
        "certificate and server_name)");
  }
  if (config.backend.kind != BackendKind::Standalone && config.backend.address) {
    errors.push_back(
        "backend.address: only used with backend.kind standalone; a cluster is found from "
        "cluster.seeds");
  }
  return errors;
}

LoadResult load_yaml(std::string_view text, std::string_view file_name) {
  return Loader(file_name).load(text);
}

LoadResult load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back("cannot read configuration file " + path + ": " + std::strerror(errno));
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_yaml(text.str(), path);
}

}  // namespace slotgate::config
