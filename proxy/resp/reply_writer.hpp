// Reply writers: append RESP bytes for replies the proxy builds itself (local
// commands, merged replies, errors) and for requests it sends to backends.
//
// Every function appends to `out` and allocates nothing but out's own growth
// (numbers go through std::to_chars into a stack buffer). `proto` is the
// client's protocol version, 2 or 3; RESP3-only types are written the way
// Redis writes them for a RESP2 client.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "resp/value.hpp"

namespace slotgate::resp {

void append_simple(std::string& out, std::string_view s);
// `s` includes the error code ("ERR unknown command"); CR/LF in it become spaces, as Redis does,
// so a message can never break the reply stream.
void append_error(std::string& out, std::string_view s);
void append_integer(std::string& out, long long n);
void append_bulk(std::string& out, std::string_view s);
void append_null_bulk(std::string& out, int proto);   // "$-1" / "_"
void append_null_array(std::string& out, int proto);  // "*-1" / "_"
void append_array_header(std::string& out, size_t n);
void append_map_header(std::string& out, size_t n, int proto);   // n pairs; RESP2: array of 2n
void append_set_header(std::string& out, size_t n, int proto);   // RESP2: array
void append_push_header(std::string& out, size_t n, int proto);  // RESP2: array
// Formatted like Redis 7.0 ("%.17g", "inf", "-inf"); RESP2: a bulk string.
void append_double(std::string& out, double d, int proto);
void append_bool(std::string& out, bool b, int proto);  // RESP2: integer 1 / 0
// RESP3: "=<len>\r\n<format>:<text>"; RESP2: a bulk string of the text. format is 3 bytes.
void append_verbatim(std::string& out, std::string_view s, int proto,
                     std::string_view format = "txt");

// Writes a Value in the client's protocol. For RESP2 it converts like Redis: map -> flat array,
// set and push -> array, double and big number -> bulk string, boolean -> integer 1/0,
// null -> "$-1", verbatim -> bulk string without the format prefix.
void write_value(std::string& out, const Value& v, int proto);

// A command as a RESP array of bulk strings, as sent to a backend.
void append_command(std::string& out, std::span<const std::string_view> args);

// A complete reply that is an error: simple ('-') or RESP3 blob ('!').
inline bool is_error_reply(std::string_view reply) {
  return !reply.empty() && (reply[0] == '-' || reply[0] == '!');
}

}  // namespace slotgate::resp
