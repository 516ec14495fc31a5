// workers: auto in containers: the cgroup CPU quota (v1 and v2), read from a fake
// root laid out the way the kernel shows it.
#include <catch2/catch.hpp>

#include "config/cpu_limit.hpp"
#include "fake_cgroup_root.hpp"

using namespace slotgate::config;
namespace fs = std::filesystem;

namespace {

struct FakeRoot : slotgate::test::FakeCgroupRoot {
  std::optional<double> quota() const { return cgroup_cpu_quota(dir); }
};

}  // namespace

TEST_CASE("cgroup v2 in a container: cpu.max at the mount root") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("sys/fs/cgroup/cpu.max", "150000 100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(1.5));
}

TEST_CASE("cgroup v2 without a limit") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("sys/fs/cgroup/cpu.max", "max 100000\n");
  CHECK_FALSE(r.quota());
}

TEST_CASE("cgroup v2 on a host: the smallest limit on the way up wins") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  r.write("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
  r.write("sys/fs/cgroup/kubepods/pod1/cpu.max", "300000 100000\n");
  r.write("sys/fs/cgroup/kubepods/cpu.max", "200000 100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(2.0));
}

TEST_CASE("cgroup v2 path not visible (no cgroup namespace): the mount itself") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/system.slice/docker-abc.scope\n");
  r.write("sys/fs/cgroup/cpu.max", "50000 100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(0.5));
}

TEST_CASE("cgroup v2 path leaving the mount with .. is not followed") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/../../elsewhere\n");
  r.write("sys/elsewhere/cpu.max", "10000 100000\n");
  r.write("sys/fs/cgroup/cpu.max", "400000 100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(4.0));
}

TEST_CASE("cgroup v1 with the joint cpu,cpuacct mount") {
  FakeRoot r;
  r.write("proc/self/cgroup", "12:memory:/x\n4:cpu,cpuacct:/docker/abc\n0::/\n");
  r.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  r.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(2.5));
}

TEST_CASE("cgroup v1 unlimited (-1) and a limited parent") {
  FakeRoot r;
  r.write("proc/self/cgroup", "2:cpu:/a/b\n");
  r.write("sys/fs/cgroup/cpu/a/b/cpu.cfs_quota_us", "-1\n");
  r.write("sys/fs/cgroup/cpu/a/b/cpu.cfs_period_us", "100000\n");
  CHECK_FALSE(r.quota());
  r.write("sys/fs/cgroup/cpu/a/cpu.cfs_quota_us", "100000\n");
  r.write("sys/fs/cgroup/cpu/a/cpu.cfs_period_us", "100000\n");
  REQUIRE(r.quota());
  CHECK(*r.quota() == Approx(1.0));
}

TEST_CASE("cpuacct alone is not the cpu controller") {
  FakeRoot r;
  r.write("proc/self/cgroup", "3:cpuacct:/\n");
  r.write("sys/fs/cgroup/cpuacct/cpu.cfs_quota_us", "100000\n");
  r.write("sys/fs/cgroup/cpuacct/cpu.cfs_period_us", "100000\n");
  CHECK_FALSE(r.quota());
}

TEST_CASE("unreadable or malformed cgroup files mean no quota") {
  FakeRoot r;
  CHECK_FALSE(r.quota());  // no proc/self/cgroup at all
  r.write("proc/self/cgroup", "garbage\n0::/\n");
  r.write("sys/fs/cgroup/cpu.max", "lots 100000\n");
  CHECK_FALSE(r.quota());
  r.write("sys/fs/cgroup/cpu.max", "100000 0\n");
  CHECK_FALSE(r.quota());
  r.write("sys/fs/cgroup/cpu.max", "\n");
  CHECK_FALSE(r.quota());
}

TEST_CASE("available_cpus: at least one, never more than the affinity mask") {
  CpuLimit limit = available_cpus();
  CHECK(limit.cpus >= 1);
  if (limit.affinity > 0) CHECK(limit.cpus <= limit.affinity);
  if (limit.quota) CHECK(limit.cpus <= std::max(1.0, *limit.quota + 1));
  CHECK(limit.workers == workers_for_cpus(limit.cpus));
  CHECK_THAT(limit.explain(), Catch::StartsWith(std::to_string(limit.workers) + " (affinity "));
}

TEST_CASE("workers_for_cpus: one event loop on up to 2 CPUs, one per CPU above") {
  CHECK(workers_for_cpus(0) == 1);
  CHECK(workers_for_cpus(1) == 1);
  CHECK(workers_for_cpus(2) == 1);
  CHECK(workers_for_cpus(3) == 3);
  CHECK(workers_for_cpus(8) == 8);
}

TEST_CASE("CpuLimit::explain says when auto runs fewer workers than CPUs") {
  CpuLimit two;
  two.cpus = 2;
  two.affinity = 2;
  two.workers = 1;
  CHECK(two.explain() == "1 (affinity 2 CPUs, no cgroup quota, 1 worker on 2 CPUs)");
  CpuLimit four;
  four.cpus = four.affinity = four.workers = 4;
  CHECK(four.explain() == "4 (affinity 4 CPUs, no cgroup quota)");
}
