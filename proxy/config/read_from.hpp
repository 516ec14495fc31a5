// config::ReadFrom: where read-only commands may go (cluster.read_from, clients.users[].read_from),
// in Lettuce's and Envoy's vocabulary. Header-only: the router reads the value on every read.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace slotgate::config {

enum class ReadFrom : uint8_t {
  Master,         // every command to the slot's master (the default)
  PreferReplica,  // reads to a replica that qualifies, else to the master
  Replica,        // reads to a replica that qualifies, else an error (never the master)
  Nearest,        // reads to the lowest-latency node among the master and qualifying replicas
};

inline std::string_view to_string(ReadFrom r) {
  switch (r) {
    case ReadFrom::Master:
      return "master";
    case ReadFrom::PreferReplica:
      return "prefer-replica";
    case ReadFrom::Replica:
      return "replica";
    case ReadFrom::Nearest:
      return "nearest";
  }
  return "master";
}

// Exact, lower case ("prefer-replica"; "prefer_replica" is accepted too). nullopt otherwise.
inline std::optional<ReadFrom> parse_read_from(std::string_view text) {
  if (text == "master") return ReadFrom::Master;
  if (text == "prefer-replica" || text == "prefer_replica") return ReadFrom::PreferReplica;
  if (text == "replica") return ReadFrom::Replica;
  if (text == "nearest") return ReadFrom::Nearest;
  return std::nullopt;
}

}  // namespace slotgate::config
