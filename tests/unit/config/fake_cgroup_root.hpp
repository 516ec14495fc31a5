// A throw-away directory laid out the way the kernel shows cgroups (proc/self/cgroup,
// mountinfo, the cgroup files), for the cpu_limit and memory_limit tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace slotgate::test {

struct FakeCgroupRoot {
  std::filesystem::path dir;
  FakeCgroupRoot() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("slotgate-cgroup-" + std::to_string(rd()));
    std::filesystem::create_directories(dir / "proc/self");
  }
  ~FakeCgroupRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  FakeCgroupRoot(const FakeCgroupRoot&) = delete;
  FakeCgroupRoot& operator=(const FakeCgroupRoot&) = delete;
  void write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = dir / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

}  // namespace slotgate::test
