// The admin server over real TCP on 127.0.0.1:7300-7319: endpoints, errors,
// limits and keep-alive, talking raw HTTP/1.1 through a socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "admin/admin_server.hpp"
#include "metrics/metrics.hpp"

using namespace slotgate;

namespace {

// A blocking client socket with a 5 s receive timeout, closed on destruction.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may close early (413): the test reads its answer
      off += static_cast<size_t>(n);
    }
  }

  // One response: the head and a Content-Length body. "" on timeout or EOF first.
  std::string read_response() {
    for (;;) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) length = std::stoul(buffer_.substr(cl + 16));
        // HEAD responses carry a Content-Length but no body.
        if (head_only_) length = 0;
        if (buffer_.size() >= head_end + 4 + length) {
          std::string response = buffer_.substr(0, head_end + 4 + length);
          buffer_.erase(0, head_end + 4 + length);
          return response;
        }
      }
      if (!fill()) return "";
    }
  }

  // True when the server closed the connection (EOF) within the timeout.
  bool closed_by_server() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

  void expect_head_only(bool on) { head_only_ = on; }

 private:
  bool fill() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool head_only_ = false;
  std::string buffer_;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

int status_of(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string body_of(const std::string& response) {
  const size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

struct Server {
  metrics::Metrics metrics{"7.7.7"};
  std::atomic<bool> ready{false};
  std::unique_ptr<admin::AdminServer> server;

  explicit Server(uint16_t port) {
    admin::AdminHooks hooks;
    hooks.metrics = &metrics;
    hooks.loops_responsive = [] { return true; };
    hooks.ready = [this] { return ready.load(); };
    hooks.current_view = [] { return std::shared_ptr<const cluster::ClusterView>(); };
    auto started = admin::AdminServer::start(config::HostPort{"127.0.0.1", port}, hooks);
    if (auto* err = std::get_if<std::string>(&started)) FAIL(*err);
    server = std::move(std::get<std::unique_ptr<admin::AdminServer>>(started));
    REQUIRE(server->port() == port);
  }
};

}  // namespace

TEST_CASE("each endpoint answers over HTTP") {
  Server s(7300);
  Client c(7300);
  REQUIRE(c.connected());

  c.send(get("/metrics"));
  std::string r = c.read_response();
  CHECK(status_of(r) == 200);
  CHECK_THAT(r, Catch::Contains("Content-Type: text/plain; version=0.0.4"));
  CHECK_THAT(body_of(r), Catch::Contains("slotgate_build_info{version=\"7.7.7\"} 1"));

  c.send(get("/healthz"));
  r = c.read_response();
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "ok\n");

  c.send(get("/readyz"));
  r = c.read_response();
  CHECK(status_of(r) == 503);
  CHECK(body_of(r) == "not ready: cluster topology not discovered yet\n");
  s.ready = true;
  c.send(get("/readyz"));
  CHECK(status_of(c.read_response()) == 200);

  c.send(get("/topology"));
  r = c.read_response();
  CHECK(status_of(r) == 503);
  CHECK_THAT(r, Catch::Contains("Content-Type: application/json"));
}

TEST_CASE("keep-alive: two requests on one connection, also pipelined") {
  Server s(7301);
  Client c(7301);
  REQUIRE(c.connected());
  c.send(get("/healthz"));
  CHECK(status_of(c.read_response()) == 200);
  c.send(get("/healthz"));
  const std::string second = c.read_response();
  CHECK(status_of(second) == 200);
  CHECK_THAT(second, Catch::Contains("Connection: keep-alive"));
  // Both requests in one write: two answers, in order.
  c.send(get("/healthz") + get("/nope"));
  CHECK(status_of(c.read_response()) == 200);
  CHECK(status_of(c.read_response()) == 404);
}

