#include "backend/backend_connection.hpp"

#include <algorithm>
#include <cstring>

#include "net/error.hpp"
#include "net/loop.hpp"
#include "net/timer.hpp"
#include "resp/integer_text.hpp"
#include "resp/reply_writer.hpp"

namespace slotgate::backend {

namespace {
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view kReadOnly = "*1\r\n$8\r\nREADONLY\r\n";
constexpr std::string_view kClientId = "*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n";
}  // namespace

BackendConnection::BackendConnection(net::Loop& loop, std::string address, std::string host,
                                     uint16_t port, const Credentials& creds, BackendEvents& events,
                                     uint64_t connect_timeout_ms, int protocol)
    : loop_(loop),
      address_(std::move(address)),
      host_(std::move(host)),
      port_(port),
      protocol_(protocol),
      events_(events),
      stream_(std::make_unique<net::TcpStream>(loop, *this)),
      connect_timer_(std::make_unique<net::Timer>(loop)) {
  // The handshake goes first in the byte stream: Redis processes a connection's
  // commands in order, so everything queued behind it runs authenticated and in
  // the right protocol.
  const std::string_view user = creds.username.empty() ? "default" : creds.username;
  if (protocol_ == 3) {
    if (creds.password.empty()) {
      const std::string_view argv[] = {"HELLO", "3"};
      resp::append_command(stream_->out(), argv);
    } else {
      const std::string_view argv[] = {"HELLO", "3", "AUTH", user, creds.password};
      resp::append_command(stream_->out(), argv);
    }
    inflight_.push_back({nullptr, Kind::Handshake, 1, loop.now_ms()});
  } else if (!creds.password.empty()) {
    if (creds.username.empty()) {
      const std::string_view argv[] = {"AUTH", creds.password};
      resp::append_command(stream_->out(), argv);
    } else {
      const std::string_view argv[] = {"AUTH", creds.username, creds.password};
      resp::append_command(stream_->out(), argv);
    }
    inflight_.push_back({nullptr, Kind::Handshake, 1, loop.now_ms()});
  } else {
    ready_ = true;
  }
  if (creds.tls) {
    stream_->use_tls(std::make_unique<net::TlsChannel>(
        creds.tls, creds.tls_server_name.empty() ? host_ : creds.tls_server_name));
  }
  connect_timer_->start(connect_timeout_ms, 0, [this] {
    fail(lookup_.pending() ? "timeout looking up " + host_ : std::string("connect timeout"));
  });
  if (net::is_ip_literal(host_)) {
    connect_to(host_);
    return;
  }
  auto lookup_failed = [this](int status) {
    fail("looking up " + host_ + ": " + net::error_text(status));
  };
  int rc = lookup_.start(loop, host_, [this, lookup_failed](const std::string& ip, int status) {
    if (status != 0) {
      lookup_failed(status);
      return;
    }
    connect_to(ip);
  });
  // Reported asynchronously, like a failed connect below.
  if (rc != 0) connect_timer_->start(0, 0, [lookup_failed, rc] { lookup_failed(rc); });
}

void BackendConnection::connect_to(const std::string& ip) {
  if (int rc = stream_->connect(ip, port_); rc != 0) {
    // Reported asynchronously so the caller never sees a half-built connection fail.
    connect_timer_->start(0, 0, [this, rc] { fail("connect: " + net::error_text(rc)); });
  }
}

BackendConnection::~BackendConnection() {
  // Requests still queued here are handed back by fail(); the owner calls fail() first.
  stream_.reset();
}

uint64_t BackendConnection::oldest_sent_ms() const {
  for (size_t i = 0; i < inflight_.size(); ++i) {
    if (inflight_[i].call != nullptr) return inflight_[i].sent_ms;
  }
  return 0;
}

void BackendConnection::send(Call* call) {
  std::string& out = stream_->out();
  uint64_t now = loop_.now_ms();
  if (call->asking) {
    out.append(kAsking);
    inflight_.push_back({nullptr, Kind::Asking, 1, now});
  }
  out.append(call->wire);
  inflight_.push_back({call, Kind::Command, std::max<uint32_t>(call->replies, 1), now});
  stream_->mark_dirty();
}

void BackendConnection::send_readonly() {
  if (readonly_) return;
  readonly_ = true;
  stream_->out().append(kReadOnly);
  inflight_.push_back({nullptr, Kind::ReadOnly, 1, loop_.now_ms()});
  stream_->mark_dirty();
}

void BackendConnection::ask_client_id() {
  stream_->out().append(kClientId);
  inflight_.push_back({nullptr, Kind::ClientId, 1, loop_.now_ms()});
  stream_->mark_dirty();
}

void BackendConnection::send_raw(std::string_view wire) {
  stream_->out().append(wire);
  stream_->mark_dirty();
}

void BackendConnection::close_quietly() {
  closed_by_owner_ = true;
  fail("closed by its owner");
}

void BackendConnection::on_tls_handshake(bool ok) {
  // A failure is reported by the close that follows; its reason is the TLS one.
  if (ok) return;
  tls_failure_ = stream_->tls()->error();
  tls_failure_class_ = stream_->tls()->failure_class();
}

void BackendConnection::on_connected() {
  connect_timer_->stop();
  stream_->set_keepalive(true, 30);
  if (ready_) {
    ever_ready_ = true;
    events_.on_backend_ready(*this);
  }
}

void BackendConnection::on_flush() {
  unwritten_from_ = inflight_.size();
}

std::span<char> BackendConnection::read_space() {
  return rbuf_.space();
}

void BackendConnection::on_read(size_t n) {
  rbuf_.commit(n);
  while (!closed_ && !rbuf_.empty()) {
    std::string_view avail = rbuf_.unread();
    auto status = scanner_.scan(avail);
    if (status == resp::FrameScanner::Status::Incomplete) break;
    if (status == resp::FrameScanner::Status::Error) {
      fail("protocol error in reply");
      return;
    }
    size_t len = scanner_.frame_length();
    handle_frame(avail.substr(0, len));
    if (closed_) return;
    rbuf_.consume(len);
    scanner_.reset();
  }
}

void BackendConnection::handle_frame(std::string_view frame) {
  // CLIENT ID's answer is the connection's own, like the handshake's: never a push.
  bool handshake_pending = !inflight_.empty() && (inflight_.front().kind == Kind::Handshake ||
                                                  inflight_.front().kind == Kind::ClientId);
  if (push_sink_ != nullptr && !handshake_pending) {
    push_sink_->on_push(*this, frame, scanner_);
    return;
  }
  if (scanner_.is_push()) {
    // RESP3 pushes only come to connections that subscribe or track keys; shared
    // connections do neither, so a stray push is dropped rather than taken for a reply.
    return;
  }
  if (inflight_.empty()) {
    // Redis never speaks unprompted on a request/response connection.
    fail("unexpected reply with nothing outstanding");
    return;
  }
  Outstanding& front = inflight_.front();
  if (front.kind == Kind::Command && front.replies_left > 1) {
    // Not the call's last reply (a transaction written as MULTI … EXEC): the call stays
    // at the front of the FIFO until its last frame arrives.
    front.replies_left--;
    events_.on_backend_reply(front.call, frame, scanner_, *this);
    return;
  }
  Outstanding o = front;
  inflight_.pop_front();
  if (unwritten_from_ > 0) --unwritten_from_;
  switch (o.kind) {
    case Kind::Handshake:
      if (scanner_.is_error()) {
        auth_failed_ = true;
        std::string why = "authentication to the cluster failed: ";
        why.append(scanner_.error_text());
        fail(why);
        return;
      }
      ready_ = true;
      ever_ready_ = true;
      events_.on_backend_ready(*this);
      return;
    case Kind::ClientId:
      if (frame.size() > 3 && frame[0] == ':') {
        if (auto id = resp::parse_integer(frame.substr(1, frame.size() - 3)); id && *id > 0)
          node_client_id_ = *id;
      }
      return;
    case Kind::Asking:
    case Kind::ReadOnly:
      return;  // +OK; an error here shows up again on the command itself (MOVED, followed)
    case Kind::Command:
      events_.on_backend_reply(o.call, frame, scanner_, *this);
      return;
  }
}

void BackendConnection::on_closed(int status) {
  if (!tls_failure_.empty()) {
    fail("TLS handshake failed (" + tls_failure_class_ + "): " + tls_failure_);
    return;
  }
  fail(net::is_end_of_stream(status) ? std::string("connection closed by the node")
                                     : "connection error: " + net::error_text(status));
}

void BackendConnection::time_out(std::string_view why) {
  if (closed_) return;
  timed_out_ = true;
  fail(why);
}

void BackendConnection::fail(std::string_view why) {
  if (closed_) return;
  closed_ = true;
  ready_ = false;
  connect_timer_->stop();
  lookup_.cancel();
  stream_->close();
  std::string reason(why);
  // Hand calls back oldest first so re-routed ones keep their relative order.
  net::RingFifo<Outstanding> pending;
  pending.swap(inflight_);
  size_t unwritten_from = unwritten_from_;
  unwritten_from_ = 0;
  if (push_sink_ != nullptr && !closed_by_owner_)
    push_sink_->on_push_connection_lost(*this, reason);
  // The owner hears of the failure first, so the requests handed back below are
  // re-routed knowing the node is down (backoff, last error), not to a fresh
  // connection to the same dead node.
  events_.on_backend_closed(*this, reason, auth_failed_);
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].call == nullptr) continue;
    using Loss = BackendEvents::Loss;
    Loss loss = Loss::Unwritten;
    if (auth_failed_) {
      loss = Loss::AuthFailed;
    } else if (i < unwritten_from) {
      loss = timed_out_ ? Loss::TimedOut : Loss::Written;
    }
    events_.on_backend_lost(pending[i].call, loss, reason);
  }
}

}  // namespace slotgate::backend
