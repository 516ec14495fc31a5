// cluster::TopologyRefresher: the control thread that knows the cluster. It loads
// the topology from the seeds (CLUSTER SHARDS, falling back to CLUSTER SLOTS),
// refreshes it periodically, at once when the data path reports a MOVED, a lost
// node or CLUSTERDOWN, and every fast_interval while some slot's master is
// unreachable — and publishes each new immutable ClusterView to the workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "cluster/node_settings.hpp"
#include "cluster/sentinel_discovery.hpp"
#include "cluster/sentinel_watch.hpp"
#include "cluster/slot_migrations.hpp"
#include "cluster/topology_feedback.hpp"
#include "cluster/view_changes.hpp"
#include "net/tls.hpp"
#include "resp/value.hpp"

namespace slotgate::cluster {

class ControlConnection;

struct RefresherOptions {
  std::vector<std::string> seeds;  // "host:port"; DNS names are re-resolved at every use
  // backend.kind standalone: seeds holds the one Redis address; it is asked ROLE, never a
  // CLUSTER command, and the view is ClusterView::standalone (one node, every slot).
  bool standalone = false;
  // backend.kind sentinel: the master comes from the Sentinels (sentinel_discovery.hpp), is
  // confirmed with ROLE, and SentinelWatch's events trigger refreshes; seeds is unused.
  bool sentinel = false;
  SentinelAccess sentinels;
  std::string username;
  std::string password;
  uint64_t refresh_interval_ms = 10000;
  uint64_t fast_interval_ms = 200;
  uint64_t connect_timeout_ms = 1000;
  uint64_t command_timeout_ms = 2000;
  // cluster.tls: every topology connection handshakes with it (nullptr = plain).
  std::shared_ptr<const net::TlsContext> tls;
  std::string tls_server_name;  // "" = each node's announced name
};

class TopologyRefresher final : public TopologyFeedback {
 public:
  struct Hooks {
    std::function<void(std::shared_ptr<const ClusterView>)> publish;   // to every worker
    std::function<void(std::string_view trigger, bool ok)> refreshed;  // metrics
    std::function<void(std::string version)> redis_version;            // INFO server
    // What changed, for the event log: (kind, message). Called without the lock held,
    // on the refresher thread or (node_unreachable) on a worker thread.
    std::function<void(std::string_view kind, std::string_view message)> event;
    // A node's TLS handshake failed on a topology connection: (node, failure class).
    std::function<void(std::string_view node, std::string_view reason)> tls_failure;
  };
  TopologyRefresher(RefresherOptions options, Hooks hooks);
  ~TopologyRefresher() override;

  // Synchronous first load (start-up). Returns an error text when no seed answered.
  std::string load_initial();
  void start();
  void stop();
  // SIGHUP: new seeds, credentials, refresh interval and timeouts take effect from the next
  // refresh, which runs at once when the seeds or the interval changed.
  void reconfigure(const RefresherOptions& next);
  // clients.config_set_allowed (start-up, SIGHUP): remembered CONFIG SET parameters no longer
  // on it are forgotten and not brought to promoted or new nodes any more (NodeSettings::
  // keep_only). Returns their names.
  std::vector<std::string> keep_node_settings(std::span<const std::string> allowed) {
    return settings_.keep_only(allowed);
  }
  std::shared_ptr<const ClusterView> current() const;
  // ReplicaMonitor's verdicts (replica address -> may serve reads): kept for every view published
  // from now on, and a view with the new flags is published at once when a flag changes.
  void set_replicas_serving(const std::map<std::string, bool>& serves);
  // Replication offsets by node address from the latest successful refresh (the published
  // view keeps the offsets of when it was built).
  std::map<std::string, int64_t> replication_offsets() const;
  // Slots each master reported migrating/importing (its own CLUSTER NODES line), by address,
  // from the latest poll: masters without any are absent.
  std::map<std::string, NodeMigrations> migrations() const;

  // TopologyFeedback (called from worker threads)
  void slot_moved(Slot slot, std::string_view host, uint16_t port) override;
  void redirect_unconfirmed(std::string_view address) override;
  void node_unreachable(std::string_view address) override;
  void cluster_degraded() override;
  void node_setting_applied(std::string_view command) override;
  std::string fatal_error() const override;

