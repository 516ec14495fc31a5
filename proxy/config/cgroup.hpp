// config::cgroup: reading the limits of the cgroup this process runs in, the way
// the kernel shows them under /proc/self/cgroup and /sys/fs/cgroup (v1 and v2).
// cpu_limit (workers: auto) and memory_limit (clients.max_memory: auto) both ask
// "what is the smallest limit on the way from my cgroup up to the mount?".
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::config::cgroup {

std::optional<std::string> read_line(const std::filesystem::path& file);
std::optional<long long> read_number(const std::filesystem::path& file);

// One line of /proc/self/cgroup: "hierarchy-id:controllers:path".
struct Membership {
  std::string controllers;  // "" for v2, "cpu,cpuacct" for v1
  std::string path;
};
std::vector<Membership> memberships(const std::filesystem::path& root);

// Whether a v1 controller list ("cpu,cpuacct") names `controller`.
bool has_controller(const std::string& controllers, std::string_view controller);

// Where a v1 hierarchy is mounted: sys/<controller>, or sys/<joint name> ("cpu,cpuacct").
std::filesystem::path v1_mount(const std::filesystem::path& sys, const std::string& controllers,
                               std::string_view controller);

using ReadLimit = std::function<std::optional<double>(const std::filesystem::path& dir)>;

// The smallest limit `read` finds on the way from mount/cgroup_path up to mount. When the
// process's path is not visible under the mount (a container without its own cgroup
// namespace sees the host's path), only the mount itself is read: that is the container's
// own cgroup.
std::optional<double> smallest_up_to(const std::filesystem::path& mount,
                                     const std::string& cgroup_path, const ReadLimit& read);

// Keeps the smaller of best and candidate (an absent value is no limit).
void keep_smaller(std::optional<double>& best, std::optional<double> candidate);

}  // namespace slotgate::config::cgroup
