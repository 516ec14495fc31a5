// net::error_text: a libuv status code as words, so the parts above net/ can describe
// a failed connect, lookup or a lost connection without seeing libuv's error ints.
#pragma once

#include <string>

namespace slotgate::net {

// "connection refused", ... for a libuv status (a negative errno).
std::string error_text(int status);
// The peer closed the connection in an orderly way (end of stream).
bool is_end_of_stream(int status);

}  // namespace slotgate::net
