#include "cluster/topology_refresher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/control_connection.hpp"
#include "cluster/view_changes.hpp"

namespace slotgate::cluster {

namespace {
using Clock = std::chrono::steady_clock;

// Same slot owners, and the same nodes in the same roles and health.
bool same_view(const ClusterView& a, const ClusterView& b) {
  if (!a.same_slot_map(b) || a.nodes().size() != b.nodes().size()) return false;
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = a.nodes()[i];
    const Node& y = b.nodes()[i];
    if (x.address != y.address || x.id != y.id || x.role != y.role || x.health != y.health) {
      return false;
    }
  }
  return true;
}
}  // namespace

TopologyRefresher::TopologyRefresher(RefresherOptions options, Hooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)), tls_ports_(options_.tls != nullptr) {}

TopologyRefresher::~TopologyRefresher() {
  stop();
}

void TopologyRefresher::reconfigure(const RefresherOptions& next) {
  {
    std::lock_guard lock(mu_);
    const bool discovery_changed =
        options_.seeds != next.seeds || options_.refresh_interval_ms != next.refresh_interval_ms;
    options_.seeds = next.seeds;
    options_.username = next.username;
    options_.password = next.password;
    options_.refresh_interval_ms = next.refresh_interval_ms;
    options_.connect_timeout_ms = next.connect_timeout_ms;
    options_.command_timeout_ms = next.command_timeout_ms;
    // cluster.tls's files reloaded (SIGHUP): a refresh that failed on the old ones goes again.
    const bool tls_changed = options_.tls != next.tls;
    options_.tls = next.tls;
    options_.sentinels.tls = next.sentinels.tls;  // backend.sentinel_tls: the same reloaded files
    // Why refresh at once: the wait in run() was timed with the old interval, and a seed
    // list that replaced an unreachable one should serve now, not after the old interval.
    if ((discovery_changed || tls_changed) && pending_trigger_.empty()) pending_trigger_ = "reload";
  }
  if (sentinel_watch_) sentinel_watch_->set_tls(next.sentinels.tls);
  cv_.notify_all();
}

TopologyRefresher::NodeAccess TopologyRefresher::node_access() const {
  std::lock_guard lock(mu_);
  return {options_.username,           options_.password, options_.connect_timeout_ms,
          options_.command_timeout_ms, options_.tls,      options_.tls_server_name};
}

std::shared_ptr<const ClusterView> TopologyRefresher::current() const {
  std::lock_guard lock(mu_);
  return view_;
}

std::map<std::string, int64_t> TopologyRefresher::replication_offsets() const {
  std::lock_guard lock(mu_);
  return offsets_;
}

std::map<std::string, NodeMigrations> TopologyRefresher::migrations() const {
  std::lock_guard lock(mu_);
  return migrations_;
}

void TopologyRefresher::poll_migrations(const ClusterView& view, const NodeAccess& access) {
  // A handful of masters, one short command each, off the data path; not more often than
  // every few seconds even while refreshes run fast (a master being unreachable).
  constexpr auto kMigrationPollInterval = std::chrono::seconds(2);
  const auto now = Clock::now();
  std::vector<const Node*> masters;
  {
    std::lock_guard lock(mu_);
    if (migrations_polled_ != Clock::time_point{} &&
        now - migrations_polled_ < kMigrationPollInterval)
      return;
    migrations_polled_ = now;
    for (uint16_t i : view.master_indices()) {
      const Node& n = view.nodes()[i];
      if (n.health == Health::Online && !unreachable_.contains(n.address)) masters.push_back(&n);
    }
  }
  std::map<std::string, NodeMigrations> found;
  std::vector<std::string> unanswered;
  for (const Node* n : masters) {
    const std::string_view nodes_cmd[] = {"CLUSTER", "NODES"};
    auto reply = command_on(*n, nodes_cmd, access);
    const auto* v = std::get_if<resp::Value>(&reply);
    if (v == nullptr || v->is_error()) {
      unanswered.push_back(n->address);
      continue;
    }
    NodeMigrations m = parse_own_migrations(v->str);
    if (!m.empty()) found.emplace(n->address, std::move(m));
  }
  std::vector<ViewChange> changes;
  {
    std::lock_guard lock(mu_);
    // A master that did not answer this time keeps what it reported last: a missed poll is not
    // the end of a move (nor, at the next answer, the start of one).
    for (const std::string& address : unanswered) {
      if (auto it = migrations_.find(address); it != migrations_.end()) found.insert(*it);
    }
    changes = describe_migration_changes(migrations_, found, view);
    migrations_ = std::move(found);
  }
  if (hooks_.event) {
    for (const ViewChange& change : changes) hooks_.event(change.kind, change.message);
  }
}

