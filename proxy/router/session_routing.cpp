#include "router/session_routing.hpp"

#include <algorithm>

#include "commands/command_table.hpp"

namespace slotgate::router {

namespace {
bool iequals_ascii(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() &&
         std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
           return static_cast<char>(x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
         });
}
}  // namespace

std::string subscription_master(const cluster::ClusterView* view) {
  if (view == nullptr) return {};
  uint16_t owner = view->master_of(kSubscriptionSlot);
  if (owner == cluster::ClusterView::kNoNode) {
    auto masters = view->master_indices();
    if (masters.empty()) return {};
    owner = masters.front();
  }
  return view->node(owner).address;
}

std::vector<std::string> masters_except(const cluster::ClusterView* view,
                                        std::string_view address) {
  std::vector<std::string> out;
  if (view == nullptr) return out;
  for (uint16_t m : view->master_indices()) {
    const std::string& a = view->node(m).address;
    if (a != address) out.push_back(a);
  }
  return out;
}

std::string master_address(const cluster::ClusterView* view, cluster::Slot slot) {
  uint16_t owner = view ? view->master_of(slot) : cluster::ClusterView::kNoNode;
  if (owner == cluster::ClusterView::kNoNode) return {};
  return view->node(owner).address;
}

bool is_master(const cluster::ClusterView* view, std::string_view address) {
  if (view == nullptr) return false;
  auto idx = view->find_by_address(address);
  if (!idx) return false;
  auto masters = view->master_indices();
  return std::find(masters.begin(), masters.end(), *idx) != masters.end();
}

std::optional<cluster::Slot> shard_channels_slot(std::span<const std::string> names,
                                                 const cluster::ClusterView* view) {
  if (view != nullptr && view->single_node()) return kSingleNodeSlot;
  cluster::Slot slot = cluster::key_slot(names.front());
  for (const auto& n : names) {
    if (cluster::key_slot(n) != slot) return std::nullopt;
  }
  return slot;
}

CommonSlot common_slot(const commands::CommandSpec& spec, std::span<const std::string_view> args,
                       std::vector<uint32_t>& scratch, const cluster::ClusterView* view) {
  const bool single_node = view != nullptr && view->single_node();
  CommonSlot out;
  scratch.clear();
  if (!commands::key_positions(spec, args, scratch, commands::KeySearch::KeysAndShardChannels)) {
    return out;  // the node will answer the error Redis gives
  }
  for (uint32_t k : scratch) {
    cluster::Slot s = single_node ? kSingleNodeSlot : cluster::key_slot(args[k]);
    if (out.slot && *out.slot != s) {
      out.cross_slot = true;
      return out;
    }
    out.slot = s;
  }
  return out;
}

bool watch_still_holds(const cluster::ClusterView* view, cluster::Slot watched,
                       std::string_view guard_address) {
  std::string owner = master_address(view, watched);
  return !owner.empty() && owner == guard_address;
}

bool blocks(const commands::CommandSpec& spec, std::span<const std::string_view> args) {
  if (spec.routing == commands::Routing::Blocking) return true;
  if (!spec.has_trait(commands::kBlockOption)) return false;
  // XREAD … BLOCK ms … STREAMS: blocking only with BLOCK, which comes before STREAMS.
  for (size_t i = 1; i < args.size(); ++i) {
    if (iequals_ascii(args[i], "block")) return true;
    if (iequals_ascii(args[i], "streams")) break;
  }
  return false;
}

}  // namespace slotgate::router
