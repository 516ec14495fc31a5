// net::TcpListener: a listening socket. With reuse_port, several worker loops
// each bind the same address (SO_REUSEPORT) and the kernel spreads new
// connections over them, so no accept lock or hand-off between threads exists.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace slotgate::net {

class Loop;

class TcpListener {
 public:
  // Called for each pending connection: the callee accepts it with accept_into().
  using OnConnection = std::function<void()>;

  static std::variant<std::unique_ptr<TcpListener>, std::string> listen(Loop& loop,
                                                                        const std::string& host,
                                                                        uint16_t port,
                                                                        bool reuse_port,
                                                                        OnConnection on_connection);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Accepts one pending connection into an initialised, unused uv_tcp_t. Returns a libuv error
  // code.
  int accept_into(uv_tcp_t* client);
  // Stops accepting and closes the socket (used when draining).
  void close();
  uint16_t port() const { return port_; }

 private:
  TcpListener(Loop& loop, OnConnection cb);
  struct State;
  State* state_;
  uint16_t port_ = 0;
};

}  // namespace slotgate::net