std::variant<resp::Value, std::string> TopologyRefresher::command_on(
    const Node& node, std::span<const std::string_view> args, const NodeAccess& access) {
  const auto ips = resolve_all(node.host);
  if (ips.empty()) return std::string("cannot resolve " + node.host);
  auto opened =
      ControlConnection::open(ips.front(), node.port, access.username, access.password,
                              access.connect_timeout_ms, access.tls, access.server_name(node.host));
  if (auto* e = std::get_if<std::string>(&opened)) return *e;
  return std::get<ControlConnection>(opened).command(args, access.command_timeout_ms);
}

void TopologyRefresher::node_setting_applied(std::string_view command) {
  if (!settings_.remember_command(command)) return;
  {
    // A refresh first, so the settings go to the nodes of the freshest view.
    std::lock_guard lock(mu_);
    if (pending_trigger_.empty()) pending_trigger_ = "config_set";
  }
  cv_.notify_all();
}

void TopologyRefresher::apply_node_settings() {
  if (settings_.empty()) return;
  const NodeAccess access = node_access();
  std::shared_ptr<const ClusterView> view;
  std::map<std::string, Clock::time_point> unreachable;
  {
    std::lock_guard lock(mu_);
    view = view_;
    unreachable = unreachable_;
  }
  if (!view) return;
  const auto now = Clock::now();
  const NodeSettings::Plan plan = settings_.plan(*view, now);
  const std::vector<std::string_view> args(plan.args.begin(), plan.args.end());
  for (uint16_t index : plan.nodes) {
    const Node& node = view->node(index);
    // A node the data path cannot reach would only cost this thread a connect timeout.
    if (unreachable.contains(node.address)) {
      settings_.unreachable(node, now);
      continue;
    }
    auto reply = command_on(node, args, access);
    if (auto* e = std::get_if<std::string>(&reply)) {
      spdlog::debug("CONFIG SET not brought to {} yet: {}", node.address, *e);
      settings_.unreachable(node, now);
      continue;
    }
    const auto& v = std::get<resp::Value>(reply);
    if (v.is_error()) {
      spdlog::warn("{} {} refused the remembered CONFIG SET: {}", to_string(node.role),
                   node.address, v.str);
    } else {
      spdlog::info("remembered CONFIG SET applied to {} {}", to_string(node.role), node.address);
    }
    settings_.applied(node, plan.generation);
  }
}

std::vector<TopologyRefresher::Candidate> TopologyRefresher::candidates() {
  std::vector<Candidate> out;
  std::shared_ptr<const ClusterView> view;
  std::vector<std::string> seeds;
  std::map<std::string, Clock::time_point> unreachable;
  {
    std::lock_guard lock(mu_);
    view = view_;
    seeds = options_.seeds;
    unreachable = unreachable_;
    // A standalone Redis is only ever its configured address, resolved anew each time: the
    // Service may now point at another pod.
    if (options_.standalone) view = nullptr;
  }
  auto add = [&](const std::string& ip, uint16_t port, const std::string& label) {
    for (const auto& c : out) {
      if (c.ip == ip && c.port == port) return;
    }
    out.push_back({ip, port, label});
  };
  // Known nodes first — reachable masters, then replicas — then the seeds, whose
  // names are resolved again each time (pods of a headless Service change IPs).
  std::vector<Candidate> later;
  if (view) {
    for (int pass = 0; pass < 2; ++pass) {
      for (const Node& n : view->nodes()) {
        if (n.health == Health::Failed) continue;
        bool master = n.role == Role::Master;
        if ((pass == 0) != master) continue;
        if (unreachable.count(n.address)) {
          later.push_back({n.host, n.port, n.address});
          continue;
        }
        for (const auto& ip : resolve_all(n.host)) add(ip, n.port, n.address);
      }
    }
  }
  for (const auto& seed : seeds) {
    std::string host;
    uint16_t port = 0;
    if (!split_address(seed, host, port)) continue;
    for (const auto& ip : resolve_all(host)) add(ip, port, seed);
  }
  for (const auto& c : later) {
    for (const auto& ip : resolve_all(c.ip)) add(ip, c.port, c.label);
  }
  return out;
}

