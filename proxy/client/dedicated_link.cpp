#include "client/dedicated_link.hpp"

#include "backend/backend_connection.hpp"
#include "client/session_host.hpp"
#include "net/loop.hpp"
#include "router/router.hpp"

namespace slotgate::client {

const std::string& DedicatedLink::address() const {
  static const std::string kNone;
  return conn_ ? conn_->address() : kNone;
}

backend::BackendConnection* DedicatedLink::dedicated_connection(const std::string& address,
                                                                int protocol) {
  if (conn_ && !conn_->closed() && conn_->address() == address && conn_->protocol() == protocol) {
    return conn_.get();
  }
  if (conn_) {
    // A sticky link that has to move has lost what it was guarding.
    if (sticky_) broken_ = true;
    release();
  }
  conn_ = worker_.router().open_dedicated(address, protocol);
  if (conn_ && learn_node_id_) conn_->ask_client_id();
  return conn_.get();
}

void DedicatedLink::release() {
  if (!conn_) return;
  if (!conn_->closed()) conn_->close_quietly();
  // It may be on the call stack (a reply being delivered): destroy it later.
  worker_.loop().release_later(std::move(conn_));
}

}  // namespace slotgate::client
