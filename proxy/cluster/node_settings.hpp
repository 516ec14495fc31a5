// cluster::NodeSettings: the CONFIG SET parameters that every master accepted through
// slotgate, remembered so that every node of the cluster has them. Redis does not replicate
// CONFIG, and a restarted node forgets what CONFIG SET changed: without this, the replica
// promoted by a failover lacks e.g. the notify-keyspace-events an app set at start-up, and
// its keyspace events stop. The data path reports a CONFIG SET all masters answered OK (only
// commands that passed the clients.config_set_allowed check get that far); the topology
// refresher applies the remembered values, on its own thread, to each node that has not had
// them yet: the replicas at once, later a node that joins, is promoted or demoted, or comes
// back online. The memory is bounded (kMaxParameters, kMaxNameBytes, kMaxValueBytes).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/cluster_view.hpp"

namespace slotgate::cluster {

class NodeSettings {
 public:
  static constexpr size_t kMaxParameters = 16;
  static constexpr size_t kMaxNameBytes = 64;
  static constexpr size_t kMaxValueBytes = 1024;
  // How long a node that could not be reached is left alone before the next attempt.
  static constexpr std::chrono::seconds kRetryAfter{5};

  // CONFIG SET p1 v1 [p2 v2 ...] as the client sent it. Parameters beyond the bounds are not
  // remembered. Returns true when a value is new or changed. Thread-safe.
  bool remember(std::span<const std::string_view> args);
  // The same, from the command's RESP bytes (what the router keeps of a request).
  bool remember_command(std::string_view wire);
  bool empty() const;
  // clients.config_set_allowed (lower-case names), at start-up and at SIGHUP: the parameters
  // not on it are forgotten — no longer brought to promoted or new nodes — and not remembered
  // from now on (a CONFIG SET admitted just before the reload may complete after it). Returns
  // the names forgotten. Until the first call every parameter is remembered. Thread-safe.
  std::vector<std::string> keep_only(std::span<const std::string> allowed);

  struct Plan {
    std::vector<uint16_t> nodes;    // indices into the view
    std::vector<std::string> args;  // CONFIG SET p1 v1 ..., every remembered parameter
    uint64_t generation = 0;
  };
  // Which nodes of `view` need the settings now: not yet at the current generation, a new
  // node at an address, a role change (promoted or demoted), or back online after being
  // failed. The masters of the first plan after a CONFIG SET are taken as up to date (the
  // broadcast reached them). Nodes that left the view are forgotten; failed nodes skipped.
  Plan plan(const ClusterView& view, std::chrono::steady_clock::time_point now);
  // The node answered the plan's CONFIG SET (an error reply counts: it would answer the same
  // again), or could not be reached (tried again after kRetryAfter).
  void applied(const Node& node, uint64_t generation);
  void unreachable(const Node& node, std::chrono::steady_clock::time_point now);

 private:
  struct NodeState {
    std::string id;
    Role role = Role::Master;
    bool online = true;
    uint64_t generation = 0;  // 0: has nothing yet
    std::chrono::steady_clock::time_point retry_at{};
  };
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> params_;  // lower-case name, value
  std::optional<std::vector<std::string>> allowed_;          // keep_only()
  uint64_t generation_ = 0;
  uint64_t planned_generation_ = 0;         // generation_ at the last plan()
  std::map<std::string, NodeState> nodes_;  // by address
};

}  // namespace slotgate::cluster
