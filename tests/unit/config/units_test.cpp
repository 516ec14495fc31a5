// Durations, sizes and HOST:PORT as users write them in slotgate.yaml.
#include <catch2/catch.hpp>

#include "config/host_port.hpp"
#include "config/units.hpp"

using namespace slotgate::config;
using std::chrono::milliseconds;

namespace {
milliseconds ms(std::string_view s) {
  return std::get<milliseconds>(parse_duration(s));
}
std::string duration_error(std::string_view s) {
  return std::get<std::string>(parse_duration(s));
}
uint64_t bytes(std::string_view s) {
  return std::get<uint64_t>(parse_size(s));
}
std::string size_error(std::string_view s) {
  return std::get<std::string>(parse_size(s));
}
HostPort hp(std::string_view s) {
  return std::get<HostPort>(parse_host_port(s));
}
std::string hp_error(std::string_view s) {
  return std::get<std::string>(parse_host_port(s));
}
}  // namespace

TEST_CASE("durations take ms, s, m, h and plain seconds") {
  CHECK(ms("250ms") == milliseconds(250));
  CHECK(ms("20s") == milliseconds(20'000));
  CHECK(ms("5m") == milliseconds(300'000));
  CHECK(ms("1h") == milliseconds(3'600'000));
  CHECK(ms("0") == milliseconds(0));
  CHECK(ms("0s") == milliseconds(0));
  CHECK(ms("30") == milliseconds(30'000));
  CHECK(ms("10S") == milliseconds(10'000));
  CHECK(ms("10 s") == milliseconds(10'000));
}

TEST_CASE("bad durations say what is accepted") {
  CHECK(duration_error("abc") == "invalid duration 'abc' (use e.g. 250ms, 20s, 5m, 1h)");
  CHECK_THAT(duration_error(""), Catch::Contains("invalid duration"));
  CHECK_THAT(duration_error("-1s"), Catch::Contains("invalid duration"));
  CHECK_THAT(duration_error("1.5s"), Catch::Contains("invalid duration"));
  CHECK_THAT(duration_error("10d"), Catch::Contains("invalid duration"));
  CHECK_THAT(duration_error("99999999999999999999s"), Catch::Contains("too large"));
  CHECK_THAT(duration_error("9999999999999h"), Catch::Contains("too large"));
}

TEST_CASE("sizes use Redis' units: kb is 1024, k is 1000") {
  CHECK(bytes("100b") == 100);
  CHECK(bytes("100") == 100);
  CHECK(bytes("64kb") == 64 * 1024);
  CHECK(bytes("64k") == 64'000);
  CHECK(bytes("512mb") == 512ULL << 20);
  CHECK(bytes("512MB") == 512ULL << 20);
  CHECK(bytes("1gb") == 1ULL << 30);
  CHECK(bytes("1Gb") == 1ULL << 30);
  CHECK(bytes("0") == 0);
  CHECK_THAT(size_error("12 parsecs"), Catch::Contains("invalid size '12 parsecs'"));
  CHECK_THAT(size_error("mb"), Catch::Contains("invalid size"));
  CHECK_THAT(size_error("20000000000gb"), Catch::Contains("too large"));
}

TEST_CASE("durations and sizes print the way users write them") {
  CHECK(format_duration(milliseconds(20'000)) == "20s");
  CHECK(format_duration(milliseconds(1'500)) == "1500ms");
  CHECK(format_duration(milliseconds(300'000)) == "5m");
  CHECK(format_duration(milliseconds(0)) == "0s");
  CHECK(format_size(512ULL << 20) == "512mb");
  CHECK(format_size(1000) == "1000b");
  CHECK(format_size(1ULL << 30) == "1gb");
}

TEST_CASE("host:port accepts names, IPv4 and bracketed IPv6") {
  CHECK(hp("127.0.0.1:7000") == HostPort{"127.0.0.1", 7000});
  CHECK(hp("redis-cluster-headless.redis.svc.cluster.local:6379").host ==
        "redis-cluster-headless.redis.svc.cluster.local");
  CHECK(hp("[::1]:6379") == HostPort{"::1", 6379});
  CHECK(hp("[::1]:6379").to_string() == "[::1]:6379");
  CHECK(hp("0.0.0.0:65535").port == 65535);
  CHECK(HostPort{"10.0.0.1", 6379}.to_string() == "10.0.0.1:6379");
}

TEST_CASE("host:port errors name the problem") {
  CHECK_THAT(hp_error("127.0.0.1"), Catch::Contains("missing port"));
  CHECK_THAT(hp_error("127.0.0.1:"), Catch::Contains("missing port"));
  CHECK_THAT(hp_error(":6379"), Catch::Contains("missing host"));
  CHECK_THAT(hp_error("host:abc"), Catch::Contains("'abc'") && Catch::Contains("not a number"));
  CHECK_THAT(hp_error("host:0"), Catch::Contains("out of range"));
  CHECK_THAT(hp_error("host:70000"), Catch::Contains("out of range"));
  CHECK_THAT(hp_error("host:-1"), Catch::Contains("not a number"));
  CHECK_THAT(hp_error("::1:6379"), Catch::Contains("[v6]:PORT"));
  CHECK_THAT(hp_error("[::1"), Catch::Contains("unclosed"));
  CHECK_THAT(hp_error("[::1]6379"), Catch::Contains("missing port"));
  CHECK_THAT(hp_error(""), Catch::Contains("empty"));
  CHECK_THAT(hp_error("my host:1"), Catch::Contains("invalid character"));
}
