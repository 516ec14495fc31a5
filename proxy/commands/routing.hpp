// Routing and Merge: how slotgate serves a command and how the replies of a fan-out are
// combined. These are proxy policy, layered on Redis's facts in the command table; the
// per-command values are data in routing_policy.hpp.
#pragma once

#include <cstdint>

namespace slotgate::commands {

enum class Routing : uint8_t {
  Local,        // answered by slotgate itself (PING, HELLO, COMMAND, CLUSTER INFO/SLOTS, ...)
  Keyed,        // every key must hash to one slot -> that slot's master; cross-slot -> CROSSSLOT
  Split,        // keys may span slots: split per slot, merge (MGET MSET DEL UNLINK EXISTS TOUCH)
  AnyNode,      // keyless, any master gives the right answer (TIME, PUBLISH, ... HELP)
  AllMasters,   // broadcast to every master and merge (KEYS DBSIZE FLUSHALL SCRIPT LOAD ...)
  Scan,         // SCAN: cursor walk across masters
  Transaction,  // MULTI EXEC DISCARD WATCH UNWATCH: pinned connection
  Blocking,  // BLPOP ... WAIT: pinned connection (XREAD/XREADGROUP are Keyed; router checks BLOCK)
  PubSub,    // (P|S)(UN)SUBSCRIBE: pinned connection for the subscription
  Refused,   // cannot be served correctly through a proxy; refused_reason says why
  SlotArgument,  // CLUSTER COUNTKEYSINSLOT/GETKEYSINSLOT: args[2] is a slot -> its master
};

enum class Merge : uint8_t {
  None,          // single reply, forwarded as is
  KeyOrder,      // MGET: values re-assembled in the client's key order
  AllOk,         // MSET FLUSHALL SCRIPT FLUSH CONFIG SET ...: +OK if every part said OK
  SumIntegers,   // DEL UNLINK EXISTS TOUCH DBSIZE
  ConcatArrays,  // KEYS, PUBSUB CHANNELS
  AllTrue,       // SCRIPT EXISTS: element-wise AND of the 0/1 arrays
  SameReply,     // SCRIPT LOAD, FUNCTION LOAD: all parts equal -> that reply, else an error
  FirstReply,    // any part's reply is the answer (e.g. a broadcast whose replies are equal)
  Random,        // RANDOMKEY: a non-nil reply if any
  SumPairs,      // PUBSUB NUMSUB/SHARDNUMSUB: [name, n, ...] summed per name
  UnionArrays,   // PUBSUB CHANNELS/SHARDCHANNELS: concatenated without duplicates
  AnyOk,         // SCRIPT KILL / FUNCTION KILL: +OK if some part said OK, else the first error
};

// Every merge answers with the first error if any part failed, except AnyOk.

// What slotgate must know about a command beyond its routing: how it behaves once it runs, and
// what the checks every command passes (in and out of MULTI, client_session.cpp: admit()) need.
enum Trait : uint16_t {
  // EVAL*, FCALL*: the reply, errors included, is whatever the script or function returned,
  // possibly after it wrote. An error text is never taken for MOVED/ASK/TRYAGAIN and the
  // like: it goes to the client, and the command is never re-run because of it.
  kRunsUserCode = 1u << 0,
  // Can keep a node busy far longer than ordinary commands (KEYS, FLUSHALL SYNC, scripts, SCAN
  // with a huge COUNT): it runs on a backend connection of its own, so neither its wait nor
  // its command_timeout touches other clients' requests on the shared connection.
  kMayRunLong = 1u << 1,
  // Changes the server-side connection (protocol, user, database, name, reply mode, tracking...).
  // slotgate keeps that state per client itself; such a command never reaches a backend
  // connection, which other clients share, and is refused inside MULTI (its effect would have
  // to wait for EXEC, where slotgate cannot apply it).
  kConnectionState = 1u << 2,
  // Answered by slotgate, but any node answers it alike and without side effects, so it may be
  // queued inside MULTI and answered by the node within EXEC's reply (PING, ECHO). Other local
  // commands are refused inside MULTI: a node's answer would be its own, not slotgate's.
  kSameOnNode = 1u << 3,
  // Reads, lists or deletes keys that its arguments do not name (KEYS, SCAN, FLUSHALL...): a
  // user limited to key patterns cannot run it, since its keys cannot be checked.
  kAnyKey = 1u << 4,
  // Blocks only when given the BLOCK option (XREAD, XREADGROUP): then it needs a connection
  // of its own, as a Routing::Blocking command does (router/session_routing.cpp: blocks()).
  kBlockOption = 1u << 5,
  // CONFIG SET: every parameter it sets must be on clients.config_set_allowed.
  kConfigAllowList = 1u << 6,
  // Administrative, but shows (or acts on) the user's own sessions only (CLIENT LIST): a
  // read-only or key-limited user may run it.
  kOwnSessions = 1u << 7,
  // Changes a node's settings (CONFIG SET). Redis does not replicate it, so once every master
  // accepted it, slotgate remembers it and brings it to the replicas and to nodes that join or
  // are promoted later (cluster/node_settings.hpp).
  kNodeSetting = 1u << 8,
};

// Which arguments are Pub/Sub channels (checked against a user's `channels` patterns).
enum class ChannelArgs : uint8_t {
  None,
  First,        // PUBLISH channel msg
  All,          // SUBSCRIBE ch [ch ...]
  AllPatterns,  // PSUBSCRIBE pattern [pattern ...]: a pattern must be one the user has
};

// What a session does itself for a Routing::Transaction or Routing::PubSub command.
enum class SessionOp : uint8_t {
  None,
  Multi,
  Exec,
  Discard,
  Watch,
  Unwatch,
  Subscribe,    // SUBSCRIBE PSUBSCRIBE SSUBSCRIBE (ChannelKind says which)
  Unsubscribe,  // UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE
};

// The kind of name a subscription command takes.
enum class ChannelKind : uint8_t {
  None,
  Channel,  // SUBSCRIBE UNSUBSCRIBE: one master carries them
  Pattern,  // PSUBSCRIBE PUNSUBSCRIBE: same
  Shard,    // SSUBSCRIBE SUNSUBSCRIBE: on the master of the channel's slot
};

// Which of slotgate's handlers answers a Routing::Local command (client/local_commands.cpp
// keeps one function per value, indexed by it).
enum class LocalHandler : uint8_t {
  None,
  Ping,
  Echo,
  Quit,
  Reset,
  Auth,
  Hello,
  Select,
  Ok,  // READONLY READWRITE ASKING
  Info,
  AclWhoami,
  AclCat,
  AclGetuser,
  AclList,
  AclUsers,
  AclLog,
  ClientSetname,
  ClientGetname,
  ClientId,
  ClientInfo,
  ClientList,
  ClientSetinfo,
  ClientReply,
  ClientKill,
  ClientUnblock,
  ClientNoEvict,
  ClientNoTouch,
  ClientPause,
  ClientUnpause,
  ClientTracking,
  ClientCaching,
  ClientGetredir,
  ClientTrackinginfo,
  CommandCount,
  CommandInfo,
  CommandList,
  CommandGetkeys,
  CommandGetkeysandflags,
  ClusterInfo,
  ClusterSlots,
  ClusterShards,
  ClusterNodes,
  ClusterMyid,
  ClusterMyshardid,
  ClusterKeyslot,
  Count,  // number of values, not a handler
};

}  // namespace slotgate::commands
