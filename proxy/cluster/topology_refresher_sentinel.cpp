// TopologyRefresher for backend.kind sentinel: the Sentinels say which node is the master (a
// majority of those that answer), the node's own ROLE confirms it before any write goes there,
// and the view is one shard: that master owns every slot, the Sentinels' replicas hang off it.
// The rest of slotgate (holds, failover, pub/sub, transactions, read_from) sees the same
// single-node view as with a standalone Redis.
#include <spdlog/spdlog.h>

#include "cluster/control_connection.hpp"
#include "cluster/topology_refresher.hpp"

namespace slotgate::cluster {

namespace {
// ROLE of the node: Master, Replica, or the error. A node that refuses ROLE to slotgate's ACL
// user but answers PING is taken for the master the Sentinels named.
std::variant<Role, std::string> ask_role(ControlConnection& conn, uint64_t timeout_ms) {
  const std::string_view role_cmd[] = {"ROLE"};
  auto reply = conn.command(role_cmd, timeout_ms);
  if (auto* e = std::get_if<std::string>(&reply)) return *e;
  const auto& v = std::get<resp::Value>(reply);
  if (v.is_error()) {
    const std::string_view ping_cmd[] = {"PING"};
    auto pong = conn.command(ping_cmd, timeout_ms);
    if (auto* e = std::get_if<std::string>(&pong)) return *e;
    if (const auto& pv = std::get<resp::Value>(pong); pv.is_error()) return pv.str;
    return Role::Master;
  }
  if (v.elements.empty()) return std::string("empty ROLE reply");
  const std::string& word = v.elements.front().str;
  if (word == "master") return Role::Master;
  if (word == "slave" || word == "replica") return Role::Replica;
  return "ROLE says " + word + ", not a Redis server";
}
}  // namespace

void TopologyRefresher::sentinel_event(std::string_view event, std::string_view payload) {
  {
    std::lock_guard lock(mu_);
    if (event == "+try-failover" && view_ && !view_->master_indices().empty()) {
      failing_over_ = view_->node(view_->master_indices().front()).address;
      failing_over_since_ = std::chrono::steady_clock::now();
    } else if (event.starts_with("-failover-abort")) {
      failing_over_.clear();
    }
    // Until a refresh confirms the master, refresh fast (every fast_interval).
    if (event != "subscribed") degraded_hint_ = true;
    if (pending_trigger_.empty()) pending_trigger_ = "sentinel " + std::string(event);
  }
  cv_.notify_all();
  if (event != "subscribed") spdlog::info("Sentinel event {} {}", event, payload);
}

bool TopologyRefresher::refresh_sentinel(std::string_view trigger, std::string& error) {
  const NodeAccess access = node_access();
  SentinelAccess sentinels;
  {
    std::lock_guard lock(mu_);
    sentinels = options_.sentinels;  // reconfigure() replaces its TLS context
  }
  auto found = discover_master(sentinels);
  if (auto* e = std::get_if<std::string>(&found)) {
    record_failure(trigger, {*e}, error);
    return false;
  }
  const SentinelAnswer& answer = std::get<SentinelAnswer>(found);
  const auto ips = resolve_all(answer.master.host);
  if (ips.empty()) {
    record_failure(trigger, {"cannot resolve the master " + answer.master.host}, error);
    return false;
  }
  const Candidate c{ips.front(), answer.master.port,
                    make_address(answer.master.host, answer.master.port)};
  auto opened =
      ControlConnection::open(c.ip, c.port, access.username, access.password,
                              access.connect_timeout_ms, access.tls, access.server_name(c.ip));
  if (auto* e = std::get_if<std::string>(&opened)) {
    record_failure(trigger, {"master " + c.label + ": " + *e}, error);
    return false;
  }
  auto& conn = std::get<ControlConnection>(opened);
  auto role = ask_role(conn, access.command_timeout_ms);
  if (auto* e = std::get_if<std::string>(&role)) {
    record_failure(trigger, {"master " + c.label + ": " + *e}, error);
    return false;
  }
  // Why hold while a failover runs: Sentinel promotes the replica before it demotes the old
  // master, and a write the old master acknowledges in between is lost.
  constexpr auto kFailoverWatch = std::chrono::seconds(10);
  bool failing_over = false;
  {
    std::lock_guard lock(mu_);
    if (!failing_over_.empty() &&
        (failing_over_ != c.label ||
         std::chrono::steady_clock::now() - failing_over_since_ > kFailoverWatch))
      failing_over_.clear();
    failing_over = !failing_over_.empty();
  }
  const bool is_master = std::get<Role>(role) == Role::Master && !failing_over;
  bool was_not_master = false;
  std::vector<std::pair<std::string, uint16_t>> replicas;
  for (const auto& r : answer.replicas) replicas.emplace_back(r.host, r.port);
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = next_version_;
    was_not_master = sentinel_not_master_;
    sentinel_not_master_ = !is_master;
    // Why: the Sentinels name the new master a moment before it runs REPLICAOF NO ONE (or
    // name a node that is still a replica): until ROLE says master, nothing is written to it.
    if (!is_master) degraded_hint_ = true;
  }
  if (!is_master && !was_not_master) {
    spdlog::warn("the Sentinels name {} master of '{}' ({} of {} agree) but {}: requests wait",
                 c.label, options_.sentinels.master_name, answer.votes, answer.answered,
                 failing_over ? "a failover is running" : "its ROLE is replica");
  }
  auto view = ClusterView::sentinel(answer.master.host, answer.master.port,
                                    is_master ? Role::Master : Role::Replica, replicas, version);
  learn_redis_version(conn, access.command_timeout_ms);
  refreshes_++;
  std::vector<ViewChange> changes = accept_view(view, c, trigger);
  if (!is_master) {
    std::lock_guard lock(mu_);
    degraded_hint_ = true;  // accept_view cleared it
  }
  if (hooks_.event) {
    for (const ViewChange& change : changes) hooks_.event(change.kind, change.message);
  }
  if (hooks_.refreshed) hooks_.refreshed(trigger, true);
  return true;
}

}  // namespace slotgate::cluster
