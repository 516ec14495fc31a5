// Worker counters reach the Prometheus registry as deltas; the text rendering has every name.
#include <catch2/catch.hpp>
#include <string>

#include "commands/command_table.hpp"
#include "metrics/command_names.hpp"
#include "metrics/metrics.hpp"

using namespace slotgate::metrics;

namespace {

// The value of one sample line "name{labels} value" in the rendered text, or -1.
double sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + prefix.size()));
    pos += prefix.size();
  }
  return -1;
}

}  // namespace

TEST_CASE("histogram buckets use Prometheus' le (value <= bound)") {
  LatencyHistogram h;
  h.observe(0.00005);  // bucket 0 (<= 100µs)
  h.observe(0.0001);   // exactly the first bound: still bucket 0
  h.observe(0.0003);   // <= 500µs: bucket 2
  h.observe(10);       // the last bound
  h.observe(60);       // +Inf
  h.observe(-1);       // clock went backwards: counted as 0
  CHECK(h.counts[0] == 3);
  CHECK(h.counts[2] == 1);
  CHECK(h.counts[kBuckets - 1] == 1);
  CHECK(h.counts[kBuckets] == 1);
  CHECK(h.total() == 6);
  CHECK(h.sum_seconds == Approx(70.0004));
}

TEST_CASE("command names map to a fixed label set: the command table's top-level commands") {
  CHECK(command_label(command_index("get")) == "get");
  CHECK(command_label(command_index("zunionstore")) == "zunionstore");
  CHECK(command_index("acl") == 0);
  CHECK(command_index("nosuchcommand") == other_command());
  CHECK(command_index("GET") == command_index("get"));
  CHECK(command_label(command_index("client|list")) == "client");  // subcommands: container
  CHECK(command_label(other_command()) == "other");
  CHECK(command_slots() == 241);  // Redis 7.0's 240 commands plus "other"
  // Every top-level command of the table carries its own index.
  for (const auto& spec : slotgate::commands::all_commands()) {
    CHECK(command_label(spec.metrics_index) == spec.name);
    for (const auto& sub : spec.subs()) CHECK(sub.metrics_index == spec.metrics_index);
  }
  WorkerStats s;
  s.count_command("GET", CommandResult::Ok, 0.001);  // counting folds case
  CHECK(s.command("get").by_result[0] == 1);
  s.count_command("x-very-long-name-that-is-no-redis-command-at-all", CommandResult::Error, 0);
  CHECK(s.command("other").by_result[1] == 1);
}

