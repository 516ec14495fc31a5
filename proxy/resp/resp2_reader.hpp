// Resp2Reader: RESP2 replies -> resp::Value through hiredis's redisReader.
//
// Used on the topology control connection (CLUSTER SHARDS / SLOTS replies),
// where a full value tree is needed and the protocol is RESP2. Debian's
// hiredis 0.14 parses RESP2 only and nests at most 7 levels deep; RESP3 frames
// go through FrameScanner + parse_value instead. This is the only place that
// touches the hiredis reader; its header does not leak out of this file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "resp/value.hpp"

namespace slotgate::resp {

class Resp2Reader {
 public:
  Resp2Reader();
  ~Resp2Reader();
  Resp2Reader(const Resp2Reader&) = delete;
  Resp2Reader& operator=(const Resp2Reader&) = delete;
  Resp2Reader(Resp2Reader&&) noexcept;
  Resp2Reader& operator=(Resp2Reader&&) noexcept;

  // Appends bytes read from the connection (hiredis copies them).
  void feed(std::string_view bytes);

  enum class Status { Value, Incomplete, Error };
  // Value: `out` holds the next reply. Incomplete: feed more. Error: the stream is broken
  // (protocol error or out of memory), error() says why; the connection must be dropped.
  Status next(Value& out);
  const std::string& error() const { return error_; }

 private:
  struct ReaderDeleter {
    void operator()(void* reader) const;
  };
  std::unique_ptr<void, ReaderDeleter> reader_;  // redisReader*, opaque outside the .cpp
  std::string error_;
};

}  // namespace slotgate::resp