TEST_CASE("Connection: close and HTTP/1.0 end the connection after the answer") {
  Server s(7302);
  {
    Client c(7302);
    c.send(get("/healthz", "Connection: close\r\n"));
    const std::string r = c.read_response();
    CHECK(status_of(r) == 200);
    CHECK_THAT(r, Catch::Contains("Connection: close"));
    CHECK(c.closed_by_server());
  }
  {
    Client c(7302);
    c.send("GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(status_of(c.read_response()) == 200);
    CHECK(c.closed_by_server());
  }
}

TEST_CASE("HEAD answers headers only") {
  Server s(7303);
  Client c(7303);
  c.expect_head_only(true);
  c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string r = c.read_response();
  CHECK(status_of(r) == 200);
  CHECK_THAT(r, Catch::Contains("Content-Length: 3"));
  CHECK(body_of(r).empty());
  c.expect_head_only(false);
  c.send(get("/healthz"));  // the connection is still in sync
  CHECK(body_of(c.read_response()) == "ok\n");
}

TEST_CASE("unknown path 404, other method 405") {
  Server s(7304);
  Client c(7304);
  c.send(get("/admin"));
  CHECK(status_of(c.read_response()) == 404);
  c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  const std::string r = c.read_response();
  CHECK(status_of(r) == 405);
  CHECK_THAT(r, Catch::Contains("Allow: GET, HEAD"));
  c.send(get("/healthz"));  // a body that was read does not desynchronise the connection
  CHECK(status_of(c.read_response()) == 200);
}

TEST_CASE("a malformed request gets 400 and the connection is closed") {
  Server s(7305);
  Client c(7305);
  c.send("THIS IS NOT HTTP\r\n\r\n");
  const std::string r = c.read_response();
  CHECK(status_of(r) == 400);
  CHECK_THAT(body_of(r), Catch::StartsWith("bad request"));
  CHECK(c.closed_by_server());
}

TEST_CASE("oversized heads and bodies get 413") {
  Server s(7306);
  SECTION("a head over 8 KiB") {
    Client c(7306);
    c.send(get("/healthz", "X-Big: " + std::string(9000, 'a') + "\r\n"));
    CHECK(status_of(c.read_response()) == 413);
    CHECK(c.closed_by_server());
  }
  SECTION("a long URL") {
    Client c(7306);
    c.send(get("/healthz?" + std::string(9000, 'q')));
    CHECK(status_of(c.read_response()) == 413);
  }
  SECTION("a declared body over 64 KiB is refused before it is sent") {
    Client c(7306);
    c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    CHECK(status_of(c.read_response()) == 413);
    CHECK(c.closed_by_server());
  }
  SECTION("a chunked body over 64 KiB") {
    Client c(7306);
    std::string req = "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) req += "1000\r\n" + std::string(4096, 'b') + "\r\n";
    c.send(req);
    CHECK(status_of(c.read_response()) == 413);
  }
  SECTION("a head just under the limit is fine") {
    Client c(7306);
    c.send(get("/healthz", "X-Big: " + std::string(7000, 'a') + "\r\n"));
    CHECK(status_of(c.read_response()) == 200);
  }
}

TEST_CASE("a slow client does not block others") {
  Server s(7307);
  Client slow(7307);
  slow.send("GET /heal");  // and then nothing
  Client fast(7307);
  fast.send(get("/healthz"));
  CHECK(status_of(fast.read_response()) == 200);
}

TEST_CASE("a full server closes its longest-stalled connection, so probes are answered") {
  Server s(7310);
  std::vector<std::unique_ptr<Client>> idle;
  for (size_t i = 0; i < admin::kMaxAdminConnections + 6; ++i) {
    idle.push_back(std::make_unique<Client>(7310));
    REQUIRE(idle.back()->connected());
  }
  for (int probe = 0; probe < 3; ++probe) {
    Client c(7310);
    c.send(get("/healthz", "Connection: close\r\n"));
    CHECK(status_of(c.read_response()) == 200);
  }
  // The first idle connections were the ones closed.
  CHECK(idle.front()->closed_by_server());
}

TEST_CASE("start reports a port that is taken; stop is idempotent") {
  Server s(7308);
  auto second = admin::AdminServer::start(config::HostPort{"127.0.0.1", 7308}, {});
  REQUIRE(std::holds_alternative<std::string>(second));
  CHECK_THAT(std::get<std::string>(second), Catch::Contains("cannot bind 127.0.0.1:7308"));
  auto bad = admin::AdminServer::start(config::HostPort{"not-an-ip", 7309}, {});
  REQUIRE(std::holds_alternative<std::string>(bad));
  s.server->stop();
  s.server->stop();
  Client c(7308);
  CHECK_FALSE(c.connected());
}
