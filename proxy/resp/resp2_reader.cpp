// Resp2Reader: RAII over hiredis 0.14's redisReader (see resp2_reader.hpp).
#include "resp/resp2_reader.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

namespace slotgate::resp {

namespace {

redisReader* as_reader(void* p) {
  return static_cast<redisReader*>(p);
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

Value to_value(const redisReply& r) {
  Value v;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      v.type = Type::BulkString;
      v.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = Type::SimpleString;
      v.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = Type::Error;
      v.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = Type::Integer;
      v.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = Type::Array;
      v.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) v.elements.push_back(to_value(*r.element[i]));
      break;
    case REDIS_REPLY_NIL:
    default:
      v.type = Type::Null;
      break;
  }
  return v;
}

}  // namespace

void Resp2Reader::ReaderDeleter::operator()(void* reader) const {
  redisReaderFree(as_reader(reader));
}

Resp2Reader::Resp2Reader() : reader_(redisReaderCreate()) {
  if (!reader_) error_ = "out of memory creating the RESP2 reader";
}

Resp2Reader::~Resp2Reader() = default;
Resp2Reader::Resp2Reader(Resp2Reader&&) noexcept = default;
Resp2Reader& Resp2Reader::operator=(Resp2Reader&&) noexcept = default;

void Resp2Reader::feed(std::string_view bytes) {
  if (!reader_ || bytes.empty()) return;
  // A failed feed (out of memory) leaves err set; next() reports it.
  redisReaderFeed(as_reader(reader_.get()), bytes.data(), bytes.size());
}

Resp2Reader::Status Resp2Reader::next(Value& out) {
  if (!reader_) return Status::Error;
  redisReader* r = as_reader(reader_.get());
  if (r->err) {
    error_ = r->errstr;
    return Status::Error;
  }
  void* raw = nullptr;
  if (redisReaderGetReply(r, &raw) != REDIS_OK) {
    error_ = r->errstr;
    return Status::Error;
  }
  if (raw == nullptr) return Status::Incomplete;
  std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(raw));
  out = to_value(*reply);
  return Status::Value;
}

}  // namespace slotgate::resp
