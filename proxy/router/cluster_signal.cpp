// router::signal_of: the one list of error words slotgate acts on (see cluster_signal.hpp).
#include "router/cluster_signal.hpp"

#include <array>
#include <utility>

namespace slotgate::router {

namespace {
constexpr std::array<std::pair<std::string_view, ClusterSignal>, 8> kWords{{
    {"MOVED", ClusterSignal::Moved},
    {"ASK", ClusterSignal::Ask},
    {"TRYAGAIN", ClusterSignal::TryAgain},
    {"LOADING", ClusterSignal::Loading},
    {"CLUSTERDOWN", ClusterSignal::ClusterDown},
    {"MASTERDOWN", ClusterSignal::MasterDown},
    {"NOAUTH", ClusterSignal::NoAuth},
    {"READONLY", ClusterSignal::ReadOnly},
}};
}  // namespace

ClusterSignal signal_of(std::string_view error_text) {
  std::string_view word = error_text.substr(0, error_text.find(' '));
  for (const auto& [w, signal] : kWords) {
    if (word == w) return signal;
  }
  return ClusterSignal::None;
}

bool unblocked_by_role_change(std::string_view error_text) {
  constexpr std::string_view kText =
      "UNBLOCKED force unblock from blocking operation, instance state changed";
  return error_text.starts_with(kText);
}

bool unblocked_on_request(std::string_view error_text) {
  return error_text == "UNBLOCKED client unblocked via CLIENT UNBLOCK";
}

}  // namespace slotgate::router
