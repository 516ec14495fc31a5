// admin::HttpResponse: one HTTP/1.1 response of the admin server and its
// serialisation (status line, Content-Type, Content-Length, Connection).
#pragma once

#include <string>
#include <string_view>

namespace slotgate::admin {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // the Allow header of a 405 ("" = none)
  // More header lines, each ending in "\r\n" (e.g. the page's Content-Security-Policy).
  std::string extra_headers;
};

// A plain-text response whose body is message plus a newline.
HttpResponse text_response(int status, std::string_view message);

std::string_view reason_phrase(int status);

// include_body is false for HEAD: the headers (with the real Content-Length) only.
std::string serialize(const HttpResponse& response, bool keep_alive, bool include_body);

}  // namespace slotgate::admin
