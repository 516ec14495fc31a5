// client::SessionTracking: client-side caching (CLIENT TRACKING ON, RESP3) for one session.
// Reads go over the shared backend connections, so the nodes cannot know which client read
// which key. Instead the session holds one tracking link per master, a connection of its own
// with CLIENT TRACKING ON BCAST (every key, or the client's BCAST prefixes): every change on
// that master is reported to slotgate, and TrackedKeys decides which of them the client is
// told about, as `>2 invalidate [keys]` pushes written in order behind the replies already
// owed (a read in flight is answered before the invalidation that may concern it).
// A key is remembered when its read is sent, so a change racing the read is never missed.
// When a link is lost or the masters change, the client gets `>2 invalidate (nil)` (Redis's
// flush: everything it cached is stale) since changes may have gone unreported meanwhile.
// CLIENT TRACKING ON is answered once every master confirmed its link.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "backend/backend_connection.hpp"
#include "client/tracked_keys.hpp"
#include "router/request.hpp"

namespace slotgate::client {

class ClientSession;

class SessionTracking final : public backend::PushSink {
 public:
  SessionTracking(ClientSession& session, TrackingOptions options);
  ~SessionTracking() override;
  SessionTracking(const SessionTracking&) = delete;
  SessionTracking& operator=(const SessionTracking&) = delete;

  // Opens the links; `req` (the CLIENT TRACKING ON) is answered +OK when every master has
  // confirmed, or with the first node's error (tracking then stays off).
  void start(router::Request* req);
  TrackedKeys& keys() { return keys_; }
  bool failed() const { return failed_; }
  // Lost links or changed masters: invalidate everything and open the links again.
  void tick();
  // `>2 invalidate (nil)` to the client; every remembered key is forgotten.
  void flush_client();
  // Tracking off (OFF, RESET, a new ON, the session closing): links dropped, a pending
  // CLIENT TRACKING ON answered with an error.
  void close();

  // backend::PushSink
  void on_push(backend::BackendConnection& from, std::string_view frame,
               const resp::FrameScanner& info) override;
  void on_push_connection_lost(backend::BackendConnection& from, std::string_view why) override;

 private:
  struct Link {
    std::unique_ptr<backend::BackendConnection> conn;
    bool confirmed = false;
    bool lost = false;
  };
  bool open_link(const std::string& address);
  void drop_link(std::map<std::string, Link>::iterator it);
  void confirmed(Link& link);
  void refused(std::string_view error_frame);
  void invalidate(const std::vector<std::string>& keys);

  ClientSession& s_;
  TrackedKeys keys_;
  std::map<std::string, Link> links_;   // by master address
  router::Request* pending_ = nullptr;  // CLIENT TRACKING ON, until every link confirmed
  bool failed_ = false;
};

}  // namespace slotgate::client
