#include "cluster/slot_migrations.hpp"

#include <charconv>

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

}  // namespace slotgate::cluster
