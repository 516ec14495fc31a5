// client::DedicatedLink: a session's own backend connection, for what cannot
// share one: a blocking command (it stalls its connection), and WATCH (its guard
// lives on the connection that later runs EXEC). A sticky link (WATCH) may not
// move: if its connection dies or its slot moves, it is `broken` and the
// transaction it guards must report itself aborted.
#pragma once

#include <memory>
#include <string>

#include "backend/backend_connection.hpp"
#include "router/request.hpp"

namespace slotgate::router {
class Router;
}

namespace slotgate::client {

class SessionHost;

class DedicatedLink final : public router::DedicatedOwner {
 public:
  // learn_node_id: each connection asks the node for its client id (the blocking link, whose
  // block slotgate may have to end from outside: ClientSession::rehome_blocked).
  DedicatedLink(SessionHost& worker, bool sticky, bool learn_node_id = false)
      : worker_(worker), sticky_(sticky), learn_node_id_(learn_node_id) {}
  ~DedicatedLink() override { release(); }
  DedicatedLink(const DedicatedLink&) = delete;
  DedicatedLink& operator=(const DedicatedLink&) = delete;

  backend::BackendConnection* dedicated_connection(const std::string& address,
                                                   int protocol) override;
  // The connection is alive and still the first one this link opened.
  bool intact() const { return conn_ && !conn_->closed() && !broken_; }
  const std::string& address() const;
  // The node's client id for the open connection; 0 when closed, not known (yet) or not asked.
  int64_t node_client_id() const { return conn_ && !conn_->closed() ? conn_->node_client_id() : 0; }
  // Closes the connection (outstanding requests come back as lost) and forgets it.
  void release();
  // Release, and start over as a fresh link (a new WATCH).
  void reset() {
    release();
    broken_ = false;
  }

 private:
  SessionHost& worker_;
  bool sticky_;
  bool learn_node_id_;
  bool broken_ = false;
  std::unique_ptr<backend::BackendConnection> conn_;
};

}  // namespace slotgate::client
