#include "config/memory_limit.hpp"

#include <fmt/format.h>

#include "config/cgroup.hpp"
#include "config/units.hpp"

namespace slotgate::config {
namespace fs = std::filesystem;

namespace {

// Values at or above this mean "no limit": cgroup v1 reports PAGE_COUNTER_MAX pages
// (9223372036854771712 on x86-64) when unlimited.
constexpr double kUnlimited = static_cast<double>(1ULL << 60);

std::optional<double> positive_limit(std::optional<long long> v) {
  if (!v || *v <= 0 || static_cast<double>(*v) >= kUnlimited) return std::nullopt;
  return static_cast<double>(*v);
}

// v2: "max" or a number of bytes.
std::optional<double> read_memory_max(const fs::path& dir) {
  auto line = cgroup::read_line(dir / "memory.max");
  if (!line || *line == "max") return std::nullopt;
  try {
    return positive_limit(std::stoll(*line));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// v1: memory.limit_in_bytes, huge when unlimited.
std::optional<double> read_limit_in_bytes(const fs::path& dir) {
  return positive_limit(cgroup::read_number(dir / "memory.limit_in_bytes"));
}

}  // namespace

std::optional<uint64_t> cgroup_memory_limit(const fs::path& root) {
  const fs::path sys = root / "sys/fs/cgroup";
  std::optional<double> best;
  for (const auto& line : cgroup::memberships(root)) {
    if (line.controllers.empty()) {
      cgroup::keep_smaller(best, cgroup::smallest_up_to(sys, line.path, read_memory_max));
    } else if (cgroup::has_controller(line.controllers, "memory")) {
      cgroup::keep_smaller(
          best, cgroup::smallest_up_to(cgroup::v1_mount(sys, line.controllers, "memory"), line.path,
                                       read_limit_in_bytes));
    }
  }
  if (!best) return std::nullopt;
  return static_cast<uint64_t>(*best);
}

ClientMemoryDefault client_memory_default(std::optional<uint64_t> cgroup_limit) {
  ClientMemoryDefault d;
  d.cgroup_limit = cgroup_limit;
  d.bytes = cgroup_limit ? *cgroup_limit / 2 : (1ULL << 30);
  return d;
}

std::string ClientMemoryDefault::explain() const {
  if (cgroup_limit) {
    return fmt::format("{} (half the cgroup memory limit {})", format_size(bytes),
                       format_size(*cgroup_limit));
  }
  return fmt::format("{} (no cgroup memory limit)", format_size(bytes));
}

}  // namespace slotgate::config
