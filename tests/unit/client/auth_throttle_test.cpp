// AUTH failures per client address: blocked after the limit, for the block time; bounded.
#include <catch2/catch.hpp>

#include <string>

#include "client/acl_log.hpp"
#include "client/auth_throttle.hpp"

using namespace slotgate::client;

TEST_CASE("an address is blocked after too many failures, then let go") {
  AuthThrottle t;
  const AuthThrottleLimits lim{3, 1'000, 5'000};
  CHECK(t.allowed("10.0.0.1", 0, lim));
  t.failed("10.0.0.1", 0, lim);
  t.failed("10.0.0.1", 10, lim);
  CHECK(t.allowed("10.0.0.1", 20, lim));
  t.failed("10.0.0.1", 20, lim);
  CHECK_FALSE(t.allowed("10.0.0.1", 30, lim));
  CHECK(t.allowed("10.0.0.2", 30, lim));  // other addresses are not affected
  CHECK_FALSE(t.allowed("10.0.0.1", 5'019, lim));
  CHECK(t.allowed("10.0.0.1", 5'020, lim));
  // Failures spread over more than the window do not add up.
  t.failed("10.0.0.3", 0, lim);
  t.failed("10.0.0.3", 1'500, lim);
  t.failed("10.0.0.3", 1'600, lim);
  CHECK(t.allowed("10.0.0.3", 1'700, lim));
  CHECK(t.allowed("x", 0, AuthThrottleLimits{0, 1, 1}));
}

TEST_CASE("the address table stays bounded") {
  AuthThrottle t;
  const AuthThrottleLimits lim{3, 1'000, 5'000};
  for (size_t i = 0; i < AuthThrottle::kMaxAddresses + 500; ++i) {
    t.failed("10.1." + std::to_string(i), i, lim);
  }
  CHECK(t.size() <= AuthThrottle::kMaxAddresses);
}

TEST_CASE("peer host without the port") {
  CHECK(peer_host("127.0.0.1:5555") == "127.0.0.1");
  CHECK(peer_host("[::1]:5555") == "::1");
}

TEST_CASE("ACL LOG groups repeats and keeps the newest entries") {
  AclLog log;
  for (int i = 0; i < 3; ++i) log.add({1, "key", "toplevel", "k", "u", "", 100, 0});
  log.add({1, "command", "toplevel", "get", "u", "", 200, 0});
  auto e = log.newest(10);
  REQUIRE(e.size() == 2);
  CHECK(e[0].object == "get");
  CHECK(e[1].count == 3);
  for (size_t i = 0; i < AclLog::kMaxEntries + 10; ++i) {
    log.add({1, "key", "toplevel", std::to_string(i), "u", "", 300, 0});
  }
  CHECK(log.newest(1000).size() == AclLog::kMaxEntries);
  log.add({1, "key", "toplevel", std::string(10'000, 'x'), "u", "", 300, 0});
  CHECK(log.newest(1)[0].object.size() == AclLog::kMaxObject);
  log.reset();
  CHECK(log.newest(10).empty());
}
