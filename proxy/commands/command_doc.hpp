// commands::handling_markdown: the README's table of how slotgate serves every
// command, generated from the command table so documentation and behaviour
// cannot drift apart (`slotgate --command-table` prints it; a test compares it
// with README.md).
#pragma once

#include <string>

namespace slotgate::commands {

std::string handling_markdown();

}  // namespace slotgate::commands
