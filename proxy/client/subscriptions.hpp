// client::Subscriptions: a session's Pub/Sub state and its subscriber connections.
//
// In a Redis Cluster every PUBLISH reaches every node, so channels and patterns
// are subscribed on one master (the primary link) and each message arrives once.
// Keyspace notifications are the exception: each node only reports its own keys,
// so channels and patterns that can match `__keyspace@…`/`__keyevent@…` are also
// subscribed on every other master, and from those links only keyspace messages
// are passed on (their copies of ordinary messages would be duplicates). Shard
// channels (SSUBSCRIBE) live on the master of their slot.
//
// Confirmations are written by slotgate with its own counts, and released only
// when the backend confirmed, so a subscription is live before the client hears
// of it. A lost link is re-established on the current master at the next tick.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_connection.hpp"
#include "cluster/slot.hpp"
#include "router/request.hpp"

namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::client {

class ClientSession;

class Subscriptions final : public backend::PushSink {
 public:
  explicit Subscriptions(ClientSession& session);
  ~Subscriptions() override;
  Subscriptions(const Subscriptions&) = delete;
  Subscriptions& operator=(const Subscriptions&) = delete;

  // SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE.
  void command(const commands::CommandSpec& spec, std::span<const std::string_view> args);
  uint32_t channel_count() const { return static_cast<uint32_t>(channels_.size()); }
  uint32_t pattern_count() const { return static_cast<uint32_t>(patterns_.size()); }
  uint32_t shard_channel_count() const { return static_cast<uint32_t>(shard_.size()); }
  bool active() const { return !channels_.empty() || !patterns_.empty() || !shard_.empty(); }
  // Re-establishes lost links and follows masters that moved.
  void tick();
  void close();

  // backend::PushSink
  void on_push(backend::BackendConnection& from, std::string_view frame,
               const resp::FrameScanner& info) override;
  void on_push_connection_lost(backend::BackendConnection& from, std::string_view why) override;

 private:
  struct Pending {
    router::Request* req;  // the client's command; its reply is prepared in req->reply
    uint32_t remaining;    // backend confirmations still to come
  };
  struct Link {
    std::unique_ptr<backend::BackendConnection> conn;
    std::deque<Pending> pending;
    uint32_t absorb = 0;  // confirmations of a resubscription, not shown to the client
    bool lost = false;
  };

  void subscribe(const commands::CommandSpec& spec, const std::vector<std::string>& names,
                 router::Request* req);
  void ssubscribe(const commands::CommandSpec& spec, const std::vector<std::string>& names,
                  router::Request* req);
  void unsubscribe(const commands::CommandSpec& spec, std::vector<std::string> names,
                   router::Request* req);
  // Hands the reply prepared in req->reply to the session.
  void finish_now(router::Request* req);
  Link* link_to(const std::string& address);
  Link* primary();
  std::vector<std::string> other_masters() const;
  void send(Link& link, std::string_view command, std::span<const std::string> names,
            router::Request* req, uint32_t confirmations);
  void resubscribe_all();
  void drop_link(const std::string& address);
  void release_pending(Link& link);
  std::string confirmation(std::string_view kind, const std::string* name, long long count) const;
  static bool keyspace_capable(std::string_view name, bool pattern);
  static bool is_keyspace_channel(std::string_view channel);

  ClientSession& s_;
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::map<std::string, cluster::Slot> shard_;
  std::string primary_address_;
  std::map<std::string, Link> links_;  // by node address
  bool keyspace_links_ = false;        // links to every master are wanted
};

}  // namespace slotgate::client
