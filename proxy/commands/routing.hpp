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

// How a command behaves once it runs, where that changes how slotgate may treat it.
enum Trait : uint8_t {
  // EVAL*, FCALL*: the reply, errors included, is whatever the script or function returned,
  // possibly after it wrote. An error text is never taken for MOVED/ASK/TRYAGAIN and the
  // like: it goes to the client, and the command is never re-run because of it.
  kRunsUserCode = 1u << 0,
  // Can keep a node busy far longer than ordinary commands (KEYS, FLUSHALL SYNC, scripts, SCAN
  // with a huge COUNT): it runs on a backend connection of its own, so neither its wait nor
  // its command_timeout touches other clients' requests on the shared connection.
  kMayRunLong = 1u << 1,
};

}  // namespace slotgate::commands
