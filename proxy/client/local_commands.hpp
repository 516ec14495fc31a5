// client::run_local_command: the commands slotgate answers itself — connection
// state (PING, AUTH, HELLO, SELECT, CLIENT …), introspection (COMMAND, INFO)
// and the cluster emulation (CLUSTER SLOTS/NODES/… as one node owning every
// slot at the announce address, so cluster-mode clients stay on slotgate).
#pragma once

#include <span>
#include <string_view>

namespace slotgate::commands {
struct CommandSpec;
}

namespace slotgate::client {

class ClientSession;

void run_local_command(ClientSession& session, const commands::CommandSpec& spec,
                       std::span<const std::string_view> args);

}  // namespace slotgate::client
