// NodeSettings: which CONFIG SET parameters are remembered, and which nodes get them when.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cluster/node_settings.hpp"

using namespace slotgate::cluster;

namespace {

const std::string A(40, 'a'), B(40, 'b'), C(40, 'c'), D(40, 'd');
const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);

// A (10.0.0.1) and B (10.0.0.2) masters, C replica of A, D replica of B; `flip` promotes C.
ClusterView::Ptr view(bool flip = false, bool c_failed = false) {
  std::string text;
  if (!flip) {
    text = A + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-8191\n" + C +
           " 10.0.0.3:6379@16379 slave" + (c_failed ? ",fail" : "") + " " + A +
           " 0 0 1 connected\n";
  } else {
    text = C + " 10.0.0.3:6379@16379 myself,master - 0 0 3 connected 0-8191\n" + A +
           " 10.0.0.1:6379@16379 slave " + C + " 0 0 3 connected\n";
  }
  text += B + " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + D +
          " 10.0.0.4:6379@16379 slave " + B + " 0 0 2 connected\n";
  auto result = ClusterView::from_nodes(text, 1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(result));
  return std::get<ClusterView::Ptr>(result);
}

std::vector<std::string> addresses(const ClusterView& v, const NodeSettings::Plan& plan) {
  std::vector<std::string> out;
  for (uint16_t i : plan.nodes) out.push_back(v.node(i).address);
  std::sort(out.begin(), out.end());
  return out;
}

void apply_all(NodeSettings& s, const ClusterView& v, const NodeSettings::Plan& plan) {
  for (uint16_t i : plan.nodes) s.applied(v.node(i), plan.generation);
}

}  // namespace

TEST_CASE("CONFIG SET parameters are remembered by lower-case name, within bounds") {
  NodeSettings s;
  CHECK(s.empty());
  const std::string_view odd[] = {"CONFIG", "SET", "notify-keyspace-events"};
  CHECK_FALSE(s.remember(odd));
  const std::string_view set[] = {"config", "set", "Notify-Keyspace-Events", "KEA"};
  CHECK(s.remember(set));
  CHECK_FALSE(s.remember(set));  // nothing new
  const std::string_view again[] = {"CONFIG", "SET", "notify-keyspace-events", "Ex"};
  CHECK(s.remember(again));
  const std::string big(NodeSettings::kMaxValueBytes + 1, 'x');
  const std::string_view too_long[] = {"CONFIG", "SET", "other", big};
  CHECK_FALSE(s.remember(too_long));
  std::vector<std::string> names;
  for (size_t i = 0; i < NodeSettings::kMaxParameters + 5; ++i)
    names.push_back("p" + std::to_string(i));
  for (const auto& n : names) {
    const std::string_view one[] = {"CONFIG", "SET", n, "1"};
    s.remember(one);
  }
  auto plan = s.plan(*view(), t0);
  CHECK(plan.args.size() == 2 + 2 * NodeSettings::kMaxParameters);
  CHECK(plan.args[2] == "notify-keyspace-events");
  CHECK(plan.args[3] == "Ex");
  CHECK(s.remember_command("*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$2\r\np0\r\n$1\r\n2\r\n"));
}

TEST_CASE("the replicas get a CONFIG SET at once, a promoted or returning node later") {
  NodeSettings s;
  const std::string_view set[] = {"CONFIG", "SET", "notify-keyspace-events", "KEA"};
  REQUIRE(s.remember(set));
  auto v = view();
  // The broadcast reached the masters: only the replicas need it.
  auto plan = s.plan(*v, t0);
  CHECK(addresses(*v, plan) == std::vector<std::string>{"10.0.0.3:6379", "10.0.0.4:6379"});
  CHECK(plan.args == std::vector<std::string>{"CONFIG", "SET", "notify-keyspace-events", "KEA"});
  // One replica could not be reached: tried again after kRetryAfter, not before.
  s.applied(v->node(plan.nodes[0]), plan.generation);
  s.unreachable(v->node(plan.nodes[1]), t0);
  CHECK(s.plan(*v, t0 + std::chrono::seconds(1)).nodes.empty());
  auto retry = s.plan(*v, t0 + NodeSettings::kRetryAfter);
  REQUIRE(retry.nodes.size() == 1);
  apply_all(s, *v, retry);
  CHECK(s.plan(*v, t0 + std::chrono::seconds(30)).nodes.empty());
  // Failover: C promoted, A demoted: both get it again.
  auto flipped = view(true);
  CHECK(addresses(*flipped, s.plan(*flipped, t0 + std::chrono::seconds(31))) ==
        std::vector<std::string>{"10.0.0.1:6379", "10.0.0.3:6379"});
}

TEST_CASE("a node that was failed gets the settings again when it is back") {
  NodeSettings s;
  const std::string_view set[] = {"CONFIG", "SET", "notify-keyspace-events", "KEA"};
  REQUIRE(s.remember(set));
  auto v = view();
  apply_all(s, *v, s.plan(*v, t0));
  auto failed = view(false, true);
  CHECK(s.plan(*failed, t0).nodes.empty());  // a failed node is not asked
  CHECK(addresses(*v, s.plan(*v, t0)) == std::vector<std::string>{"10.0.0.3:6379"});
}

TEST_CASE("a parameter taken off the allow-list is forgotten and not remembered again") {
  NodeSettings s;
  const std::string_view set[] = {"CONFIG", "SET", "notify-keyspace-events", "KEA", "hz", "20"};
  REQUIRE(s.remember(set));
  auto v = view();
  apply_all(s, *v, s.plan(*v, t0));
  // SIGHUP: only hz stays allowed.
  const std::vector<std::string> allowed{"hz"};
  CHECK(s.keep_only(allowed) == std::vector<std::string>{"notify-keyspace-events"});
  CHECK(s.keep_only(allowed).empty());  // nothing more to forget
  // A CONFIG SET admitted under the old list that completes now is not remembered.
  const std::string_view late[] = {"CONFIG", "SET", "notify-keyspace-events", "Ex"};
  CHECK_FALSE(s.remember(late));
  // A promoted node gets what is still allowed, and nothing else.
  auto flipped = view(true);
  auto plan = s.plan(*flipped, t0 + std::chrono::seconds(1));
  CHECK(addresses(*flipped, plan) == std::vector<std::string>{"10.0.0.1:6379", "10.0.0.3:6379"});
  CHECK(plan.args == std::vector<std::string>{"CONFIG", "SET", "hz", "20"});
  // Nothing allowed: nothing is brought to any node.
  CHECK(s.keep_only(std::vector<std::string>{}) == std::vector<std::string>{"hz"});
  CHECK(s.empty());
  CHECK(s.plan(*view(), t0 + std::chrono::seconds(2)).nodes.empty());
}
