#include "config/cgroup.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace slotgate::config::cgroup {
namespace fs = std::filesystem;

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

void keep_smaller(std::optional<double>& best, std::optional<double> candidate) {
  if (candidate) best = best ? std::min(*best, *candidate) : *candidate;
}

std::optional<double> smallest_up_to(const fs::path& mount, const std::string& cgroup_path,
                                     const ReadLimit& read) {
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

std::vector<Membership> memberships(const fs::path& root) {
  std::vector<Membership> lines;
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

bool has_controller(const std::string& controllers, std::string_view controller) {
  std::istringstream list(controllers);
  std::string c;
  while (std::getline(list, c, ','))
    if (c == controller) return true;
  return false;
}

fs::path v1_mount(const fs::path& sys, const std::string& controllers,
                  std::string_view controller) {
  fs::path mount = sys / std::string(controller);
  std::error_code ec;
  if (!fs::is_directory(mount, ec)) mount = sys / controllers;
  return mount;
}

}  // namespace slotgate::config::cgroup