TEST_CASE("publishing twice adds only what changed in between") {
  Metrics m("9.9.9");
  WorkerStats s;
  s.connections_accepted = 5;
  s.connections_open = 3;
  s.moved = 2;
  s.bytes_in = 100;
  s.count_command("get", CommandResult::Ok, 0.0002);
  s.count_command("get", CommandResult::Ok, 0.0002);
  s.count_command("set", CommandResult::Error, 0.002);
  s.count_backend_request("10.0.0.1:6379");
  s.count_backend_error("10.0.0.1:6379", "timeout");
  m.publish(s);
  m.publish(s);  // nothing changed: nothing added

  std::string t = m.render_text();
  CHECK(sample(t, "slotgate_client_connections_accepted_total") == 5);
  CHECK(sample(t, "slotgate_client_connections") == 3);
  CHECK(sample(t, "slotgate_redirections_total{kind=\"moved\"}") == 2);
  CHECK(sample(t, "slotgate_bytes_received_total") == 100);
  CHECK(sample(t, "slotgate_commands_total{command=\"get\",result=\"ok\"}") == 2);
  CHECK(sample(t, "slotgate_commands_total{command=\"set\",result=\"error\"}") == 1);
  CHECK(sample(t, "slotgate_backend_requests_total{node=\"10.0.0.1:6379\"}") == 1);
  CHECK(sample(t, "slotgate_backend_errors_total{kind=\"timeout\",node=\"10.0.0.1:6379\"}") == 1);

  s.connections_accepted = 7;
  s.connections_open = 1;  // the gauge goes down as connections close
  s.count_command("get", CommandResult::Ok, 0.2);
  s.count_backend_request("10.0.0.1:6379");
  s.count_backend_error("10.0.0.1:6379", "timeout");
  s.count_backend_error("10.0.0.1:6379", "connection");
  s.count_backend_reconnect("10.0.0.2:6379");
  m.publish(s);
  t = m.render_text();
  CHECK(sample(t, "slotgate_client_connections_accepted_total") == 7);
  CHECK(sample(t, "slotgate_client_connections") == 1);
  CHECK(sample(t, "slotgate_commands_total{command=\"get\",result=\"ok\"}") == 3);
  CHECK(sample(t, "slotgate_backend_requests_total{node=\"10.0.0.1:6379\"}") == 2);
  CHECK(sample(t, "slotgate_backend_errors_total{kind=\"timeout\",node=\"10.0.0.1:6379\"}") == 2);
  CHECK(sample(t, "slotgate_backend_errors_total{kind=\"connection\",node=\"10.0.0.1:6379\"}") ==
        1);
  CHECK(sample(t, "slotgate_backend_reconnects_total{node=\"10.0.0.2:6379\"}") == 1);
  // Histogram: two GETs at 200µs fall in le=0.00025, the 200ms one only from le=0.25.
  CHECK(sample(t, "slotgate_command_duration_seconds_bucket{command=\"get\",le=\"0.00025\"}") == 2);
  CHECK(sample(t, "slotgate_command_duration_seconds_bucket{command=\"get\",le=\"0.1\"}") == 2);
  CHECK(sample(t, "slotgate_command_duration_seconds_bucket{command=\"get\",le=\"0.25\"}") == 3);
  CHECK(sample(t, "slotgate_command_duration_seconds_bucket{command=\"get\",le=\"+Inf\"}") == 3);
  CHECK(sample(t, "slotgate_command_duration_seconds_count{command=\"get\"}") == 3);
  CHECK(sample(t, "slotgate_command_duration_seconds_sum{command=\"get\"}") == Approx(0.2004));
}

TEST_CASE("several workers add up") {
  Metrics m;
  WorkerStats a, b;
  a.connections_open = 2;
  b.connections_open = 3;
  a.held_requests = 1;
  a.held_time.observe(1.5);
  b.held_requests = 4;
  m.publish(a);
  m.publish(b);
  const std::string t = m.render_text();
  CHECK(sample(t, "slotgate_client_connections") == 5);
  CHECK(sample(t, "slotgate_requests_held_total") == 5);
  CHECK(sample(t, "slotgate_request_hold_seconds_bucket{le=\"2.5\"}") == 1);
  CHECK(sample(t, "slotgate_request_hold_seconds_count") == 1);
}

TEST_CASE("control-plane values and build info") {
  Metrics m("1.2.3");
  std::string t = m.render_text();
  CHECK(sample(t, "slotgate_build_info{version=\"1.2.3\"}") == 1);
  CHECK(sample(t, "slotgate_slots_uncovered") == 16384);  // nothing known yet
  m.topology_refresh("periodic", true);
  m.topology_refresh("periodic", true);
  m.topology_refresh("moved", false);
  m.set_view(7, 16000, 3, 3);
  m.set_draining(true);
  t = m.render_text();
  CHECK(sample(t, "slotgate_topology_refreshes_total{result=\"ok\",trigger=\"periodic\"}") == 2);
  CHECK(sample(t, "slotgate_topology_refreshes_total{result=\"error\",trigger=\"moved\"}") == 1);
  CHECK(sample(t, "slotgate_topology_view_version") == 7);
  CHECK(sample(t, "slotgate_slots_uncovered") == 384);
  CHECK(sample(t, "slotgate_cluster_nodes{role=\"master\"}") == 3);
  CHECK(sample(t, "slotgate_cluster_nodes{role=\"replica\"}") == 3);
  CHECK(sample(t, "slotgate_draining") == 1);
  const double age = sample(t, "slotgate_topology_view_age_seconds");
  CHECK(age >= 0);
  CHECK(age < 5);
}

