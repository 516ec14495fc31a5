// cluster::TopologyFeedback: what the data path tells the topology refresher.
// Workers call these from their own threads; implementations must be thread-safe
// and cheap (they only record the event and wake the refresher).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/slot.hpp"

namespace slotgate::cluster {

class TopologyFeedback {
 public:
  virtual ~TopologyFeedback() = default;
  // A node answered MOVED: the slot lives elsewhere now. Patch at once, refresh soon.
  virtual void slot_moved(Slot slot, std::string_view host, uint16_t port) = 0;
  // A node redirected to `address`, which the current view does not know: refresh from the
  // known nodes (never from the named address) so the data path can route by their answer.
  virtual void redirect_unconfirmed(std::string_view address) = 0;
  // A connection to a node was lost or could not be made.
  virtual void node_unreachable(std::string_view address) = 0;
  // A node answered CLUSTERDOWN, or a request found no master for its slot.
  virtual void cluster_degraded() = 0;
  // Every master answered OK to a command that changes a node's settings (CONFIG SET, the
  // table's kNodeSetting), given as its RESP bytes: remember it and bring it to the other
  // nodes, now and as they join or are promoted (see cluster/node_settings.hpp).
  virtual void node_setting_applied(std::string_view /*command*/) {}
  // Non-empty when no topology can be loaded for a reason waiting will not fix
  // (the cluster rejects slotgate's credentials): requests fail at once with it.
  virtual std::string fatal_error() const { return {}; }
};

}  // namespace slotgate::cluster
