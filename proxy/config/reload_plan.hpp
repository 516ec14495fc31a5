// config reload plan: on SIGHUP the new file is compared with the running
// Config. Most settings apply live (timeouts, limits, credentials, users, log
// level, seeds); the ones bound to sockets or threads created at start-up
// (listen, workers, admin.listen) need a restart, and are reported so the
// operator knows the file and the process disagree.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace slotgate::config {

// Each entry is "key: old -> new" (secrets are shown as "changed").
struct ReloadPlan {
  std::vector<std::string> applied;
  std::vector<std::string> need_restart;
  // The Config to run with from now on: next, with the restart-only fields kept
  // as they run. Why: the announce address is derived from listen; announcing a
  // new listen port the process does not listen on yet would send cluster-mode
  // clients to a closed port.
  Config effective;
  bool empty() const { return applied.empty() && need_restart.empty(); }
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace slotgate::config
