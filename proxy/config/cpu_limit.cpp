#include "config/cpu_limit.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "config/cgroup.hpp"

namespace slotgate::config {
namespace fs = std::filesystem;

namespace {

// v2: "max 100000" (no limit) or "150000 100000".
std::optional<double> read_cpu_max(const fs::path& dir) {
  auto line = cgroup::read_line(dir / "cpu.max");
  if (!line) return std::nullopt;
  std::istringstream words(*line);
  std::string quota;
  long long period = 0;
  if (!(words >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  try {
    long long q = std::stoll(quota);
    if (q <= 0) return std::nullopt;
    return static_cast<double>(q) / static_cast<double>(period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// v1: cpu.cfs_quota_us is -1 when there is no limit.
std::optional<double> read_cfs_quota(const fs::path& dir) {
  auto quota = cgroup::read_number(dir / "cpu.cfs_quota_us");
  auto period = cgroup::read_number(dir / "cpu.cfs_period_us");
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return std::thread::hardware_concurrency();
}

}  // namespace

std::optional<double> cgroup_cpu_quota(const fs::path& root) {
  const fs::path sys = root / "sys/fs/cgroup";
  std::optional<double> best;
  for (const auto& line : cgroup::memberships(root)) {
    if (line.controllers.empty()) {
      // cgroup v2 (unified): mounted at /sys/fs/cgroup, or at /sys/fs/cgroup/unified
      // on hybrid hosts, where it carries no cpu controller and nothing is found.
      cgroup::keep_smaller(best, cgroup::smallest_up_to(sys, line.path, read_cpu_max));
    } else if (cgroup::has_controller(line.controllers, "cpu")) {
      // cgroup v1: mounted as /sys/fs/cgroup/cpu, or under the joint name.
      cgroup::keep_smaller(
          best, cgroup::smallest_up_to(cgroup::v1_mount(sys, line.controllers, "cpu"), line.path,
                                       read_cfs_quota));
    }
  }
  return best;
}

unsigned workers_for_cpus(unsigned cpus) {
  return cpus <= 2 ? 1 : cpus;
}

CpuLimit available_cpus() {
  CpuLimit limit;
  limit.affinity = affinity_cpus();
  limit.quota = cgroup_cpu_quota();
  unsigned cpus = limit.affinity == 0 ? 1 : limit.affinity;
  if (limit.quota) {
    // 1.5 CPUs of quota: two loops, each mostly busy, use it better than one.
    auto from_quota = static_cast<unsigned>(std::ceil(*limit.quota - 1e-9));
    cpus = std::min(cpus, std::max(1u, from_quota));
  }
  limit.cpus = std::max(1u, cpus);
  limit.workers = workers_for_cpus(limit.cpus);
  return limit;
}

std::string CpuLimit::explain() const {
  std::string quota_text =
      quota ? fmt::format("cgroup quota {:g} CPUs", *quota) : "no cgroup quota";
  std::string note = workers == cpus ? std::string() : fmt::format(", 1 worker on {} CPUs", cpus);
  return fmt::format("{} (affinity {} CPUs, {}{})", workers, affinity, quota_text, note);
}

}  // namespace slotgate::config
