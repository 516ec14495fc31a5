#include <catch2/catch.hpp>

#include "router/cluster_signal.hpp"

using slotgate::router::ClusterSignal;
using slotgate::router::is_redirect;
using slotgate::router::is_transient;
using slotgate::router::signal_of;

TEST_CASE("the first word of a node's error names the cluster signal") {
  CHECK(signal_of("MOVED 3999 127.0.0.1:6381") == ClusterSignal::Moved);
  CHECK(signal_of("ASK 3999 127.0.0.1:6381") == ClusterSignal::Ask);
  CHECK(signal_of("TRYAGAIN Multiple keys request during rehashing of slot") ==
        ClusterSignal::TryAgain);
  CHECK(signal_of("LOADING Redis is loading the dataset in memory") == ClusterSignal::Loading);
  CHECK(signal_of("CLUSTERDOWN The cluster is down") == ClusterSignal::ClusterDown);
  CHECK(signal_of("MASTERDOWN Link with MASTER is down") == ClusterSignal::MasterDown);
  CHECK(signal_of("NOAUTH Authentication required.") == ClusterSignal::NoAuth);
  CHECK(signal_of("TRYAGAIN") == ClusterSignal::TryAgain);
  CHECK(signal_of("READONLY You can't write against a read only replica.") ==
        ClusterSignal::ReadOnly);
}

TEST_CASE("other errors, longer words and lower case are no signal") {
  for (const char* text :
       {"ERR unknown command", "MOVEDX 1 h:1", "moved 1 h:1", "ASKING", "", " MOVED 1 h:1",
        "WRONGTYPE Operation against a key", "BUSY Redis is busy"}) {
    INFO(text);
    CHECK(signal_of(text) == ClusterSignal::None);
  }
}

TEST_CASE("redirects and transient states are told apart") {
  CHECK(is_redirect(ClusterSignal::Moved));
  CHECK(is_redirect(ClusterSignal::Ask));
  CHECK_FALSE(is_redirect(ClusterSignal::TryAgain));
  for (auto s : {ClusterSignal::TryAgain, ClusterSignal::Loading, ClusterSignal::ClusterDown,
                 ClusterSignal::MasterDown, ClusterSignal::ReadOnly}) {
    CHECK(is_transient(s));
    CHECK_FALSE(is_redirect(s));
  }
  CHECK_FALSE(is_transient(ClusterSignal::NoAuth));
  CHECK_FALSE(is_transient(ClusterSignal::None));
}

TEST_CASE("only a demotion's UNBLOCKED means a blocked command may run again") {
  using slotgate::router::unblocked_by_role_change;
  CHECK(unblocked_by_role_change(
      "UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
      "replica?)"));
  CHECK_FALSE(unblocked_by_role_change("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  CHECK_FALSE(unblocked_by_role_change("UNBLOCKED"));
  CHECK_FALSE(
      unblocked_by_role_change("ERR UNBLOCKED force unblock from blocking operation, "
                               "instance state changed"));
  // Not a cluster signal of its own: signal_of leaves it to the caller, who knows the command.
  CHECK(signal_of("UNBLOCKED force unblock from blocking operation, instance state changed") ==
        ClusterSignal::None);
}

TEST_CASE("CLIENT UNBLOCK's own UNBLOCKED is told apart, exactly") {
  using slotgate::router::unblocked_by_role_change;
  using slotgate::router::unblocked_on_request;
  CHECK(unblocked_on_request("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  CHECK_FALSE(unblocked_on_request("UNBLOCKED client unblocked via CLIENT UNBLOCK!"));
  CHECK_FALSE(
      unblocked_on_request("UNBLOCKED force unblock from blocking operation, instance "
                           "state changed (master -> replica?)"));
  CHECK_FALSE(unblocked_by_role_change("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
}