TEST_CASE("the rendering names every slotgate metric") {
  Metrics m;
  WorkerStats s;
  s.count_command("get", CommandResult::Ok, 0.001);
  s.count_backend_request("n:1");
  s.count_backend_error("n:1", "timeout");
  s.count_backend_reconnect("n:1");
  m.publish(s);
  m.topology_refresh("periodic", true);
  const std::string t = m.render_text();
  for (const char* name : {"slotgate_client_connections",
                           "slotgate_client_connections_accepted_total",
                           "slotgate_client_connections_rejected_total",
                           "slotgate_client_memory_bytes",
                           "slotgate_client_evictions_total",
                           "slotgate_commands_total",
                           "slotgate_command_duration_seconds",
                           "slotgate_backend_requests_total",
                           "slotgate_backend_errors_total",
                           "slotgate_backend_reconnects_total",
                           "slotgate_redirections_total",
                           "slotgate_cluster_errors_total",
                           "slotgate_topology_refreshes_total",
                           "slotgate_topology_view_version",
                           "slotgate_topology_view_age_seconds",
                           "slotgate_slots_uncovered",
                           "slotgate_cluster_nodes",
                           "slotgate_requests_held_total",
                           "slotgate_requests_held_expired_total",
                           "slotgate_request_hold_seconds",
                           "slotgate_fanout_subrequests_total",
                           "slotgate_retries_total",
                           "slotgate_outcome_unknown_total",
                           "slotgate_bytes_received_total",
                           "slotgate_bytes_sent_total",
                           "slotgate_draining",
                           "slotgate_build_info"}) {
    INFO(name);
    CHECK(t.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
}

TEST_CASE("client memory is a gauge over workers; evictions a counter") {
  Metrics m("9.9.9");
  WorkerStats a, b;
  a.client_memory = 3000;
  b.client_memory = 2000;
  b.client_evictions = 1;
  m.publish(a);
  m.publish(b);
  std::string t = m.render_text();
  CHECK(sample(t, "slotgate_client_memory_bytes") == 5000);
  CHECK(sample(t, "slotgate_client_evictions_total") == 1);
  a.client_memory = 500;  // a worker's clients drained their buffers
  m.publish(a);
  t = m.render_text();
  CHECK(sample(t, "slotgate_client_memory_bytes") == 2500);
}

TEST_CASE("per-node request latency is published as a histogram labelled by node") {
  Metrics m;
  WorkerStats s;
  BackendStats& node = s.backend("10.0.0.1:6379");
  node.latency.observe(0.0002);
  node.latency.observe(0.2);
  s.backend("10.0.0.2:6379").latency.observe(0.003);
  CHECK(&s.backend("10.0.0.1:6379") == &node);  // the router keeps this reference
  m.publish(s);
  m.publish(s);  // nothing new: nothing added
  std::string t = m.render_text();
  const std::string n1 = "slotgate_backend_request_duration_seconds_bucket{node=\"10.0.0.1:6379\",";
  CHECK(sample(t, n1 + "le=\"0.00025\"}") == 1);
  CHECK(sample(t, n1 + "le=\"0.25\"}") == 2);
  CHECK(sample(t, "slotgate_backend_request_duration_seconds_count{node=\"10.0.0.1:6379\"}") == 2);
  CHECK(sample(t, "slotgate_backend_request_duration_seconds_count{node=\"10.0.0.2:6379\"}") == 1);
  node.latency.observe(0.0002);
  m.publish(s);
  t = m.render_text();
  CHECK(sample(t, "slotgate_backend_request_duration_seconds_count{node=\"10.0.0.1:6379\"}") == 3);
  CHECK(sample(t, n1 + "le=\"0.00025\"}") == 2);
}