 private:
  struct Candidate {
    std::string ip;
    uint16_t port;
    std::string label;  // what we log: the seed name or the node address
  };
  // How the refresher thread reaches a node: credentials and timeouts, copied under the lock
  // once per refresh (SIGHUP changes them on the main thread).
  struct NodeAccess {
    std::string username;
    std::string password;
    uint64_t connect_timeout_ms = 0;
    uint64_t command_timeout_ms = 0;
    std::shared_ptr<const net::TlsContext> tls;
    std::string tls_server_name;
    // What the node's certificate must name: the configured server_name, else `host`.
    std::string server_name(const std::string& host) const {
      return tls_server_name.empty() ? host : tls_server_name;
    }
  };
  NodeAccess node_access() const;
  bool refresh(std::string_view trigger, std::string& error);
  ClusterView::Result ask_topology(ControlConnection& conn, const Candidate& c,
                                   uint64_t command_timeout_ms);
  // backend.kind standalone: ROLE (PING when ROLE is not allowed) instead of CLUSTER SHARDS.
  ClusterView::Result ask_standalone(ControlConnection& conn, const Candidate& c,
                                     uint64_t command_timeout_ms);
  // backend.kind sentinel (topology_refresher_sentinel.cpp): the Sentinels' master, its ROLE.
  bool refresh_sentinel(std::string_view trigger, std::string& error);
  void sentinel_event(std::string_view event, std::string_view payload);
  void learn_redis_version(ControlConnection& conn, uint64_t command_timeout_ms);
  std::vector<ViewChange> accept_view(const ClusterView::Ptr& view, const Candidate& c,
                                      std::string_view trigger);
  void record_failure(std::string_view trigger, const std::vector<std::string>& errors,
                      std::string& error);
  // After a successful refresh, at most every kMigrationPollInterval: CLUSTER NODES on each
  // online master, for its own migrating/importing slots. Runs on the refresher thread.
  void poll_migrations(const ClusterView& view, const NodeAccess& access);
  // One command on one node over a fresh control connection (refresher thread only).
  std::variant<resp::Value, std::string> command_on(const Node& node,
                                                    std::span<const std::string_view> args,
                                                    const NodeAccess& access);
  // After a successful refresh: the remembered CONFIG SET parameters to each node of the
  // current view that lacks them (NodeSettings::plan). Runs on the refresher thread.
  void apply_node_settings();
  std::vector<Candidate> candidates();
  void publish_locked(std::shared_ptr<const ClusterView> view);
  bool degraded_locked() const;
  void run();

  RefresherOptions options_;
  Hooks hooks_;
  // cluster.tls (fixed until a restart): nodes are reached on the tls-port they announce.
  const bool tls_ports_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const ClusterView> view_;
  // The last view a full refresh reported to the event log (MOVED patches are not
  // reported one slot at a time; the refresh after them reports the whole move).
  std::shared_ptr<const ClusterView> reported_;
  bool reachable_ = true;
  std::map<std::string, int64_t> offsets_;
  std::map<std::string, bool> replicas_serving_;  // see set_replicas_serving
  std::map<std::string, NodeMigrations> migrations_;
  NodeSettings settings_;  // has its own lock
  std::chrono::steady_clock::time_point
      migrations_polled_{};  // for "cluster unreachable" / "reachable again" events
  uint64_t next_version_ = 1;
  std::string pending_trigger_;
  std::map<std::string, std::chrono::steady_clock::time_point> unreachable_;
  bool degraded_hint_ = false;
  std::string fatal_error_;
  bool standalone_replica_ = false;  // the standalone Redis last said ROLE slave (logged once)
  bool stopping_ = false;
  uint64_t refreshes_ = 0;
  std::thread thread_;
  std::unique_ptr<SentinelWatch> sentinel_watch_;
  bool sentinel_not_master_ = false;  // the named master's ROLE said replica (logged once)
  // +try-failover seen for this master address: it gets no request while the Sentinels still
  // name it, until they name another, a -failover-abort-* event, or kFailoverWatch passes.
  std::string failing_over_;
  std::chrono::steady_clock::time_point failing_over_since_{};
};

}  // namespace slotgate::cluster
