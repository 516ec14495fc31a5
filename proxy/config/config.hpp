// config::Config: the validated, typed settings slotgate runs with. Every field
// has a default that works out of the box against a local cluster on
// 127.0.0.1:7000; the YAML loader and the command line only override them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cpu_limit.hpp"
#include "config/host_port.hpp"
#include "config/memory_limit.hpp"
#include "config/read_from.hpp"

namespace slotgate::config {

using std::chrono::milliseconds;

// A named client user (AUTH user pw).
struct UserConfig {
  std::string name;
  // SHA-256 (hex) of `password:`; the password itself is never kept.
  std::string password_sha256;
  bool readonly = false;
  std::vector<std::string> keys{"*"};  // glob patterns the user may touch
  // EVAL/FCALL/SCRIPT/FUNCTION: scripts can touch keys they do not declare. Default: true only
  // when keys is unrestricted.
  bool scripts = true;
  // Pub/Sub channel patterns (PUBLISH, SUBSCRIBE match them; PSUBSCRIBE must use one of them).
  // Default: ["*"] when keys is unrestricted, none otherwise.
  std::vector<std::string> channels{"*"};
  // Where this user's reads go; nullopt = cluster.read_from.
  std::optional<ReadFrom> read_from{};
  // Redis ACL rules (ACL SETUSER modifiers), applied in order to a fresh user; passwords in
  // them (">pw", "<pw") are kept as their hashes ("#…", "!…"). Empty: the shorthand above.
  std::vector<std::string> rules;
  // True when one of the key patterns is "*" (the user is not limited to some keys).
  bool all_keys() const {
    for (const auto& k : keys) {
      if (k == "*") return true;
    }
    return false;
  }
  bool operator==(const UserConfig&) const = default;
};

// slotgate -> nodes over TLS (cluster.tls). Used for every backend, dedicated and topology
// connection; nodes that announce a tls-port are reached on it.
struct ClusterTlsConfig {
  bool enabled = false;
  std::string ca_file;    // "" = the system's CAs
  std::string cert_file;  // client certificate for nodes with tls-auth-clients (optional)
  std::string key_file;
  std::string server_name;  // "" = each node's announced hostname or IP
  bool insecure_skip_verify = false;
  bool operator==(const ClusterTlsConfig&) const = default;
};

struct ClusterConfig {
  std::vector<HostPort> seeds{HostPort{"127.0.0.1", 7000}};
  std::string username;  // backend ACL user (env REDIS_USERNAME overrides)
  std::string password;  // backend password (env REDIS_PASSWORD overrides)
  milliseconds refresh_interval{10'000};
  milliseconds connect_timeout{1'000};
  milliseconds command_timeout{5'000};
  milliseconds failover_hold{20'000};
  uint64_t hold_queue_limit = 10'000;  // held requests per worker
  uint32_t max_redirects = 5;
  // Reads from replicas (README "Reads from replicas"): where read-only commands go, and how far
  // behind its master a replica may be (seconds since its last acknowledgement) to serve them.
  ReadFrom read_from = ReadFrom::Master;
  milliseconds max_replica_lag{5'000};
  ClusterTlsConfig tls;
  bool operator==(const ClusterConfig&) const = default;
};

// Which kind of Redis sits behind slotgate (backend.kind). Clients see the same proxy either way.
enum class BackendKind { Cluster, Standalone, Sentinel };

struct BackendConfig {
  BackendKind kind = BackendKind::Cluster;
  // standalone: the one Redis (a Service name is re-resolved at every refresh). Credentials
  // and timeouts stay in `cluster:` (username, password, failover_hold, ...).
  std::optional<HostPort> address;
  // sentinel: the Sentinels to ask (names re-resolved at every refresh), the master's name in
  // them, and the credentials for the Sentinels themselves (the Redis nodes use `cluster:`'s;
  // env SENTINEL_USERNAME/SENTINEL_PASSWORD override).
  std::vector<HostPort> sentinels;
  std::string master_name;
  std::string sentinel_username;
  std::string sentinel_password;
  // sentinel: the Sentinels are reached over TLS with cluster.tls's client context (CA, client
  // certificate, server_name), which must then be configured. false = plain TCP to them.
  bool sentinel_tls = false;
  bool operator==(const BackendConfig&) const = default;
};

// Checks users' `rules` against the command table (the config part does not know commands):
// set by the program before configuration is loaded; returns an error naming the user and rule.
using UsersValidator = std::string (*)(const struct ClientsConfig&);
void set_users_validator(UsersValidator v);
UsersValidator users_validator();

struct ClientsConfig {
  std::string password;  // default-user password (env SLOTGATE_PASSWORD overrides)
  std::vector<UserConfig> users;
  uint64_t max_clients = 10'000;
  // AUTH failures per client address: after auth_max_failures within auth_failure_window,
  // AUTH from that address is refused unchecked for auth_block_time. 0 = no limit.
  uint32_t auth_max_failures = 10;
  milliseconds auth_failure_window{60'000};
  milliseconds auth_block_time{60'000};
  milliseconds idle_timeout{0};  // 0 = never
  uint64_t max_request_size = 512ULL << 20;
  uint64_t max_pipeline_size = 1ULL << 30;
  uint64_t output_buffer_limit = 64ULL << 20;
  // All clients' buffers together (query buffers, queued and held replies, output
  // buffers); above it the client using the most is closed. 0 = auto (see
  // memory_limit.hpp: half the cgroup memory limit, else 1gb).
  uint64_t max_memory = 0;
  std::vector<std::string> config_set_allowed{"notify-keyspace-events"};  // lower case
  // HELLO 3 accepted (RESP3 clients). false = RESP2 only: HELLO 3 gets the error
  // Lettuce 6.x, ioredis 6 and redis-cli fall back to RESP2 on.
  bool resp3 = true;
  bool operator==(const ClientsConfig&) const = default;
};

// Clients -> slotgate over TLS (the `tls:` section, served on `tls_listen`).
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;               // verifies client certificates
  std::string client_auth = "none";  // none | optional | required
  std::string min_version = "TLSv1.2";
  std::string ciphers;       // TLS 1.2 cipher list, "" = forward-secret AEAD only
  std::string ciphersuites;  // TLS 1.3, "" = OpenSSL's default
  milliseconds handshake_timeout{10'000};
  // How often the certificate files are checked for a change (0 = only on SIGHUP).
  milliseconds watch_interval{5'000};
  // A verified client certificate whose CN or DNS/email SAN is a key here is logged in as
  // that user without AUTH.
  std::vector<std::pair<std::string, std::string>> cert_users;
  bool operator==(const TlsConfig&) const = default;
};

struct AdminConfig {
  // Loopback by default: the admin port tells anyone who reaches it the cluster's
  // layout. A pod opens it (0.0.0.0) for probes and scraping in its config file.
  std::optional<HostPort> listen = HostPort{"127.0.0.1", 9121};  // nullopt = disabled
  bool topology = true;                                          // serve /topology (false: 404)
  bool operator==(const AdminConfig&) const = default;
};

enum class LogLevel { Trace, Debug, Info, Warn, Error };
enum class LogFormat { Text, Json };

struct LogConfig {
  LogLevel level = LogLevel::Info;
  LogFormat format = LogFormat::Text;
  bool operator==(const LogConfig&) const = default;
};

struct Config {
  HostPort listen{"0.0.0.0", 6379};
  std::optional<HostPort> tls_listen;  // nullopt = no TLS listener (needs the tls: section)
  std::optional<HostPort> announce;    // nullopt = derived from listen, see announce_address()
  // What TLS clients are told in CLUSTER SLOTS/NODES/SHARDS; nullopt = derived, see
  // tls_announce_address().
  std::optional<HostPort> tls_announce;
  unsigned workers = 0;  // 0 = auto (usable CPUs, see cpu_limit.hpp)
  std::string node_id;   // 40 lower-case hex digits, or empty = derived
  // How many masters the cluster emulation shows. 1 (the default): one node that
  // owns every slot. N > 1: slotgate also listens on the N-1 ports after `listen`
  // (all equivalent) and shows N masters splitting the slots, for tools that
  // refuse a one-node cluster (redis-benchmark 7.0 --cluster).
  uint32_t emulated_nodes = 1;
  BackendConfig backend;
  ClusterConfig cluster;
  ClientsConfig clients;
  AdminConfig admin;
  TlsConfig tls;
  LogConfig log;
  milliseconds shutdown_grace{25'000};

  // The address cluster-mode clients are told (CLUSTER SLOTS/NODES): announce, or
  // listen with a wildcard host replaced by loopback (0.0.0.0 is not connectable).
  HostPort announce_address() const;
  // The address cluster-mode clients on tls_listen are told: tls_announce, or the host of
  // `announce` with the port of tls_listen, or tls_listen with a wildcard host replaced by
  // loopback. Emulated node i is at port + i, like on the plain side. Needs tls_listen.
  HostPort tls_announce_address() const;
  // The node id cluster-mode clients see: node_id, or 40 hex digits derived from
  // the announce address so every replica behind one Service reports the same id.
  std::string effective_node_id() const;
  // The id of emulated node `index` (0 = effective_node_id()).
  std::string emulated_node_id(uint32_t index) const;
  // workers, with auto resolved to auto_workers().
  unsigned effective_workers() const;
  // clients.max_memory, with auto resolved to auto_client_memory().
  uint64_t effective_client_max_memory() const;

  bool operator==(const Config&) const = default;
};

// What `workers: auto` means on this machine: see cpu_limit.hpp.
const CpuLimit& auto_workers();
// What `clients.max_memory: auto` means in this container: see memory_limit.hpp.
const ClientMemoryDefault& auto_client_memory();

std::string_view to_string(BackendKind kind);
std::string_view to_string(LogLevel level);
std::string_view to_string(LogFormat format);
// Case-insensitive; "warning" is accepted for warn. nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

}  // namespace slotgate::config
