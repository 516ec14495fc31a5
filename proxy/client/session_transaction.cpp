// Transactions and blocking commands of a client session.
//
// MULTI … EXEC: slotgate checks each command as it is queued (unknown command,
// arity, keys in one slot) and answers +QUEUED itself; at EXEC it writes
// MULTI, the commands and EXEC to the master of their slot in one piece. Redis
// runs a connection's commands in order, so nothing from other clients can
// interleave, and the shared connection can carry the transaction: only the
// EXEC reply reaches the client. A node that redirects the transaction (the slot
// moved) made it abort before anything ran, so it is sent again to the new owner.
// A command for every master (DBSIZE, FLUSHALL...) is refused when queued: the
// transaction runs on one master, and it would reach only that one.
//
// WATCH needs its guard on the connection that runs EXEC: the session takes a
// dedicated connection to the watched slot's master. If that connection dies or
// the slot moves, the watch can no longer be trusted and EXEC reports the
// transaction aborted (a null reply), exactly as when a watched key changes.
#include <fmt/format.h>

#include <algorithm>

#include "client/client_session.hpp"
#include "client/session_directory.hpp"
#include "client/session_host.hpp"
#include "commands/command_table.hpp"
#include "net/loop.hpp"
#include "resp/reply_writer.hpp"
#include "router/router.hpp"
#include "router/session_routing.hpp"
#include "text/ascii.hpp"

