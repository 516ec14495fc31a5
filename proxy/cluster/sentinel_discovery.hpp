// cluster::sentinel_discovery: backend.kind sentinel asks the Sentinels where the master is.
// Every reachable Sentinel is asked SENTINEL GET-MASTER-ADDR-BY-NAME; an address counts only
// when more than half of the Sentinels that answered name it (one Sentinel with a stale view, or
// one an attacker answers for, never decides alone). The replicas come from SENTINEL REPLICAS of
// a Sentinel that named the winner. Runs on the refresher thread (blocking, with timeouts).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "net/tls.hpp"
#include "resp/value.hpp"

namespace slotgate::cluster {

struct SentinelAccess {
  std::vector<std::string> sentinels;  // "host:port"; names resolved at every discovery
  std::string master_name;
  std::string username;  // the Sentinels' own credentials
  std::string password;
  uint64_t connect_timeout_ms = 1000;
  uint64_t command_timeout_ms = 2000;
  // backend.sentinel_tls: cluster.tls's client context (nullptr = plain TCP). The Sentinel's
  // certificate must name tls_server_name, else the host as written in backend.sentinels.
  std::shared_ptr<const net::TlsContext> tls;
  std::string tls_server_name;
  std::string server_name(const std::string& host) const {
    return tls_server_name.empty() ? host : tls_server_name;
  }
};

struct SentinelEndpoint {
  std::string host;
  uint16_t port = 0;
  bool operator==(const SentinelEndpoint&) const = default;
};

struct SentinelAnswer {
  SentinelEndpoint master;
  std::vector<SentinelEndpoint> replicas;  // those the Sentinel considers up
  size_t votes = 0;                        // Sentinels that named master
  size_t answered = 0;                     // Sentinels that answered at all
};

// The address named by more than half of `answers` ("host:port" each), or nothing.
std::optional<std::string> quorum_choice(const std::vector<std::string>& answers);
// GET-MASTER-ADDR-BY-NAME's reply ([ip, port]) as "ip:port"; nothing for a null (unknown
// name) or malformed reply.
std::optional<SentinelEndpoint> parse_master_addr(const resp::Value& reply);
// SENTINEL REPLICAS' reply (an array of flat field/value arrays, or maps): the replicas that are
// not flagged s_down/o_down/disconnected.
std::vector<SentinelEndpoint> parse_sentinel_replicas(const resp::Value& reply);

// Ask every Sentinel; the answer, or the error text (no Sentinel reachable, no majority, ...).
std::variant<SentinelAnswer, std::string> discover_master(const SentinelAccess& access);

}  // namespace slotgate::cluster
