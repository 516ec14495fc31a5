// SCAN through slotgate: one cursor walks every master in turn. The client's
// cursor packs the master's position in slot order (low 10 bits) and that
// master's own cursor (high 54 bits); when one master's cursor returns to 0 the
// walk moves on to the next master, and 0 is returned after the last one.
// Ordering masters by the first slot they own keeps cursors valid across
// topology refreshes and failovers that do not move slots.
#include <fmt/format.h>

#include <charconv>
#include <map>

#include "commands/command_table.hpp"
#include "resp/reply_writer.hpp"
#include "router/router.hpp"

namespace slotgate::router {

namespace {
constexpr unsigned kIndexBits = 10;
constexpr uint64_t kIndexMask = (1u << kIndexBits) - 1;

bool parse_u64(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

void Router::scan(Request* req, std::span<const std::string_view> args) {
  uint64_t cursor = 0;
  if (!parse_u64(args[1], cursor)) {
    fail_request(req, "ERR invalid cursor");
    return;
  }
  if (!view_ || scan_order_.empty()) {
    fail_request(req, "CLUSTERDOWN no cluster topology loaded yet");
    return;
  }
  uint64_t index = cursor & kIndexMask;
  uint64_t node_cursor = cursor >> kIndexBits;
  if (index >= scan_order_.size()) {
    fail_request(req, fmt::format("ERR invalid cursor: it points at master #{} but the cluster "
                                  "has {} masters now; start the SCAN again from 0",
                                  index, scan_order_.size()));
    return;
  }
  std::vector<std::string_view> argv(args.begin(), args.end());
  std::string cursor_text = std::to_string(node_cursor);
  argv[1] = cursor_text;
  SplitState& st = pool_.split_state(req);
  st.part_replies.assign(1, resp::Value{});
  st.part_keys.assign(1, {});
  st.pending = 1;
  req->post = PostProcess::Scan;
  req->scan_master = static_cast<uint32_t>(index);
  req->state = RequestState::Waiting;
  Request* part = new_part(req, 0);
  resp::append_command(part->wire, argv);
  part->target = view_->node(scan_order_[index]).address;
  dispatch(part);
}

void Router::finish_scan(Request* parent) {
  const resp::Value& r = parent->split->part_replies[0];
  if (r.is_error()) {
    std::string out;
    resp::write_value(out, r, parent->protocol);
    complete(parent, out);
    return;
  }
  if (r.elements.size() != 2) {
    fail_request(parent, "ERR unexpected SCAN reply from a cluster node");
    return;
  }
  uint64_t node_next = 0;
  parse_u64(r.elements[0].str, node_next);
  uint64_t next = 0;
  if (node_next != 0) {
    next = (node_next << kIndexBits) | parent->scan_master;
  } else if (parent->scan_master + 1 < scan_order_.size()) {
    next = parent->scan_master + 1;  // next master, its cursor 0
  }
  resp::Value reply = resp::Value::array({resp::Value::bulk(std::to_string(next)), r.elements[1]});
  std::string out;
  resp::write_value(out, reply, parent->protocol);
  complete(parent, out);
}

}  // namespace slotgate::router
