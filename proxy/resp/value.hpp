// resp::Value: a parsed RESP2/RESP3 reply, for the few places that must look
// inside a reply (topology discovery, merging split replies, INFO). Forwarded
// replies are never parsed into a Value; they travel as raw byte spans.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::resp {

enum class Type : uint8_t {
  SimpleString,  // +
  Error,         // -
  Integer,       // :
  BulkString,    // $
  Array,         // *
  Null,          // _ (RESP3), or $-1 / *-1 (RESP2)
  Map,           // % (elements hold key, value, key, value, ...)
  Set,           // ~
  Push,          // >
  Double,        // , (str holds the textual form as sent)
  Boolean,       // # (integer holds 0/1)
  BigNumber,     // ( (str holds the digits)
  Verbatim,      // = (str holds the payload without the "txt:" prefix; format holds "txt")
};

struct Value {
  Type type = Type::Null;
  std::string str;              // SimpleString, Error, BulkString, Double, BigNumber, Verbatim
  long long integer = 0;        // Integer, Boolean
  std::vector<Value> elements;  // Array, Map (flattened k,v), Set, Push
  std::string format;           // Verbatim only

  bool is_error() const { return type == Type::Error; }
  bool is_null() const { return type == Type::Null; }
  bool is_string() const {
    return type == Type::SimpleString || type == Type::BulkString || type == Type::Verbatim;
  }

  static Value simple(std::string s) {
    Value v;
    v.type = Type::SimpleString;
    v.str = std::move(s);
    return v;
  }
  static Value error(std::string s) {
    Value v;
    v.type = Type::Error;
    v.str = std::move(s);
    return v;
  }
  static Value bulk(std::string s) {
    Value v;
    v.type = Type::BulkString;
    v.str = std::move(s);
    return v;
  }
  static Value integer_of(long long n) {
    Value v;
    v.type = Type::Integer;
    v.integer = n;
    return v;
  }
  static Value null() { return Value{}; }
  static Value array(std::vector<Value> e) {
    Value v;
    v.type = Type::Array;
    v.elements = std::move(e);
    return v;
  }
  static Value map(std::vector<Value> kv) {
    Value v;
    v.type = Type::Map;
    v.elements = std::move(kv);
    return v;
  }
};

}  // namespace slotgate::resp
