#include "cluster/replica_monitor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "resp/integer_text.hpp"

namespace slotgate::cluster {

namespace {
// The value of `key=` in a comma-separated "k=v,k=v" list ("" when absent).
std::string_view field(std::string_view list, std::string_view key) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (item.size() > key.size() && item.substr(0, key.size()) == key && item[key.size()] == '=')
      return item.substr(key.size() + 1);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return {};
}
}  // namespace

std::vector<ReplicaLink> parse_replica_links(std::string_view info) {
  std::vector<ReplicaLink> out;
  while (!info.empty()) {
    size_t eol = info.find('\n');
    std::string_view line = info.substr(0, eol);
    info.remove_prefix(eol == std::string_view::npos ? info.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // "slave<N>:ip=…": the name Redis still uses in INFO for each replica.
    if (line.substr(0, 5) != "slave") continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 5) continue;
    if (!resp::parse_integer(line.substr(5, colon - 5))) continue;
    std::string_view list = line.substr(colon + 1);
    auto port = resp::parse_integer(field(list, "port"));
    std::string_view ip = field(list, "ip");
    if (ip.empty() || !port || *port <= 0 || *port > 65535) continue;
    ReplicaLink link;
    link.address = make_address(ip, static_cast<uint16_t>(*port));
    link.online = field(list, "state") == "online";
    if (auto v = resp::parse_integer(field(list, "offset"))) link.offset = *v;
    if (auto v = resp::parse_integer(field(list, "lag"))) link.lag_s = *v;
    out.push_back(std::move(link));
  }
  return out;
}

ReplicaMonitor::ReplicaMonitor(ReplicaMonitorOptions options, CurrentView current, Report report)
    : options_(std::move(options)), current_(std::move(current)), report_(std::move(report)) {}

ReplicaMonitor::~ReplicaMonitor() {
  stop();
}

void ReplicaMonitor::start() {
  thread_ = std::thread([this] { run(); });
}

void ReplicaMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicaMonitor::reconfigure(const ReplicaMonitorOptions& next) {
  {
    std::lock_guard lock(mu_);
    options_ = next;
  }
  cv_.notify_all();
}

void ReplicaMonitor::run() {
  bool was_enabled = false;
  for (;;) {
    ReplicaMonitorOptions o;
    {
      std::unique_lock lock(mu_);
      // Disabled: sleep until a reload enables it; enabled: one round per interval.
      cv_.wait_for(lock, std::chrono::milliseconds(was_enabled ? options_.interval_ms : 60'000),
                   [this, was_enabled] { return stopping_ || options_.enabled != was_enabled; });
      if (stopping_) return;
      o = options_;
    }
    was_enabled = o.enabled;
    if (!o.enabled) {
      // Nobody reads from replicas: forget the verdicts, so that re-enabling starts from none
      // rather than from old ones.
      conns_.clear();
      last_.clear();
      report_({});
      continue;
    }
    std::map<std::string, bool> verdicts = poll(o);
    report_(verdicts);
    last_ = std::move(verdicts);
  }
}

std::map<std::string, bool> ReplicaMonitor::poll(const ReplicaMonitorOptions& o) {
  std::map<std::string, bool> verdicts;
  ClusterView::Ptr view = current_();
  if (!view) return verdicts;
  std::set<std::string> polled;
  for (uint16_t m : view->master_indices()) {
    const std::vector<uint16_t> replicas = view->replicas_of(m);
    if (replicas.empty()) continue;
    polled.insert(view->node(m).address);
    bool answered = false;
    const std::vector<ReplicaLink> links = ask_master(view->node(m), o, answered);
    for (uint16_t r : replicas) {
      const Node& replica = view->node(r);
      std::string why = answered ? "its master does not list it" : "its master did not answer";
      bool serves = false;
      for (const ReplicaLink& link : links) {
        if (link.address != replica.address) continue;
        serves = link.online && link.lag_s >= 0 &&
                 static_cast<uint64_t>(link.lag_s) * 1000 <= o.max_lag_ms;
        why = !link.online ? "link to its master not online"
                           : fmt::format("lag {}s over max_replica_lag", link.lag_s);
      }
      verdicts[replica.address] = serves;
      auto before = last_.find(replica.address);
      const bool was = before != last_.end() && before->second;
      if (serves && !was) {
        spdlog::info("replica {} serves reads", replica.address);
      } else if (!serves && (was || before == last_.end())) {
        spdlog::info("replica {} does not serve reads: {}", replica.address, why);
      }
    }
  }
  // Connections to nodes that are no longer masters with replicas are closed.
  std::erase_if(conns_, [&polled](const auto& entry) { return !polled.contains(entry.first); });
  return verdicts;
}

std::vector<ReplicaLink> ReplicaMonitor::ask_master(const Node& master,
                                                    const ReplicaMonitorOptions& o,
                                                    bool& answered) {
  answered = false;
  auto it = conns_.find(master.address);
  if (it == conns_.end() || !it->second.is_open()) {
    const auto ips = resolve_all(master.host);
    if (ips.empty()) return {};
    auto opened = ControlConnection::open(
        ips.front(), master.port, o.username, o.password, o.connect_timeout_ms, o.tls,
        o.tls_server_name.empty() ? master.host : o.tls_server_name);
    if (std::get_if<std::string>(&opened) != nullptr) return {};
    it = conns_.insert_or_assign(master.address, std::move(std::get<ControlConnection>(opened)))
             .first;
  }
  const std::string_view info_cmd[] = {"INFO", "replication"};
  auto reply = it->second.command(info_cmd, o.command_timeout_ms);
  const auto* v = std::get_if<resp::Value>(&reply);
  if (v == nullptr || v->is_error()) {
    conns_.erase(it);  // a timed-out reply could still arrive: never reuse the connection
    return {};
  }
  answered = true;
  return parse_replica_links(v->str);
}

}  // namespace slotgate::cluster
