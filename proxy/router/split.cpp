// The split side of the router: a command whose keys live in several slots is cut
// into one part per slot (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH), the parts run in
// parallel on the backend connections, and their replies are merged (merge.cpp) into
// the one reply the client expects, in the client's protocol. Broadcasts and SCAN
// use the same parts (new_part, on_part_done) and end in finish_split too.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "commands/command_table.hpp"
#include "metrics/worker_stats.hpp"
#include "resp/frame_scanner.hpp"
#include "resp/integer_text.hpp"
#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"
#include "router/cluster_signal.hpp"
#include "router/merge.hpp"
#include "router/router.hpp"

namespace slotgate::router {

using commands::Merge;
using resp::Value;

namespace {

// Small reply buffers stay for the parent's next MGET; a big one (large values) goes back. Here
// and not in Request::reset_for_reuse: that runs for every request, parts included.
void trim_raw_parts(SplitState& st) {
  for (auto& raw : st.part_raw) {
    if (raw.capacity() > 16 * 1024) std::string().swap(raw);
  }
}

// The length of the bulk string "$<n>\r\n<n bytes>\r\n" at raw[pos], or 0 when raw holds
// anything else there (then the FrameScanner decides). An MGET element is nearly always one,
// and a scanner per element cost more than the rest of the splice.
size_t bulk_frame_length(std::string_view raw, size_t pos) {
  if (pos >= raw.size() || raw[pos] != '$') return 0;
  size_t n = 0;
  const size_t i = resp::short_decimal(raw, pos + 1, 18, n);
  if (i == std::string_view::npos || i + 1 >= raw.size() || raw[i] != '\r' || raw[i + 1] != '\n')
    return 0;
  const size_t end = i + 2 + n + 2;
  if (end > raw.size() || raw[end - 2] != '\r' || raw[end - 1] != '\n') return 0;
  return end - pos;
}

}  // namespace

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
  // it. Parts are numbered by the first key of their slot; the member scratch vectors keep this
  // free of allocations other than the parts' own bytes.
  const uint32_t step = static_cast<uint32_t>(std::max(1, parent->spec->key_step));
  split_slots_.clear();
  split_group_.clear();
  // Which group a slot has in this split, in O(1) per key (a search of the groups so far made
  // an MGET of 100 keys in 100 slots cost 5,000 compares): a slot's entry counts only when its
  // stamp is this split's.
  if (slot_group_.empty()) slot_group_.assign(cluster::kSlotCount, SlotGroup{});
  if (++split_stamp_ == 0) {
    std::fill(slot_group_.begin(), slot_group_.end(), SlotGroup{});
    split_stamp_ = 1;
  }
  for (uint32_t k : key_indices) {
    const cluster::Slot slot = cluster::key_slot(args[k]);
    SlotGroup& sg = slot_group_[slot];
    if (sg.stamp != split_stamp_) {
      sg = {split_stamp_, static_cast<uint32_t>(split_slots_.size())};
      split_slots_.push_back(slot);
    }
    split_group_.push_back(sg.group);
  }
  const size_t groups = split_slots_.size();
  SplitState& st = pool_.split_state(parent);
  // MGET's parts stay raw bytes (splice_key_order); values only if that falls back.
  if (parent->spec->merge == Merge::KeyOrder) {
    st.part_replies.clear();
  } else {
    st.part_replies.assign(groups, Value{});
  }
  st.part_keys.resize(groups);
  for (auto& keys : st.part_keys) keys.clear();
  for (size_t i = 0; i < key_indices.size(); ++i)
    st.part_keys[split_group_[i]].push_back(key_indices[i]);
  if (parent->spec->merge == Merge::KeyOrder) st.part_raw.resize(groups);
  st.part_labels.clear();
  if (parent->spec->merge == Merge::AllOk) {
    for (const auto& keys : st.part_keys) {
      std::string label;
      for (uint32_t k : keys) {
        if (!label.empty()) label += ", ";
        label.append(args[k]);
      }
      st.part_labels.push_back(std::move(label));
    }
  }
  st.pending = static_cast<uint32_t>(groups);
  parent->state = RequestState::Waiting;
  std::vector<Request*> sends;
  plan_sends(parent, args, step, sends);
  // Dispatch after every part exists: a part may complete synchronously.
  for (Request* send : sends) dispatch(send);
}

