// cluster::ReplicaMonitor: the staleness guard of reads from replicas. Its own thread asks each
// master that has replicas for INFO replication about once a second (over a control connection
// it keeps open) and decides, per replica, whether it may serve reads: the master lists it with
// state=online and a lag (seconds since the replica's last REPLCONF ACK, sent every second)
// within max_replica_lag. The verdicts go to the refresher, which publishes them in the
// ClusterView (Node::serves_reads); the data path never waits on any of this.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/cluster_view.hpp"
#include "cluster/control_connection.hpp"

namespace slotgate::cluster {

// One replica as its master's INFO replication lists it ("slave0:ip=…,port=…,state=online,
// offset=…,lag=…").
struct ReplicaLink {
  std::string address;  // make_address(ip, port)
  bool online = false;
  int64_t offset = -1;
  int64_t lag_s = -1;  // -1: not reported
};
// Every replica line of an INFO replication text; malformed lines are skipped.
std::vector<ReplicaLink> parse_replica_links(std::string_view info);

struct ReplicaMonitorOptions {
  bool enabled = false;  // some read_from (global or a user's) other than master
  uint64_t interval_ms = 1000;
  uint64_t max_lag_ms = 5000;
  std::string username;
  std::string password;
  uint64_t connect_timeout_ms = 1000;
  uint64_t command_timeout_ms = 2000;
  // cluster.tls: the polls handshake like every other connection to the nodes (nullptr = plain).
  std::shared_ptr<const net::TlsContext> tls;
  std::string tls_server_name;  // "" = each node's announced name
};

class ReplicaMonitor {
 public:
  using CurrentView = std::function<ClusterView::Ptr()>;
  // address of every replica in the view -> may serve reads.
  using Report = std::function<void(const std::map<std::string, bool>&)>;
  ReplicaMonitor(ReplicaMonitorOptions options, CurrentView current, Report report);
  ~ReplicaMonitor();
  void start();
  void stop();
  // SIGHUP: takes effect at the next poll (at once when it was disabled).
  void reconfigure(const ReplicaMonitorOptions& next);

 private:
  void run();
  // One round over the masters of the current view; the verdict for each replica.
  std::map<std::string, bool> poll(const ReplicaMonitorOptions& o);
  // INFO replication on a master over the kept connection (reopened when needed).
  std::vector<ReplicaLink> ask_master(const Node& master, const ReplicaMonitorOptions& o,
                                      bool& answered);

  ReplicaMonitorOptions options_;
  CurrentView current_;
  Report report_;
  std::map<std::string, ControlConnection> conns_;  // by master address (monitor thread only)
  std::map<std::string, bool> last_;                // the last verdicts, for the log
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slotgate::cluster
