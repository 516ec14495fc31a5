#include "config/cpu_limit.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace slotgate::config {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<long long> read_number(const fs::path& file) {
  auto line = read_line(file);
  if (!line) return std::nullopt;
  try {
    return std::stoll(*line);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void keep_smaller(std::optional<double>& best, std::optional<double> q) {
  if (q) best = best ? std::min(*best, *q) : *q;
}

// v2: "max 100000" (no limit) or "150000 100000".
std::optional<double> read_cpu_max(const fs::path& dir) {
  auto line = read_line(dir / "cpu.max");
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
  auto quota = read_number(dir / "cpu.cfs_quota_us");
  auto period = read_number(dir / "cpu.cfs_period_us");
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

// The smallest quota on the way from mount/cgroup_path up to mount. When the
// process's path is not visible under the mount (a container without its own
// cgroup namespace sees the host's path), only the mount itself is read: that is
// the container's own cgroup.
template <typename Read>
std::optional<double> smallest_up_to(const fs::path& mount, const std::string& cgroup_path,
                                     Read read) {
  std::error_code ec;
  if (!fs::is_directory(mount, ec)) return std::nullopt;
  fs::path dir = (mount / fs::path(cgroup_path).relative_path()).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "mount/" for the root cgroup
  const auto rel = dir.lexically_relative(mount);
  const bool inside = !rel.empty() && *rel.begin() != "..";
  if (!inside || !fs::is_directory(dir, ec)) dir = mount;
  std::optional<double> best;
  for (fs::path d = dir;; d = d.parent_path()) {
    keep_smaller(best, read(d));
    if (d == mount || d.string().size() <= mount.string().size()) break;
  }
  return best;
}

struct CgroupLine {
  std::string controllers;  // "" for v2, "cpu,cpuacct" for v1
  std::string path;
};

std::vector<CgroupLine> cgroup_lines(const fs::path& root) {
  std::vector<CgroupLine> lines;
  std::ifstream in(root / "proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    auto first = line.find(':');
    if (first == std::string::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string::npos) continue;
    lines.push_back({line.substr(first + 1, second - first - 1), line.substr(second + 1)});
  }
  return lines;
}

bool has_cpu_controller(const std::string& controllers) {
  std::istringstream list(controllers);
  std::string c;
  while (std::getline(list, c, ','))
    if (c == "cpu") return true;
  return false;
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
  for (const auto& line : cgroup_lines(root)) {
    if (line.controllers.empty()) {
      // cgroup v2 (unified): mounted at /sys/fs/cgroup, or at /sys/fs/cgroup/unified
      // on hybrid hosts, where it carries no cpu controller and nothing is found.
      keep_smaller(best, smallest_up_to(sys, line.path, read_cpu_max));
    } else if (has_cpu_controller(line.controllers)) {
      // cgroup v1: mounted as /sys/fs/cgroup/cpu, or under the joint name.
      fs::path mount = sys / "cpu";
      std::error_code ec;
      if (!fs::is_directory(mount, ec)) mount = sys / line.controllers;
      keep_smaller(best, smallest_up_to(mount, line.path, read_cfs_quota));
    }
  }
  return best;
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
  return limit;
}

std::string CpuLimit::explain() const {
  std::string quota_text =
      quota ? fmt::format("cgroup quota {:g} CPUs", *quota) : "no cgroup quota";
  return fmt::format("{} (affinity {} CPUs, {})", cpus, affinity, quota_text);
}

}  // namespace slotgate::config
