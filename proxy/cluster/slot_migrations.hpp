// cluster::parse_own_migrations(): the slots a master is migrating away or importing,
// as it reports them in its own line of CLUSTER NODES ("[slot->-nodeid]" migrating,
// "[slot-<-nodeid]" importing). CLUSTER SHARDS and CLUSTER SLOTS do not say, and a node
// only knows its own migrations, so the refresher asks each master (see
// TopologyRefresher); this is for operators (/topology, the page), never for routing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/slot.hpp"

namespace slotgate::cluster {

struct SlotMigration {
  Slot slot = 0;
  std::string peer_id;  // the node the slot goes to (migrating) or comes from (importing)
  bool operator==(const SlotMigration&) const = default;
};

struct NodeMigrations {
  std::vector<SlotMigration> migrating;
  std::vector<SlotMigration> importing;
  bool empty() const { return migrating.empty() && importing.empty(); }
  bool operator==(const NodeMigrations&) const = default;
};

// Reads the line flagged "myself". Malformed entries are skipped; at most kSlotCount of each.
NodeMigrations parse_own_migrations(std::string_view cluster_nodes);

}  // namespace slotgate::cluster
