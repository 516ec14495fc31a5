// The transitions of a request's life (router/request.hpp narrates the whole of it).
#include "router/request.hpp"

namespace slotgate::router {

Request* RequestPool::acquire() {
  Request* r = nullptr;
  if (free_.empty()) {
    owned_.push_back(std::make_unique<Request>());
    r = owned_.back().get();
  } else {
    r = free_.back();
    free_.pop_back();
  }
  r->state = RequestState::Queued;
  return r;
}

void RequestPool::answer(Request* req, std::string_view reply) {
  if (req->orphaned || req->sink == nullptr) {
    release(req);
    return;
  }
  req->state = RequestState::Done;
  req->sink->deliver(req, reply);
}

void RequestPool::abandon(Request* req) {
  req->orphaned = true;
  req->sink = nullptr;
  if (req->state == RequestState::Done || req->state == RequestState::Queued) release(req);
}

void RequestPool::release(Request* req) {
  // Very large buffers are not worth keeping around for the next command.
  if (req->wire.capacity() > (1u << 20)) std::string().swap(req->wire);
  if (req->reply.capacity() > (1u << 20)) std::string().swap(req->reply);
  req->reset_for_reuse();
  if (req->split) {
    recycle(*req->split);
    free_splits_.push_back(std::move(req->split));
  }
  free_.push_back(req);
}

void RequestPool::recycle(SplitState& st) {
  st.part_replies.clear();
  st.part_labels.clear();
  st.pending = 0;
  // The next MGET reuses the part buffers and key lists of this one, unless this one was
  // big: a pooled SplitState must not keep what a single huge split (thousands of slots, or
  // large values in each part) needed, as nobody counts it against a client's memory.
  size_t kept = 0;
  for (const std::string& raw : st.part_raw) kept += raw.capacity();
  if (kept > kMaxKeptSplitBytes || st.part_raw.size() > kMaxKeptParts) {
    std::vector<std::string>().swap(st.part_raw);
  }
  if (st.part_wire.size() > kMaxKeptParts) {
    std::vector<SplitState::PartWire>().swap(st.part_wire);
    std::vector<uint32_t>().swap(st.batch_order);
  }
  if (st.part_keys.size() > kMaxKeptParts) {
    std::vector<std::vector<uint32_t>>().swap(st.part_keys);
  } else {
    for (auto& keys : st.part_keys) keys.clear();  // the lists keep their storage
  }
}

SplitState& RequestPool::split_state(Request* parent) {
  if (!parent->split) {
    if (free_splits_.empty()) {
      parent->split = std::make_unique<SplitState>();
    } else {
      parent->split = std::move(free_splits_.back());
      free_splits_.pop_back();
    }
  }
  return *parent->split;
}

}  // namespace slotgate::router
