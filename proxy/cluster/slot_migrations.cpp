#include "cluster/slot_migrations.hpp"

#include <charconv>
#include <utility>

namespace slotgate::cluster {
namespace {

bool is_node_id(std::string_view id) {
  if (id.size() != 40) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "[1234->-<id>]" or "[1234-<-<id>]" (the brackets already checked and stripped).
void add_entry(std::string_view entry, NodeMigrations& out) {
  const size_t dash = entry.find('-');
  if (dash == std::string_view::npos || dash == 0) return;
  unsigned slot = 0;
  auto [end, ec] = std::from_chars(entry.data(), entry.data() + dash, slot);
  if (ec != std::errc() || end != entry.data() + dash || slot >= kSlotCount) return;
  std::string_view rest = entry.substr(dash);
  std::vector<SlotMigration>* list = nullptr;
  if (rest.starts_with("->-")) {
    list = &out.migrating;
  } else if (rest.starts_with("-<-")) {
    list = &out.importing;
  } else {
    return;
  }
  const std::string_view id = rest.substr(3);
  if (!is_node_id(id) || list->size() >= static_cast<size_t>(kSlotCount)) return;
  list->push_back({static_cast<Slot>(slot), std::string(id)});
}

}  // namespace

NodeMigrations parse_own_migrations(std::string_view cluster_nodes) {
  NodeMigrations out;
  while (!cluster_nodes.empty()) {
    const size_t nl = cluster_nodes.find('\n');
    std::string_view line = cluster_nodes.substr(0, nl);
    cluster_nodes =
        nl == std::string_view::npos ? std::string_view{} : cluster_nodes.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // <id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <state> <slots...>
    std::vector<std::string_view> fields;
    for (size_t pos = 0; pos < line.size();) {
      const size_t sp = line.find(' ', pos);
      const size_t stop = sp == std::string_view::npos ? line.size() : sp;
      if (stop > pos) fields.push_back(line.substr(pos, stop - pos));
      pos = stop + 1;
    }
    if (fields.size() < 8) continue;
    bool myself = false;
    for (size_t pos = 0; pos <= fields[2].size();) {
      const size_t comma = fields[2].find(',', pos);
      const size_t stop = comma == std::string_view::npos ? fields[2].size() : comma;
      if (fields[2].substr(pos, stop - pos) == "myself") myself = true;
      pos = stop + 1;
    }
    if (!myself) continue;
    for (size_t i = 8; i < fields.size(); ++i) {
      std::string_view f = fields[i];
      if (f.size() >= 2 && f.front() == '[' && f.back() == ']')
        add_entry(f.substr(1, f.size() - 2), out);
    }
    return out;
  }
  return out;
}

namespace {

using Move = std::pair<std::string, std::string>;  // (source, target) addresses

std::string address_of(const ClusterView& view, const std::string& id) {
  auto index = view.find_by_id(id);
  return index ? view.node(*index).address : id.substr(0, 8);
}

// slot -> (source, target): the source's own word first, the target's when the source is silent.
std::map<Slot, Move> moves_of(const std::map<std::string, NodeMigrations>& report,
                              const ClusterView& view) {
  std::map<Slot, Move> out;
  for (const auto& [address, m] : report) {
    for (const SlotMigration& x : m.migrating) out[x.slot] = {address, address_of(view, x.peer_id)};
  }
  for (const auto& [address, m] : report) {
    for (const SlotMigration& x : m.importing) {
      out.emplace(x.slot, Move{address_of(view, x.peer_id), address});
    }
  }
  return out;
}

// Slots of `a` whose move is not the same in `b`, grouped by move.
std::map<Move, std::vector<Slot>> only_in(const std::map<Slot, Move>& a,
                                          const std::map<Slot, Move>& b) {
  std::map<Move, std::vector<Slot>> out;
  for (const auto& [slot, move] : a) {
    auto it = b.find(slot);
    if (it == b.end() || it->second != move) out[move].push_back(slot);
  }
  return out;
}

std::string slots_text(const std::vector<Slot>& slots) {
  return (slots.size() == 1 ? "slot " : std::to_string(slots.size()) + " slots (") +
         describe_slots(slots) + (slots.size() == 1 ? "" : ")");
}

}  // namespace

std::vector<ViewChange> describe_migration_changes(
    const std::map<std::string, NodeMigrations>& before,
    const std::map<std::string, NodeMigrations>& after, const ClusterView& view) {
  const auto was = moves_of(before, view);
  const auto now = moves_of(after, view);
  std::vector<ViewChange> out;
  for (const auto& [move, slots] : only_in(was, now)) {
    // Who serves the slots now says whether the move completed or was called off.
    std::string owners;
    for (Slot slot : slots) {
      const uint16_t owner = view.master_of(slot);
      const std::string name =
          owner == ClusterView::kNoNode ? "no master" : view.node(owner).address;
      if (owners.find(name) == std::string::npos) owners += (owners.empty() ? "" : ", ") + name;
    }
    out.push_back({"migration_finished", slots_text(slots) + " no longer migrating from " +
                                             move.first + " to " + move.second + "; served by " +
                                             owners});
  }
  for (const auto& [move, slots] : only_in(now, was)) {
    out.push_back({"migration_started",
                   slots_text(slots) + " migrating from " + move.first + " to " + move.second});
  }
  return out;
}

}  // namespace slotgate::cluster
