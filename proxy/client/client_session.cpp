#include "client/client_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "client/acl_log.hpp"
#include "client/acl_user.hpp"
#include "client/auth.hpp"
#include "client/local_commands.hpp"
#include "client/session_directory.hpp"
#include "client/session_host.hpp"
#include "client/session_tracking.hpp"
#include "client/subscriptions.hpp"
#include "cluster/slot.hpp"
#include "commands/command_table.hpp"
#include "commands/routing_policy.hpp"
#include "config/config.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/integer_text.hpp"
#include "resp/reply_writer.hpp"
#include "router/router.hpp"
#include "router/session_routing.hpp"
#include "text/ascii.hpp"

namespace slotgate::client {

namespace {
// Requests one client may have in flight before slotgate stops reading from it.
// Bounds memory for deep pipelines without refusing them: TCP pushes back instead.
constexpr size_t kMaxInFlight = 4096;

// "ERR unknown command 'FOO', with args beginning with: 'a' 'b' " (Redis 7 text).
std::string unknown_command_error(std::span<const std::string_view> args) {
  std::string msg =
      fmt::format("ERR unknown command '{}', with args beginning with: ", args[0].substr(0, 128));
  for (size_t i = 1; i < args.size() && msg.size() < 256; ++i) {
    msg += fmt::format("'{}' ", args[i].substr(0, 128));
  }
  return msg;
}

using text::lower;
}  // namespace

ClientSession::ClientSession(SessionHost& worker, uint64_t id)
    : worker_(worker),
      id_(id),
      stream_(worker.loop(), *this),
      rbuf_(worker.loop().buffers()),
      watch_link_(worker, /*sticky=*/true),
      blocking_link_(worker, /*sticky=*/false, /*learn_node_id=*/true) {
  created_ms_ = last_activity_ms_ = worker.loop().now_ms();
  authenticated_ = !auth_required(worker.config().clients);
  apply_parser_limits();
}

void ClientSession::apply_parser_limits() {
  if (authenticated_) {
    parser_.set_limits(
        resp::RequestLimits{1024 * 1024, worker_.config().clients.max_request_size, 64 * 1024});
  } else {
    parser_.set_limits(resp::RequestLimits::before_auth());
  }
}

ClientSession::~ClientSession() {
  close("session destroyed");
}

void ClientSession::start() {
  peer_ = stream_.peer_address();
  card_.fd.store(stream_.fd(), std::memory_order_relaxed);  // fixed for the connection's life
  publish_card();
  stream_.set_nodelay(true);
  stream_.start_reading();
}

void ClientSession::reset_state() {
  stop_tracking();
  end_transaction();
  unwatch();
  if (subs_) subs_.reset();
  name_.clear();
  lib_name_.clear();
  lib_ver_.clear();
  protocol_ = 2;
  authenticated_ = !auth_required(worker_.config().clients);
  user_.reset();
  acl_.reset();
  worker_.sessions().set_user(id_, {});
  publish_identity();
  apply_parser_limits();
}

namespace {

// The permissions of a configured user, built once per configuration and worker thread and
// shared by its sessions (a reload rebinds every session: one build per user, not per session).
std::shared_ptr<const AclUser> shared_acl_user(const std::shared_ptr<const config::Config>& cfg,
                                               const config::UserConfig& user) {
  struct Cache {
    std::weak_ptr<const config::Config> cfg;
    std::vector<std::pair<const config::UserConfig*, std::shared_ptr<const AclUser>>> users;
  };
  static thread_local Cache cache;
  if (cache.cfg.owner_before(cfg) || cfg.owner_before(cache.cfg) || cache.cfg.expired()) {
    cache.cfg = cfg;
    cache.users.clear();
  }
  for (const auto& [u, acl] : cache.users) {
    if (u == &user) return acl;
  }
  AclBuild built = build_acl_user(user);  // checked when the configuration was loaded
  if (!built.user) return nullptr;
  auto acl = std::make_shared<const AclUser>(std::move(*built.user));
  cache.users.emplace_back(&user, acl);
  return acl;
}

}  // namespace

void ClientSession::set_authenticated(const config::UserConfig* user,
                                      std::shared_ptr<const AclUser> acl) {
  authenticated_ = true;
  worker_.sessions().set_user(id_, user == nullptr ? std::string() : user->name);
  if (user == nullptr) {
    user_.reset();
    acl_.reset();
  } else {
    user_ = std::shared_ptr<const config::UserConfig>(worker_.config_snapshot(), user);
    acl_ = shared_acl_user(worker_.config_snapshot(), *user);
    if (!acl_) acl_ = std::move(acl);
  }
  apply_parser_limits();
}

std::string_view ClientSession::rebind_user(const std::shared_ptr<const config::Config>& cfg) {
  if (!user_) return {};
  for (const auto& u : cfg->clients.users) {
    if (u.name == user_->name) {
      std::shared_ptr<const AclUser> acl = shared_acl_user(cfg, u);
      if (!acl) return "its rules no longer load";
      if ((acl->channels != acl_->channels || acl->all_channels != acl_->all_channels) && subs_ &&
          subs_->active()) {
        return "its channel permissions changed while subscribed";
      }
      user_ = std::shared_ptr<const config::UserConfig>(cfg, &u);
      acl_ = std::move(acl);
      return {};
    }
  }
  return "its user was removed";
}

std::span<char> ClientSession::read_space() {
  return rbuf_.space();
}

void ClientSession::on_read(size_t n) {
  rbuf_.commit(n);
  worker_.stats().bytes_in += n;
  last_activity_ms_ = worker_.loop().now_ms();
  process_input();
  account_memory();
}

void ClientSession::process_input() {
  if (in_process_) return;
  in_process_ = true;
  while (!closed_ && !quitting_ && !paused_ && !awaiting_order_ && !pause_held_ && !rbuf_.empty()) {
    std::string_view avail = rbuf_.unread();
    auto status = parser_.parse(avail);
    if (status == resp::RequestParser::Status::Incomplete) break;
    // Looked up once here: the order and pause checks and handle_command all use it.
    const commands::CommandSpec* spec =
        status == resp::RequestParser::Status::Complete ? lookup_command(parser_.args()) : nullptr;
    if (status == resp::RequestParser::Status::Complete && waits_for_order(spec)) {
      // Left in the buffer and parsed again once everything before it is answered; the
      // client is not read meanwhile (TCP pushes back).
      parser_.reset();
      awaiting_order_ = true;
      stream_.stop_reading();
      break;
    }
    if (status == resp::RequestParser::Status::Error) {
      // Redis answers a protocol error and closes the connection: the byte stream
      // cannot be re-synchronised.
      std::string msg = "ERR " + parser_.error();
      scratch_.clear();
      resp::append_error(scratch_, msg);
      reply(scratch_);
      quitting_ = true;
      rbuf_.clear();
      break;
    }
    size_t consumed = parser_.consumed();
    if (worker_.pausing() && !parser_.args().empty() && pause_held(spec)) {
      // The command stays in rbuf_ and is parsed again after the pause; meanwhile the client
      // is not read, so a paused pipeline cannot grow slotgate's buffer (TCP pushes back).
      parser_.reset();
      stream_.stop_reading();
      break;
    }
    if (!parser_.args().empty()) {
      if (spec != nullptr) card_.last_command.store(spec, std::memory_order_relaxed);
      handle_command(spec, parser_.args(), parser_.raw(), parser_.was_inline());
      // CLIENT CACHING yes|no holds for the next command (for a whole MULTI … EXEC).
      if (tracking_ && !tx_.active &&
          (spec == nullptr || spec->local != commands::LocalHandler::ClientCaching)) {
        tracking_->keys().command_done();
      }
      silent_ = false;  // replies produced later (pushes, deliveries) follow their own flags
    }
    rbuf_.consume(consumed);
    // Only commands still in flight count towards max_pipeline_size: a command answered
    // on the spot (PING, a NOAUTH) holds nothing, and nothing but a forwarded reply would
    // ever subtract it again, so a pipeline of local commands would stall for good.
    if (queue_.empty()) {
      queued_bytes_ = 0;
    } else {
      queued_bytes_ += consumed;
    }
    // Backpressure instead of unbounded buffering: a client that pipelines more
    // than it reads stops being read (TCP pushes back) until replies drain.
    if ((queue_.size() >= kMaxInFlight ||
         queued_bytes_ >= worker_.config().clients.max_pipeline_size) &&
        !paused_) {
      paused_ = true;
      stream_.stop_reading();
    }
  }
  in_process_ = false;
  // What CLIENT LIST shows of this session (read by other workers): once per batch of input.
  publish_card();
  if (quitting_ && queue_.empty() && stream_.pending_output() == 0 && !closed_) {
    close("quit");
  }
}

const commands::CommandSpec* ClientSession::lookup_command(std::span<const std::string_view> args) {
  // Clients repeat the same few commands: the last plain (not container) command found is
  // checked first, one case-insensitive compare instead of a hash and a table probe.
  if (last_command_ != nullptr && !args.empty() && text::iequals(args[0], last_command_->name)) {
    return last_command_;
  }
  const commands::CommandSpec* spec = commands::lookup(args);
  if (spec != nullptr && !spec->is_container() && spec->name.find('|') == std::string_view::npos) {
    last_command_ = spec;
  }
  return spec;
}

bool ClientSession::waits_for_order(const commands::CommandSpec* spec) const {
  if (queue_.empty() || parser_.args().empty()) return false;
  if (long_in_flight_) return true;
  if (tx_.active) return false;  // queued inside MULTI, sent with EXEC on its own connection
  return spec != nullptr && spec->may_run_long();
}

bool ClientSession::pause_held(const commands::CommandSpec* spec) {
  // Unknown commands, and what only looks at the connection, run; so do the UNPAUSE that
  // ends the pause and a QUIT/RESET.
  if (spec == nullptr || spec->routing == commands::Routing::Local) return false;
  // PUBLISH and SPUBLISH (a channel as first argument) count as writes, as in Redis's WRITE
  // pause.
  bool is_write = spec->has(commands::kWrite) || spec->has(commands::kMayReplicate) ||
                  (spec->acl_categories & commands::kAcl_scripting) != 0 ||
                  spec->channels == commands::ChannelArgs::First;
  if (!worker_.paused_for(is_write, *this)) return false;
  pause_held_ = true;
  return true;
}

void ClientSession::maybe_resume() {
  if (queue_.empty()) {
    queued_bytes_ = 0;
    long_in_flight_ = false;
    if (awaiting_order_ && !closed_) {
      awaiting_order_ = false;
      if (!paused_ && !pause_held_) stream_.start_reading();
      process_input();
      if (awaiting_order_ || paused_) return;
    }
  }
  if (paused_ && queue_.size() < kMaxInFlight / 2 &&
      queued_bytes_ < worker_.config().clients.max_pipeline_size / 2 && !closed_) {
    paused_ = false;
    if (!awaiting_order_ && !pause_held_) stream_.start_reading();
    process_input();
  }
}

void ClientSession::handle_command(const commands::CommandSpec* spec,
                                   std::span<const std::string_view> args, std::string_view raw,
                                   bool was_inline) {
  auto& stats = worker_.stats();
  worker_.count_command();
  silent_ = replies_off_ || skip_next_;
  skip_next_ = false;
  if (spec == nullptr) {
    stats.count_command(metrics::other_command(), metrics::CommandResult::Error, 0);
    reject(unknown_command_error(args));
    return;
  }
  if (spec->is_container() && args.size() >= 2) {
    // lookup() returns the container itself when the subcommand is unknown. A bare
    // container (COMMAND) falls through to its own arity and routing.
    std::string container = text::upper(spec->name);
    reject(fmt::format("ERR unknown subcommand '{}'. Try {} HELP.", args[1].substr(0, 128),
                       container));
    return;
  }
  if (!commands::arity_ok(*spec, args.size())) {
    stats.count_command(spec->metrics_index, metrics::CommandResult::Error, 0);
    reject(fmt::format("ERR wrong number of arguments for '{}' command", spec->name));
    return;
  }
  if (!authenticated_ && !spec->has(commands::kNoAuth)) {
    stats.count_command(spec->metrics_index, metrics::CommandResult::Refused, 0);
    reply("-NOAUTH Authentication required.\r\n");
    return;
  }
  if (!admit(*spec, args)) {
    stats.count_command(spec->metrics_index, metrics::CommandResult::Refused, 0);
    return;
  }
  if (subs_ && subs_->active() && protocol_ == 2 && !subscribed_mode_allows(*spec, args)) return;
  if (tracking_ && spec->has(commands::kReadOnly)) note_tracked_read(*spec, args);
  if (tx_.active && spec->routing != commands::Routing::Transaction &&
      spec->local != commands::LocalHandler::Quit && spec->local != commands::LocalHandler::Reset) {
    queue_in_transaction(*spec, args, raw, was_inline);
    return;
  }

  switch (spec->routing) {
    case commands::Routing::Local:
      run_local_command(*this, *spec, args);
      return;
    case commands::Routing::Refused:
      return;  // admit() answered it
    case commands::Routing::Transaction:
      transaction_command(*spec, args, raw, was_inline);
      return;
    case commands::Routing::Blocking:
      forward_blocking(*spec, args, raw, was_inline);
      return;
    case commands::Routing::PubSub:
      if (!subs_) subs_ = std::make_unique<Subscriptions>(*this);
      subs_->command(*spec, args);
      return;
    case commands::Routing::SlotArgument:
      forward_to_slot_argument(*spec, args, raw, was_inline);
      return;
    case commands::Routing::Keyed:
    case commands::Routing::Split:
    case commands::Routing::AnyNode:
    case commands::Routing::AllMasters:
    case commands::Routing::Scan:
      forward(*spec, args, raw, was_inline);
      return;
  }
}

void ClientSession::forward_to_slot_argument(const commands::CommandSpec& spec,
                                             std::span<const std::string_view> args,
                                             std::string_view raw, bool was_inline) {
  // CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT <slot>: the slot number picks the master.
  const auto slot = resp::parse_integer(args[2]);
  if (!slot || *slot < 0 || *slot >= cluster::kSlotCount) {
    reply("-ERR Invalid slot\r\n");
    return;
  }
  router::Request* req = new_forwarded(spec, args, raw, was_inline);
  worker_.router().submit_to_slot(req, static_cast<cluster::Slot>(*slot));
}

bool ClientSession::admit(const commands::CommandSpec& spec,
                          std::span<const std::string_view> args) {
  if (spec.routing == commands::Routing::Refused) {
    reject(fmt::format("ERR '{}' is not available through slotgate: {}", spec.name,
                       spec.refused_reason));
    return false;
  }
  if (spec.has_trait(commands::kConnectionState) && spec.routing != commands::Routing::Local) {
    // Backend connections are shared: nothing may change their state.
    reject(fmt::format("ERR '{}' is not available through slotgate: {}", spec.name,
                       commands::policy_text::kClientState));
    return false;
  }
  if (spec.has_trait(commands::kConfigAllowList) && !config_set_allowed(args)) return false;
  if (user_ && !check_permissions(spec, args)) return false;
  return true;
}

bool ClientSession::check_permissions(const commands::CommandSpec& spec,
                                      std::span<const std::string_view> args) {
  const AclVerdict v = check_acl(*acl_, spec, args, key_refs_scratch_);
  if (v.denial == AclDenial::None) return true;
  static constexpr std::string_view kReason[] = {"", "command", "key", "channel"};
  log_acl_denial(kReason[static_cast<size_t>(v.denial)],
                 v.denial == AclDenial::Command ? spec.name : args[v.arg], user_->name);
  worker_.stats().acl_denials++;
  reject(acl_denial_text(v.denial, spec));
  return false;
}

bool ClientSession::in_transaction() const {
  return tx_.active;
}

void ClientSession::log_acl_denial(std::string_view reason, std::string_view object,
                                   std::string_view user) {
  AclLogEntry e;
  e.reason = reason;
  e.context = tx_.active ? "multi" : "toplevel";
  e.object = object;
  e.username = user;
  e.client_info = fmt::format("id={} addr={} laddr={} name={} user={} resp={}", id_, peer_,
                              local_address(), name_, user_ ? user_->name : "default", protocol_);
  e.created_ms = worker_.loop().now_ms();
  worker_.acl_log().add(std::move(e));
}

router::Request* ClientSession::new_request(const commands::CommandSpec& spec) {
  router::Request* req = worker_.router().pool().acquire();
  req->sink = this;
  req->spec = &spec;
  req->state = router::RequestState::Queued;
  req->started_ns = worker_.loop().now_ns();
  req->protocol = protocol_;
  req->silent = silent_;
  // Reads after WATCH stay on the master: they must see what the transaction will see.
  // So do a tracking session's: the invalidations come from the masters, and a read from a
  // lagging replica right after one would be cached stale with no invalidation to follow.
  if (watching_ || tracking_) {
    req->read_from = config::ReadFrom::Master;
  } else if (user_) {
    req->read_from = user_->read_from;
  }
  if (closed_) {
    // A reply earlier in the same command closed the session (output limit): whatever the
    // command still sends is answered to nobody and the router returns it to the pool.
    req->sink = nullptr;
    req->orphaned = true;
    return req;
  }
  queue_.push_back(req);
  return req;
}

router::Request* ClientSession::new_forwarded(const commands::CommandSpec& spec,
                                              std::span<const std::string_view> args,
                                              std::string_view raw, bool was_inline) {
  router::Request* req = new_request(spec);
  if (was_inline) {
    resp::append_command(req->wire, args);
  } else {
    req->wire.assign(raw);
  }
  return req;
}

bool ClientSession::config_set_allowed(std::span<const std::string_view> args) {
  // CONFIG SET p1 v1 [p2 v2 ...]: every parameter must be on the allow list.
  const auto& allowed = worker_.config().clients.config_set_allowed;
  for (size_t i = 2; i < args.size(); i += 2) {
    std::string name = lower(args[i]);
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      reject(
          fmt::format("ERR CONFIG SET '{}' is not allowed through slotgate "
                      "(clients.config_set_allowed)",
                      args[i].substr(0, 128)));
      return false;
    }
  }
  return true;
}

