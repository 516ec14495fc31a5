// cluster::parse_own_migrations(): the slots a master is migrating away or importing,
// as it reports them in its own line of CLUSTER NODES ("[slot->-nodeid]" migrating,
// "[slot-<-nodeid]" importing). CLUSTER SHARDS and CLUSTER SLOTS do not say, and a node
// only knows its own migrations, so the refresher asks each master (see
// TopologyRefresher); this is for operators (/topology, the page, /events), never for routing.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "cluster/slot.hpp"
#include "cluster/view_changes.hpp"

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

// The moves that began and ended between two polls (each master's report, by address), for
// the event log: "migration_started" and "migration_finished", one event per (source, target)
// with its slots. A slot is one move whether the source (migrating), the target (importing) or
// both report it; peers are named by address when `view` knows their id.
std::vector<ViewChange> describe_migration_changes(
    const std::map<std::string, NodeMigrations>& before,
    const std::map<std::string, NodeMigrations>& after, const ClusterView& view);

}  // namespace slotgate::cluster
