// EventLog: the bounded in-memory ring behind GET /events.
#include <catch2/catch.hpp>

#include <string>

#include "cluster/event_log.hpp"

using slotgate::cluster::EventLog;

TEST_CASE("the event log keeps the newest events up to its capacity, oldest first") {
  EventLog log(3);
  for (int i = 1; i <= 5; ++i) log.add_at(1000 * i, "kind", "event " + std::to_string(i));
  const auto events = log.snapshot();
  REQUIRE(events.size() == 3);
  CHECK(events.front().seq == 3);
  CHECK(events.front().message == "event 3");
  CHECK(events.back().seq == 5);
  CHECK(log.total() == 5);
}

TEST_CASE("events as JSON: UTC timestamps, escaped text, and since= filtering") {
  EventLog log(8);
  log.add_at(1796095812639, "failover", "node \"x\"\n promoted");
  log.add_at(1796095813000, "config_reload", "SIGHUP");
  CHECK(log.to_json() ==
        "{\"capacity\":8,\"total\":2,\"events\":["
        "{\"seq\":1,\"time\":\"2026-12-01T03:30:12.639Z\",\"unix_ms\":1796095812639,"
        "\"kind\":\"failover\",\"message\":\"node \\\"x\\\"\\n promoted\"},"
        "{\"seq\":2,\"time\":\"2026-12-01T03:30:13.000Z\",\"unix_ms\":1796095813000,"
        "\"kind\":\"config_reload\",\"message\":\"SIGHUP\"}]}");
  CHECK(log.to_json(1).find("\"seq\":1") == std::string::npos);
  CHECK(log.to_json(1).find("\"seq\":2") != std::string::npos);
}

TEST_CASE("an empty event log is valid JSON") {
  EventLog log;
  CHECK(log.to_json() == "{\"capacity\":256,\"total\":0,\"events\":[]}");
}
