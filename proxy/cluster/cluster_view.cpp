// ClusterView: queries on one topology snapshot and the copy-on-write patches (MOVED,
// node failure) that make the next snapshot. Parsing of topology replies lives in
// topology_parse.cpp; ViewBuilder (view_builder.hpp) is implemented here.
#include "cluster/cluster_view.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <tuple>
#include <vector>

#include "cluster/view_builder.hpp"

namespace slotgate::cluster {

std::string_view to_string(Role role) {
  return role == Role::Master ? "master" : "replica";
}

std::string_view to_string(Health health) {
  switch (health) {
    case Health::Online:
      return "online";
    case Health::Loading:
      return "loading";
    case Health::Failed:
      return "failed";
  }
  return "unknown";
}

std::string make_address(std::string_view host, uint16_t port) {
  std::string address;
  address.reserve(host.size() + 6);
  address.append(host);
  address.push_back(':');
  address.append(std::to_string(port));
  return address;
}

bool split_address(std::string_view address, std::string& host, uint16_t& port) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= address.size()) return false;
  std::string_view h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string_view p = address.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) return false;
  host.assign(h);
  port = static_cast<uint16_t>(value);
  return !host.empty();
}

ClusterView::ClusterView() : created_(std::chrono::steady_clock::now()) {
  slot_owner_.fill(kNoNode);
}

void ClusterView::index_slots() {
  std::vector<bool> owns(nodes_.size(), false);
  covered_ = 0;
  for (uint16_t owner : slot_owner_) {
    if (owner == kNoNode) continue;
    ++covered_;
    owns[owner] = true;
  }
  owners_.clear();
  for (size_t i = 0; i < owns.size(); ++i) {
    if (owns[i]) owners_.push_back(static_cast<uint16_t>(i));
  }
}

// Why prefer a live node: after a node is replaced at the same address (pod restarted with
// a fresh id), the old entry lingers as failed until it is forgotten.
std::optional<uint16_t> ClusterView::find_by_address(std::string_view address) const {
  std::optional<uint16_t> failed_match;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].address != address) continue;
    if (nodes_[i].health != Health::Failed) return static_cast<uint16_t>(i);
    if (!failed_match) failed_match = static_cast<uint16_t>(i);
  }
  return failed_match;
}

std::optional<uint16_t> ClusterView::find_by_id(std::string_view id) const {
  if (id.empty()) return std::nullopt;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].id == id) return static_cast<uint16_t>(i);
  }
  return std::nullopt;
}

std::vector<SlotRange> ClusterView::ranges_of(uint16_t node_index) const {
  std::vector<SlotRange> ranges;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (slot_owner_[slot] != node_index) continue;
    const auto s = static_cast<Slot>(slot);
    if (!ranges.empty() && ranges.back().last + 1 == slot) {
      ranges.back().last = s;
    } else {
      ranges.push_back(SlotRange{s, s});
    }
  }
  return ranges;
}

ClusterView::Ptr ClusterView::with_slot_moved(Slot slot, std::string_view host, uint16_t port,
                                              uint64_t version) const {
  auto copy = std::make_shared<ClusterView>(*this);
  copy->version_ = version;
  copy->created_ = std::chrono::steady_clock::now();
  const std::string address = make_address(host, port);
  auto index = copy->find_by_address(address);
  if (!index && copy->nodes_.size() < kNoNode) {
    Node node;
    node.host = std::string(host);
    node.port = port;
    node.address = address;
    copy->nodes_.push_back(std::move(node));
    index = static_cast<uint16_t>(copy->nodes_.size() - 1);
  }
  if (index) {
    // Why: MOVED is the cluster's own, freshest word that this node serves the slot now, e.g.
    // a replica promoted by a failover we have not refreshed yet.
    Node& node = copy->nodes_[*index];
    node.role = Role::Master;
    node.master_id.clear();
    if (node.health == Health::Failed) node.health = Health::Online;
    copy->slot_owner_[slot & (kSlotCount - 1)] = *index;
  }
  copy->index_slots();
  return copy;
}

