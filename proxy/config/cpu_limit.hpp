// How many CPUs this process may really use, for `workers: auto`. In a container
// the node's core count is the wrong answer: a pod with limits.cpu 2 on a 64-core
// node must run 2 event loops, not 64 that the CFS quota then throttles. So auto
// is the affinity mask (taskset, cpuset) capped by the cgroup CPU quota (cgroup v2
// cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us) rounded up, at least 1.
// Workers are one per CPU, except on 1 or 2 CPUs: there one loop is the answer,
// because redis-benchmark-like load measured on 2 cores costs more CPU per request
// with 2 loops (they compete with the kernel's network stack and the backends for
// the same two cores) and gains no throughput.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace slotgate::config {

// Event loops for `cpus` usable CPUs: 1 on up to 2 CPUs, else one per CPU.
unsigned workers_for_cpus(unsigned cpus);

struct CpuLimit {
  unsigned workers = 1;         // what auto resolves to: workers_for_cpus(cpus)
  unsigned cpus = 1;            // CPUs this process may use
  unsigned affinity = 0;        // CPUs in the affinity mask (0 = unknown)
  std::optional<double> quota;  // cgroup quota in CPUs (1.5 = 150000/100000)
  std::string explain()
      const;  // "8 (affinity 8 CPUs, no cgroup quota)", "1 (... , 1 worker on 2 CPUs)"
};

// The quota of the cgroup this process is in, and of its ancestors (the smallest
// wins), read from `root`/proc/self/cgroup and `root`/sys/fs/cgroup. `root` is
// "/" except in tests. nullopt when no quota is set or nothing can be read.
std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root = "/");

CpuLimit available_cpus();

}  // namespace slotgate::config
