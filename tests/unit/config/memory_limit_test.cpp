// clients.max_memory: auto in containers: the cgroup memory limit (v1 and v2), read
// from a fake root laid out the way the kernel shows it.
#include <catch2/catch.hpp>

#include "config/memory_limit.hpp"
#include "fake_cgroup_root.hpp"

using namespace slotgate::config;
namespace fs = std::filesystem;

namespace {

struct FakeRoot : slotgate::test::FakeCgroupRoot {
  std::optional<uint64_t> limit() const { return cgroup_memory_limit(dir); }
};

constexpr uint64_t kGi = 1ULL << 30;

}  // namespace

TEST_CASE("memory: cgroup v2 memory.max at the mount root (a pod's 1Gi limit)") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("sys/fs/cgroup/memory.max", "1073741824\n");
  REQUIRE(r.limit());
  CHECK(*r.limit() == kGi);
}

TEST_CASE("memory: cgroup v2 'max' is no limit") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("sys/fs/cgroup/memory.max", "max\n");
  CHECK_FALSE(r.limit());
}

TEST_CASE("memory: cgroup v2 on a host: the smallest limit on the way up wins") {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  r.write("sys/fs/cgroup/kubepods/pod1/ctr/memory.max", "max\n");
  r.write("sys/fs/cgroup/kubepods/pod1/memory.max", "536870912\n");
  r.write("sys/fs/cgroup/kubepods/memory.max", "8589934592\n");
  REQUIRE(r.limit());
  CHECK(*r.limit() == kGi / 2);
}

TEST_CASE("memory: cgroup v1 memory.limit_in_bytes, unlimited and a limited parent") {
  FakeRoot r;
  r.write("proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n12:memory:/docker/abc\n");
  r.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  CHECK_FALSE(r.limit());
  r.write("sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "2147483648\n");
  REQUIRE(r.limit());
  CHECK(*r.limit() == 2 * kGi);
}

TEST_CASE("memory: the cpu hierarchy's files are not read for memory") {
  FakeRoot r;
  r.write("proc/self/cgroup", "4:cpu:/\n");
  r.write("sys/fs/cgroup/cpu/memory.limit_in_bytes", "1048576\n");
  CHECK_FALSE(r.limit());
}

TEST_CASE("memory: unreadable or malformed files mean no limit") {
  FakeRoot r;
  CHECK_FALSE(r.limit());
  r.write("proc/self/cgroup", "0::/\n");
  r.write("sys/fs/cgroup/memory.max", "lots\n");
  CHECK_FALSE(r.limit());
  r.write("sys/fs/cgroup/memory.max", "0\n");
  CHECK_FALSE(r.limit());
}

TEST_CASE("memory: clients.max_memory auto is half the cgroup limit, else 1gb") {
  CHECK(client_memory_default(kGi).bytes == kGi / 2);
  CHECK(client_memory_default(kGi).explain() == "512mb (half the cgroup memory limit 1gb)");
  CHECK(client_memory_default(std::nullopt).bytes == kGi);
  CHECK(client_memory_default(std::nullopt).explain() == "1gb (no cgroup memory limit)");
}
