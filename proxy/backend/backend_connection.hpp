// backend::BackendConnection: one multiplexed connection from a worker to one
// Redis node. Requests from many client sessions are appended to one output
// buffer (flushed once per loop iteration) and their replies come back in the
// same order, so a FIFO of outstanding calls is all the bookkeeping needed. The
// connection knows nothing of what the bytes mean: a Call says how many reply
// frames its bytes produce, and each is handed to the router in order.
//
// On connect it authenticates with slotgate's own credentials before anything
// else goes out. When the connection dies, each outstanding request is handed
// back with whether it had been written: an unwritten request can go anywhere
// else safely, a written one may or may not have been applied.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/call.hpp"
#include "net/lookup.hpp"
#include "net/read_buffer.hpp"
#include "net/ring_fifo.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls.hpp"
#include "resp/frame_scanner.hpp"

namespace slotgate::net {
class Loop;
class Timer;
}  // namespace slotgate::net

namespace slotgate::metrics {
struct BackendStats;
}

namespace slotgate::backend {

struct Credentials {
  std::string username;
  std::string password;
  // cluster.tls: every connection handshakes first (nullptr = plain). The node's certificate
  // must name tls_server_name, or else the host the node announced.
  std::shared_ptr<const net::TlsContext> tls;
  std::string tls_server_name;
};

class BackendConnection;

// What a connection reports to whoever routes requests (the worker's router).
class BackendEvents {
 public:
  virtual ~BackendEvents() = default;
  // One reply frame for `call` (called call->replies times, in order; the call leaves the
  // FIFO before the last one). `frame` is the complete RESP frame; valid only during the call.
  virtual void on_backend_reply(Call* call, std::string_view frame, const resp::FrameScanner& info,
                                BackendConnection& from) = 0;
  // The connection is gone before `call` was answered. Unwritten: the bytes never
  // left slotgate. Written: the node may or may not have executed it.
  // AuthFailed: the node rejected slotgate's credentials, so it executed nothing.
  // TimedOut: a connection of its own (a lane) gave up waiting after command_timeout;
  // the node may still be running the command.
  enum class Loss : uint8_t { Unwritten, Written, AuthFailed, TimedOut };
  virtual void on_backend_lost(Call* call, Loss loss, std::string_view why) = 0;
  // The connection is gone (called once, before its requests are handed back with
  // on_backend_lost; the connection object must stay alive until then).
  virtual void on_backend_closed(BackendConnection& conn, std::string_view why,
                                 bool auth_failed) = 0;
  // Authentication succeeded and the connection is usable.
  virtual void on_backend_ready(BackendConnection& conn) = 0;
};

// Receives every frame of a subscriber connection (Pub/Sub): confirmations and
// messages do not pair with requests one to one, so they bypass the FIFO.
class PushSink {
 public:
  virtual ~PushSink() = default;
  virtual void on_push(BackendConnection& from, std::string_view frame,
                       const resp::FrameScanner& info) = 0;
  virtual void on_push_connection_lost(BackendConnection& from, std::string_view why) = 0;
};

class BackendConnection final : public net::StreamHandler {
 public:
  // host: an IP, or a name looked up off the loop (the lookup counts against
  // connect_timeout_ms). protocol 2 or 3: the connection speaks the protocol of the
  // clients it serves, so their replies can be forwarded byte for byte.
  BackendConnection(net::Loop& loop, std::string address, std::string host, uint16_t port,
                    const Credentials& creds, BackendEvents& events, uint64_t connect_timeout_ms,
                    int protocol = 2);
  ~BackendConnection() override;

  const std::string& address() const { return address_; }
  int protocol() const { return protocol_; }
  bool closed() const { return closed_; }
  bool ready() const { return ready_; }
  // Connected and authenticated at some point (a later drop is worth an immediate reconnect).
  bool ever_ready() const { return ever_ready_; }
  // The worker's counters for this node, cached by the router on first use so that
  // counting a request or its latency needs no lookup by address.
  metrics::BackendStats* stats() const { return stats_; }
  void set_stats(metrics::BackendStats* stats) { stats_ = stats; }
  size_t outstanding() const { return inflight_.size(); }
  // Oldest unanswered call's send time (loop ms), 0 when none.
  uint64_t oldest_sent_ms() const;

