#include "admin/http_response.hpp"

namespace slotgate::admin {

HttpResponse text_response(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = std::string(message) + "\n";
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string serialize(const HttpResponse& response, bool keep_alive, bool include_body) {
  std::string out;
  out.reserve(160 + (include_body ? response.body.size() : 0));
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  if (!response.allow.empty()) {
    out += "\r\nAllow: ";
    out += response.allow;
  }
  // Probes and scrapers must always see fresh values.
  out += "\r\nCache-Control: no-store";
  if (!response.extra_headers.empty()) {
    out += "\r\n";
    out.append(response.extra_headers, 0, response.extra_headers.size() - 2);
  }
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (include_body) out += response.body;
  return out;
}

}  // namespace slotgate::admin
