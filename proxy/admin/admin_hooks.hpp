// admin::AdminHooks: what the admin HTTP server may ask the rest of the process.
// Every hook is called on the admin thread, so each must be thread-safe (an atomic
// load of the published ClusterView, an atomic flag, ...). An empty hook counts as
// "fine" (healthz, readyz) or "nothing yet" (topology).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cluster/cluster_view.hpp"
#include "cluster/event_log.hpp"
#include "cluster/slot_migrations.hpp"

namespace slotgate::metrics {
class Metrics;
}

namespace slotgate::admin {

struct AdminHooks {
  std::function<std::shared_ptr<const cluster::ClusterView>()>
      current_view;                        // may return nullptr before discovery
  std::function<bool()> loops_responsive;  // /healthz
  std::function<bool()> ready;             // /readyz
  metrics::Metrics* metrics = nullptr;     // /metrics; nullptr answers 503
  bool topology = true;                    // /topology served (false: 404, admin.topology)
  cluster::EventLog* events = nullptr;     // /events; nullptr answers 503
  std::function<std::map<std::string, int64_t>()> replication_offsets;  // /topology, optional
  std::function<std::map<std::string, cluster::NodeMigrations>()>
      migrations;  // /topology, optional
};

}  // namespace slotgate::admin
