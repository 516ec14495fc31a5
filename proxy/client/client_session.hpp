// client::ClientSession: one client connection. It frames commands out of its
// read buffer, answers connection-level commands itself, hands the rest to the
// worker's router, and writes replies strictly in request order whichever
// backend answers first. Per-session state (auth, name, protocol, QUIT) lives here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/acl_user.hpp"
#include "client/dedicated_link.hpp"
#include "client/session_card.hpp"
#include "client/tracked_keys.hpp"
#include "cluster/slot.hpp"
#include "net/read_buffer.hpp"
#include "net/ring_fifo.hpp"
#include "net/tcp_stream.hpp"
#include "resp/request_parser.hpp"
#include "router/request.hpp"

namespace slotgate::config {
struct Config;
struct UserConfig;
}  // namespace slotgate::config
namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::client {

class SessionHost;
class SessionTracking;
class Subscriptions;

class ClientSession final : public net::StreamHandler, public router::ReplySink {
 public:
  ClientSession(SessionHost& worker, uint64_t id);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  net::TcpStream& stream() { return stream_; }
  void start();
  // Closes the connection; in-flight requests are abandoned (reclaimed when answered).
  void close(std::string_view why);
  bool closed() const { return closed_; }
  // Drain on shutdown: close once nothing is in flight.
  void close_when_idle();
  bool idle() const { return queue_.empty() && stream_.pending_output() == 0; }
  uint64_t last_activity_ms() const { return last_activity_ms_; }

  // Session state read by local commands.
  uint64_t id() const { return id_; }
  SessionHost& worker() { return worker_; }
  bool authenticated() const { return authenticated_; }
  // `user` points into the worker's current configuration (null = the default user); the
  // session keeps that configuration alive for as long as it holds the user.
  void set_authenticated(const config::UserConfig* user, std::shared_ptr<const AclUser> acl = {});
  const config::UserConfig* user() const { return user_.get(); }
  // The named user's permissions (null = the default user: everything).
  const AclUser* acl() const { return acl_.get(); }
  bool in_transaction() const;
  // A denial or failed AUTH for ACL LOG (context: toplevel or multi).
  void log_acl_denial(std::string_view reason, std::string_view object, std::string_view user);
  // After a reload: the session's user is looked up by name in `cfg` and its permissions follow
  // the new entry. Returns why the session cannot go on (the worker then closes it), or an
  // empty view: the user is gone, or its channels changed while it is subscribed (existing
  // subscriptions were checked against the old patterns; Redis disconnects such clients too).
  std::string_view rebind_user(const std::shared_ptr<const config::Config>& cfg);
  std::string& name() { return name_; }
  std::string& lib_name() { return lib_name_; }
  std::string& lib_ver() { return lib_ver_; }
  int protocol() const { return protocol_; }
  void set_protocol(int p) { protocol_ = p; }
  const std::string& peer() const { return peer_; }
  // Which emulated cluster node the client connected to (its listening port).
  uint32_t node_index() const { return node_index_; }
  void set_node_index(uint32_t i) { node_index_ = i; }
  uint64_t created_ms() const { return created_ms_; }
  // The address the client connected to (CLIENT LIST laddr, CLIENT KILL LADDR).
  std::string local_address() const;
  // What CLIENT LIST shows of this session to any worker (see session_card.hpp).
  const SessionCard& card() const { return card_; }
  // Copies the session's numbers to its card (after each command and at each tick).
  void publish_card();
  // Copies name and library to the session directory (after SETNAME, SETINFO, HELLO, RESET).
  void publish_identity();
  // CLIENT TRACKING ON (RESP3): answered once every master's tracking link is confirmed.
  void start_tracking(const commands::CommandSpec& spec, TrackingOptions options);
  void stop_tracking();
  SessionTracking* tracking() { return tracking_.get(); }
  // CLIENT NO-EVICT: never picked by clients.max_memory eviction.
  bool no_evict() const { return no_evict_; }
  void set_no_evict(bool on) { no_evict_ = on; }
  // CLIENT PAUSE ended: run the commands held meanwhile.
  void resume_after_pause() {
    pause_held_ = false;
    if (!paused_ && !awaiting_order_ && !closed_) stream_.start_reading();
    process_input();
  }
  // CLIENT UNBLOCK: end a blocking command as if it timed out (nil) or with -UNBLOCKED.
  // False when the session is not blocked.
  bool unblock(bool with_error);
  // A new view: a blocking command waiting on a node that no longer serves its slot as master
  // (a Sentinel failover names another master while the old one still runs; a partitioned
  // master) would wait there for pushes that now go elsewhere. Its block is ended on that node
  // (CLIENT UNBLOCK, atomic there: served or unblocked, never both) and the router runs it
  // again on the new master (Request::rehoming).
  void rehome_blocked();
  // INFO clients: subscribed to a channel or pattern; waiting in a blocking command.
  bool subscribed() const;
  bool blocked() const { return blocked_ > 0; }
  // CLIENT REPLY: OFF drops every reply until ON; SKIP drops the next command's reply. The
  // command that switches replies off (or SKIP itself) gets no reply; ON gets +OK.
  enum class ReplyMode : uint8_t { On, Off, Skip };
  void set_reply_mode(ReplyMode mode);
  // QUIT: reply, then close once every earlier reply is written.
  void quit_after_reply() { quitting_ = true; }
  // RESET: back to a fresh connection's state.
  void reset_state();

  // Appends a locally produced reply in order.
  void reply(std::string_view bytes);
  // INFO with a keyspace section: slotgate's own sections (prefix) plus the
  // keyspace summed over every master, answered in order like any other command.
  void forward_info(const commands::CommandSpec& spec, std::string prefix);

  // Pub/Sub upkeep (lost subscriber links, moved masters) and memory accounting; called
  // by the worker's tick.
  void tick();

  // Bytes this client holds in slotgate: its query buffer, requests in flight, replies
  // held behind an earlier request, and its output buffer (as last accounted).
  uint64_t memory_usage() const { return accounted_; }
  // Recounts memory_usage() and tells the worker; closes the client when its held and
  // unsent replies exceed clients.output_buffer_limit. May close the session.
  void account_memory();

  // router::ReplySink
  void deliver(router::Request* req, std::string_view reply) override;
  // net::StreamHandler
  std::span<char> read_space() override;
  void on_read(size_t n) override;
  void on_read_nothing() override { rbuf_.trim(); }
  void on_closed(int status) override;
  void on_drained() override;
  // client/tls_login.cpp: counts the handshake, logs a failure, logs in a mapped certificate.
  void on_tls_handshake(bool ok) override;
  // A TLS client that has not finished its handshake within tls.handshake_timeout.
  bool tls_handshake_overdue(uint64_t now_ms) const;

 private:
  friend class Subscriptions;
  friend class SessionTracking;
  // Client-side caching: a read-only command's keys are remembered when it is sent.
  void note_tracked_read(const commands::CommandSpec& spec, std::span<const std::string_view> args);
  void process_input();
  // commands::lookup(), answered from last_command_ when the client repeats itself.
  const commands::CommandSpec* lookup_command(std::span<const std::string_view> args);
  bool waits_for_order(const commands::CommandSpec* spec) const;
  // RESP2 subscribed mode only allows the subscription commands, PING, QUIT, RESET.
  bool subscribed_mode_allows(const commands::CommandSpec& spec,
                              std::span<const std::string_view> args);
  // spec: commands::lookup(args), done once by process_input (nullptr: unknown command).
  void handle_command(const commands::CommandSpec* spec, std::span<const std::string_view> args,
                      std::string_view raw, bool was_inline);
  void forward(const commands::CommandSpec& spec, std::span<const std::string_view> args,
               std::string_view raw, bool was_inline);
  // CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT: to the master of the slot its argument names.
  void forward_to_slot_argument(const commands::CommandSpec& spec,
                                std::span<const std::string_view> args, std::string_view raw,
                                bool was_inline);
  void write_out(std::string_view bytes);
  // Counts the command by its reply (an error reply, '-' or RESP3 '!', is result="error").
  void finish(router::Request* req, std::string_view reply_bytes);
  void drain_done();
  router::Request* new_request(const commands::CommandSpec& spec);
  // A new request that carries the client's command to a node: its bytes as received, or the
  // RESP form of an inline command.
  router::Request* new_forwarded(const commands::CommandSpec& spec,
                                 std::span<const std::string_view> args, std::string_view raw,
                                 bool was_inline);
  // Replies an error; inside MULTI it also dooms the transaction (EXEC -> EXECABORT), as Redis
  // does.
  void reject(std::string_view error_text);
  // session_transaction.cpp: MULTI/EXEC/DISCARD/WATCH/UNWATCH and queueing inside MULTI.
  void transaction_command(const commands::CommandSpec& spec,
                           std::span<const std::string_view> args, std::string_view raw,
                           bool was_inline);
  void queue_in_transaction(const commands::CommandSpec& spec,
                            std::span<const std::string_view> args, std::string_view raw,
                            bool was_inline);
  void begin_transaction();
  void discard_transaction();
  void exec_transaction(const commands::CommandSpec& spec);
  void watch(const commands::CommandSpec& spec, std::span<const std::string_view> args,
             std::string_view raw, bool was_inline);
  void end_transaction();
  void unwatch();
  // Slot shared by all keys (nullopt if none); false when they span slots (reply sent).
  bool common_slot(const commands::CommandSpec& spec, std::span<const std::string_view> args,
                   std::optional<cluster::Slot>& slot);
  void forward_blocking(const commands::CommandSpec& spec, std::span<const std::string_view> args,
                        std::string_view raw, bool was_inline);
  // The checks every command passes before it runs or is queued in MULTI: refused commands,
  // connection-state commands that would reach a backend, the CONFIG SET allow-list and the
  // user's permissions. False: refused (error replied; inside MULTI the transaction is doomed).
  bool admit(const commands::CommandSpec& spec, std::span<const std::string_view> args);
  bool config_set_allowed(std::span<const std::string_view> args);
  bool check_permissions(const commands::CommandSpec& spec, std::span<const std::string_view> args);
  void maybe_resume();
  // CLIENT PAUSE in force for this command: true = hold it (and everything after it).
  bool pause_held(const commands::CommandSpec* spec);
  // Before AUTH the parser accepts only what AUTH/HELLO need; after it, the configured limits.
  void apply_parser_limits();

  SessionHost& worker_;
  uint64_t id_;
  net::TcpStream stream_;
  // Holds storage only while it holds unparsed bytes (the loop's BufferPool lends it).
  net::ReadBuffer rbuf_;
  resp::RequestParser parser_;
  // Requests in the order their replies are owed; a ring bigger than 16 is given back once
  // it drains, trim() at the tick frees the rest (an idle client holds nothing here).
  net::RingFifo<router::Request*, 16> queue_;
  std::string scratch_;
  std::vector<uint32_t> key_scratch_;
  std::vector<commands::KeyRef> key_refs_scratch_;
  std::string peer_;
  std::string name_, lib_name_, lib_ver_;
  // The authenticated named user: an immutable entry of the configuration it was read from,
  // kept alive by this pointer across reloads (aliasing the configuration's shared_ptr).
  std::shared_ptr<const config::UserConfig> user_;
  std::shared_ptr<const AclUser> acl_;  // built from user_ at AUTH and at each reload
  uint64_t created_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  int protocol_ = 2;
  uint32_t node_index_ = 0;
  bool authenticated_ = false;
  bool quitting_ = false;
  bool closed_ = false;
  bool paused_ = false;  // too much in flight: stop reading until it drains
  // A command that may run long goes on a connection of its own, so it is alone in flight
  // for its client (see waits_for_order): the client's earlier requests are answered before
  // it is sent and later ones are sent after it is answered, as one Redis connection would
  // order them.
  bool long_in_flight_ = false;
  bool awaiting_order_ = false;  // the next command waits (unparsed) until queue_ is empty
  size_t queued_bytes_ = 0;      // request bytes of the commands in queue_ (max_pipeline_size)
  size_t held_bytes_ = 0;        // replies in queue_ waiting for an earlier one (output limit)
  uint64_t accounted_ = 0;       // memory_usage() as last told to the worker
  bool draining_ = false;        // close when idle
  bool in_process_ = false;
  // CLIENT REPLY: replies_off_ until CLIENT REPLY ON; skip_next_ for the command after SKIP;
  // silent_ while the current command's replies are to be dropped.
  bool replies_off_ = false;
  bool skip_next_ = false;
  bool silent_ = false;

  // MULTI … EXEC: commands are checked and answered +QUEUED here, then sent as one
  // MULTI…EXEC write to the master of their slot, so no connection stays pinned.
  struct Transaction {
    bool active = false;
    bool aborted = false;  // a command was refused: EXEC answers EXECABORT
    std::string wire;      // the queued commands
    uint32_t count = 0;
    std::optional<cluster::Slot> slot;
    bool read_only = true;
  };
  Transaction tx_;
  // WATCH: the guard lives on a dedicated connection to the watched slot's master.
  DedicatedLink watch_link_;
  std::optional<cluster::Slot> watch_slot_;
  bool watching_ = false;
  // Blocking commands get a connection of their own so they never stall others.
  DedicatedLink blocking_link_;
  int blocked_ = 0;  // blocking requests sent on blocking_link_ and not yet answered
  // CLIENT UNBLOCK: the reply that replaces the blocking command's (empty: none pending).
  std::string unblock_reply_;
  bool no_evict_ = false;
  bool pause_held_ = false;  // CLIENT PAUSE: the next command waits for the pause to end
  std::unique_ptr<Subscriptions> subs_;
  std::unique_ptr<SessionTracking> tracking_;
  SessionCard card_;
  const commands::CommandSpec* last_command_ = nullptr;  // lookup_command()'s one-entry cache
};

}  // namespace slotgate::client
