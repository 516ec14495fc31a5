// The split side of the router: a command whose keys live in several slots is cut
// into one part per slot (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH), the parts run in
// parallel on the backend connections, and their replies are merged (merge.cpp) into
// the one reply the client expects, in the client's protocol. Broadcasts and SCAN
// use the same parts (new_part, on_part_done) and end in finish_split too.
#include <fmt/format.h>

#include <algorithm>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"
#include "router/merge.hpp"
#include "router/router.hpp"

namespace slotgate::router {

using commands::Merge;
using resp::Value;

Request* Router::new_part(Request* parent, uint32_t index) {
  Request* part = pool_.acquire();
  part->parent = parent;
  part->part_index = index;
  part->spec = parent->spec;
  part->read_only = parent->read_only;
  part->read_from = parent->read_from;
  part->started_ns = parent->started_ns;
  part->deadline_ms = parent->deadline_ms;
  part->protocol = parent->protocol;
  part->state = RequestState::Queued;
  stats_.fanout_subrequests++;
  return part;
}

void Router::split_by_slot(Request* parent, std::span<const std::string_view> args,
                           std::span<const uint32_t> key_indices) {
  // Keys come with their values (MSET k v k v): everything between one key and the next belongs to
  // it.
  const int step = std::max(1, parent->spec->key_step);
  struct Group {
    cluster::Slot slot;
    std::vector<std::string_view> argv;
    std::vector<uint32_t> keys;
  };
  std::vector<Group> groups;
  for (uint32_t k : key_indices) {
    cluster::Slot slot = cluster::key_slot(args[k]);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [slot](const Group& g) { return g.slot == slot; });
    if (it == groups.end()) {
      groups.push_back(Group{slot, {args[0]}, {}});
      it = groups.end() - 1;
    }
    for (int j = 0; j < step && k + j < args.size(); ++j) it->argv.push_back(args[k + j]);
    it->keys.push_back(k);
  }
  if (!parent->split) parent->split = std::make_unique<SplitState>();
  auto& st = *parent->split;
  st.part_replies.assign(groups.size(), Value{});
  st.part_keys.clear();
  st.part_labels.clear();
  for (auto& g : groups) {
    if (parent->spec->merge == Merge::AllOk) {
      std::string label;
      for (uint32_t k : g.keys) {
        if (!label.empty()) label += ", ";
        label.append(args[k]);
      }
      st.part_labels.push_back(std::move(label));
    }
    st.part_keys.push_back(std::move(g.keys));
  }
  st.pending = static_cast<uint32_t>(groups.size());
  parent->state = RequestState::Waiting;
  std::vector<Request*> parts;
  parts.reserve(groups.size());
  for (uint32_t i = 0; i < groups.size(); ++i) {
    Request* part = new_part(parent, i);
    resp::append_command(part->wire, groups[i].argv);
    part->keyed = true;
    part->slot = groups[i].slot;
    parts.push_back(part);
  }
  // Dispatch after every part exists: a part may complete synchronously.
  for (Request* part : parts) dispatch(part);
}

void Router::on_part_done(Request* part, std::string_view reply) {
  Request* parent = part->parent;
  auto& st = *parent->split;
  auto value = resp::parse_value(reply);
  st.part_replies[part->part_index] =
      value ? std::move(*value) : Value::error("ERR slotgate could not parse a node's reply");
  pool_.release(part);
  if (--st.pending == 0) finish_split(parent);
}

void Router::finish_split(Request* parent) {
  if (parent->post == PostProcess::Scan) {
    finish_scan(parent);
    return;
  }
  if (parent->post == PostProcess::InfoKeyspace) {
    finish_info(parent);
    return;
  }
  const SplitState& st = *parent->split;
  Value merged = merge_replies(parent->spec->merge, MergeParts{st.part_replies, st.part_keys,
                                                               st.part_labels, parent->spec->name});
  if (parent->spec->has_trait(commands::kNodeSetting) && !merged.is_error()) {
    // Every master took it; the refresher brings it to the replicas and to later nodes.
    feedback_.node_setting_applied(parent->wire);
  }
  std::string out;
  resp::write_value(out, merged, parent->protocol);
  complete(parent, out);
}

}  // namespace slotgate::router
