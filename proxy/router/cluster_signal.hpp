// router::ClusterSignal: what an error reply from a cluster node says about the
// cluster, in one place. MOVED/ASK send a request elsewhere; TRYAGAIN, LOADING,
// CLUSTERDOWN and MASTERDOWN mean the node did not execute it and a retry later
// may succeed; NOAUTH means slotgate's own credentials are missing.
//
// Why it matters who sent the error: a script or function can return any error
// text it likes (redis.error_reply("MOVED 0 10.0.0.1:6379")), after it has
// already written. Such a reply is data for the client, never a signal; callers
// ask signal_of() only for replies of commands that run no user code.
#pragma once

#include <cstdint>
#include <string_view>

namespace slotgate::router {

enum class ClusterSignal : uint8_t {
  None,  // an ordinary error: the client's answer
  Moved,
  Ask,
  TryAgain,
  Loading,
  ClusterDown,
  MasterDown,
  NoAuth,
  // -READONLY: a write reached a replica, which refused it (ran nothing). With Sentinel this is
  // how a demoted master answers: the master changed; hold and find the new one.
  ReadOnly,
};

// `error_text` is the error without '-' and CRLF ("MOVED 3999 10.0.0.1:6379"). Only the
// first word counts, and it must be the whole word ("MOVEDX" is None).
ClusterSignal signal_of(std::string_view error_text);

// "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)":
// how Redis ends every blocked command when its node stops being a master (a failover demoted it,
// or REPLICAOF). The command served nothing, so it may be run again where the master now is.
// Only the whole sentence counts: CLIENT UNBLOCK's "UNBLOCKED client unblocked via CLIENT
// UNBLOCK" is someone ending the block on purpose, and is the client's answer.
bool unblocked_by_role_change(std::string_view error_text);
// "UNBLOCKED client unblocked via CLIENT UNBLOCK": CLIENT UNBLOCK <id> ERROR ended the block.
// Only slotgate's own request (Request::rehoming) makes it a signal; otherwise it is an answer.
bool unblocked_on_request(std::string_view error_text);

constexpr bool is_redirect(ClusterSignal s) {
  return s == ClusterSignal::Moved || s == ClusterSignal::Ask;
}
// The node did not execute the command and says so: retrying later is safe.
constexpr bool is_transient(ClusterSignal s) {
  return s == ClusterSignal::TryAgain || s == ClusterSignal::Loading ||
         s == ClusterSignal::ClusterDown || s == ClusterSignal::MasterDown ||
         s == ClusterSignal::ReadOnly;
}

}  // namespace slotgate::router
