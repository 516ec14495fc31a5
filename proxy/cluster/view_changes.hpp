// cluster::describe_changes(): what changed between two topology snapshots, in the
// words an operator uses during an incident ("failover: 10.0.0.5:6379 promoted to
// master (was replica of 10.0.0.2:6379)", "5461 slots moved from A to B"). The
// refresher records the result in the EventLog each time a refresh brings a new view.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_view.hpp"

namespace slotgate::cluster {

struct ViewChange {
  std::string kind;  // discovered, failover, role_changed, demoted, node_added, node_removed,
                     // node_failed, node_loading, node_loaded, node_back, slots_moved,
                     // slots_uncovered, slots_covered
  std::string message;
  bool operator==(const ViewChange&) const = default;
};

// before == nullptr (or a view without nodes): one "discovered" change.
std::vector<ViewChange> describe_changes(const ClusterView* before, const ClusterView& after);

// "0-5460" or "0-99,200,300-400" (at most max_ranges ranges, then ", ...").
std::string describe_slots(const std::vector<Slot>& slots, size_t max_ranges = 4);

}  // namespace slotgate::cluster
