#include "net/error.hpp"

#include <uv.h>

namespace slotgate::net {

std::string error_text(int status) {
  return uv_strerror(status);
}

bool is_end_of_stream(int status) {
  return status == UV_EOF;
}

}  // namespace slotgate::net
