// How much memory this process may use, for `clients.max_memory: auto`. In a pod with
// limits.memory 1Gi the kernel OOM-kills slotgate at 1 GiB whatever the node has, so
// the client budget follows the cgroup memory limit (v2 memory.max, v1
// memory.limit_in_bytes; the smallest on the way up wins), not the node's RAM.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace slotgate::config {

// The memory limit of this process's cgroup and its ancestors, in bytes, read from
// `root`/proc/self/cgroup and `root`/sys/fs/cgroup. nullopt when none is set ("max", or
// v1's "unlimited" value near 2^63) or nothing can be read. `root` is "/" except in tests.
std::optional<uint64_t> cgroup_memory_limit(const std::filesystem::path& root = "/");

struct ClientMemoryDefault {
  uint64_t bytes = 0;                    // what clients.max_memory: auto resolves to
  std::optional<uint64_t> cgroup_limit;  // where it came from, if a limit was found
  std::string explain() const;           // "512mb (half the cgroup memory limit 1gb)"
};

// auto = half the cgroup memory limit, else 1gb. Half, because the rest of the process
// (connections to the cluster, held requests, the allocator's slack) needs room too.
ClientMemoryDefault client_memory_default(std::optional<uint64_t> cgroup_limit);

}  // namespace slotgate::config