bool ClientSession::subscribed_mode_allows(const commands::CommandSpec& spec,
                                           std::span<const std::string_view> args) {
  using commands::LocalHandler;
  if (spec.routing == commands::Routing::PubSub || spec.local == LocalHandler::Quit ||
      spec.local == LocalHandler::Reset) {
    return true;
  }
  if (spec.local == LocalHandler::Ping) {
    // RESP2 subscribers get PING's answer in the shape of a message.
    scratch_.clear();
    resp::append_array_header(scratch_, 2);
    resp::append_bulk(scratch_, "pong");
    resp::append_bulk(scratch_, args.size() > 1 ? args[1] : std::string_view());
    reply(scratch_);
    return false;
  }
  reject(
      fmt::format("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                  "QUIT / RESET are allowed in this context",
                  spec.name));
  return false;
}

std::string ClientSession::local_address() const {
  config::HostPort a = worker_.config().listen;
  a.port = static_cast<uint16_t>(a.port + node_index_);
  return a.to_string();
}

bool ClientSession::unblock(bool with_error) {
  if (blocked_ == 0 || closed_) return false;
  unblock_reply_ = with_error ? "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
                              : (protocol_ == 3 ? "_\r\n" : "*-1\r\n");
  // Closing the dedicated connection ends the block on the node; the request comes back as
  // lost and must not be retried on a new connection (XREAD BLOCK is read-only).
  for (router::Request* req : queue_) {
    if (req->dedicated == &blocking_link_) req->read_only = false;
  }
  blocking_link_.release();
  return true;
}

