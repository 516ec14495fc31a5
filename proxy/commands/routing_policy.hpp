// slotgate's routing policy: for each Redis command or subcommand, how the proxy serves it
// (Routing), how fan-out replies are merged (Merge), which handler answers a local command
// (LocalHandler), and its Traits: how it behaves once it runs, and what a session does
// itself for MULTI/WATCH and (un)subscribe commands (SessionOp, ChannelKind). Code asks the
// table for these instead of comparing command names. Kept as data, keyed by the name
// COMMAND uses, so the generated facts (command_table.inc) and the proxy's choices stay apart.
// It is a header because command_table.cpp folds it into the constexpr table at compile time.
// Commands not listed get default_policy(): keyed -> Keyed, admin -> Refused, else AnyNode.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "commands/routing.hpp"

namespace slotgate::commands {

struct Policy {
  std::string_view name;  // as COMMAND names it: "mget", "client|setname"
  Routing routing;
  Merge merge = Merge::None;
  std::string_view refused_reason = {};     // Routing::Refused: why, in words a redis-cli user gets
  LocalHandler local = LocalHandler::None;  // Routing::Local: the handler that answers it
};

// A command slotgate answers itself, with its handler.
constexpr Policy local(std::string_view name, LocalHandler handler) {
  return {name, Routing::Local, Merge::None, {}, handler};
}

namespace policy_text {
inline constexpr std::string_view kTopology =
    "the cluster topology is managed on the cluster nodes, not through slotgate";
inline constexpr std::string_view kPerNode =
    "it reports on one server; connect to a cluster node to run it";
inline constexpr std::string_view kReplication =
    "replication is managed on the cluster nodes, not through slotgate";
inline constexpr std::string_view kAcl =
    "slotgate's users come from its configuration file (clients.users); edit it and send "
    "SIGHUP";
inline constexpr std::string_view kOneDb = "a Redis Cluster has only database 0";
inline constexpr std::string_view kClientState =
    "it changes the server-side connection, which slotgate shares between clients";
}  // namespace policy_text

// Grouped by routing kind; looked up at compile time only (by command_table.cpp).
inline constexpr Policy kPolicies[] = {
    // -- answered by slotgate itself
    local("ping", LocalHandler::Ping),
    local("echo", LocalHandler::Echo),
    local("quit", LocalHandler::Quit),
    local("reset", LocalHandler::Reset),
    local("auth", LocalHandler::Auth),
    local("hello", LocalHandler::Hello),
    local("select", LocalHandler::Select),  // only SELECT 0 succeeds
    local("readonly", LocalHandler::Ok),
    local("readwrite", LocalHandler::Ok),
    local("asking",
          LocalHandler::Ok),  // slotgate never shows ASK; answering OK keeps clients happy
    local("info", LocalHandler::Info),  // proxy sections plus the keyspace merged from the masters
    local("acl|whoami", LocalHandler::AclWhoami),
    // slotgate's own users (clients.users) and its own denials
    local("acl|cat", LocalHandler::AclCat),
    local("acl|getuser", LocalHandler::AclGetuser),
    local("acl|list", LocalHandler::AclList),
    local("acl|users", LocalHandler::AclUsers),
    local("acl|log", LocalHandler::AclLog),
    local("client|setname", LocalHandler::ClientSetname),
    local("client|getname", LocalHandler::ClientGetname),
    local("client|id", LocalHandler::ClientId),
    local("client|info", LocalHandler::ClientInfo),
    local("client|list", LocalHandler::ClientList),
    local("client|setinfo", LocalHandler::ClientSetinfo),
    local("client|reply",
          LocalHandler::ClientReply),  // ON|OFF|SKIP: slotgate drops the replies itself
    local("client|kill", LocalHandler::ClientKill),  // slotgate's own sessions, on every worker
    local("client|unblock", LocalHandler::ClientUnblock),
    local("client|no-evict", LocalHandler::ClientNoEvict),
    // OFF accepted, ON refused: the nodes (Redis 7.0) cannot leave LRU/LFU untouched.
    local("client|no-touch", LocalHandler::ClientNoTouch),
    local("client|pause",
          LocalHandler::ClientPause),  // holds the commands of slotgate's own clients
    local("client|unpause", LocalHandler::ClientUnpause),
    // Client-side caching for RESP3 sessions (client/session_tracking.hpp).
    local("client|tracking", LocalHandler::ClientTracking),
    local("client|caching", LocalHandler::ClientCaching),
    local("client|getredir", LocalHandler::ClientGetredir),
    local("client|trackinginfo",
          LocalHandler::ClientTrackinginfo),  // exempt from clients.max_memory eviction
    local("cluster|myshardid", LocalHandler::ClusterMyshardid),
    // COMMAND without a subcommand and COMMAND DOCS are long and static: a backend answers.
    {"command", Routing::AnyNode},
    {"command|docs", Routing::AnyNode},
    {"command|help", Routing::AnyNode},
    local("command|count", LocalHandler::CommandCount),
    local("command|info", LocalHandler::CommandInfo),
    local("command|list", LocalHandler::CommandList),
    local("command|getkeys", LocalHandler::CommandGetkeys),
    local("command|getkeysandflags", LocalHandler::CommandGetkeysandflags),
    // Cluster-mode clients see slotgate as one node that owns every slot.
    local("cluster|info", LocalHandler::ClusterInfo),
    local("cluster|slots", LocalHandler::ClusterSlots),
    local("cluster|shards", LocalHandler::ClusterShards),
    local("cluster|nodes", LocalHandler::ClusterNodes),
    local("cluster|myid", LocalHandler::ClusterMyid),
    local("cluster|keyslot", LocalHandler::ClusterKeyslot),
    {"cluster|countkeysinslot", Routing::SlotArgument},
    {"cluster|getkeysinslot", Routing::SlotArgument},

    // -- multi-key commands split per slot
    {"mget", Routing::Split, Merge::KeyOrder},
    {"mset", Routing::Split, Merge::AllOk},
    {"del", Routing::Split, Merge::SumIntegers},
    {"unlink", Routing::Split, Merge::SumIntegers},
    {"exists", Routing::Split, Merge::SumIntegers},
    {"touch", Routing::Split, Merge::SumIntegers},
    {"msetnx", Routing::Keyed},  // all-or-nothing: cannot be split without losing atomicity
    // Shard channels hash like keys (key_positions with KeySearch::KeysAndShardChannels).
    {"spublish", Routing::Keyed},
    {"xread", Routing::Keyed},       // blocking only with BLOCK (kBlockOption)
    {"xreadgroup", Routing::Keyed},  // same

    // -- broadcast to every master
    {"keys", Routing::AllMasters, Merge::ConcatArrays},
    {"dbsize", Routing::AllMasters, Merge::SumIntegers},
    {"randomkey", Routing::AllMasters, Merge::Random},
    {"flushall", Routing::AllMasters, Merge::AllOk},
    {"flushdb", Routing::AllMasters, Merge::AllOk},
    {"script|load", Routing::AllMasters, Merge::SameReply},
    {"script|flush", Routing::AllMasters, Merge::AllOk},
    {"script|exists", Routing::AllMasters, Merge::AllTrue},
    {"script|kill", Routing::AllMasters, Merge::AnyOk},
    {"function|load", Routing::AllMasters, Merge::SameReply},
    {"function|delete", Routing::AllMasters, Merge::AllOk},
    {"function|flush", Routing::AllMasters, Merge::AllOk},
    {"function|restore", Routing::AllMasters, Merge::AllOk},
    {"function|kill", Routing::AllMasters, Merge::AnyOk},
    {"config|set", Routing::AllMasters, Merge::AllOk},  // replicas: kNodeSetting
    {"config|resetstat", Routing::AllMasters, Merge::AllOk},
    {"config|rewrite", Routing::AllMasters, Merge::AllOk},
    {"memory|purge", Routing::AllMasters, Merge::AllOk},
    {"slowlog|get", Routing::AllMasters, Merge::ConcatArrays},
    {"slowlog|len", Routing::AllMasters, Merge::SumIntegers},
    {"slowlog|reset", Routing::AllMasters, Merge::AllOk},
    {"latency|latest", Routing::AllMasters, Merge::ConcatArrays},
    {"latency|reset", Routing::AllMasters, Merge::SumIntegers},
    // Each node only knows its own subscribers; slotgate's subscriptions may sit on any master.
    {"pubsub|channels", Routing::AllMasters, Merge::UnionArrays},
    {"pubsub|shardchannels", Routing::AllMasters, Merge::UnionArrays},
    {"pubsub|numsub", Routing::AllMasters, Merge::SumPairs},
    {"pubsub|shardnumsub", Routing::AllMasters, Merge::SumPairs},
    {"pubsub|numpat", Routing::AllMasters, Merge::SumIntegers},  // may overcount shared patterns
    {"bgsave", Routing::AllMasters, Merge::FirstReply},
    {"bgrewriteaof", Routing::AllMasters, Merge::FirstReply},

    // -- keyless, one master's answer is the answer
    {"publish", Routing::AnyNode},  // the cluster bus delivers it to every node
    {"time", Routing::AnyNode},
    {"lastsave", Routing::AnyNode},
    {"lolwut", Routing::AnyNode},
    {"pfselftest", Routing::AnyNode},
    {"config|get", Routing::AnyNode},
    {"function|dump", Routing::AnyNode},  // functions are loaded on every master alike
    {"function|list", Routing::AnyNode},
    {"function|stats", Routing::AnyNode},
    {"module|list", Routing::AnyNode},
    {"acl|genpass", Routing::AnyNode},

    {"scan", Routing::Scan},

    {"multi", Routing::Transaction},
    {"exec", Routing::Transaction},
    {"discard", Routing::Transaction},
    {"watch", Routing::Transaction},
    {"unwatch", Routing::Transaction},

    {"blpop", Routing::Blocking},
    {"brpop", Routing::Blocking},
    {"blmove", Routing::Blocking},
    {"brpoplpush", Routing::Blocking},
    {"blmpop", Routing::Blocking},
    {"bzpopmin", Routing::Blocking},
    {"bzpopmax", Routing::Blocking},
    {"bzmpop", Routing::Blocking},
    {"wait", Routing::Blocking},  // on the connection that carried the client's writes

    {"subscribe", Routing::PubSub},
    {"psubscribe", Routing::PubSub},
    {"unsubscribe", Routing::PubSub},
    {"punsubscribe", Routing::PubSub},
    {"ssubscribe", Routing::PubSub},
    {"sunsubscribe", Routing::PubSub},

    // -- refused, with the reason the client sees
    {"shutdown", Routing::Refused, Merge::None, "it would stop a cluster node"},
    {"debug", Routing::Refused, Merge::None, "DEBUG acts on a single server"},
    {"monitor", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"role", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"failover", Routing::Refused, Merge::None, policy_text::kReplication},
    {"sync", Routing::Refused, Merge::None, policy_text::kReplication},
    {"psync", Routing::Refused, Merge::None, policy_text::kReplication},
    {"replconf", Routing::Refused, Merge::None, policy_text::kReplication},
    {"replicaof", Routing::Refused, Merge::None, policy_text::kReplication},
    {"slaveof", Routing::Refused, Merge::None, policy_text::kReplication},
    {"save", Routing::Refused, Merge::None, "SAVE blocks every master; use BGSAVE"},
    {"swapdb", Routing::Refused, Merge::None, policy_text::kOneDb},
    {"move", Routing::Refused, Merge::None, policy_text::kOneDb},
    {"migrate", Routing::Refused, Merge::None,
     "MIGRATE connects from a cluster node to HOST:PORT inside the cluster network; run it on "
     "the node"},
    {"restore-asking", Routing::Refused, Merge::None, "it is internal to slot migration"},
    {"module|load", Routing::Refused, Merge::None, "load modules on the cluster nodes"},
    {"module|loadex", Routing::Refused, Merge::None, "load modules on the cluster nodes"},
    {"module|unload", Routing::Refused, Merge::None, "unload modules on the cluster nodes"},
    {"script|debug", Routing::Refused, Merge::None, "the Lua debugger needs a direct connection"},
    {"memory|doctor", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"memory|stats", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"memory|malloc-stats", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"latency|doctor", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"latency|graph", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"latency|history", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"latency|histogram", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"cluster|addslots", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|addslotsrange", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|bumpepoch", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|count-failure-reports", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"cluster|delslots", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|delslotsrange", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|failover", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|flushslots", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|forget", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|links", Routing::Refused, Merge::None, policy_text::kPerNode},
    {"cluster|meet", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|replicas", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|replicate", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|reset", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|saveconfig", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|set-config-epoch", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|setslot", Routing::Refused, Merge::None, policy_text::kTopology},
    {"cluster|slaves", Routing::Refused, Merge::None, policy_text::kTopology},
    {"acl|setuser", Routing::Refused, Merge::None, policy_text::kAcl},
    {"acl|deluser", Routing::Refused, Merge::None, policy_text::kAcl},
    {"acl|load", Routing::Refused, Merge::None, policy_text::kAcl},
    {"acl|save", Routing::Refused, Merge::None, policy_text::kAcl},
    {"acl|dryrun", Routing::Refused, Merge::None, policy_text::kAcl},
};

// Traits (routing.hpp) per command or subcommand, with the session's operation for MULTI/WATCH
// and subscription commands; commands not listed have none.
struct Traits {
  std::string_view name;
  uint16_t traits = 0;
  ChannelArgs channels = ChannelArgs::None;
  SessionOp session = SessionOp::None;
  ChannelKind channel_kind = ChannelKind::None;
};

inline constexpr Traits kTraits[] = {
    {"eval", kRunsUserCode | kMayRunLong},
    {"eval_ro", kRunsUserCode | kMayRunLong},
    {"evalsha", kRunsUserCode | kMayRunLong},
    {"evalsha_ro", kRunsUserCode | kMayRunLong},
    {"fcall", kRunsUserCode | kMayRunLong},
    {"fcall_ro", kRunsUserCode | kMayRunLong},
    {"keys", kMayRunLong | kAnyKey},
    {"flushall", kMayRunLong | kAnyKey},  // SYNC (the default unless lazyfree-lazy-user-flush)
    {"flushdb", kMayRunLong | kAnyKey},
    {"script|flush", kMayRunLong},
    {"function|flush", kMayRunLong},
    {"function|restore", kMayRunLong},
    {"scan", kMayRunLong | kAnyKey},  // COUNT is the client's choice
    {"sscan", kMayRunLong},
    {"hscan", kMayRunLong},
    {"zscan", kMayRunLong},
    {"hello", kConnectionState},
    {"auth", kConnectionState},
    {"select", kConnectionState},
    {"reset", kConnectionState},
    {"quit", kConnectionState},
    {"readonly", kConnectionState},
    {"readwrite", kConnectionState},
    {"asking", kConnectionState},
    {"client|setname", kConnectionState},
    {"client|setinfo", kConnectionState},
    {"client|reply", kConnectionState},
    {"client|tracking", kConnectionState},
    {"client|caching", kConnectionState},
    {"client|no-evict", kConnectionState},
    {"client|no-touch", kConnectionState},
    {"client|kill", kConnectionState},
    {"client|pause", kConnectionState},
    {"client|unpause", kConnectionState},
    {"client|unblock", kConnectionState},
    {"monitor", kConnectionState},
    {"ping", kSameOnNode},
    {"echo", kSameOnNode},
    {"randomkey", kAnyKey},
    {"cluster|getkeysinslot", kAnyKey},
    // BY and GET patterns read keys built from the list's values, not named in the arguments.
    {"sort", kAnyKey},
    {"sort_ro", kAnyKey},
    {"xread", kBlockOption},
    {"xreadgroup", kBlockOption},
    {"config|set", kConfigAllowList | kNodeSetting},
    {"client|list", kOwnSessions},
    {"publish", 0, ChannelArgs::First},
    {"spublish", 0, ChannelArgs::First},
    {"subscribe", 0, ChannelArgs::All, SessionOp::Subscribe, ChannelKind::Channel},
    {"ssubscribe", 0, ChannelArgs::All, SessionOp::Subscribe, ChannelKind::Shard},
    {"psubscribe", 0, ChannelArgs::AllPatterns, SessionOp::Subscribe, ChannelKind::Pattern},
    {"unsubscribe", 0, ChannelArgs::None, SessionOp::Unsubscribe, ChannelKind::Channel},
    {"sunsubscribe", 0, ChannelArgs::None, SessionOp::Unsubscribe, ChannelKind::Shard},
    {"punsubscribe", 0, ChannelArgs::None, SessionOp::Unsubscribe, ChannelKind::Pattern},
    {"multi", 0, ChannelArgs::None, SessionOp::Multi},
    {"exec", 0, ChannelArgs::None, SessionOp::Exec},
    {"discard", 0, ChannelArgs::None, SessionOp::Discard},
    {"watch", 0, ChannelArgs::None, SessionOp::Watch},
    {"unwatch", 0, ChannelArgs::None, SessionOp::Unwatch},
};

constexpr Traits traits_of(std::string_view name) {
  for (const Traits& t : kTraits) {
    if (t.name == name) return t;
  }
  return {name};
}

// Policy for a command the table above does not list. Why these defaults: a keyed command
// is safe on the master owning its keys; an unknown admin command most likely acts on one
// server and is refused rather than sent somewhere arbitrary; containers go to a backend so
// an unknown subcommand gets Redis's own error; other keyless commands (HELP, ...) are alike
// on every node.
constexpr Policy default_policy(std::string_view name, bool has_keys, bool admin, bool container) {
  if (has_keys) return {name, Routing::Keyed};
  if (container) return {name, Routing::AnyNode};
  if (admin) return {name, Routing::Refused, Merge::None, "it is an administrative command"};
  return {name, Routing::AnyNode};
}

// Index into kPolicies, or -1. An index rather than a pointer because GCC's UBSan
// instrumentation turns pointer comparisons into non-constant expressions.
constexpr int policy_index(std::string_view name) {
  for (size_t i = 0; i < std::size(kPolicies); ++i) {
    if (kPolicies[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace slotgate::commands
