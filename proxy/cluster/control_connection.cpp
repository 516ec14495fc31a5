#include "cluster/control_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "net/lookup.hpp"
#include "resp/reply_writer.hpp"

namespace slotgate::cluster {

namespace {
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}
}  // namespace

ControlConnection::~ControlConnection() {
  if (fd_ >= 0) ::close(fd_);
}

ControlConnection::ControlConnection(ControlConnection&& other) noexcept
    : fd_(other.fd_), reader_(std::move(other.reader_)), tls_(std::move(other.tls_)) {
  other.fd_ = -1;
}

ControlConnection& ControlConnection::operator=(ControlConnection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    reader_ = std::move(other.reader_);
    tls_ = std::move(other.tls_);
    other.fd_ = -1;
  }
  return *this;
}

std::vector<std::string> resolve_all(const std::string& host) {
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  out = net::addresses_of(res);
  freeaddrinfo(res);
  return out;
}

std::string_view ControlConnection::tls_failure_class(std::string_view open_error) {
  constexpr std::string_view kPrefix = "TLS handshake failed (";
  if (!open_error.starts_with(kPrefix)) return {};
  open_error.remove_prefix(kPrefix.size());
  return open_error.substr(0, open_error.find(')'));
}

std::variant<ControlConnection, std::string> ControlConnection::open(
    const std::string& ip, uint16_t port, const std::string& username, const std::string& password,
    uint64_t timeout_ms, const std::shared_ptr<const net::TlsContext>& tls,
    const std::string& server_name) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return "not a numeric address: " + ip;
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  ControlConnection conn;
  conn.fd_ = fd;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    return std::string("connect: ") + std::strerror(errno);
  }
  pollfd pfd{fd, POLLOUT, 0};
  int rc = ::poll(&pfd, 1, static_cast<int>(timeout_ms));
  if (rc == 0) return std::string("connect timeout");
  int err = 0;
  socklen_t elen = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  if (rc < 0 || err != 0) return std::string("connect: ") + std::strerror(err ? err : errno);
  if (tls) {
    conn.tls_ = std::make_unique<net::TlsChannel>(tls, server_name.empty() ? ip : server_name);
    if (std::string e = conn.handshake(Clock::now() + std::chrono::milliseconds(timeout_ms));
        !e.empty())
      return e;
  }
  if (!password.empty()) {
    std::variant<resp::Value, std::string> r;
    if (username.empty()) {
      const std::string_view argv[] = {"AUTH", password};
      r = conn.command(argv, timeout_ms);
    } else {
      const std::string_view argv[] = {"AUTH", username, password};
      r = conn.command(argv, timeout_ms);
    }
    if (auto* e = std::get_if<std::string>(&r)) return *e;
    const auto& v = std::get<resp::Value>(r);
    if (v.is_error()) return "authentication failed: " + v.str;
  }
  return conn;
}

std::variant<resp::Value, std::string> ControlConnection::command(
    std::span<const std::string_view> args, uint64_t timeout_ms) {
  if (fd_ < 0) return std::string("not connected");
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out;
  resp::append_command(out, args);
  if (std::string e = send_all(out, deadline); !e.empty()) return e;
  return next_reply(deadline);
}

std::variant<resp::Value, std::string> ControlConnection::next_reply(uint64_t timeout_ms) {
  if (fd_ < 0) return std::string("not connected");
  return next_reply(Clock::now() + std::chrono::milliseconds(timeout_ms));
}

std::variant<resp::Value, std::string> ControlConnection::next_reply(Deadline deadline) {
  char buf[16384];
  resp::Value v;
  for (;;) {
    auto st = reader_.next(v);
    if (st == resp::Resp2Reader::Status::Value) return v;
    if (st == resp::Resp2Reader::Status::Error) return "protocol error: " + reader_.error();
    auto got = receive(buf, deadline);
    if (auto* e = std::get_if<std::string>(&got)) return *e;
    reader_.feed(std::string_view(buf, std::get<size_t>(got)));
  }
}

std::string ControlConnection::handshake(Deadline deadline) {
  char buf[16384];
  for (;;) {
    net::TlsChannel::Progress progress = tls_->handshake();
    std::string wire;
    tls_->take_output(wire);
    if (!wire.empty()) send_raw(wire, deadline);
    if (progress == net::TlsChannel::Progress::Done) return {};
    if (progress == net::TlsChannel::Progress::Failed)
      return "TLS handshake failed (" + std::string(tls_->failure_class()) + "): " + tls_->error();
    auto got = receive_raw(buf, deadline);
    if (auto* e = std::get_if<std::string>(&got)) return "TLS handshake: " + *e;
    tls_->feed(std::span<const char>(buf, std::get<size_t>(got)));
  }
}

std::string ControlConnection::send_all(std::string_view bytes, Deadline deadline) {
  if (!tls_) return send_raw(bytes, deadline);
  if (!tls_->write(bytes)) return "TLS: " + tls_->error();
  std::string wire;
  tls_->take_output(wire);
  return send_raw(wire, deadline);
}

std::string ControlConnection::send_raw(std::string_view bytes, Deadline deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return std::string("send: ") + std::strerror(errno);
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, remaining_ms(deadline)) <= 0) return std::string("send timeout");
  }
  return {};
}

std::variant<size_t, std::string> ControlConnection::receive(std::span<char> buf,
                                                             Deadline deadline) {
  if (!tls_) return receive_raw(buf, deadline);
  for (;;) {
    const long n = tls_->read(buf);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0) return "TLS: " + tls_->error();
    std::string wire;  // a TLS 1.3 key update asks for an answer
    tls_->take_output(wire);
    if (!wire.empty()) send_raw(wire, deadline);
    char raw[16384];
    auto got = receive_raw(raw, deadline);
    if (auto* e = std::get_if<std::string>(&got)) return *e;
    tls_->feed(std::span<const char>(raw, std::get<size_t>(got)));
  }
}

std::variant<size_t, std::string> ControlConnection::receive_raw(std::span<char> buf,
                                                                 Deadline deadline) {
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    int rc = ::poll(&pfd, 1, remaining_ms(deadline));
    if (rc <= 0) return std::string("reply timeout");
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n == 0) return std::string("connection closed");
    if (n > 0) return static_cast<size_t>(n);
    if (errno == EAGAIN || errno == EINTR) continue;
    return std::string("recv: ") + std::strerror(errno);
  }
}

}  // namespace slotgate::cluster