namespace slotgate::client {

namespace {
constexpr std::string_view kMulti = "*1\r\n$5\r\nMULTI\r\n";
constexpr std::string_view kExec = "*1\r\n$4\r\nEXEC\r\n";
constexpr std::string_view kCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";
}  // namespace

bool ClientSession::common_slot(const commands::CommandSpec& spec,
                                std::span<const std::string_view> args,
                                std::optional<cluster::Slot>& slot) {
  router::CommonSlot keys = router::common_slot(spec, args, key_scratch_, worker_.router().view());
  slot = keys.slot;
  if (keys.cross_slot) {
    reject(kCrossSlot);
    return false;
  }
  return true;
}

void ClientSession::end_transaction() {
  tx_.active = false;
  tx_.aborted = false;
  tx_.wire.clear();
  tx_.count = 0;
  tx_.slot.reset();
  tx_.read_only = true;
}

void ClientSession::unwatch() {
  watching_ = false;
  watch_slot_.reset();
  watch_link_.reset();
}

void ClientSession::queue_in_transaction(const commands::CommandSpec& spec,
                                         std::span<const std::string_view> args,
                                         std::string_view raw, bool was_inline) {
  using commands::Routing;
  // handle_command() already ran admit(): refused commands, CONFIG SET's allow-list and the
  // user's permissions hold here as outside MULTI. What is left is what MULTI itself changes:
  // the queued commands go to a shared connection at EXEC.
  if (spec.has(commands::kNoMulti) || spec.routing == Routing::PubSub) {
    reject("ERR Command not allowed inside a transaction");
    return;
  }
  if (spec.has_trait(commands::kConnectionState)) {
    // Its effect would land on the shared connection that runs EXEC.
    reject(
        fmt::format("ERR '{}' changes the connection state and cannot be queued in a "
                    "transaction through slotgate",
                    spec.name));
    return;
  }
  if (spec.routing == Routing::Local && !spec.has_trait(commands::kSameOnNode)) {
    // INFO, CLUSTER ..., CLIENT ...: a node would answer for itself, not for slotgate.
    reject(
        fmt::format("ERR '{}' is answered by slotgate itself and cannot be queued in a "
                    "transaction",
                    spec.name));
    return;
  }
  if (spec.routing == Routing::AllMasters || spec.routing == Routing::Scan) {
    // The transaction runs on one master: a command meant for every master (DBSIZE, FLUSHALL,
    // SCRIPT LOAD, CONFIG SET...) would reach only that one, and its answer would look complete;
    // SCAN's cursor walks every master, so one master's cursor would mean nothing to the client.
    std::string name = text::upper(spec.name);
    std::replace(name.begin(), name.end(), '|', ' ');
    reject(
        fmt::format("ERR '{}' inside MULTI would reach only one master through slotgate; send "
                    "it outside the transaction",
                    name));
    return;
  }
  std::optional<cluster::Slot> slot;
  if (!common_slot(spec, args, slot)) return;
  if (slot) {
    if ((tx_.slot && *tx_.slot != *slot) || (watch_slot_ && *watch_slot_ != *slot)) {
      // One transaction runs on one master: its keys must share a slot.
      reject(kCrossSlot);
      return;
    }
    tx_.slot = slot;
  }
  if (was_inline) {
    resp::append_command(tx_.wire, args);
  } else {
    tx_.wire.append(raw);
  }
  tx_.count++;
  tx_.read_only = tx_.read_only && spec.has(commands::kReadOnly) && !spec.has(commands::kWrite);
  reply("+QUEUED\r\n");
}

void ClientSession::transaction_command(const commands::CommandSpec& spec,
                                        std::span<const std::string_view> args,
                                        std::string_view raw, bool was_inline) {
  switch (spec.session) {
    case commands::SessionOp::Multi:
      begin_transaction();
      return;
    case commands::SessionOp::Discard:
      discard_transaction();
      return;
    case commands::SessionOp::Unwatch:
      unwatch();
      reply("+OK\r\n");
      return;
    case commands::SessionOp::Watch:
      watch(spec, args, raw, was_inline);
      return;
    case commands::SessionOp::Exec:
      exec_transaction(spec);
      return;
    case commands::SessionOp::None:
    case commands::SessionOp::Subscribe:
    case commands::SessionOp::Unsubscribe:
      break;
  }
  reject(fmt::format("ERR slotgate has no transaction handler for '{}'", spec.name));
}

void ClientSession::begin_transaction() {
  if (tx_.active) {
    // Redis answers the error and keeps the transaction going.
    reply("-ERR MULTI calls can not be nested\r\n");
    return;
  }
  tx_.active = true;
  reply("+OK\r\n");
}

void ClientSession::discard_transaction() {
  if (!tx_.active) {
    reply("-ERR DISCARD without MULTI\r\n");
    return;
  }
  end_transaction();
  unwatch();
  reply("+OK\r\n");
}

void ClientSession::watch(const commands::CommandSpec& spec, std::span<const std::string_view> args,
                          std::string_view raw, bool was_inline) {
  if (tx_.active) {
    reply("-ERR WATCH inside MULTI is not allowed\r\n");
    return;
  }
  std::optional<cluster::Slot> slot;
  if (!common_slot(spec, args, slot)) return;
  if (!slot || (watch_slot_ && *watch_slot_ != *slot)) {
    reply(std::string("-").append(kCrossSlot).append("\r\n"));
    return;
  }
  watching_ = true;
  watch_slot_ = slot;
  router::Request* req = new_forwarded(spec, args, raw, was_inline);
  req->read_only = true;
  req->keyed = true;
  req->slot = *slot;
  req->dedicated = &watch_link_;
  worker_.router().dispatch(req);
}

void ClientSession::exec_transaction(const commands::CommandSpec& spec) {
  if (!tx_.active) {
    reply("-ERR EXEC without MULTI\r\n");
    return;
  }
  if (tx_.aborted) {
    end_transaction();
    unwatch();
    reply("-EXECABORT Transaction discarded because of previous errors.\r\n");
    return;
  }
  std::optional<cluster::Slot> slot = router::transaction_slot(tx_.slot, watch_slot_);
  if (watching_ &&
      (!watch_link_.intact() ||
       !router::watch_still_holds(worker_.router().view(), *watch_slot_, watch_link_.address()))) {
    // The guard must still be on the connection EXEC will use, and the slot must still belong
    // to that connection's node; otherwise the watch cannot be trusted: aborted (null reply).
    end_transaction();
    unwatch();
    std::string null_reply;
    resp::append_null_array(null_reply, protocol_);
    reply(null_reply);
    return;
  }
  router::Request* req = new_request(spec);
  req->wire.reserve(tx_.wire.size() + kMulti.size() + kExec.size());
  req->wire.append(kMulti).append(tx_.wire).append(kExec);
  req->absorb_replies = req->absorb_count = tx_.count + 1;
  req->read_only = tx_.read_only;
  req->keyed = slot.has_value();
  if (slot) req->slot = *slot;
  if (watching_) req->dedicated = &watch_link_;
  end_transaction();
  worker_.router().dispatch(req);
  if (watching_) {
    // Redis forgets the watched keys at EXEC; the dedicated connection is released
    // once EXEC's reply is in (the link lives until then).
    watching_ = false;
    watch_slot_.reset();
  }
}

void ClientSession::forward_blocking(const commands::CommandSpec& spec,
                                     std::span<const std::string_view> args, std::string_view raw,
                                     bool was_inline) {
  router::Request* req = new_forwarded(spec, args, raw, was_inline);
  // The block may outlast command_timeout; the dedicated connection is not
  // subject to it, and closing the client closes it (Redis then drops the block).
  req->dedicated = &blocking_link_;
  if (blocked_++ == 0) worker_.sessions().set_blocked(id_, true);
  worker_.count_blocked(1);
  worker_.router().submit(req, args);
}

}  // namespace slotgate::client
