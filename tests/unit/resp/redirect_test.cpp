// parse_redirect: MOVED / ASK error texts as Redis Cluster sends them.
#include <catch2/catch.hpp>

#include "resp/redirect.hpp"

using slotgate::resp::parse_redirect;

TEST_CASE("MOVED and ASK redirects are parsed") {
  auto m = parse_redirect("MOVED 3999 127.0.0.1:6381");
  REQUIRE(m);
  CHECK_FALSE(m->ask);
  CHECK(m->slot == 3999);
  CHECK(m->host == "127.0.0.1");
  CHECK(m->port == 6381);

  auto a = parse_redirect("ASK 16383 redis-0.redis.svc:7000");
  REQUIRE(a);
  CHECK(a->ask);
  CHECK(a->slot == 16383);
  CHECK(a->host == "redis-0.redis.svc");
  CHECK(a->port == 7000);
}

TEST_CASE("an unknown endpoint (empty host) and IPv6 hosts are accepted") {
  auto e = parse_redirect("MOVED 0 :6381");
  REQUIRE(e);
  CHECK(e->host.empty());
  CHECK(e->port == 6381);

  auto v6 = parse_redirect("MOVED 12 fe80::1:6379");
  REQUIRE(v6);
  CHECK(v6->host == "fe80::1");
  CHECK(v6->port == 6379);
}

TEST_CASE("anything else is not a redirect") {
  for (const char* text :
       {"ERR unknown command", "MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED -1 h:1",
        "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:1x",
        "ASK  1 h:1", "MOVED 1 h h:1", "moved 1 h:1", "TRYAGAIN Multiple keys", "ASKING"}) {
    INFO(text);
    CHECK_FALSE(parse_redirect(text));
  }
}
