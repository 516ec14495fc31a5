// describe_changes(): the event log's account of what changed between two views, in the
// words an operator uses (failover, slots moved, node failed/back).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/view_changes.hpp"

using slotgate::cluster::ClusterView;
using slotgate::cluster::describe_changes;
using slotgate::cluster::describe_slots;
using slotgate::cluster::ViewChange;

namespace {

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c'), kD(40, 'd');

ClusterView::Ptr view(const std::string& nodes_text) {
  auto r = ClusterView::from_nodes(nodes_text, 1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(r));
  return std::get<ClusterView::Ptr>(r);
}

// A and B masters, C replica of A.
ClusterView::Ptr before() {
  return view(kA + " 10.0.0.1:6379@16379 master - 0 0 1 connected 0-8191\n" + kB +
              " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + kC +
              " 10.0.0.3:6379@16379 slave " + kA + " 0 0 1 connected\n");
}

bool has(const std::vector<ViewChange>& changes, const std::string& kind, const std::string& text) {
  for (const auto& c : changes) {
    if (c.kind == kind && c.message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the first view is one 'discovered' event") {
  const auto changes = describe_changes(nullptr, *before());
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == "discovered");
  CHECK(changes[0].message.find("2 masters") != std::string::npos);
}

TEST_CASE("the same view is no event") {
  CHECK(describe_changes(before().get(), *before()).empty());
}

TEST_CASE("a failover names the promoted replica, its old master and the slots") {
  const auto after = view(kA + " 10.0.0.1:6379@16379 slave " + kC + " 0 0 3 connected\n" + kB +
                          " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + kC +
                          " 10.0.0.3:6379@16379 master - 0 0 3 connected 0-8191\n");
  const auto changes = describe_changes(before().get(), *after);
  CHECK(
      has(changes, "failover", "10.0.0.3:6379 promoted to master (was replica of 10.0.0.1:6379)"));
  CHECK(has(changes, "demoted", "10.0.0.1:6379 is now a replica of 10.0.0.3:6379"));
  CHECK(
      has(changes, "slots_moved", "8192 slots (0-8191) moved from 10.0.0.1:6379 to 10.0.0.3:6379"));
}

TEST_CASE("a failed master's slots are reported uncovered, and its return as back online") {
  const auto failed = view(kA + " 10.0.0.1:6379@16379 master,fail - 0 0 1 connected 0-8191\n" + kB +
                           " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + kC +
                           " 10.0.0.3:6379@16379 slave " + kA + " 0 0 1 connected\n");
  const auto down = describe_changes(before().get(), *failed);
  CHECK(has(down, "node_failed", "10.0.0.1:6379"));
  CHECK(has(down, "slots_uncovered", "8192 slots (0-8191) lost their master 10.0.0.1:6379"));
  const auto up = describe_changes(failed.get(), *before());
  CHECK(has(up, "node_back", "10.0.0.1:6379 is online again"));
  CHECK(has(up, "slots_covered", "now served by 10.0.0.1:6379"));
}

TEST_CASE("nodes joining and leaving, and a single slot moving") {
  const auto after = view(kA + " 10.0.0.1:6379@16379 master - 0 0 1 connected 0-99 101-8191\n" +
                          kB + " 10.0.0.2:6379@16379 master - 0 0 2 connected 100 8192-16383\n" +
                          kD + " 10.0.0.4:6379@16379 slave " + kB + " 0 0 2 connected\n");
  const auto changes = describe_changes(before().get(), *after);
  CHECK(has(changes, "node_added", "10.0.0.4:6379 joined as replica of 10.0.0.2:6379"));
  CHECK(has(changes, "node_removed", "10.0.0.3:6379 (replica) left the cluster"));
  CHECK(has(changes, "slots_moved", "1 slot (100) moved from 10.0.0.1:6379 to 10.0.0.2:6379"));
}

TEST_CASE("describe_slots folds runs and stops after a few ranges") {
  CHECK(describe_slots({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  CHECK(describe_slots({1, 3, 5, 7, 9, 11}, 4) == "1,3,5,7, ...");
  CHECK(describe_slots({}).empty());
}

TEST_CASE("a replica listed as a master without slots is not reported as a failover") {
  // Mid-failover gossip: C is called a master, but A still owns the slots.
  const auto after = view(kA + " 10.0.0.1:6379@16379 master - 0 0 1 connected 0-8191\n" + kB +
                          " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n" + kC +
                          " 10.0.0.3:6379@16379 master - 0 0 3 connected\n");
  const auto changes = describe_changes(before().get(), *after);
  CHECK_FALSE(has(changes, "failover", "10.0.0.3"));
  CHECK(has(changes, "role_changed", "10.0.0.3:6379 is listed as a master without slots"));
}
