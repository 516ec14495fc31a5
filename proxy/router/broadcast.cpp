// Broadcast: a command about the whole keyspace or every node's state (KEYS, DBSIZE,
// FLUSHALL, SCRIPT LOAD, CONFIG SET…) goes to every master as it is; the replies are
// merged like a split command's (split.cpp, merge.cpp).
#include "router/router.hpp"

namespace slotgate::router {

using resp::Value;

void Router::broadcast(Request* parent) {
  SplitState& st = pool_.split_state(parent);
  if (!view_ || masters_.empty()) {
    // Nobody to ask. INFO still answers with slotgate's own sections.
    if (parent->post == PostProcess::InfoKeyspace) {
      st.part_replies.clear();
      finish_info(parent);
    } else {
      fail_request(parent, "CLUSTERDOWN no cluster topology loaded yet");
    }
    return;
  }
  st.part_replies.assign(masters_.size(), Value{});
  st.part_keys.assign(masters_.size(), {});
  st.pending = static_cast<uint32_t>(masters_.size());
  parent->state = RequestState::Waiting;
  std::vector<Request*> parts;
  for (uint32_t i = 0; i < masters_.size(); ++i) {
    Request* part = new_part(parent, i);
    part->wire = parent->wire;
    part->target = view_->node(masters_[i]).address;
    parts.push_back(part);
  }
  for (Request* part : parts) dispatch(part);
}

}  // namespace slotgate::router