void ClientSession::rehome_blocked() {
  if (blocked_ == 0 || closed_) return;
  const int64_t node_id = blocking_link_.node_client_id();
  if (node_id == 0) return;  // no open connection, or the node would not say its id
  const std::string& node = blocking_link_.address();
  router::Router& router = worker_.router();
  for (router::Request* req : queue_) {
    // Only one sent and not answered yet (sent_ns) is on the node: a held one is not (after an
    // UNBLOCKED, waiting for its new master). An ASK-redirected one waits on the importing node
    // on purpose, the view's master aside.
    if (req->dedicated != &blocking_link_ || req->state != router::RequestState::Waiting ||
        req->sent_ns == 0 || !req->keyed || req->rehoming || req->asking)
      continue;
    const std::string master = router::master_address(router.view(), req->slot);
    if (master.empty() || master == node) continue;
    // The first such command is the one blocked on the node now; what follows it on the same
    // connection moves with the link once it runs again.
    req->rehoming = true;
    router.unblock_on_node(node, node_id);
    return;
  }
}

void ClientSession::publish_card() {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  card_.last_activity_ms.store(last_activity_ms_, kRelaxed);
  card_.multi.store(tx_.active ? static_cast<int32_t>(tx_.count) : -1, kRelaxed);
  card_.sub.store(subs_ ? subs_->channel_count() : 0, kRelaxed);
  card_.psub.store(subs_ ? subs_->pattern_count() : 0, kRelaxed);
  card_.ssub.store(subs_ ? subs_->shard_channel_count() : 0, kRelaxed);
  card_.resp.store(static_cast<uint32_t>(protocol_), kRelaxed);
  card_.tot_mem.store(accounted_, kRelaxed);
  card_.no_evict.store(no_evict_, kRelaxed);
  card_.tracking.store(tracking_ != nullptr, kRelaxed);
}

