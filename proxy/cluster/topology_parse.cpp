// ClusterView::from_shards / from_slots / from_nodes: reading the three ways a Redis
// Cluster node describes the topology (CLUSTER SHARDS in 7.0+, CLUSTER SLOTS before
// that, CLUSTER NODES text) into a ClusterView. Malformed replies are errors, not guesses:
// a wrong slot map sends writes to the wrong node.
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "cluster/view_builder.hpp"
#include "resp/integer_text.hpp"

namespace slotgate::cluster {
namespace {

using resp::parse_integer;
using resp::Type;
using resp::Value;

// Integers arrive as ':' replies, but be lenient with proxies that send them as strings.
std::optional<long long> integer_of(const Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->type == Type::Integer) return v->integer;
  if (v->is_string()) return parse_integer(v->str);
  return std::nullopt;
}

std::optional<uint16_t> port_of(const Value* v) {
  const auto n = integer_of(v);
  if (!n || *n < 0 || *n > 65535) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

bool is_list(const Value& v) {
  return v.type == Type::Array || v.type == Type::Set;
}

// A record is a RESP3 map or a RESP2 flat [key, value, key, value, ...] array.
bool is_record(const Value& v) {
  return v.type == Type::Map || (v.type == Type::Array && v.elements.size() % 2 == 0);
}

const Value* field(const Value& record, std::string_view name) {
  for (size_t i = 0; i + 1 < record.elements.size(); i += 2) {
    const Value& key = record.elements[i];
    if (key.is_string() && key.str == name) return &record.elements[i + 1];
  }
  return nullptr;
}

std::string_view text_of(const Value* v) {
  return v != nullptr && v->is_string() ? std::string_view(v->str) : std::string_view();
}

// Why: Redis reports an empty endpoint when a node does not know its own IP (a lone node),
// null with cluster-preferred-endpoint-type unknown-endpoint (nodes behind a load balancer),
// and "?" when hostnames are preferred but none is set. In all three the client is meant to
// use the address it asked, with the port from the reply.
bool usable_host(std::string_view host) {
  return !host.empty() && host != "?";
}

std::string pick_host(std::string_view preferred, std::string_view second,
                      std::string_view fallback) {
  if (usable_host(preferred)) return std::string(preferred);
  if (usable_host(second)) return std::string(second);
  return std::string(fallback);
}

Node make_node(std::string id, std::string host, uint16_t port, Role role, Health health) {
  Node node;
  node.id = std::move(id);
  node.host = std::move(host);
  node.port = port;
  node.address = make_address(node.host, port);
  node.role = role;
  node.health = health;
  return node;
}

std::string error_reply(std::string_view command, const Value& reply) {
  return std::string(command) + " failed: " + reply.str;
}

constexpr std::string_view kTooManyNodes = "too many nodes in the topology";

// ---- CLUSTER SHARDS -----------------------------------------------------------

struct ShardNode {
  uint16_t index;
  Role role;
  Health health;
};

std::optional<std::string> parse_shard(const Value& shard, std::string_view fallback_host,
                                       bool tls_port, ViewBuilder& builder) {
  if (!is_record(shard)) return "CLUSTER SHARDS: a shard is not a map";
  const Value* slots = field(shard, "slots");
  const Value* nodes = field(shard, "nodes");
  if (slots == nullptr || !is_list(*slots) || slots->elements.size() % 2 != 0) {
    return "CLUSTER SHARDS: a shard has no valid \"slots\" list";
  }
  if (nodes == nullptr || !is_list(*nodes)) {
    return "CLUSTER SHARDS: a shard has no \"nodes\" list";
  }

  std::vector<ShardNode> members;
  for (const Value& entry : nodes->elements) {
    if (!is_record(entry)) return "CLUSTER SHARDS: a node entry is not a map";
    const std::string_view id = text_of(field(entry, "id"));
    if (id.empty()) return "CLUSTER SHARDS: a node entry has no id";
    const char* first = tls_port ? "tls-port" : "port";
    auto port = port_of(field(entry, first));
    if (!port || *port == 0) port = port_of(field(entry, tls_port ? "port" : "tls-port"));
    if (!port) return "CLUSTER SHARDS: node " + std::string(id) + " has no valid port";

    const std::string_view role_text = text_of(field(entry, "role"));
    Role role;
    if (role_text == "master") {
      role = Role::Master;
    } else if (role_text == "replica" || role_text == "slave") {
      role = Role::Replica;
    } else {
      return "CLUSTER SHARDS: node " + std::string(id) + " has unknown role '" +
             std::string(role_text) + "'";
    }
    const std::string_view health_text = text_of(field(entry, "health"));
    Health health = Health::Online;
    if (health_text == "fail" || health_text == "failed") {
      health = Health::Failed;
    } else if (health_text == "loading") {
      health = Health::Loading;
    }

    const std::string host =
        pick_host(text_of(field(entry, "endpoint")), text_of(field(entry, "ip")), fallback_host);
    Node node = make_node(std::string(id), host, *port, role, health);
    if (const auto offset = integer_of(field(entry, "replication-offset"));
        offset && *offset >= 0) {
      node.replication_offset = *offset;
    }
    auto index = builder.add_node(std::move(node));
    if (!index) return std::string(kTooManyNodes);
    members.push_back(ShardNode{*index, role, health});
  }

  // Why: after a failover the old master may still be listed in its shard, flagged failed,
  // next to the promoted one. The slots belong to the live master; replicas follow it.
  std::optional<uint16_t> owner;
  std::optional<uint16_t> any_master;
  for (const ShardNode& m : members) {
    if (m.role != Role::Master) continue;
    if (!any_master) any_master = m.index;
    if (!owner && m.health != Health::Failed) owner = m.index;
  }
  const auto leader = owner ? owner : any_master;
  if (leader) {
    const std::string leader_id = builder.node(*leader).id;
    for (const ShardNode& m : members) {
      if (m.role == Role::Replica) builder.node(m.index).master_id = leader_id;
    }
  }

  for (size_t i = 0; i < slots->elements.size(); i += 2) {
    const auto first = integer_of(&slots->elements[i]);
    const auto last = integer_of(&slots->elements[i + 1]);
    if (!first || !last || *first < 0 || *last >= kSlotCount || *first > *last) {
      return "CLUSTER SHARDS: invalid slot range";
    }
    if (owner) builder.assign(*first, *last, *owner);
  }
  return std::nullopt;
}

// ---- CLUSTER SLOTS ------------------------------------------------------------

std::optional<std::string> parse_slot_node(const Value& entry, std::string_view fallback_host,
                                           Role role, std::string_view master_id,
                                           ViewBuilder& builder, uint16_t& index_out) {
  if (entry.type != Type::Array || entry.elements.size() < 2) {
    return "CLUSTER SLOTS: a node entry is not [host, port, ...]";
  }
  const Value& host_value = entry.elements[0];
  if (!host_value.is_string() && !host_value.is_null()) {
    return "CLUSTER SLOTS: a node host is not a string";
  }
  const auto port = port_of(&entry.elements[1]);
  if (!port) return "CLUSTER SLOTS: a node has no valid port";
  std::string id;
  if (entry.elements.size() >= 3 && entry.elements[2].is_string()) id = entry.elements[2].str;

  Node node = make_node(std::move(id), pick_host(text_of(&host_value), {}, fallback_host), *port,
                        role, Health::Online);
  node.master_id = std::string(master_id);
  const auto index = builder.add_node(std::move(node));
  if (!index) return std::string(kTooManyNodes);
  index_out = *index;
  return std::nullopt;
}

// ---- CLUSTER NODES ------------------------------------------------------------

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(sep, start);
    const size_t stop = end == std::string_view::npos ? text.size() : end;
    if (stop > start) parts.push_back(text.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::optional<std::string> parse_nodes_line(std::string_view line, std::string_view fallback_host,
                                            ViewBuilder& builder) {
  // <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
  const auto fields = split(line, ' ');
  if (fields.size() < 8) return "CLUSTER NODES: short line '" + std::string(line) + "'";

  bool replica = false, failed = false, handshake = false;
  for (std::string_view flag : split(fields[2], ',')) {
    if (flag == "slave" || flag == "replica") replica = true;
    // "fail?" (PFAIL) is one node's suspicion only; Redis still routes to that node.
    if (flag == "fail" || flag == "noaddr") failed = true;
    if (flag == "handshake") handshake = true;
  }
  // Why skip: a node in handshake carries a random temporary id and is not a member yet.
  if (handshake) return std::nullopt;

  std::string_view address = fields[1];
  address = address.substr(0, address.find(','));  // drop ",hostname"
  address = address.substr(0, address.find('@'));  // drop "@cport"
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return "CLUSTER NODES: bad address '" + std::string(fields[1]) + "'";
  }
  const auto port_number = parse_integer(address.substr(colon + 1));
  if (!port_number || *port_number < 0 || *port_number > 65535) {
    return "CLUSTER NODES: bad port in '" + std::string(fields[1]) + "'";
  }
  const auto port = static_cast<uint16_t>(*port_number);

  Node node = make_node(
      std::string(fields[0]), pick_host(address.substr(0, colon), {}, fallback_host), port,
      replica ? Role::Replica : Role::Master, failed ? Health::Failed : Health::Online);
  if (replica && fields[3] != "-") node.master_id = std::string(fields[3]);
  const auto index = builder.add_node(std::move(node));
  if (!index) return std::string(kTooManyNodes);

  for (size_t i = 8; i < fields.size(); ++i) {
    const std::string_view token = fields[i];
    // "[slot->-id]" (migrating) and "[slot-<-id]" (importing): the slot's owner is still the
    // node that lists it plainly; ASK redirects cover the keys already moved.
    if (token.front() == '[') continue;
    const size_t dash = token.find('-');
    const auto first = parse_integer(token.substr(0, dash));
    const auto last =
        dash == std::string_view::npos ? first : parse_integer(token.substr(dash + 1));
    if (!first || !last || *first < 0 || *last >= kSlotCount || *first > *last) {
      return "CLUSTER NODES: bad slot range '" + std::string(token) + "'";
    }
    if (!replica && !failed) builder.assign(*first, *last, *index);
  }
  return std::nullopt;
}

}  // namespace

ClusterView::Result ClusterView::from_shards(const resp::Value& reply, uint64_t version) {
  return from_shards(reply, {}, version);
}

ClusterView::Result ClusterView::from_shards(const resp::Value& reply,
                                             std::string_view fallback_host, uint64_t version,
                                             bool tls_port) {
  if (reply.is_error()) return error_reply("CLUSTER SHARDS", reply);
  if (!is_list(reply)) return std::string("CLUSTER SHARDS: reply is not an array");
  ViewBuilder builder(version);
  for (const Value& shard : reply.elements) {
    if (auto error = parse_shard(shard, fallback_host, tls_port, builder)) return std::move(*error);
  }
  return builder.finish();
}

ClusterView::Result ClusterView::from_slots(const resp::Value& reply,
                                            std::string_view fallback_host, uint64_t version) {
  if (reply.is_error()) return error_reply("CLUSTER SLOTS", reply);
  if (!is_list(reply)) return std::string("CLUSTER SLOTS: reply is not an array");
  ViewBuilder builder(version);
  for (const Value& range : reply.elements) {
    if (range.type != Type::Array || range.elements.size() < 3) {
      return std::string("CLUSTER SLOTS: an entry is not [start, end, master, ...]");
    }
    const auto first = integer_of(&range.elements[0]);
    const auto last = integer_of(&range.elements[1]);
    if (!first || !last || *first < 0 || *last >= kSlotCount || *first > *last) {
      return std::string("CLUSTER SLOTS: invalid slot range");
    }
    uint16_t master = kNoNode;
    if (auto error =
            parse_slot_node(range.elements[2], fallback_host, Role::Master, {}, builder, master)) {
      return std::move(*error);
    }
    builder.assign(*first, *last, master);
    const std::string master_id = builder.node(master).id;
    for (size_t i = 3; i < range.elements.size(); ++i) {
      uint16_t replica = kNoNode;
      if (auto error = parse_slot_node(range.elements[i], fallback_host, Role::Replica, master_id,
                                       builder, replica)) {
        return std::move(*error);
      }
    }
  }
  return builder.finish();
}

ClusterView::Result ClusterView::from_nodes(std::string_view text, uint64_t version,
                                            std::string_view fallback_host) {
  ViewBuilder builder(version);
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    if (auto error = parse_nodes_line(line, fallback_host, builder)) return std::move(*error);
  }
  return builder.finish();
}

}  // namespace slotgate::cluster
