// net::TlsChannel without sockets: two channels pump records to each other in memory, so the
// handshake, verification failures, partial delivery and large writes are checked in
// milliseconds. Certificates come from tests/harness/tls_certs.py (the openssl CLI).
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "net/tls.hpp"

using namespace slotgate::net;

namespace {

// Removes the certificates when the test program ends.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

const std::string& cert_dir() {
  static TempDir created;
  static const std::string dir = [] {
    std::string d =
        (std::filesystem::temp_directory_path() / ("sg_tls_unit_" + std::to_string(::getpid())))
            .string();
    std::string cmd = "python3 " SLOTGATE_SOURCE_DIR "/tests/harness/tls_certs.py " + d;
    created.path = d;
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}

std::shared_ptr<const TlsContext> context(const TlsOptions& o) {
  auto made = TlsContext::create(o);
  if (auto* err = std::get_if<std::string>(&made)) FAIL(*err);
  return std::get<std::shared_ptr<const TlsContext>>(made);
}

TlsOptions server_options(ClientAuth auth = ClientAuth::None) {
  TlsOptions o;
  o.cert_file = cert_dir() + "/server.crt";
  o.key_file = cert_dir() + "/server.key";
  o.ca_file = cert_dir() + "/ca.crt";
  o.client_auth = auth;
  return o;
}

TlsOptions client_options(std::string ca = "ca.crt") {
  TlsOptions o;
  o.role = TlsRole::Client;
  o.ca_file = cert_dir() + "/" + ca;
  return o;
}

// Moves records both ways, `chunk` bytes at a time, until neither side has output.
void pump(TlsChannel& a, TlsChannel& b, size_t chunk = 1 << 20) {
  for (int round = 0; round < 10000 && (a.has_output() || b.has_output()); ++round) {
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      std::string wire;
      from->take_output(wire);
      for (size_t at = 0; at < wire.size(); at += chunk) {
        to->feed(std::span<const char>(wire.data() + at, std::min(chunk, wire.size() - at)));
        if (!to->established() && to->handshake() == TlsChannel::Progress::Failed) return;
      }
    }
  }
}

struct Pair {
  TlsChannel server, client;
  Pair(const TlsOptions& s, const TlsOptions& c, std::string_view name = "localhost")
      : server(context(s)), client(context(c), name) {}
  bool connect(size_t chunk = 1 << 20) {
    client.handshake();
    pump(client, server, chunk);
    return client.established() && server.established();
  }
};

std::string read_all(TlsChannel& ch) {
  std::string out;
  char buf[4096];
  long n;
  while ((n = ch.read(buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("a TLS handshake completes over memory buffers, even one byte at a time") {
  Pair p(server_options(), client_options());
  REQUIRE(p.connect(1));
  REQUIRE(p.client.write("*1\r\n$4\r\nPING\r\n"));
  pump(p.client, p.server, 7);
  CHECK(read_all(p.server) == "*1\r\n$4\r\nPING\r\n");
}

TEST_CASE("a 1 MB value and a pipeline cross in both directions intact") {
  Pair p(server_options(), client_options());
  REQUIRE(p.connect());
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  REQUIRE(p.server.write(big));
  std::string pipeline;
  for (int i = 0; i < 100; ++i) pipeline += "+OK\r\n";
  REQUIRE(p.server.write(pipeline));
  std::string got;
  for (int i = 0; i < 100 && got.size() < big.size() + pipeline.size(); ++i) {
    pump(p.server, p.client, 1000);
    got += read_all(p.client);
  }
  CHECK(got == big + pipeline);
}

TEST_CASE("a server certificate from another CA fails verification") {
  Pair p(server_options(), client_options("other/other-ca.crt"));
  CHECK_FALSE(p.connect());
  CHECK(p.client.failure_class() == "verify");
  CHECK_THAT(p.client.error(), Catch::Contains("certificate"));
}

TEST_CASE("the server name must match a DNS or IP SAN") {
  CHECK(Pair(server_options(), client_options(), "127.0.0.1").connect());
  Pair wrong(server_options(), client_options(), "redis.example.com");
  CHECK_FALSE(wrong.connect());
  CHECK(wrong.client.failure_class() == "verify");
  auto skip = client_options();
  skip.verify_peer = false;
  CHECK(Pair(server_options(), skip, "redis.example.com").connect());
}

TEST_CASE("client_auth required refuses a client without a certificate") {
  Pair p(server_options(ClientAuth::Required), client_options());
  CHECK_FALSE(p.connect());
  CHECK(p.server.failure_class() == "no_certificate");
}

TEST_CASE("a verified client certificate gives its CN to map to a user") {
  auto c = client_options();
  c.cert_file = cert_dir() + "/client.crt";
  c.key_file = cert_dir() + "/client.key";
  Pair p(server_options(ClientAuth::Required), c);
  REQUIRE(p.connect());
  REQUIRE_FALSE(p.server.peer_names().empty());
  CHECK(p.server.peer_names().front() == "client");
  CHECK_FALSE(p.server.peer_serial().empty());
}

TEST_CASE("a context with bad settings names what is wrong") {
  auto o = server_options();
  o.min_version = "TLSv1.0";
  CHECK_THAT(std::get<std::string>(TlsContext::create(o)), Catch::Contains("min_version"));
  o = server_options();
  o.key_file = cert_dir() + "/client.key";
  CHECK_THAT(std::get<std::string>(TlsContext::create(o)), Catch::Contains("client.key"));
  o = server_options();
  o.cert_file = cert_dir() + "/missing.crt";
  CHECK_THAT(std::get<std::string>(TlsContext::create(o)), Catch::Contains("missing.crt"));
  o = server_options();
  o.ciphers = "NOT-A-CIPHER";
  CHECK_THAT(std::get<std::string>(TlsContext::create(o)), Catch::Contains("ciphers"));
}