void ClientSession::start_tracking(const commands::CommandSpec& spec, TrackingOptions options) {
  stop_tracking();
  tracking_ = std::make_unique<SessionTracking>(*this, std::move(options));
  router::Request* req = new_request(spec);
  req->state = router::RequestState::Waiting;
  tracking_->start(req);
  if (tracking_->failed()) worker_.loop().release_later(std::move(tracking_));
}

void ClientSession::stop_tracking() {
  if (!tracking_) return;
  tracking_->close();
  worker_.loop().release_later(std::move(tracking_));
}

void ClientSession::note_tracked_read(const commands::CommandSpec& spec,
                                      std::span<const std::string_view> args) {
  if (!tracking_->keys().remembers_reads()) return;
  std::vector<uint32_t> positions;
  if (!commands::key_positions(spec, args, positions)) return;
  for (uint32_t p : positions) {
    if (tracking_->keys().remember(args[p])) continue;
    tracking_->flush_client();  // the table is full: everything cached is given up
    tracking_->keys().remember(args[p]);
  }
}

void ClientSession::publish_identity() {
  worker_.sessions().set_identity(id_, name_, lib_name_, lib_ver_);
}

bool ClientSession::subscribed() const {
  return subs_ && subs_->active();
}

void ClientSession::tick() {
  if (tls_handshake_overdue(worker_.loop().now_ms())) {
    worker_.stats().count_tls_failure("client", "timeout");
    close("TLS handshake timeout");
    return;
  }
  if (subs_) subs_->tick();
  if (tracking_ && tracking_->failed()) {
    worker_.loop().release_later(std::move(tracking_));
  } else if (tracking_) {
    tracking_->tick();
  }
  publish_card();
  // An idle client keeps no buffer: a read buffer grown by a big request, the reply ring.
  rbuf_.trim();
  queue_.trim();
  account_memory();
}

