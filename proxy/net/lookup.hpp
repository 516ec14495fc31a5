// net::Lookup: one host name lookup on libuv's thread pool, so a slow or dead DNS
// server never stalls the loop (and every client on it) the way getaddrinfo on
// the loop's thread would. Clusters that announce hostnames
// (cluster-preferred-endpoint-type hostname) need one per new backend connection.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <vector>

namespace slotgate::net {

class Loop;

// True for a numeric IPv4 or IPv6 address (no lookup needed).
bool is_ip_literal(const std::string& host);
// The IPv4/IPv6 addresses of a getaddrinfo result as text, in its order, each once.
std::vector<std::string> addresses_of(const addrinfo* list);

class Lookup {
 public:
  // ip: the first address getaddrinfo returned; status 0, or a libuv error code
  // (ip empty). Called on the loop's thread, at most once, never after the Lookup
  // was destroyed.
  using Done = std::function<void(const std::string& ip, int status)>;

  Lookup() = default;
  ~Lookup() { cancel(); }
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;

  // Starts the lookup. A non-zero libuv error means it could not start and `done`
  // will not be called.
  int start(Loop& loop, const std::string& host, Done done);
  bool pending() const { return req_ != nullptr; }
  // Drops an answer still to come (`done` is not called); the lookup itself ends in
  // the background.
  void cancel();

 private:
  struct Req;
  static void on_done(uv_getaddrinfo_t* uv, int status, addrinfo* res);
  Req* req_ = nullptr;  // owned by libuv until on_done
};

}  // namespace slotgate::net