// A part's command: the name, then each of its keys with the arguments that follow it. A key's
// arguments may be cut short (MSET k1 v1 k2): the header counts what is sent, so the node answers
// the short part with an error instead of waiting for arguments never sent.
void Router::append_part_command(std::string& wire, std::span<const std::string_view> args,
                                 std::span<const uint32_t> keys, uint32_t step) {
  part_args_.clear();
  part_args_.push_back(args[0]);
  for (uint32_t k : keys) {
    for (uint32_t j = 0; j < step && k + j < args.size(); ++j) part_args_.push_back(args[k + j]);
  }
  resp::append_command(wire, part_args_);
}

// A split command's parts (one per slot) go to their masters in batches: the parts one master
// serves are written as one Call that expects one reply per part (on_batch_reply), and each part
// keeps its own outcome (MSET's "may not have been written" names a part's keys). An MGET of 100
// keys on 3 masters is then 3 requests through the router and the backend FIFOs instead of 100
// (the parts' Request objects were most of its cost: each a cold cache line or five). A part the
// node refuses or redirects leaves its batch and goes on alone (unbatch_part). A transaction's
// split and a standalone node's are not batched: each part is sent on its own.
void Router::plan_sends(Request* parent, std::span<const std::string_view> args, uint32_t step,
                        std::vector<Request*>& sends) {
  const bool batched = parent->post == PostProcess::None && parent->dedicated == nullptr && view_ &&
                       !view_->single_node();
  SplitState& st = *parent->split;
  const auto groups = static_cast<uint32_t>(split_slots_.size());
  batch_nodes_.clear();
  for (uint32_t g = 0; g < groups; ++g)
    batch_nodes_.emplace_back(batched ? view_->master_of(split_slots_[g]) : 0, g);
  if (batched) std::sort(batch_nodes_.begin(), batch_nodes_.end());
  st.batch_order.clear();
  st.part_wire.assign(batched ? groups : 0, SplitState::PartWire{});
  sends.reserve(groups);
  for (size_t i = 0; i < batch_nodes_.size();) {
    size_t end = i + 1;
    while (batched && end < batch_nodes_.size() && batch_nodes_[end].first == batch_nodes_[i].first)
      ++end;
    Request* send = nullptr;
    if (end - i == 1) {
      const uint32_t g = batch_nodes_[i].second;
      send = new_part(parent, g);
      append_part_command(send->wire, args, st.part_keys[g], step);
    } else {
      send = new_part(parent, static_cast<uint32_t>(st.batch_order.size()));
      send->batch_size = static_cast<uint32_t>(end - i);
      stats_.fanout_subrequests += send->batch_size - 1;  // still counted per slot
      for (size_t j = i; j < end; ++j) {
        const uint32_t g = batch_nodes_[j].second;
        st.batch_order.push_back(g);
        const size_t at = send->wire.size();
        append_part_command(send->wire, args, st.part_keys[g], step);
        st.part_wire[g] = {static_cast<uint32_t>(at), static_cast<uint32_t>(send->wire.size() - at),
                           split_slots_[g]};
      }
    }
    send->keyed = true;
    send->slot = split_slots_[batch_nodes_[i].second];
    sends.push_back(send);
    i = end;
  }
}

// One reply of a batch, for the next of its parts. A cluster signal (MOVED, ASK, TRYAGAIN, a
// failover's CLUSTERDOWN...) concerns that part's slot only: the part leaves the batch and the
// reply is handled as if it had been sent alone (redirect, retry, error).
void Router::on_batch_reply(Request* batch, std::string_view frame, const resp::FrameScanner& info,
                            backend::BackendConnection& from) {
  observe_node_latency(batch, from);
  Request* parent = batch->parent;
  SplitState& st = *parent->split;
  const uint32_t part = st.batch_order[batch->part_index + batch->batch_done];
  const bool last = ++batch->batch_done == batch->batch_size;
  if (info.is_error() && signal_of(info.error_text()) != ClusterSignal::None) {
    Request* alone = unbatch_part(batch, part);
    if (last) pool_.release(batch);
    on_reply(alone, frame, info, from);
    return;
  }
  store_part_reply(parent, part, frame);
  if (last) pool_.release(batch);
  if (--st.pending == 0) finish_split(parent);
}

// The part `part` of a batch as a part of its own, with its command cut from the batch's bytes.
Request* Router::unbatch_part(Request* batch, uint32_t part) {
  const SplitState::PartWire& pw = batch->parent->split->part_wire[part];
  Request* alone = new_part(batch->parent, part);
  alone->wire.assign(batch->wire, pw.at, pw.length);
  alone->keyed = true;
  alone->slot = pw.slot;  // a batch is never redirected or retried as a whole: nothing else to copy
  return alone;
}

