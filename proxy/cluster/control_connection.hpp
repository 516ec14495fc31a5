// cluster::ControlConnection: a small blocking client for the topology refresher
// thread (CLUSTER SHARDS, CLUSTER SLOTS, INFO, PING). It runs on its own thread,
// never on a worker loop, so blocking with a timeout is the simplest correct choice.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/tls.hpp"
#include "resp/resp2_reader.hpp"
#include "resp/value.hpp"

namespace slotgate::cluster {

class ControlConnection {
 public:
  ControlConnection() = default;
  ~ControlConnection();
  ControlConnection(ControlConnection&& other) noexcept;
  ControlConnection& operator=(ControlConnection&& other) noexcept;
  ControlConnection(const ControlConnection&) = delete;
  ControlConnection& operator=(const ControlConnection&) = delete;

  // Connects to a numeric IP (IPv4/IPv6), runs the TLS handshake when `tls` is given
  // (server_name: the node's name as announced, verified against its certificate), and
  // authenticates when a password is given.
  static std::variant<ControlConnection, std::string> open(
      const std::string& ip, uint16_t port, const std::string& username,
      const std::string& password, uint64_t timeout_ms,
      const std::shared_ptr<const net::TlsContext>& tls = nullptr,
      const std::string& server_name = {});
  // The failure class (net::TlsChannel::failure_class()) in an error open() returned when
  // the TLS handshake failed, "" for any other error.
  static std::string_view tls_failure_class(std::string_view open_error);
  // Sends one command and waits for its reply (an error reply is returned as a Value).
  std::variant<resp::Value, std::string> command(std::span<const std::string_view> args,
                                                 uint64_t timeout_ms);
  // The next reply without sending anything (a subscriber's messages). "reply timeout" when
  // none arrived in time; the connection stays usable then.
  std::variant<resp::Value, std::string> next_reply(uint64_t timeout_ms);
  bool is_open() const { return fd_ >= 0; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  std::string handshake(Deadline deadline);
  std::variant<resp::Value, std::string> next_reply(Deadline deadline);
  // Bytes to the socket (encrypted first on a TLS connection): "" or the error.
  std::string send_all(std::string_view bytes, Deadline deadline);
  std::string send_raw(std::string_view bytes, Deadline deadline);
  // Bytes from the socket (decrypted on a TLS connection) into buf: how many, or the error.
  std::variant<size_t, std::string> receive(std::span<char> buf, Deadline deadline);
  std::variant<size_t, std::string> receive_raw(std::span<char> buf, Deadline deadline);

  int fd_ = -1;
  resp::Resp2Reader reader_;
  std::unique_ptr<net::TlsChannel> tls_;
};

// All addresses a name resolves to (a headless Service name gives one per pod), as numeric IPs.
std::vector<std::string> resolve_all(const std::string& host);

}  // namespace slotgate::cluster