void ClientSession::reject(std::string_view error_text) {
  if (tx_.active) tx_.aborted = true;
  scratch_.clear();
  resp::append_error(scratch_, error_text);
  reply(scratch_);
}

void ClientSession::forward(const commands::CommandSpec& spec,
                            std::span<const std::string_view> args, std::string_view raw,
                            bool was_inline) {
  if (router::blocks(spec, args)) {  // XREAD … BLOCK: the router decides what blocks
    forward_blocking(spec, args, raw, was_inline);
    return;
  }
  router::Request* req = new_forwarded(spec, args, raw, was_inline);
  if (spec.may_run_long()) long_in_flight_ = true;
  worker_.router().submit(req, args);
}

void ClientSession::forward_info(const commands::CommandSpec& spec, std::string prefix) {
  router::Request* req = new_request(spec);
  const std::string_view argv[] = {"INFO", "keyspace"};
  resp::append_command(req->wire, argv);
  req->post = router::PostProcess::InfoKeyspace;
  req->info_prefix = std::move(prefix);
  // Health checks call INFO: during a failover answer within a second with the
  // masters that did answer rather than hold the whole reply.
  req->deadline_ms = worker_.loop().now_ms() + 1000;
  worker_.router().submit_broadcast(req);
}

void ClientSession::set_reply_mode(ReplyMode mode) {
  replies_off_ = mode == ReplyMode::Off;
  skip_next_ = mode == ReplyMode::Skip;
  // OFF and SKIP are not answered themselves; ON is.
  silent_ = mode != ReplyMode::On;
}