// One candidate's slot map: CLUSTER SHARDS, or CLUSTER SLOTS on servers without it.
// The view, or the error text (prefixed with the candidate's label by the caller).
ClusterView::Result TopologyRefresher::ask_topology(ControlConnection& conn, const Candidate& c,
                                                    uint64_t command_timeout_ms) {
  const std::string_view shards_cmd[] = {"CLUSTER", "SHARDS"};
  auto reply = conn.command(shards_cmd, command_timeout_ms);
  if (auto* e = std::get_if<std::string>(&reply)) return *e;
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = next_version_;
  }
  const auto& v = std::get<resp::Value>(reply);
  if (!v.is_error()) return ClusterView::from_shards(v, c.ip, version, tls_ports_);
  // Older servers have no CLUSTER SHARDS: CLUSTER SLOTS says the same, minus health.
  const std::string_view slots_cmd[] = {"CLUSTER", "SLOTS"};
  auto slots = conn.command(slots_cmd, command_timeout_ms);
  if (auto* e = std::get_if<std::string>(&slots)) return *e;
  const auto& sv = std::get<resp::Value>(slots);
  if (sv.is_error()) return sv.str;
  return ClusterView::from_slots(sv, c.ip, version);
}

ClusterView::Result TopologyRefresher::ask_standalone(ControlConnection& conn, const Candidate& c,
                                                      uint64_t command_timeout_ms) {
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = next_version_;
  }
  const std::string_view role_cmd[] = {"ROLE"};
  auto reply = conn.command(role_cmd, command_timeout_ms);
  if (auto* e = std::get_if<std::string>(&reply)) return *e;
  const auto& v = std::get<resp::Value>(reply);
  Role role = Role::Master;
  if (v.is_error()) {
    // ROLE denied to slotgate's ACL user: the node answers PING, so it serves; take it as
    // the master it is expected to be.
    const std::string_view ping_cmd[] = {"PING"};
    auto pong = conn.command(ping_cmd, command_timeout_ms);
    if (auto* e = std::get_if<std::string>(&pong)) return *e;
    if (const auto& pv = std::get<resp::Value>(pong); pv.is_error()) return pv.str;
  } else if (!v.elements.empty()) {
    const std::string& word = v.elements.front().str;
    if (word == "sentinel") return std::string("is a Sentinel, not a Redis server");
    if (word == "slave" || word == "replica") role = Role::Replica;
  }
  bool was_replica = false;
  {
    std::lock_guard lock(mu_);
    was_replica = standalone_replica_;
    standalone_replica_ = role == Role::Replica;
  }
  if (role == Role::Replica && !was_replica) {
    spdlog::error(
        "standalone Redis {} ({}) is a replica (ROLE slave): requests wait for it to be a "
        "master (failover_hold), then fail; nothing is written to it",
        c.label, make_address(c.ip, c.port));
  } else if (role == Role::Master && was_replica) {
    spdlog::info("standalone Redis {} is a master again", c.label);
  }
  return ClusterView::standalone(c.ip, c.port, role, version);
}

// Learn the Redis version the cluster runs, now and then.
void TopologyRefresher::learn_redis_version(ControlConnection& conn, uint64_t command_timeout_ms) {
  if (!hooks_.redis_version || refreshes_ % 30 != 0) return;
  const std::string_view info_cmd[] = {"INFO", "SERVER"};
  auto info = conn.command(info_cmd, command_timeout_ms);
  if (auto* iv = std::get_if<resp::Value>(&info); iv != nullptr && !iv->is_error()) {
    size_t pos = iv->str.find("redis_version:");
    if (pos != std::string::npos) {
      size_t end = iv->str.find_first_of("\r\n", pos);
      hooks_.redis_version(iv->str.substr(pos + 14, end - pos - 14));
    }
  }
}

// A candidate answered with a usable view: remember its offsets, forget unreachable
// reports it settles, publish it if it differs. Returns what changed, for the event log.
std::vector<ViewChange> TopologyRefresher::accept_view(const ClusterView::Ptr& view,
                                                       const Candidate& c,
                                                       std::string_view trigger) {
  std::vector<ViewChange> changes;
  std::lock_guard lock(mu_);
  offsets_.clear();
  for (const Node& n : view->nodes()) {
    if (n.replication_offset >= 0) offsets_[n.address] = n.replication_offset;
  }
  if (!reported_ || !same_view(*reported_, *view)) {
    changes = describe_changes(reported_.get(), *view);
    reported_ = view;
  }
  if (!reachable_) {
    changes.push_back({"cluster_reachable", "cluster reachable again via " + c.label});
    reachable_ = true;
  }
  // A node reported unreachable that is no longer a master of any slot (or was
  // the node that just answered) needs no more fast refreshes.
  for (auto it = unreachable_.begin(); it != unreachable_.end();) {
    auto idx = view->find_by_address(it->first);
    bool owns = false;
    if (idx) {
      for (uint16_t m : view->master_indices()) owns = owns || m == *idx;
    }
    bool answered = it->first == make_address(c.ip, c.port);
    if (!owns || answered || Clock::now() - it->second > std::chrono::seconds(60)) {
      it = unreachable_.erase(it);
    } else {
      ++it;
    }
  }
  degraded_hint_ = false;
  fatal_error_.clear();
  if (!view_ || !same_view(*view_, *view)) {
    next_version_++;
    spdlog::info("cluster topology ({}): {}", trigger, view->describe());
    publish_locked(view);
  }
  return changes;
}

