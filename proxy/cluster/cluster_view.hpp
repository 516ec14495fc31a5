// cluster::ClusterView: one immutable snapshot of the cluster's topology — which master
// owns each of the 16384 slots, the nodes (masters and replicas) and their health.
// Built from CLUSTER SHARDS, CLUSTER SLOTS or CLUSTER NODES; published as
// shared_ptr<const ClusterView> and swapped whole. "Changes" (a MOVED patch, a node seen
// failing) produce a new snapshot, never mutate a published one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cluster/slot.hpp"
#include "resp/value.hpp"

namespace slotgate::cluster {

enum class Role : uint8_t { Master, Replica };
enum class Health : uint8_t { Online, Loading, Failed };

std::string_view to_string(Role role);
std::string_view to_string(Health health);

struct Node {
  std::string id;  // 40-hex node id ("" if unknown, e.g. from CLUSTER SLOTS of old servers)
  std::string host;
  uint16_t port = 0;
  std::string address;  // "host:port" — the key for backend connection pools
  Role role = Role::Master;
  Health health = Health::Online;
  std::string master_id;  // for replicas
  // CLUSTER SHARDS "replication-offset" as the answering node knew it (-1 = unknown).
  // Information for operators only: views that differ in offsets alone are the same view.
  int64_t replication_offset = -1;
  // Reads from replicas: this replica's master reports its link up and its lag within
  // cluster.max_replica_lag (ReplicaMonitor, replica_monitor.hpp). A new view takes the flags over
  // from the published one (TopologyRefresher), so a refresh never resets them.
  bool serves_reads = false;
};

// "host:port", the one spelling of a node address used as a key everywhere (no brackets
// around IPv6 hosts, the same way Redis prints addresses in MOVED/ASK).
std::string make_address(std::string_view host, uint16_t port);
// The other way: "host:port" (also "[v6]:port", a seed as written) into its parts. False when
// malformed (no port, port not 1-65535, empty host).
bool split_address(std::string_view address, std::string& host, uint16_t& port);

struct SlotRange {
  Slot first, last;
  bool operator==(const SlotRange&) const = default;
};

class ClusterView {
 public:
  using Ptr = std::shared_ptr<const ClusterView>;
  using Result = std::variant<Ptr, std::string>;  // the view, or why the reply was not usable
  static constexpr uint16_t kNoNode = 0xFFFF;

  // An empty view: no nodes, no slot covered (the state before the first discovery).
  ClusterView();

  // Build from a CLUSTER SHARDS reply (RESP2: array of flat [k,v,...] arrays; RESP3 maps
  // too). Nodes whose health is "fail"/"failed" are ignored as slot owners; replicas are kept
  // as information. A node whose endpoint is empty, "?" or null is reached at fallback_host.
  // An error reply (e.g. a server older than 7.0) or a malformed reply gives an error string.
  static Result from_shards(const resp::Value& reply, uint64_t version);
  // tls_port: reach nodes on the "tls-port" they announce (cluster.tls), "port" otherwise
  // (each falls back to the other when a node announces only one).
  static Result from_shards(const resp::Value& reply, std::string_view fallback_host,
                            uint64_t version, bool tls_port = false);
  // Build from CLUSTER SLOTS (RESP2: [[start,end,[host,port,id,...],[replica...]...],...]).
  // An empty/null/"?" host in a node entry means "the address we asked" -> fallback_host.
  static Result from_slots(const resp::Value& reply, std::string_view fallback_host,
                           uint64_t version);
  // Build from CLUSTER NODES text. Nodes flagged fail/noaddr are kept as Failed and own no
  // slots; nodes in handshake are skipped; "[slot->-id]"/"[slot-<-id]" migration tokens are
  // ignored. An empty host (a lone node that does not know its own IP) -> fallback_host.
  static Result from_nodes(std::string_view text, uint64_t version,
                           std::string_view fallback_host = {});

  // A standalone Redis (backend.kind standalone) at host:port: a view of one node. As a master
  // it owns every slot; as a replica (ROLE slave) it owns none, so requests wait (failover
  // hold) until it is a master again instead of being written to a replica.
  static Ptr standalone(std::string_view host, uint16_t port, Role role, uint64_t version);
  // backend.kind sentinel: the master the Sentinels named (owning every slot once ROLE confirmed
  // it is a master, none otherwise) and the replicas they list (ids are the addresses, so
  // replicas_of() and read_from find them). single_node() like a standalone Redis.
  static Ptr sentinel(std::string_view host, uint16_t port, Role role,
                      const std::vector<std::pair<std::string, uint16_t>>& replicas,
                      uint64_t version);

  // True for a standalone Redis: not a cluster, every key lives on the one node, so keys of
  // different slots go together (no CROSSSLOT, no splitting, SCAN's cursor is the node's own)
  // and a MOVED/ASK in a reply is data, never a signal.
  bool single_node() const { return single_node_; }
  // The single node is the master a Sentinel group named (backend.kind sentinel).
  bool from_sentinel() const { return from_sentinel_; }

  // Hot path: O(1).
  uint16_t master_of(Slot slot) const { return slot_owner_[slot & (kSlotCount - 1)]; }
  // Precondition: index < nodes().size().
  const Node& node(uint16_t index) const { return nodes_[index]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  // Masters that own at least one slot, in node-index order.
  std::vector<uint16_t> master_indices() const { return owners_; }
  std::optional<uint16_t> find_by_address(std::string_view address) const;
  std::optional<uint16_t> find_by_id(std::string_view id) const;
  std::vector<SlotRange> ranges_of(uint16_t node_index) const;
  size_t covered_slots() const { return covered_; }
  bool covers_all_slots() const { return covered_ == static_cast<size_t>(kSlotCount); }
  uint64_t version() const { return version_; }
  std::chrono::steady_clock::time_point created() const { return created_; }

  // A copy with one slot reassigned to host:port (MOVED patch). Adds the node if unknown
  // (role master, id ""). A known replica or failed node named by MOVED is now a master.
  Ptr with_slot_moved(Slot slot, std::string_view host, uint16_t port, uint64_t version) const;
  // A copy where the node at address is marked Failed (its slots lose their owner until a
  // refresh). An unknown address gives an unchanged copy with the new version.
  Ptr with_node_failed(std::string_view address, uint64_t version) const;
  // A copy whose replicas carry serves_reads = serves[address] (false for replicas not named);
  // null when no node's flag would change.
  Ptr with_replicas_serving(const std::map<std::string, bool>& serves, uint64_t version) const;
  // The replicas of the master at node index `master` (Role::Replica, master_id = its id).
  std::vector<uint16_t> replicas_of(uint16_t master) const;
  // True when both views assign every slot to the same address (or both to none).
  bool same_slot_map(const ClusterView& other) const;
  // One-line summary for logs: "3 masters, 3 replicas, 16384/16384 slots".
  std::string describe() const;

 private:
  friend class ViewBuilder;
  // Recomputes owners_ and covered_ from slot_owner_; called once per new snapshot.
  void index_slots();

  std::vector<Node> nodes_;
  std::array<uint16_t, kSlotCount> slot_owner_;
  std::vector<uint16_t> owners_;
  size_t covered_ = 0;
  uint64_t version_ = 0;
  bool single_node_ = false;
  bool from_sentinel_ = false;
  std::chrono::steady_clock::time_point created_;
};

}  // namespace slotgate::cluster
