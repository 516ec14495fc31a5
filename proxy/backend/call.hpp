// backend::Call: what a backend connection knows about one thing it carries. The
// router's Request derives from it; backend/ sees only the bytes to write, whether
// ASKING goes first, and how many reply frames the node sends for those bytes (one
// per command in `wire`). The connection calls back once per reply frame, in FIFO
// order, and hands the Call back if the connection is lost before the last one.
#pragma once

#include <cstdint>
#include <string>

namespace slotgate::backend {

struct Call {
  std::string wire;      // exact bytes to send (one or more RESP commands)
  bool asking = false;   // send ASKING first (ASK redirect), on the same connection
  uint32_t replies = 1;  // reply frames the node sends for `wire`

 protected:
  ~Call() = default;  // owned and destroyed as the router's Request
};

}  // namespace slotgate::backend