// No candidate answered: say why (an authentication failure becomes the error every
// request gets), and report the cluster unreachable once per outage.
void TopologyRefresher::record_failure(std::string_view trigger,
                                       const std::vector<std::string>& errors, std::string& error) {
  error.clear();
  for (const auto& e : errors) {
    if (!error.empty()) error += "; ";
    error += e;
  }
  if (errors.empty()) error = "no seed address could be resolved";
  bool auth = error.find("NOAUTH") != std::string::npos ||
              error.find("WRONGPASS") != std::string::npos ||
              error.find("authentication failed") != std::string::npos;
  bool became_unreachable = false;
  {
    std::lock_guard lock(mu_);
    became_unreachable = reachable_;
    reachable_ = false;
    const std::string where = options_.sentinel
                                  ? "the Sentinels or the master (" + error +
                                        "): set backend.sentinel_username/sentinel_password "
                                        "(SENTINEL_USERNAME/SENTINEL_PASSWORD) and "
                                  : "the cluster (" + errors.front() + "): set ";
    fatal_error_ = auth ? "ERR slotgate cannot authenticate to " + where +
                              "cluster.username/cluster.password or REDIS_USERNAME/"
                              "REDIS_PASSWORD"
                        : std::string();
  }
  if (became_unreachable && hooks_.event) {
    hooks_.event("cluster_unreachable", "no cluster node answered the topology refresh (" +
                                            std::string(trigger) + "): " + error);
  }
  if (hooks_.refreshed) hooks_.refreshed(trigger, false);
}

bool TopologyRefresher::refresh(std::string_view trigger, std::string& error) {
  if (options_.sentinel) return refresh_sentinel(trigger, error);
  const NodeAccess access = node_access();
  std::vector<std::string> errors;
  for (const Candidate& c : candidates()) {
    std::string host;
    uint16_t ignored_port = 0;
    if (!split_address(c.label, host, ignored_port)) host = c.ip;
    auto opened =
        ControlConnection::open(c.ip, c.port, access.username, access.password,
                                access.connect_timeout_ms, access.tls, access.server_name(host));
    if (auto* e = std::get_if<std::string>(&opened)) {
      errors.push_back(c.label + ": " + *e);
      const std::string_view tls = ControlConnection::tls_failure_class(*e);
      if (!tls.empty() && hooks_.tls_failure) hooks_.tls_failure(c.label, tls);
      continue;
    }
    auto& conn = std::get<ControlConnection>(opened);
    ClusterView::Result result = options_.standalone
                                     ? ask_standalone(conn, c, access.command_timeout_ms)
                                     : ask_topology(conn, c, access.command_timeout_ms);
    if (auto* e = std::get_if<std::string>(&result)) {
      errors.push_back(c.label + ": " + *e);
      continue;
    }
    auto view = std::get<ClusterView::Ptr>(result);
    if (view->covered_slots() == 0 && !view->single_node()) {
      errors.push_back(c.label + ": the node knows no slot owners");
      continue;
    }
    learn_redis_version(conn, access.command_timeout_ms);
    refreshes_++;
    std::vector<ViewChange> changes = accept_view(view, c, trigger);
    if (hooks_.event) {
      for (const ViewChange& change : changes) hooks_.event(change.kind, change.message);
    }
    if (!view->single_node()) poll_migrations(*view, access);
    if (hooks_.refreshed) hooks_.refreshed(trigger, true);
    return true;
  }
  record_failure(trigger, errors, error);
  return false;
}

void TopologyRefresher::set_replicas_serving(const std::map<std::string, bool>& serves) {
  std::lock_guard lock(mu_);
  replicas_serving_ = serves;
  if (!view_) return;
  if (auto flagged = view_->with_replicas_serving(serves, next_version_)) {
    next_version_++;
    publish_locked(std::move(flagged));
  }
}

