// The split side of the router: a command whose keys live in several slots is cut
// into one part per slot (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH), a command about
// the whole keyspace is sent to every master (KEYS, DBSIZE, FLUSHALL, SCRIPT LOAD…),
// the parts run in parallel on the backend connections, and their replies are
// merged into the one reply the client expects, in the client's protocol.
#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"
#include "router/router.hpp"

namespace slotgate::router {

using commands::Merge;
using resp::Type;
using resp::Value;

Request* Router::new_part(Request* parent, uint32_t index) {
  Request* part = pool_.acquire();
  part->parent = parent;
  part->part_index = index;
  part->spec = parent->spec;
  part->read_only = parent->read_only;
  part->started_ns = parent->started_ns;
  part->deadline_ms = parent->deadline_ms;
  part->protocol = parent->protocol;
  part->state = backend::RequestState::Queued;
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
  if (!parent->split) parent->split = std::make_unique<backend::SplitState>();
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
  parent->state = backend::RequestState::Waiting;
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

void Router::broadcast(Request* parent) {
  if (!parent->split) parent->split = std::make_unique<backend::SplitState>();
  if (!view_ || masters_.empty()) {
    // Nobody to ask. INFO still answers with slotgate's own sections.
    if (parent->post == backend::PostProcess::InfoKeyspace) {
      parent->split->part_replies.clear();
      finish_info(parent);
    } else {
      fail_request(parent, "CLUSTERDOWN no cluster topology loaded yet");
    }
    return;
  }
  auto& st = *parent->split;
  st.part_replies.assign(masters_.size(), Value{});
  st.part_keys.assign(masters_.size(), {});
  st.pending = static_cast<uint32_t>(masters_.size());
  parent->state = backend::RequestState::Waiting;
  std::vector<Request*> parts;
  for (uint32_t i = 0; i < masters_.size(); ++i) {
    Request* part = new_part(parent, i);
    part->wire = parent->wire;
    part->target = view_->node(masters_[i]).address;
    parts.push_back(part);
  }
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

namespace {

// The first error among the parts, if any.
const Value* first_error(const std::vector<Value>& parts) {
  for (const auto& v : parts) {
    if (v.is_error()) return &v;
  }
  return nullptr;
}

Value merge_key_order(const backend::SplitState& st, size_t key_count) {
  std::vector<Value> out(key_count);
  for (size_t p = 0; p < st.part_replies.size(); ++p) {
    const Value& r = st.part_replies[p];
    const auto& keys = st.part_keys[p];
    for (size_t i = 0; i < keys.size() && i < r.elements.size(); ++i) {
      out[keys[i] - 1] = r.elements[i];
    }
  }
  return Value::array(std::move(out));
}

Value merge_all_ok(const backend::SplitState& st, std::string_view command) {
  const Value* err = first_error(st.part_replies);
  if (err == nullptr) return st.part_replies.empty() ? Value::simple("OK") : st.part_replies[0];
  // Every master refused it (a script that does not compile, a CONFIG SET value they all
  // reject): nothing was applied anywhere, so the error is exactly what one Redis would say.
  if (std::all_of(st.part_replies.begin(), st.part_replies.end(),
                  [](const Value& v) { return v.is_error(); })) {
    return *err;
  }
  if (st.part_labels.empty()) {
    return Value::error(fmt::format("{} (reported by at least one master; the others applied {})",
                                    err->str, command));
  }
  // Which keys may not have been written: those of the failed parts.
  std::string keys;
  for (size_t p = 0; p < st.part_replies.size(); ++p) {
    if (!st.part_replies[p].is_error()) continue;
    if (!keys.empty()) keys += ", ";
    keys += st.part_labels[p];
  }
  return Value::error(fmt::format(
      "ERR {} partially failed: keys {} may not have been written ({}); {} across slots is not "
      "atomic",
      command, keys, err->str, command));
}

Value merge_sum(const std::vector<Value>& parts) {
  long long total = 0;
  for (const auto& v : parts) total += v.integer;
  return Value::integer_of(total);
}

Value merge_concat(const std::vector<Value>& parts) {
  std::vector<Value> out;
  for (const auto& v : parts) {
    for (const auto& e : v.elements) out.push_back(e);
  }
  return Value::array(std::move(out));
}

Value merge_all_true(const std::vector<Value>& parts) {
  if (parts.empty()) return Value::array({});
  std::vector<Value> out = parts[0].elements;
  for (size_t p = 1; p < parts.size(); ++p) {
    for (size_t i = 0; i < out.size() && i < parts[p].elements.size(); ++i) {
      if (parts[p].elements[i].integer == 0) out[i].integer = 0;
    }
  }
  return Value::array(std::move(out));
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (size_t i = 0; i < a.elements.size(); ++i) {
    if (!same_value(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

Value merge_same(const std::vector<Value>& parts, std::string_view command) {
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!same_value(parts[0], parts[i])) {
      return Value::error(
          fmt::format("ERR {} returned different results on different masters", command));
    }
  }
  return parts.empty() ? Value::null() : parts[0];
}

Value merge_random(const std::vector<Value>& parts) {
  std::vector<const Value*> candidates;
  for (const auto& v : parts) {
    if (!v.is_null()) candidates.push_back(&v);
  }
  if (candidates.empty()) return Value::null();
  static thread_local std::minstd_rand rng{std::random_device{}()};
  return *candidates[rng() % candidates.size()];
}

Value merge_sum_pairs(const std::vector<Value>& parts) {
  if (parts.empty()) return Value::array({});
  std::vector<Value> out = parts[0].elements;
  for (size_t p = 1; p < parts.size(); ++p) {
    for (size_t i = 1; i < out.size() && i < parts[p].elements.size(); i += 2) {
      out[i].integer += parts[p].elements[i].integer;
    }
  }
  return Value::array(std::move(out));
}

Value merge_union(const std::vector<Value>& parts) {
  std::vector<Value> out;
  for (const auto& v : parts) {
    for (const auto& e : v.elements) {
      bool seen =
          std::any_of(out.begin(), out.end(), [&](const Value& o) { return o.str == e.str; });
      if (!seen) out.push_back(e);
    }
  }
  return Value::array(std::move(out));
}

// SCRIPT KILL / FUNCTION KILL: only the master running the script can stop it.
Value merge_any_ok(const std::vector<Value>& parts) {
  for (const auto& v : parts) {
    if (!v.is_error()) return v;
  }
  return parts.empty() ? Value::null() : parts[0];
}

}  // namespace

void Router::finish_split(Request* parent) {
  if (parent->post == backend::PostProcess::Scan) {
    finish_scan(parent);
    return;
  }
  if (parent->post == backend::PostProcess::InfoKeyspace) {
    finish_info(parent);
    return;
  }
  auto& st = *parent->split;
  std::string_view command = parent->spec->name;
  Value merged;
  const Value* err = first_error(st.part_replies);
  switch (parent->spec->merge) {
    case Merge::KeyOrder:
      merged = err ? *err : merge_key_order(st, /*key_count=*/[&] {
        size_t n = 0;
        for (const auto& k : st.part_keys) n += k.size();
        return n;
      }());
      break;
    case Merge::AllOk:
      merged = merge_all_ok(st, command);
      break;
    case Merge::SumIntegers:
      merged = err ? *err : merge_sum(st.part_replies);
      break;
    case Merge::ConcatArrays:
      merged = err ? *err : merge_concat(st.part_replies);
      break;
    case Merge::AllTrue:
      merged = err ? *err : merge_all_true(st.part_replies);
      break;
    case Merge::SameReply:
      merged = err ? *err : merge_same(st.part_replies, command);
      break;
    case Merge::Random:
      merged = err ? *err : merge_random(st.part_replies);
      break;
    case Merge::SumPairs:
      merged = err ? *err : merge_sum_pairs(st.part_replies);
      break;
    case Merge::UnionArrays:
      merged = err ? *err : merge_union(st.part_replies);
      break;
    case Merge::AnyOk:
      merged = merge_any_ok(st.part_replies);
      break;
    case Merge::None:
    case Merge::FirstReply:
      merged = err ? *err : (st.part_replies.empty() ? Value::null() : st.part_replies[0]);
      break;
  }
  if (parent->spec->has_trait(commands::kNodeSetting) && !merged.is_error()) {
    // Every master took it; the refresher brings it to the replicas and to later nodes.
    feedback_.node_setting_applied(parent->wire);
  }
  std::string out;
  resp::write_value(out, merged, parent->protocol);
  complete(parent, out);
}

}  // namespace slotgate::router
