#include "client/session_tracking.hpp"

#include <iterator>
#include <string>
#include <vector>

#include "client/client_session.hpp"
#include "client/session_host.hpp"
#include "net/loop.hpp"
#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"
#include "router/router.hpp"
#include "router/session_routing.hpp"

namespace slotgate::client {

SessionTracking::SessionTracking(ClientSession& session, TrackingOptions options)
    : s_(session), keys_(std::move(options)) {}

SessionTracking::~SessionTracking() {
  close();
}

void SessionTracking::start(router::Request* req) {
  pending_ = req;
  for (const auto& addr : router::masters_except(s_.worker().router().view(), "")) {
    if (!open_link(addr)) {
      refused("-ERR client-side caching: slotgate cannot reach the master " + addr + "\r\n");
      return;
    }
  }
  if (links_.empty()) refused("-CLUSTERDOWN slotgate knows no master yet\r\n");
}

bool SessionTracking::open_link(const std::string& address) {
  auto conn = s_.worker().router().open_dedicated(address, 3);
  if (!conn) return false;
  conn->set_push_sink(this);
  std::vector<std::string_view> argv{"CLIENT", "TRACKING", "ON", "BCAST"};
  if (keys_.options().mode == TrackingOptions::Mode::Bcast) {
    for (const auto& p : keys_.options().prefixes) {
      argv.push_back("PREFIX");
      argv.push_back(p);
    }
  }
  std::string wire;
  resp::append_command(wire, argv);
  conn->send_raw(wire);
  links_[address].conn = std::move(conn);
  return true;
}

void SessionTracking::drop_link(std::map<std::string, Link>::iterator it) {
  if (it->second.conn) {
    if (!it->second.conn->closed()) it->second.conn->close_quietly();
    s_.worker().loop().release_later(std::move(it->second.conn));
  }
  links_.erase(it);
}

void SessionTracking::close() {
  // A pending ON is answered (or, when the session is closing, released as an orphan by it).
  if (pending_ != nullptr) refused("-ERR client-side caching was turned off meanwhile\r\n");
  while (!links_.empty()) drop_link(links_.begin());
}

void SessionTracking::refused(std::string_view error_frame) {
  failed_ = true;
  while (!links_.empty()) drop_link(links_.begin());
  if (pending_ == nullptr) return;
  router::Request* req = pending_;
  pending_ = nullptr;
  req->state = router::RequestState::Done;
  s_.deliver(req, error_frame);
}

void SessionTracking::confirmed(Link& link) {
  const bool again = link.confirmed;
  link.confirmed = true;
  if (pending_ == nullptr) {
    // A link opened again after a loss or a topology change: changes made before it was
    // confirmed may have gone unreported.
    if (!again) flush_client();
    return;
  }
  for (const auto& [addr, l] : links_) {
    if (!l.confirmed) return;
  }
  router::Request* req = pending_;
  pending_ = nullptr;
  req->state = router::RequestState::Done;
  s_.deliver(req, "+OK\r\n");
}

void SessionTracking::on_push(backend::BackendConnection& from, std::string_view frame,
                              const resp::FrameScanner&) {
  Link* link = nullptr;
  for (auto& [addr, l] : links_) {
    if (l.conn.get() == &from) link = &l;
  }
  if (link == nullptr) return;
  auto v = resp::parse_value(frame);
  if (!v) return;
  if (v->type == resp::Type::SimpleString && !link->confirmed) {
    confirmed(*link);
    return;
  }
  if (v->is_error() && !link->confirmed) {
    refused(frame);  // e.g. overlapping BCAST prefixes: the node's own words
    return;
  }
  if (v->type != resp::Type::Push || v->elements.size() != 2 || !v->elements[0].is_string() ||
      v->elements[0].str != "invalidate") {
    return;
  }
  const resp::Value& keys = v->elements[1];
  if (keys.is_null()) {
    flush_client();  // FLUSHALL / FLUSHDB on the node
    return;
  }
  std::vector<std::string> changed;
  for (const auto& k : keys.elements) changed.push_back(k.str);
  invalidate(keys_.invalidated(changed));
}

void SessionTracking::on_push_connection_lost(backend::BackendConnection& from,
                                              std::string_view why) {
  for (auto it = links_.begin(); it != links_.end(); ++it) {
    if (it->second.conn.get() != &from) continue;
    if (pending_ != nullptr) {
      refused("-ERR client-side caching: lost the tracking link to " + it->first + " (" +
              std::string(why) + ")\r\n");
      return;
    }
    it->second.lost = true;
    flush_client();
    return;
  }
}

void SessionTracking::tick() {
  if (pending_ != nullptr || failed_) return;
  const auto masters = router::masters_except(s_.worker().router().view(), "");
  if (masters.empty()) return;
  bool changed = masters.size() != links_.size();
  for (const auto& m : masters) {
    auto it = links_.find(m);
    changed = changed || it == links_.end() || it->second.lost || !it->second.conn ||
              it->second.conn->closed();
  }
  if (!changed) return;
  flush_client();
  for (auto it = links_.begin(); it != links_.end();) {
    auto next = std::next(it);
    drop_link(it);
    it = next;
  }
  for (const auto& m : masters) open_link(m);
}

// Pushes exist in RESP3 only: a session that went back to RESP2 (HELLO 2) hears nothing.
void SessionTracking::flush_client() {
  keys_.clear();
  if (s_.protocol() == 3) s_.reply(">2\r\n$10\r\ninvalidate\r\n_\r\n");
}

void SessionTracking::invalidate(const std::vector<std::string>& keys) {
  if (keys.empty() || s_.protocol() != 3) return;
  std::string out = ">2\r\n$10\r\ninvalidate\r\n";
  out += "*" + std::to_string(keys.size()) + "\r\n";
  for (const auto& k : keys) resp::append_bulk(out, k);
  s_.reply(out);
}

}  // namespace slotgate::client