void TopologyRefresher::publish_locked(std::shared_ptr<const ClusterView> view) {
  // A refresh or a MOVED patch builds its view without the replicas' read flags: take them over.
  if (auto flagged = view->with_replicas_serving(replicas_serving_, view->version()))
    view = std::move(flagged);
  view_ = std::move(view);
  if (hooks_.publish) hooks_.publish(view_);
}

std::string TopologyRefresher::load_initial() {
  std::string error;
  if (refresh("startup", error)) return {};
  return error;
}

bool TopologyRefresher::degraded_locked() const {
  if (!view_ || !view_->covers_all_slots() || degraded_hint_) return true;
  for (const auto& [addr, since] : unreachable_) {
    auto idx = view_->find_by_address(addr);
    if (!idx) continue;
    for (uint16_t m : view_->master_indices()) {
      if (m == *idx) return true;
    }
  }
  return false;
}

void TopologyRefresher::start() {
  thread_ = std::thread([this] { run(); });
  if (options_.sentinel) {
    sentinel_watch_ = std::make_unique<SentinelWatch>(
        options_.sentinels, [this](std::string_view event, std::string_view payload) {
          sentinel_event(event, payload);
        });
    sentinel_watch_->start();
  }
}

void TopologyRefresher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sentinel_watch_) sentinel_watch_->stop();
  if (thread_.joinable()) thread_.join();
}

void TopologyRefresher::run() {
  std::string last_error;
  for (;;) {
    std::string trigger;
    {
      std::unique_lock lock(mu_);
      uint64_t wait_ms =
          degraded_locked() ? options_.fast_interval_ms : options_.refresh_interval_ms;
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [this] { return stopping_ || !pending_trigger_.empty(); });
      if (stopping_) return;
      trigger = pending_trigger_.empty() ? (degraded_locked() ? "degraded" : "periodic")
                                         : pending_trigger_;
      pending_trigger_.clear();
    }
    std::string error;
    bool ok = refresh(trigger, error);
    if (ok) apply_node_settings();
    {
      // At most ten refreshes a second however many reports arrive.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
      if (stopping_) return;
    }
    if (!ok) {
      if (error != last_error) spdlog::warn("topology refresh failed: {}", error);
      last_error = error;
      std::lock_guard lock(mu_);
      degraded_hint_ = true;
    } else {
      last_error.clear();
    }
  }
}

void TopologyRefresher::slot_moved(Slot slot, std::string_view host, uint16_t port) {
  std::string address = make_address(host, port);
  {
    std::lock_guard lock(mu_);
    if (view_) {
      uint16_t owner = view_->master_of(slot);
      bool already = owner != ClusterView::kNoNode && view_->node(owner).address == address;
      // Only a node the view knows is patched in: an unknown address waits for the refresh
      // to confirm it (a reply alone never adds a node slotgate would then connect to).
      if (!already && view_->find_by_address(address)) {
        // Patch the one slot now so every worker stops paying the redirect; the
        // full refresh below brings in whatever else changed.
        publish_locked(view_->with_slot_moved(slot, host, port, next_version_++));
      }
    }
    if (pending_trigger_.empty()) pending_trigger_ = "moved";
  }
  cv_.notify_all();
}

void TopologyRefresher::redirect_unconfirmed(std::string_view address) {
  {
    std::lock_guard lock(mu_);
    spdlog::debug("a node redirected to {}, which the topology does not list: refreshing", address);
    if (pending_trigger_.empty()) pending_trigger_ = "unconfirmed_redirect";
  }
  cv_.notify_all();
}

void TopologyRefresher::node_unreachable(std::string_view address) {
  bool first_report = false;
  {
    std::lock_guard lock(mu_);
    first_report = unreachable_.emplace(std::string(address), Clock::now()).second;
    if (pending_trigger_.empty()) pending_trigger_ = "node_unreachable";
  }
  cv_.notify_all();
  // Once per outage, not once per worker or per lost request.
  if (first_report && hooks_.event) {
    hooks_.event("node_unreachable", std::string(address) + " unreachable from slotgate");
  }
}

std::string TopologyRefresher::fatal_error() const {
  std::lock_guard lock(mu_);
  return fatal_error_;
}

void TopologyRefresher::cluster_degraded() {
  {
    std::lock_guard lock(mu_);
    degraded_hint_ = true;
    if (pending_trigger_.empty()) pending_trigger_ = "clusterdown";
  }
  cv_.notify_all();
}

}  // namespace slotgate::cluster