void ClientSession::reply(std::string_view bytes) {
  if (closed_ || bytes.empty() || silent_) return;
  if (queue_.empty()) {
    write_out(bytes);
    return;
  }
  // Earlier requests are still in flight: this reply waits for its turn.
  router::Request* req = worker_.router().pool().acquire();
  req->sink = this;
  req->state = router::RequestState::Done;
  req->reply.assign(bytes);
  queue_.push_back(req);
  held_bytes_ += req->reply.size();
  account_memory();
}

// Why the order matters: writing may close the session (output_buffer_limit), and
// close() hands every request still in queue_ back to the router. A request is taken
// out of queue_ before its reply is written, so exactly one owner releases it: close()
// if it is still queued, finish() here if it was taken out.
void ClientSession::deliver(router::Request* req, std::string_view reply_bytes) {
  if (closed_) {
    // close() handed every queued request to the router; only a subscription request
    // (abandoned while waiting for its confirmation, then released by Subscriptions::close)
    // still arrives here, orphaned, and nobody else will return it to the pool.
    if (req->orphaned) worker_.router().pool().release(req);
    return;
  }
  std::string substitute;
  if (req->dedicated == &blocking_link_ && blocked_ > 0) {
    --blocked_;
    worker_.count_blocked(-1);
    if (blocked_ == 0) worker_.sessions().set_blocked(id_, false);
    if (!unblock_reply_.empty()) {
      substitute.swap(unblock_reply_);
      reply_bytes = substitute;
    }
  }
  if (!queue_.empty() && queue_.front() == req) {
    queue_.pop_front();
    if (!req->silent) write_out(reply_bytes);
    finish(req, reply_bytes);
    if (!closed_) drain_done();
  } else {
    // Held behind an earlier request (a BLPOP, a slow node): counted against the
    // output buffer limit like unsent output, since it is exactly that.
    req->reply.assign(reply_bytes);
    held_bytes_ += req->reply.size();
    account_memory();
  }
}

