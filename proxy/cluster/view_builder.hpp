// cluster::ViewBuilder (internal to proxy/cluster/): assembles a new ClusterView from
// the nodes and slot ranges a topology reply names, de-duplicating nodes that appear
// more than once (a master listed once per slot range in CLUSTER SLOTS).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cluster/cluster_view.hpp"

namespace slotgate::cluster {

class ViewBuilder {
 public:
  explicit ViewBuilder(uint64_t version);

  // Adds a node, or returns the index of the node already known under the same id (or, when
  // the id is unknown, the same address). nullopt when the view is full (kNoNode nodes).
  std::optional<uint16_t> add_node(Node node);
  Node& node(uint16_t index) { return view_->nodes_[index]; }
  // Assigns first..last (inclusive) to owner. False when the range is not a valid slot range.
  bool assign(long long first, long long last, uint16_t owner);
  // The view is of a standalone Redis (ClusterView::single_node).
  // sentinel: the node is the master a Sentinel group named (reported as backend "sentinel").
  void mark_single_node(bool sentinel = false);
  // Seals the snapshot: puts the nodes in their canonical order, stamps the creation time and
  // indexes the slot map.
  ClusterView::Ptr finish();

 private:
  void order_nodes();
  std::shared_ptr<ClusterView> view_;
};

}  // namespace slotgate::cluster
