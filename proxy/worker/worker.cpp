#include "worker/worker.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "client/auth.hpp"
#include "client/client_memory.hpp"
#include "client/client_session.hpp"
#include "metrics/metrics.hpp"

namespace slotgate::worker {

using client::ClientMemoryBudget;
using client::log_escaped;

namespace {
constexpr uint64_t kTickMs = 100;
constexpr uint64_t kPublishMs = 1000;

uint64_t steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

router::RouterOptions router_options(const config::Config& cfg) {
  router::RouterOptions o;
  o.failover_hold_ms = static_cast<uint64_t>(cfg.cluster.failover_hold.count());
  o.command_timeout_ms = static_cast<uint64_t>(cfg.cluster.command_timeout.count());
  o.connect_timeout_ms = static_cast<uint64_t>(cfg.cluster.connect_timeout.count());
  o.hold_queue_limit = cfg.cluster.hold_queue_limit;
  o.max_redirects = static_cast<int>(cfg.cluster.max_redirects);
  o.read_from = cfg.cluster.read_from;
  return o;
}
}  // namespace

Worker::Worker(int index, ServerState& state, cluster::TopologyFeedback& feedback,
               metrics::Metrics* metrics)
    : index_(index), state_(state), metrics_(metrics), config_(state.config()) {
  config_generation_ = state.config_generation();
  stats_.worker = index;
  router_ = std::make_unique<router::Router>(
      loop_, router_options(*config_),
      backend::Credentials{config_->cluster.username, config_->cluster.password,
                           state_.backend_tls(), config_->cluster.tls.server_name},
      stats_, feedback);
  tick_timer_ = std::make_unique<net::Timer>(loop_);
  wake_ = std::make_unique<net::Async>(loop_, [this] { on_wake(); });
  evict_timer_ = std::make_unique<net::Timer>(loop_);
  pause_timer_ = std::make_unique<net::Timer>(loop_);
  client_memory_limit_ = config_->effective_client_max_memory();
  client_memory_step_ = ClientMemoryBudget::step_for(client_memory_limit_);
  state_.client_memory.publish(static_cast<size_t>(index_), 0, 0);
  last_tick_ms_ = steady_ms();
  state_.add_worker(this);
}

Worker::~Worker() {
  join();
  // Other workers' CLIENT LIST reads the directory's entries (and their session cards):
  // every entry goes before the sessions do.
  for (auto& [ptr, s] : sessions_) state_.sessions.remove(ptr->id());
  sessions_.clear();
  // Closed sessions and their dedicated connections go before the router they abandon
  // requests to; then the pool connections the router's shutdown closed.
  loop_.destroy_released();
  router_.reset();
  loop_.destroy_released();
}

std::string Worker::listen(const config::HostPort& address, bool reuse_port, uint32_t node_index) {
  auto result = net::TcpListener::listen(loop_, address.host, address.port, reuse_port,
                                         [this, node_index] { on_connection(node_index); });
  if (auto* err = std::get_if<std::string>(&result)) return *err;
  if (listeners_.size() <= node_index) listeners_.resize(node_index + 1);
  listeners_[node_index] = std::move(std::get<std::unique_ptr<net::TcpListener>>(result));
  return {};
}

std::string Worker::listen_tls(const config::HostPort& address, uint32_t node_index) {
  auto result =
      net::TcpListener::listen(loop_, address.host, address.port, /*reuse_port=*/true,
                               [this, node_index] { on_connection(node_index, /*tls=*/true); });
  if (auto* err = std::get_if<std::string>(&result)) return *err;
  if (tls_listeners_.size() <= node_index) tls_listeners_.resize(node_index + 1);
  tls_listeners_[node_index] = std::move(std::get<std::unique_ptr<net::TcpListener>>(result));
  return {};
}

void Worker::close_listeners() {
  for (auto& l : listeners_) {
    if (l) l->close();
  }
  for (auto& l : tls_listeners_) {
    if (l) l->close();
  }
}

void Worker::start_thread() {
  thread_ = std::thread([this] {
    tick_timer_->start(kTickMs, kTickMs, [this] { tick(); });
    loop_.run();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::post_view(std::shared_ptr<const cluster::ClusterView> view) {
  {
    std::lock_guard lock(mu_);
    posted_view_ = std::move(view);
  }
  wake_->send();
}

void Worker::post_drain() {
  {
    std::lock_guard lock(mu_);
    posted_drain_ = true;
  }
  wake_->send();
}

void Worker::post_stop() {
  {
    std::lock_guard lock(mu_);
    posted_stop_ = true;
  }
  wake_->send();
}

void Worker::post_config_changed() {
  {
    std::lock_guard lock(mu_);
    posted_config_ = true;
  }
  wake_->send();
}

void Worker::post_task(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    posted_tasks_.push_back(std::move(task));
  }
  wake_->send();
}

void Worker::set_pause(uint64_t until_ms, bool writes_only) {
  if (until_ms == 0) {
    end_pause();
    return;
  }
  // Like Redis: a new pause never shortens or narrows one already in force.
  if (pause_until_ms_ != 0) {
    writes_only = writes_only && pause_writes_only_;
    until_ms = std::max(until_ms, pause_until_ms_);
  }
  pause_until_ms_ = until_ms;
  pause_writes_only_ = writes_only;
  uint64_t now = steady_ms();
  pause_timer_->start(until_ms > now ? until_ms - now : 0, 0, [this] { end_pause(); });
}

void Worker::end_pause() {
  pause_until_ms_ = 0;
  pause_timer_->stop();
  std::vector<uint64_t> ids;
  ids.swap(paused_sessions_);
  for (uint64_t id : ids) {
    if (ClientSession* s = find_session(id)) s->resume_after_pause();
  }
}

bool Worker::paused_for(bool is_write, ClientSession& session) {
  if (pause_until_ms_ == 0) return false;
  if (steady_ms() >= pause_until_ms_) {
    end_pause();
    return false;
  }
  if (pause_writes_only_ && !is_write) return false;
  if (std::find(paused_sessions_.begin(), paused_sessions_.end(), session.id()) ==
      paused_sessions_.end()) {
    paused_sessions_.push_back(session.id());
  }
  return true;
}

std::vector<client::SessionHost*> Worker::hosts() const {
  auto workers = state_.workers();
  return {workers.begin(), workers.end()};
}

client::ProxyInfo Worker::proxy_info() const {
  client::ProxyInfo info;
  info.redis_version = state_.redis_version();
  info.uptime_seconds = state_.uptime_seconds();
  info.connected_clients = state_.connected_clients.load();
  info.total_connections = state_.total_connections.load();
  info.rejected_connections = state_.rejected_connections.load();
  info.auth_failures = state_.auth_failures.load();
  // Per-worker counters, summed: each worker writes only its own.
  for (Worker* other : state_.workers()) {
    const auto& n = other->counters();
    info.blocked_clients += n.blocked.load(std::memory_order_relaxed);
    info.pubsub_clients += n.pubsub.load(std::memory_order_relaxed);
    info.commands_processed += n.commands.load(std::memory_order_relaxed);
    info.ops_per_sec += n.ops_per_sec.load(std::memory_order_relaxed);
  }
  return info;
}

ClientSession* Worker::find_session(uint64_t id) {
  for (auto& [ptr, s] : sessions_) {
    if (s->id() == id && !s->closed()) return ptr;
  }
  return nullptr;
}

uint64_t Worker::ms_since_tick() const {
  return steady_ms() - last_tick_ms_.load();
}

void Worker::on_wake() {
  std::shared_ptr<const cluster::ClusterView> view;
  bool drain = false, stop = false, cfg = false;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_tasks_);
    view.swap(posted_view_);
    drain = posted_drain_;
    stop = posted_stop_;
    cfg = posted_config_;
    posted_drain_ = posted_config_ = false;
  }
  if (cfg) apply_config();
  for (auto& task : tasks) task();
  if (view) {
    router_->set_view(std::move(view));
    // A blocked command may wait on a node that is no longer its slot's master.
    if (counters_.blocked.load(std::memory_order_relaxed) > 0) {
      for (auto& [ptr, s] : sessions_) s->rehome_blocked();
    }
  }
  if (drain && !draining_) {
    draining_ = true;
    close_listeners();
    // Closing an idle session removes it from sessions_: collect first.
    std::vector<ClientSession*> open;
    for (auto& [ptr, s] : sessions_) open.push_back(ptr);
    for (ClientSession* s : open) s->close_when_idle();
  }
  if (stop) {
    close_listeners();
    std::vector<ClientSession*> open;
    for (auto& [ptr, s] : sessions_) open.push_back(ptr);
    for (ClientSession* s : open) s->close("shutdown");
    router_->shutdown();
    stats_.held_now = static_cast<int64_t>(router_->held());
    stats_.held_oldest_seconds = 0;
    if (metrics_) metrics_->publish(stats_);
    tick_timer_->stop();
    loop_.stop();
  }
}

void Worker::apply_config() {
  config_ = state_.config();
  client_memory_limit_ = config_->effective_client_max_memory();
  client_memory_step_ = ClientMemoryBudget::step_for(client_memory_limit_);
  router_->set_options(router_options(*config_));
  router_->set_credentials(backend::Credentials{config_->cluster.username,
                                                config_->cluster.password, state_.backend_tls(),
                                                config_->cluster.tls.server_name});
  // Sessions keep their user's entry alive, but a user the new configuration no longer has may
  // not go on: close its sessions. Users that remain take their new permissions.
  std::vector<std::pair<ClientSession*, std::string_view>> orphaned;
  for (auto& [ptr, s] : sessions_) {
    if (s->closed()) continue;
    if (std::string_view why = s->rebind_user(config_); !why.empty())
      orphaned.emplace_back(ptr, why);
  }
  for (auto [s, why] : orphaned) {
    spdlog::info("closing client {} ({}) of user '{}' after the reload: {}", s->id(), s->peer(),
                 log_escaped(s->user()->name), why);
    s->close(why);
  }
}

void Worker::on_connection(uint32_t node_index, bool tls) {
  auto session = std::make_unique<ClientSession>(*this, state_.next_client_id.fetch_add(1));
  net::TcpListener& listener = tls ? *tls_listeners_[node_index] : *listeners_[node_index];
  if (listener.accept_into(session->stream().raw()) != 0) return;
  if (tls) session->stream().use_tls(std::make_unique<net::TlsChannel>(state_.client_tls()));
  session->set_node_index(node_index);
  stats_.connections_accepted++;
  state_.total_connections.fetch_add(1, std::memory_order_relaxed);
  int64_t now_open = state_.connected_clients.fetch_add(1) + 1;
  ClientSession* raw = session.get();
  sessions_.emplace(raw, std::move(session));
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
  stats_.connections_open++;
  if (static_cast<uint64_t>(now_open) > config_->clients.max_clients || draining_) {
    stats_.connections_rejected++;
    state_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    raw->stream().write("-ERR max number of clients reached\r\n");
    raw->close("max clients");
    return;
  }
  raw->start();
  client::SessionDirectory::Entry entry;
  entry.id = raw->id();
  entry.worker = this;
  entry.addr = raw->peer();
  entry.laddr = raw->local_address();
  entry.created_ms = raw->created_ms();
  entry.card = &raw->card();
  state_.sessions.add(std::move(entry));
}

void Worker::session_closed(ClientSession& session, std::string_view) {
  auto it = sessions_.find(&session);
  if (it == sessions_.end()) return;
  // The session is still on the call stack: the loop destroys it after this callback.
  state_.sessions.remove(session.id());
  loop_.release_later(std::move(it->second));
  sessions_.erase(it);
  session_count_.store(sessions_.size(), std::memory_order_relaxed);
  state_.connected_clients.fetch_sub(1);
  stats_.connections_open--;
}

void Worker::note_output_limit(const std::string& peer, size_t bytes) {
  uint64_t now = loop_.now_ms();
  if (now - last_output_limit_log_ms_ >= 1000) {
    last_output_limit_log_ms_ = now;
    spdlog::warn("client {} closed: {} bytes of replies not read (clients.output_buffer_limit)",
                 peer, bytes);
  }
}

void Worker::client_memory_changed(uint64_t before, uint64_t after) {
  client_memory_ += after - before;  // unsigned wrap-around adds a negative change exactly
  stats_.client_memory = static_cast<int64_t>(client_memory_);
  if (after > biggest_client_) biggest_client_ = after;
  if (client_memory_ >= client_memory_published_ + client_memory_step_ ||
      client_memory_ + client_memory_step_ <= client_memory_published_) {
    // Only growth can push the total over the budget; a shrinking total (sessions closing,
    // also while the worker shuts down) never schedules an eviction.
    publish_client_memory(biggest_client_, /*may_evict=*/after > before);
  }
}

void Worker::publish_client_memory(uint64_t biggest, bool may_evict) {
  client_memory_published_ = client_memory_;
  stats_.client_memory = static_cast<int64_t>(client_memory_);
  auto& budget = state_.client_memory;
  budget.publish(static_cast<size_t>(index_), client_memory_, biggest);
  if (may_evict && !evict_scheduled_ && budget.total() > client_memory_limit_ &&
      budget.holds_biggest(static_cast<size_t>(index_), biggest)) {
    evict_scheduled_ = true;
    evict_timer_->start(0, 0, [this] { enforce_client_memory(); });
  }
}

void Worker::enforce_client_memory() {
  evict_scheduled_ = false;
  auto& budget = state_.client_memory;
  for (;;) {
    ClientSession* biggest = nullptr;
    for (auto& [ptr, s] : sessions_) {
      if (s->no_evict()) continue;  // CLIENT NO-EVICT on
      if (biggest == nullptr || s->memory_usage() > biggest->memory_usage()) biggest = ptr;
    }
    biggest_client_ = biggest != nullptr ? biggest->memory_usage() : 0;
    client_memory_published_ = client_memory_;
    budget.publish(static_cast<size_t>(index_), client_memory_, biggest_client_);
    const uint64_t total = budget.total();
    if (biggest == nullptr || total <= client_memory_limit_ ||
        !budget.holds_biggest(static_cast<size_t>(index_), biggest_client_)) {
      break;
    }
    stats_.client_evictions++;
    spdlog::warn(
        "client {} (id {}) closed: all clients together used {} bytes, over clients.max_memory "
        "({} bytes), and this client used the most ({} bytes)",
        biggest->peer(), biggest->id(), total, client_memory_limit_, biggest->memory_usage());
    biggest->close("client memory limit");
  }
  stats_.client_memory = static_cast<int64_t>(client_memory_);
}

void Worker::sample_ops(uint64_t now_ms) {
  uint64_t commands = counters_.commands.load(std::memory_order_relaxed);
  if (ops_last_ms_ != 0 && now_ms > ops_last_ms_) {
    ops_samples_[ops_sample_index_] =
        (commands - ops_last_commands_) * 1000 / (now_ms - ops_last_ms_);
    ops_sample_index_ = (ops_sample_index_ + 1) % kOpsSamples;
    uint64_t sum = 0;
    for (uint64_t v : ops_samples_) sum += v;
    counters_.ops_per_sec.store(sum / kOpsSamples, std::memory_order_relaxed);
  }
  ops_last_commands_ = commands;
  ops_last_ms_ = now_ms;
}

void Worker::tick() {
  last_tick_ms_ = steady_ms();
  router_->tick();
  // Sessions recount their memory here too (output drains partially without telling),
  // and the biggest client is found again, so the published figures never stay stale.
  std::vector<ClientSession*> open;
  open.reserve(sessions_.size());
  for (auto& [ptr, s] : sessions_) open.push_back(ptr);
  uint64_t biggest = 0;
  int64_t subscribed = 0;
  for (ClientSession* s : open) {
    s->tick();  // may close the session (output limit)
    if (!s->closed()) {
      biggest = std::max(biggest, s->memory_usage());
      if (s->subscribed()) ++subscribed;
    }
  }
  counters_.pubsub.store(subscribed, std::memory_order_relaxed);
  biggest_client_ = biggest;
  publish_client_memory(biggest, /*may_evict=*/true);
  uint64_t now = loop_.now_ms();
  sample_ops(now);
  uint64_t idle_ms = static_cast<uint64_t>(config_->clients.idle_timeout.count());
  if (idle_ms > 0) {
    std::vector<ClientSession*> idle;
    for (auto& [ptr, s] : sessions_) {
      if (s->idle() && now - s->last_activity_ms() > idle_ms) idle.push_back(ptr);
    }
    for (ClientSession* s : idle) s->close("idle timeout");
  }
  if (metrics_ && now - last_publish_ms_ >= kPublishMs) {
    last_publish_ms_ = now;
    stats_.held_now = static_cast<int64_t>(router_->held());
    stats_.held_oldest_seconds = static_cast<double>(router_->oldest_held_ms()) / 1000.0;
    metrics_->publish(stats_);
  }
  if (state_.config_generation() != config_generation_) {
    config_generation_ = state_.config_generation();
    apply_config();
  }
}

}  // namespace slotgate::worker