ClusterView::Ptr ClusterView::with_replicas_serving(const std::map<std::string, bool>& serves,
                                                    uint64_t version) const {
  auto flag = [&serves](const Node& n) {
    if (n.role != Role::Replica) return n.serves_reads;
    auto it = serves.find(n.address);
    return it != serves.end() && it->second;
  };
  bool changed = false;
  for (const Node& n : nodes_) changed = changed || flag(n) != n.serves_reads;
  if (!changed) return nullptr;
  auto copy = std::make_shared<ClusterView>(*this);
  copy->version_ = version;
  copy->created_ = std::chrono::steady_clock::now();
  for (Node& n : copy->nodes_) n.serves_reads = flag(n);
  return copy;
}

std::vector<uint16_t> ClusterView::replicas_of(uint16_t master) const {
  std::vector<uint16_t> out;
  const std::string& id = nodes_[master].id;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].role == Role::Replica && nodes_[i].master_id == id)
      out.push_back(static_cast<uint16_t>(i));
  }
  return out;
}

ClusterView::Ptr ClusterView::with_node_failed(std::string_view address, uint64_t version) const {
  auto copy = std::make_shared<ClusterView>(*this);
  copy->version_ = version;
  copy->created_ = std::chrono::steady_clock::now();
  for (size_t i = 0; i < copy->nodes_.size(); ++i) {
    if (copy->nodes_[i].address != address) continue;
    copy->nodes_[i].health = Health::Failed;
    for (auto& owner : copy->slot_owner_) {
      if (owner == i) owner = kNoNode;
    }
  }
  copy->index_slots();
  return copy;
}

bool ClusterView::same_slot_map(const ClusterView& other) const {
  // Translate our node indices to the other view's once, then compare the flat maps.
  constexpr uint16_t kUnmapped = kNoNode - 1;
  std::vector<uint16_t> to_other(nodes_.size(), kUnmapped);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (size_t j = 0; j < other.nodes_.size(); ++j) {
      if (nodes_[i].address == other.nodes_[j].address) {
        to_other[i] = static_cast<uint16_t>(j);
        break;
      }
    }
  }
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const uint16_t mine = slot_owner_[slot];
    const uint16_t theirs = other.slot_owner_[slot];
    if (mine == kNoNode || theirs == kNoNode) {
      if (mine != theirs) return false;
      continue;
    }
    if (to_other[mine] == theirs) continue;
    // Two entries with one address (a replaced node) in the other view: compare by address.
    if (nodes_[mine].address != other.nodes_[theirs].address) return false;
  }
  return true;
}

std::string ClusterView::describe() const {
  size_t masters = 0, replicas = 0, failed = 0;
  for (const Node& node : nodes_) {
    if (node.health == Health::Failed) {
      ++failed;
    } else if (node.role == Role::Master) {
      ++masters;
    } else {
      ++replicas;
    }
  }
  std::string text = std::to_string(masters) + (masters == 1 ? " master, " : " masters, ") +
                     std::to_string(replicas) + (replicas == 1 ? " replica, " : " replicas, ") +
                     std::to_string(covered_) + "/" + std::to_string(kSlotCount) + " slots";
  if (failed > 0) text += ", " + std::to_string(failed) + " failed";
  return text;
}

ClusterView::Ptr ClusterView::standalone(std::string_view host, uint16_t port, Role role,
                                         uint64_t version) {
  ViewBuilder builder(version);
  Node node;
  node.host = std::string(host);
  node.port = port;
  node.address = make_address(host, port);
  node.role = role;
  auto index = builder.add_node(std::move(node));
  if (index && role == Role::Master) builder.assign(0, kSlotCount - 1, *index);
  builder.mark_single_node();
  return builder.finish();
}

