#include "net/tcp_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "net/loop.hpp"

namespace slotgate::net {

struct TcpListener::State {
  uv_tcp_t tcp{};
  OnConnection on_connection;
  bool closed = false;
};

TcpListener::TcpListener(Loop& loop, OnConnection cb) : state_(new State) {
  state_->on_connection = std::move(cb);
  uv_tcp_init(loop.raw(), &state_->tcp);
  state_->tcp.data = state_;
}

TcpListener::~TcpListener() {
  close();
}

void TcpListener::close() {
  if (state_ == nullptr) return;
  State* st = state_;
  state_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&st->tcp),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

int TcpListener::accept_into(uv_tcp_t* client) {
  if (state_ == nullptr) return UV_EINVAL;
  return uv_accept(reinterpret_cast<uv_stream_t*>(&state_->tcp),
                   reinterpret_cast<uv_stream_t*>(client));
}

std::variant<std::unique_ptr<TcpListener>, std::string> TcpListener::listen(
    Loop& loop, const std::string& host, uint16_t port, bool reuse_port,
    OnConnection on_connection) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_INET;
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0) {
    addr_len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    addr_len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    return "listen address '" + host + "' is not a numeric IPv4/IPv6 address";
  }
  // libuv 1.44 has no SO_REUSEPORT flag: make the socket ourselves, then hand it to libuv.
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket(): ") + std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return "cannot bind " + host + ":" + std::to_string(port) + ": " + err;
  }
  std::unique_ptr<TcpListener> listener(new TcpListener(loop, std::move(on_connection)));
  if (int rc = uv_tcp_open(&listener->state_->tcp, fd); rc != 0) {
    ::close(fd);
    return std::string("uv_tcp_open: ") + uv_strerror(rc);
  }
  int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener->state_->tcp), 1024,
                     [](uv_stream_t* s, int status) {
                       auto* st = static_cast<State*>(s->data);
                       if (status == 0 && st->on_connection) st->on_connection();
                     });
  if (rc != 0)
    return "cannot listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc);
  sockaddr_storage bound{};
  int blen = sizeof bound;
  uv_tcp_getsockname(&listener->state_->tcp, reinterpret_cast<sockaddr*>(&bound), &blen);
  listener->port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return listener;
}

}  // namespace slotgate::net
