#include "commands/command_doc.hpp"

#include <map>
#include <string_view>
#include <vector>

#include "commands/command_table.hpp"

namespace slotgate::commands {

namespace {

struct Kind {
  Routing routing;
  std::string_view title;
  std::string_view meaning;
};

constexpr Kind kKinds[] = {
    {Routing::Keyed, "forwarded (by key)",
     "sent as-is to the master that owns the keys' slot; keys in different slots get CROSSSLOT"},
    {Routing::Split, "split",
     "cut per slot, run in parallel on the owning masters, replies merged (not atomic across "
     "slots)"},
    {Routing::AnyNode, "forwarded (any master)", "keyless: one master's answer is the answer"},
    {Routing::AllMasters, "broadcast",
     "sent to every master, replies merged; refused inside MULTI"},
    {Routing::Scan, "cursor walk",
     "walks every master in turn behind one cursor; refused inside MULTI"},
    {Routing::SlotArgument, "forwarded (by slot argument)",
     "sent to the master that owns the slot given as argument"},
    {Routing::Transaction, "transaction",
     "checked and queued by slotgate; MULTI...EXEC sent in one piece to the slot's master; WATCH "
     "on a dedicated connection"},
    {Routing::Blocking, "blocking", "runs on a dedicated connection of the client's session"},
    {Routing::PubSub, "pub/sub", "subscriber connections owned by the client's session"},
    {Routing::Local, "local", "answered by slotgate itself"},
};

std::string names_of(Routing r) {
  std::string out;
  auto add = [&](std::string_view name) {
    if (!out.empty()) out += ", ";
    out += "`";
    for (char c : name)
      out += c == '|' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += "`";
  };
  for (const CommandSpec& c : all_commands()) {
    if (c.is_container()) {
      for (const CommandSpec& s : c.subs()) {
        if (s.routing == r) add(s.name);
      }
    } else if (c.routing == r) {
      add(c.name);
    }
  }
  return out;
}

}  // namespace

std::string handling_markdown() {
  std::string out = "| handling | what slotgate does | commands |\n|---|---|---|\n";
  for (const Kind& k : kKinds) {
    out += "| ";
    out += k.title;
    out += " | ";
    out += k.meaning;
    out += " | ";
    out += names_of(k.routing);
    out += " |\n";
  }
  // Refused commands, grouped by the reason the client is given.
  std::map<std::string_view, std::vector<std::string_view>> refused;
  for (const CommandSpec& c : all_commands()) {
    if (c.is_container()) {
      for (const CommandSpec& s : c.subs()) {
        if (s.routing == Routing::Refused) refused[s.refused_reason].push_back(s.name);
      }
    } else if (c.routing == Routing::Refused) {
      refused[c.refused_reason].push_back(c.name);
    }
  }
  out += "\n| refused | reason given to the client |\n|---|---|\n";
  for (const auto& [reason, names] : refused) {
    std::string list;
    for (std::string_view n : names) {
      if (!list.empty()) list += ", ";
      list += "`";
      for (char c : n)
        list += c == '|' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      list += "`";
    }
    out += "| " + list + " | " + std::string(reason) + " |\n";
  }
  return out;
}

}  // namespace slotgate::commands