// The connection went with parts of a batch unanswered: each goes on alone, as a lost part would
// (sent again if it never left or only reads, else failed with "outcome unknown").
void Router::on_batch_lost(Request* batch, Loss loss, std::string_view why) {
  const SplitState& st = *batch->parent->split;
  std::vector<Request*> parts;
  for (uint32_t i = batch->batch_done; i < batch->batch_size; ++i)
    parts.push_back(unbatch_part(batch, st.batch_order[batch->part_index + i]));
  pool_.release(batch);
  // The parent counts these parts as pending, so it cannot finish before the last of them.
  for (Request* part : parts) on_backend_lost(part, loss, why);
}

void Router::on_part_done(Request* part, std::string_view reply) {
  Request* parent = part->parent;
  auto& st = *parent->split;
  if (part->batch_size > 0) {
    // A batch ended as a whole (failed before it was sent, held past its deadline, its client
    // gone): every part it still carried gets that reply.
    const uint32_t left = part->batch_size - part->batch_done;
    for (uint32_t i = part->batch_done; i < part->batch_size; ++i)
      store_part_reply(parent, st.batch_order[part->part_index + i], reply);
    pool_.release(part);
    st.pending -= left;
    if (st.pending == 0) finish_split(parent);
    return;
  }
  store_part_reply(parent, part->part_index, reply);
  pool_.release(part);
  if (--st.pending == 0) finish_split(parent);
}

void Router::store_part_reply(Request* parent, uint32_t index, std::string_view reply) {
  SplitState& st = *parent->split;
  if (parent->spec->merge == Merge::KeyOrder && parent->post == PostProcess::None &&
      index < st.part_raw.size()) {
    // Kept as bytes: splice_key_order copies the elements into the answer without parsing them.
    st.part_raw[index].assign(reply);
  } else {
    auto value = resp::parse_value(reply);
    st.part_replies[index] =
        value ? std::move(*value) : Value::error("ERR slotgate could not parse a node's reply");
  }
}

// MGET's answer from the parts' raw arrays: element i of a part is the value of its i-th key, so
// the answer is "*N" and the elements' bytes in the client's key order (the parts speak the
// client's protocol). False when a part is not such an array (an error, a node's odd reply): the
// caller then parses the parts and merges them as values, which also picks the first error.
bool Router::splice_key_order(Request* parent) {
  const SplitState& st = *parent->split;
  size_t total = 0;
  for (const auto& keys : st.part_keys) total += keys.size();
  splice_.assign(total, std::string_view());
  size_t bytes = 0;
  for (size_t p = 0; p < st.part_raw.size() && p < st.part_keys.size(); ++p) {
    const std::string_view raw = st.part_raw[p];
    const auto& keys = st.part_keys[p];
    const size_t eol = raw.find("\r\n");
    if (raw.empty() || raw[0] != '*' || eol == std::string_view::npos) return false;
    size_t n = 0;
    const auto [end, ec] = std::from_chars(raw.data() + 1, raw.data() + eol, n);
    if (ec != std::errc() || end != raw.data() + eol || n != keys.size()) return false;
    size_t pos = eol + 2;
    for (size_t i = 0; i < n; ++i) {
      size_t length = bulk_frame_length(raw, pos);
      if (length == 0) {
        resp::FrameScanner element;  // a null, or anything but a plain bulk string
        if (element.scan(raw.substr(pos)) != resp::FrameScanner::Status::Complete) return false;
        length = element.frame_length();
      }
      if (keys[i] == 0 || keys[i] > total) return false;
      splice_[keys[i] - 1] = raw.substr(pos, length);
      bytes += length;
      pos += length;
    }
    if (pos != raw.size()) return false;
  }
  std::string out;
  out.reserve(bytes + 16);
  resp::append_array_header(out, total);
  for (std::string_view element : splice_) {
    if (element.empty()) return false;
    out.append(element);
  }
  trim_raw_parts(*parent->split);
  complete(parent, out);
  return true;
}

void Router::parse_raw_parts(Request* parent) {
  SplitState& st = *parent->split;
  st.part_replies.assign(st.part_raw.size(), Value{});
  for (size_t p = 0; p < st.part_raw.size() && p < st.part_replies.size(); ++p) {
    auto value = resp::parse_value(st.part_raw[p]);
    st.part_replies[p] =
        value ? std::move(*value) : Value::error("ERR slotgate could not parse a node's reply");
  }
  trim_raw_parts(st);
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
  if (parent->spec->merge == Merge::KeyOrder) {
    if (splice_key_order(parent)) return;
    parse_raw_parts(parent);
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
