#include "cluster/view_changes.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace slotgate::cluster {
namespace {

// The same node in the other view: by id when both know it (a node keeps its id across
// a restart at another address), by address otherwise.
std::optional<uint16_t> counterpart(const ClusterView& other, const Node& node) {
  if (!node.id.empty()) {
    if (auto i = other.find_by_id(node.id)) return i;
  }
  auto i = other.find_by_address(node.address);
  if (i && !node.id.empty() && !other.node(*i).id.empty() && other.node(*i).id != node.id) {
    return std::nullopt;  // another node now lives at that address
  }
  return i;
}

std::string master_address(const ClusterView& view, const Node& replica) {
  if (replica.master_id.empty()) return "?";
  auto m = view.find_by_id(replica.master_id);
  return m ? view.node(*m).address : replica.master_id.substr(0, 8);
}

std::string owner_address(const ClusterView& view, Slot slot) {
  const uint16_t owner = view.master_of(slot);
  return owner == ClusterView::kNoNode ? std::string() : view.node(owner).address;
}

}  // namespace

std::string describe_slots(const std::vector<Slot>& slots, size_t max_ranges) {
  std::string out;
  size_t ranges = 0;
  for (size_t i = 0; i < slots.size();) {
    size_t j = i;
    while (j + 1 < slots.size() && slots[j + 1] == slots[j] + 1) ++j;
    if (ranges == max_ranges) {
      out += ", ...";
      break;
    }
    if (ranges > 0) out += ",";
    out += std::to_string(slots[i]);
    if (j > i) out += "-" + std::to_string(slots[j]);
    ++ranges;
    i = j + 1;
  }
  return out;
}

std::vector<ViewChange> describe_changes(const ClusterView* before, const ClusterView& after) {
  std::vector<ViewChange> out;
  if (before == nullptr || before->nodes().empty()) {
    out.push_back({"discovered", "cluster discovered: " + after.describe()});
    return out;
  }
  const std::vector<uint16_t> slot_owners = after.master_indices();
  for (size_t i = 0; i < after.nodes().size(); ++i) {
    const Node& node = after.nodes()[i];
    const auto was_index = counterpart(*before, node);
    if (!was_index) {
      out.push_back(
          {"node_added", node.address + " joined as " + std::string(to_string(node.role)) +
                             (node.role == Role::Replica ? " of " + master_address(after, node)
                                                         : std::string())});
      continue;
    }
    const Node& was = before->node(*was_index);
    const bool owns_slots =
        std::find(slot_owners.begin(), slot_owners.end(), i) != slot_owners.end();
    if (was.role == Role::Replica && node.role == Role::Master && owns_slots) {
      out.push_back({"failover", "failover: " + node.address +
                                     " promoted to master (was replica of " +
                                     master_address(*before, was) + ")"});
    } else if (was.role == Role::Replica && node.role == Role::Master) {
      // Seen in the middle of a failover, when the answering node's gossip still lists
      // the old master as a master of the shard next to the new one.
      out.push_back({"role_changed", node.address +
                                         " is listed as a master without slots (was "
                                         "replica of " +
                                         master_address(*before, was) + ")"});
    } else if (was.role == Role::Master && node.role == Role::Replica) {
      out.push_back(
          {"demoted", node.address + " is now a replica of " + master_address(after, node)});
    }
    if (was.health != node.health) {
      if (node.health == Health::Failed) {
        out.push_back({"node_failed", node.address + " (" + std::string(to_string(node.role)) +
                                          ") is marked failed by the cluster"});
      } else if (node.health == Health::Loading) {
        out.push_back({"node_loading", node.address + " is loading its data set"});
      } else if (was.health == Health::Loading) {
        out.push_back({"node_loaded", node.address + " finished loading its data set"});
      } else {
        out.push_back({"node_back", node.address + " is online again"});
      }
    }
  }
  for (const Node& node : before->nodes()) {
    if (!counterpart(after, node)) {
      out.push_back({"node_removed", node.address + " (" + std::string(to_string(node.role)) +
                                         ") left the cluster"});
    }
  }
  // Slot ownership, grouped by (old owner, new owner) so a failover is one line.
  std::map<std::pair<std::string, std::string>, std::vector<Slot>> moves;
  for (uint32_t s = 0; s < kSlotCount; ++s) {
    const Slot slot = static_cast<Slot>(s);
    std::string from = owner_address(*before, slot);
    std::string to = owner_address(after, slot);
    if (from != to) moves[{std::move(from), std::move(to)}].push_back(slot);
  }
  for (const auto& [owners, slots] : moves) {
    const auto& [from, to] = owners;
    const std::string count = std::to_string(slots.size()) +
                              (slots.size() == 1 ? " slot (" : " slots (") + describe_slots(slots) +
                              ")";
    if (to.empty()) {
      out.push_back({"slots_uncovered", count + " lost their master " + from});
    } else if (from.empty()) {
      out.push_back({"slots_covered", count + " now served by " + to});
    } else {
      out.push_back({"slots_moved", count + " moved from " + from + " to " + to});
    }
  }
  return out;
}

}  // namespace slotgate::cluster
