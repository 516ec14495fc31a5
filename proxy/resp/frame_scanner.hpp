// FrameScanner: finds where the next complete reply ends in bytes read from a
// backend, for RESP2 and RESP3, without building a value.
//
// This is what lets the proxy forward replies as raw byte spans: it only needs
// the length of the frame, its top-level type, and for errors the code word
// (MOVED, ASK, TRYAGAIN, ...) to decide whether to look closer. Scanning is
// incremental: the scanner keeps its offset, a small stack of element counts
// still expected per nesting level, and the end of a bulk it is waiting for,
// so a 100 MB reply arriving in 64 KB reads costs O(total), not O(total^2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "resp/redirect.hpp"

namespace slotgate::resp {

class FrameScanner {
 public:
  enum class Status { Complete, Incomplete, Error };

  FrameScanner() = default;

  // Looks for one complete reply frame at buf[0..]. On Incomplete, call again with the same
  // buffer start plus more bytes appended (the buffer may have moved). After Complete the next
  // call starts a new frame at the new buf[0] (the caller dropped frame_length() bytes).
  // On Error the backend stream is unusable; the error is sticky until reset().
  Status scan(std::string_view buf);

  size_t frame_length() const { return frame_length_; }
  // First byte of the top-level reply; for a frame that starts with attributes ('|') the type of
  // the reply the attributes belong to.
  char type() const { return type_; }
  bool is_error() const { return type_ == '-' || type_ == '!'; }
  bool is_push() const { return type_ == '>'; }
  // For an error frame: its text without the leading '-' and without CRLF ("MOVED 1 h:6379"),
  // and its first word ("MOVED"). Views into the buffer given to the last scan().
  std::string_view error_text() const;
  std::string_view error_code() const;
  // Why scan() returned Error (a static string).
  std::string_view protocol_error() const { return protocol_error_; }

  void reset();

 private:
  // What short_header() did: nothing (the general path reads the header), read a header, or
  // read the header that completes the frame.
  enum class Shortcut : uint8_t { NotTaken, Taken, FrameDone };
  Shortcut short_header(std::string_view buf);
  Status fail(const char* why);
  const char* read_header(char t, std::string_view line, size_t next, bool top, bool& bulk);

  // Elements the frame still owes, counting the one whose header comes next. An attribute
  // ("|n") adds its 2n keys and values without using up an element: the reply it annotates
  // still comes, as the RESP3 spec says.
  long long pending_ = 1;
  bool top_seen_ = false;  // the top-level reply's own header (not an attribute) was read
  size_t pos_ = 0;         // start of the next element header
  size_t scan_from_ = 0;   // CR search resumes here
  size_t bulk_end_ = 0;    // when waiting_bulk_: offset just past the bulk's CRLF
  bool waiting_bulk_ = false;
  bool done_ = false;
  bool failed_ = false;
  char type_ = 0;
  size_t error_offset_ = 0;
  size_t error_length_ = 0;
  size_t frame_length_ = 0;
  std::string_view buf_;
  const char* protocol_error_ = "";
};

}  // namespace slotgate::resp