ClusterView::Ptr ClusterView::sentinel(
    std::string_view host, uint16_t port, Role role,
    const std::vector<std::pair<std::string, uint16_t>>& replicas, uint64_t version) {
  ViewBuilder builder(version);
  Node master;
  master.host = std::string(host);
  master.port = port;
  master.address = make_address(host, port);
  master.id = master.address;
  master.role = role;
  const std::string master_id = master.id;
  auto index = builder.add_node(std::move(master));
  if (index && role == Role::Master) builder.assign(0, kSlotCount - 1, *index);
  for (const auto& [replica_host, replica_port] : replicas) {
    Node replica;
    replica.host = replica_host;
    replica.port = replica_port;
    replica.address = make_address(replica_host, replica_port);
    if (replica.address == master_id) continue;
    replica.id = replica.address;
    replica.role = Role::Replica;
    replica.master_id = master_id;
    builder.add_node(std::move(replica));
  }
  builder.mark_single_node(true);
  return builder.finish();
}

// ---- ViewBuilder ------------------------------------------------------------

ViewBuilder::ViewBuilder(uint64_t version) : view_(std::make_shared<ClusterView>()) {
  view_->version_ = version;
}

std::optional<uint16_t> ViewBuilder::add_node(Node node) {
  auto& nodes = view_->nodes_;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const bool same = node.id.empty() || nodes[i].id.empty() ? nodes[i].address == node.address
                                                             : nodes[i].id == node.id;
    if (same) return static_cast<uint16_t>(i);
  }
  if (nodes.size() >= ClusterView::kNoNode) return std::nullopt;
  nodes.push_back(std::move(node));
  return static_cast<uint16_t>(nodes.size() - 1);
}

bool ViewBuilder::assign(long long first, long long last, uint16_t owner) {
  if (first < 0 || last >= kSlotCount || first > last) return false;
  for (long long slot = first; slot <= last; ++slot) view_->slot_owner_[slot] = owner;
  return true;
}

// Why: every node lists the cluster in the order of its own hash table, so one cluster read
// from two nodes gave two views that differed only in order. The refresher asks the first
// master of its view next, so after a failover it could go round the nodes and publish a
// "new" view at every refresh, and /topology's order changed with it. The canonical order:
// shards by their first slot (the master, then its replicas), then nodes without slots;
// within each, by address and id.
void ViewBuilder::order_nodes() {
  auto& nodes = view_->nodes_;
  const size_t count = nodes.size();
  std::vector<int> first_slot(count, kSlotCount);
  for (int slot = kSlotCount - 1; slot >= 0; --slot) {
    const uint16_t owner = view_->slot_owner_[slot];
    if (owner != ClusterView::kNoNode) first_slot[owner] = slot;
  }
  std::vector<int> shard(count, kSlotCount);
  for (size_t i = 0; i < count; ++i) {
    if (nodes[i].role == Role::Master) {
      shard[i] = first_slot[i];
      continue;
    }
    for (size_t m = 0; m < count; ++m) {
      if (!nodes[i].master_id.empty() && nodes[m].id == nodes[i].master_id) {
        shard[i] = first_slot[m];
        break;
      }
    }
  }
  std::vector<uint16_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = static_cast<uint16_t>(i);
  std::sort(order.begin(), order.end(), [&](uint16_t a, uint16_t b) {
    const Node& x = nodes[a];
    const Node& y = nodes[b];
    return std::tie(shard[a], x.role, x.address, x.id) <
           std::tie(shard[b], y.role, y.address, y.id);
  });
  std::vector<uint16_t> new_index(count);
  std::vector<Node> sorted;
  sorted.reserve(count);
  for (uint16_t old : order) {
    new_index[old] = static_cast<uint16_t>(sorted.size());
    sorted.push_back(std::move(nodes[old]));
  }
  nodes = std::move(sorted);
  for (auto& owner : view_->slot_owner_) {
    if (owner != ClusterView::kNoNode) owner = new_index[owner];
  }
}

void ViewBuilder::mark_single_node(bool sentinel) {
  view_->single_node_ = true;
  view_->from_sentinel_ = sentinel;
}

ClusterView::Ptr ViewBuilder::finish() {
  view_->created_ = std::chrono::steady_clock::now();
  order_nodes();
  view_->index_slots();
  return std::move(view_);
}

}  // namespace slotgate::cluster
