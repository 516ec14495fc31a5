// router::session_routing: the routing decisions a client session needs for what it keeps
// itself (subscriptions, MULTI/WATCH, blocking commands). The session owns the state; which
// node serves it, and which slot a command's keys pick, is decided here, so client/ never
// reads the slot map.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "cluster/slot.hpp"

namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::router {

// Channel and pattern subscriptions live on the master of this slot, and PUBLISH runs there
// too: PUBLISH answers with the receivers on the node that ran it, so the count includes
// slotgate's own subscribers.
inline constexpr cluster::Slot kSubscriptionSlot = 0;

// The master that carries a session's SUBSCRIBE/PSUBSCRIBE: the owner of kSubscriptionSlot,
// or the first master while that slot has none. Empty when no master is known.
std::string subscription_master(const cluster::ClusterView* view);
// Every master but `address` (keyspace notifications are reported by each node for its own
// keys only, so keyspace subscriptions go to all of them).
std::vector<std::string> masters_except(const cluster::ClusterView* view, std::string_view address);
// The address of the slot's master; empty when the view has none.
std::string master_address(const cluster::ClusterView* view, cluster::Slot slot);
// True when `address` is a master of the view.
bool is_master(const cluster::ClusterView* view, std::string_view address);

// On a standalone Redis (ClusterView::single_node) every slot is the one node: the keys of a
// command, a transaction or a watch all "share" this slot, so nothing is CROSSSLOT.
inline constexpr cluster::Slot kSingleNodeSlot = 0;

// The slot of SSUBSCRIBE's shard channels; nullopt when they span slots (CROSSSLOT, as in
// Redis Cluster; never on a single-node view). `names` must not be empty.
std::optional<cluster::Slot> shard_channels_slot(std::span<const std::string> names,
                                                 const cluster::ClusterView* view = nullptr);

// The slot all keys (and shard channels) of a command hash to, for a command that must run on
// one master (queued in MULTI, WATCH). `scratch` is reused for key positions. On a single-node
// view every key gives kSingleNodeSlot.
struct CommonSlot {
  bool cross_slot = false;            // keys span slots
  std::optional<cluster::Slot> slot;  // nullopt: no keys, or arguments Redis will refuse
};
CommonSlot common_slot(const commands::CommandSpec& spec, std::span<const std::string_view> args,
                       std::vector<uint32_t>& scratch, const cluster::ClusterView* view = nullptr);

// The slot a transaction runs on: its queued keys' slot, else the watched slot; nullopt when
// neither named a key (any master runs it).
inline std::optional<cluster::Slot> transaction_slot(std::optional<cluster::Slot> queued,
                                                     std::optional<cluster::Slot> watched) {
  return queued ? queued : watched;
}
// WATCH's guard still counts at EXEC only on the connection that holds it, and only while the
// watched slot still belongs to that connection's node.
bool watch_still_holds(const cluster::ClusterView* view, cluster::Slot watched,
                       std::string_view guard_address);

// True when the command blocks and needs a connection of its own: the blocking commands
// (BLPOP, WAIT, ...) and those that block only with an option (XREAD ... BLOCK ms ...).
bool blocks(const commands::CommandSpec& spec, std::span<const std::string_view> args);

}  // namespace slotgate::router