  // Queues a call: its `wire` bytes are appended to the output buffer (after ASKING if asked).
  void send(Call* call);
  // Sends READONLY (once; its reply is not a call's): a cluster replica serves reads after it.
  void send_readonly();
  bool readonly() const { return readonly_; }
  // Subscriber mode: every frame after the handshake goes to `sink`.
  void set_push_sink(PushSink* sink) { push_sink_ = sink; }
  // Sends raw command bytes whose replies go to the push sink.
  void send_raw(std::string_view wire);
  // Closed by its owner (client gone, transaction over): nobody needs to hear about it.
  void close_quietly();
  bool closed_by_owner() const { return closed_by_owner_; }
  // Owned by a session rather than by the pool.
  void mark_dedicated() { dedicated_ = true; }
  // Asks the node for this connection's client id (CLIENT ID, pipelined behind the handshake),
  // so that slotgate can end a command blocked on it from another connection (CLIENT UNBLOCK).
  // Call before sending anything else. node_client_id() is 0 until the answer arrives, and
  // stays 0 if the node refuses (an ACL without CLIENT ID).
  void ask_client_id();
  int64_t node_client_id() const { return node_client_id_; }
  bool dedicated_owner_conn() const { return dedicated_; }
  // A lane: a pool connection that carries one command that may run long at a time, so
  // its wait and its timeout are that command's alone.
  void mark_lane() { lane_ = true; }
  bool lane() const { return lane_; }
  // Closes the connection and hands every outstanding request back (on_backend_lost).
  void fail(std::string_view why);
  // fail(), for a lane whose command took longer than command_timeout: its written requests
  // are handed back as TimedOut, and nobody takes the node for unreachable.
  void time_out(std::string_view why);
  bool timed_out() const { return timed_out_; }
  // Why its TLS handshake failed (net::TlsChannel::failure_class()), "" when it did not.
  std::string_view tls_failure_class() const { return tls_failure_class_; }

  // net::StreamHandler
  std::span<char> read_space() override;
  void on_read(size_t n) override;
  void on_closed(int status) override;
  void on_connected() override;
  void on_tls_handshake(bool ok) override;
  void on_flush() override;

 private:
  enum class Kind : uint8_t { Command, Handshake, Asking, ReadOnly, ClientId };
  struct Outstanding {
    Call* call;  // null for internal commands (AUTH, ASKING)
    Kind kind;
    uint32_t replies_left;  // reply frames still to come for this entry
    uint64_t sent_ms;
  };
  void handle_frame(std::string_view frame);
  void connect_to(const std::string& ip);

  net::Loop& loop_;
  std::string address_;
  std::string host_;
  uint16_t port_;
  int protocol_;
  BackendEvents& events_;
  std::unique_ptr<net::TcpStream> stream_;
  std::string tls_failure_;  // why the TLS handshake failed, for the close that follows
  std::string tls_failure_class_;
  std::unique_ptr<net::Timer> connect_timer_;
  net::Lookup lookup_;
  net::RingFifo<Outstanding> inflight_;
  size_t unwritten_from_ = 0;  // inflight_[i] for i >= this has not been handed to the kernel yet
  net::ReadBuffer rbuf_{64 * 1024, 16 * 1024, 4u << 20};
  resp::FrameScanner scanner_;
  bool ready_ = false;
  bool closed_ = false;
  bool auth_failed_ = false;
  bool ever_ready_ = false;
  bool closed_by_owner_ = false;
  bool dedicated_ = false;
  int64_t node_client_id_ = 0;
  bool lane_ = false;
  bool readonly_ = false;
  metrics::BackendStats* stats_ = nullptr;
  bool timed_out_ = false;
  PushSink* push_sink_ = nullptr;
};

}  // namespace slotgate::backend