void ClientSession::drain_done() {
  while (!closed_ && !queue_.empty() && queue_.front()->state == router::RequestState::Done) {
    router::Request* req = queue_.front();
    queue_.pop_front();
    held_bytes_ -= std::min(held_bytes_, req->reply.size());
    if (!req->silent) write_out(req->reply);
    finish(req, req->reply);
  }
  if (closed_) return;
  if (quitting_ && queue_.empty() && stream_.pending_output() == 0 && !closed_) {
    close("quit");
    return;
  }
  maybe_resume();
}

void ClientSession::finish(router::Request* req, std::string_view reply_bytes) {
  queued_bytes_ -= std::min(queued_bytes_, req->wire.size());
  if (req->spec != nullptr && req->started_ns != 0) {
    double seconds = static_cast<double>(worker_.loop().now_ns() - req->started_ns) / 1e9;
    bool error = resp::is_error_reply(reply_bytes);
    worker_.stats().count_command(
        req->spec->metrics_index,
        error ? metrics::CommandResult::Error : metrics::CommandResult::Ok, seconds);
  }
  worker_.router().pool().release(req);
}

void ClientSession::write_out(std::string_view bytes) {
  if (closed_) return;
  stream_.write(bytes);
  worker_.stats().bytes_out += bytes.size();
  account_memory();
}

void ClientSession::account_memory() {
  if (closed_) return;
  const uint64_t replies = held_bytes_ + stream_.pending_output();
  if (replies > worker_.config().clients.output_buffer_limit) {
    worker_.note_output_limit(peer_, replies);
    close("output buffer limit reached");
    return;
  }
  const uint64_t usage = rbuf_.capacity() + queued_bytes_ + replies;
  if (usage != accounted_) {
    worker_.client_memory_changed(accounted_, usage);
    accounted_ = usage;
  }
}

void ClientSession::on_drained() {
  account_memory();
  if (closed_) return;
  if (quitting_ && queue_.empty() && !closed_) {
    close("quit");
    return;
  }
  if (draining_ && idle() && !closed_) close("shutdown");
}

void ClientSession::close_when_idle() {
  draining_ = true;
  if (idle()) close("shutdown");
}

void ClientSession::on_closed(int) {
  close("connection closed");
}

void ClientSession::close(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  // Flush what is queued for this client before closing (QUIT's +OK, a protocol error).
  stream_.flush();
  stream_.close();
  // Released now if answered or never handed on, else orphaned (router/request.hpp).
  for (router::Request* req : queue_) worker_.router().abandon(req);
  queue_.clear();
  if (blocked_ > 0) worker_.count_blocked(-blocked_);
  blocked_ = 0;
  held_bytes_ = queued_bytes_ = 0;
  worker_.client_memory_changed(accounted_, 0);
  accounted_ = 0;
  // Closing these cancels a pending block and drops a WATCH on the node.
  watch_link_.release();
  blocking_link_.release();
  if (subs_) subs_->close();
  if (tracking_) tracking_->close();
  worker_.session_closed(*this, why);
}

}  // namespace slotgate::client
