#include "admin/admin_server.hpp"

namespace slotgate::admin {

AdminServer::AdminServer(AdminHooks hooks) : hooks_(std::move(hooks)), reaper_(loop_) {}

std::variant<std::unique_ptr<AdminServer>, std::string> AdminServer::start(
    const config::HostPort& address, AdminHooks hooks) {
  std::unique_ptr<AdminServer> server(new AdminServer(std::move(hooks)));
  AdminServer* s = server.get();
  auto listener = net::TcpListener::listen(s->loop_, address.host, address.port, false,
                                           [s] { s->on_connection(); });
  if (auto* err = std::get_if<std::string>(&listener)) return "admin server: " + *err;
  s->listener_ = std::move(std::get<std::unique_ptr<net::TcpListener>>(listener));
  s->port_ = s->listener_->port();
  s->stop_request_ = std::make_unique<net::Async>(s->loop_, [s] { s->shut_down_on_loop(); });
  // The handles were created on this thread before the admin thread starts; from
  // here on only the admin thread touches the loop (std::thread's start orders them).
  s->thread_ = std::thread([s] { s->loop_.run(); });
  return server;
}

void AdminServer::on_connection() {
  auto connection = std::make_unique<HttpConnection>(loop_, hooks_,
                                                     [this](HttpConnection* c) { on_finished(c); });
  if (listener_->accept_into(connection->stream().raw()) != 0) return;
  // Full: the connection that has made no progress for longest is closed to make
  // room. Refusing the new one instead would let a few idle keep-alive connections
  // shut out every kubelet probe (and the pod be restarted for it); a probe is
  // answered within milliseconds of connecting, so it is never the one closed.
  if (connections_.size() >= kMaxAdminConnections) {
    HttpConnection* stalled = nullptr;
    for (const auto& [c, owned] : connections_) {
      if (stalled == nullptr || c->last_progress_ns() < stalled->last_progress_ns()) stalled = c;
    }
    stalled->close();  // on_finished removes it from connections_
  }
  HttpConnection* c = connection.get();
  connections_.emplace(c, std::move(connection));
  c->start();
}

void AdminServer::on_finished(HttpConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  // Not destroyed here: this runs inside the connection's own callback.
  finished_.push_back(std::move(it->second));
  connections_.erase(it);
  reaper_.start(0, 0, [this] { finished_.clear(); });
}

void AdminServer::shut_down_on_loop() {
  if (listener_) listener_->close();
  reaper_.stop();
  connections_.clear();
  finished_.clear();
  loop_.stop();
}

void AdminServer::stop() {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  if (!thread_.joinable()) return;
  stop_request_->send();
  thread_.join();
}

AdminServer::~AdminServer() {
  stop();
}

}  // namespace slotgate::admin
