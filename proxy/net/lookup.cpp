#include "net/lookup.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>

#include "net/loop.hpp"

namespace slotgate::net {

bool is_ip_literal(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

std::vector<std::string> addresses_of(const addrinfo* list) {
  std::vector<std::string> out;
  for (const addrinfo* p = list; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (p->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr, buf,
                sizeof buf);
    } else if (p->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(p->ai_addr)->sin6_addr, buf,
                sizeof buf);
    } else {
      continue;
    }
    std::string ip(buf);
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(std::move(ip));
  }
  return out;
}

struct Lookup::Req {
  uv_getaddrinfo_t uv{};
  Lookup* owner = nullptr;  // null once the owner is gone
  Done done;
};

void Lookup::cancel() {
  if (req_ == nullptr) return;
  // on_done still runs (UV_EAI_CANCELED if the work had not started) and frees req_.
  req_->owner = nullptr;
  req_->done = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&req_->uv));
  req_ = nullptr;
}

int Lookup::start(Loop& loop, const std::string& host, Done done) {
  if (req_ != nullptr) return UV_EBUSY;
  auto* req = new Req;
  req->owner = this;
  req->done = std::move(done);
  req->uv.data = req;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(loop.raw(), &req->uv, &Lookup::on_done, host.c_str(), nullptr, &hints);
  if (rc != 0) {
    delete req;
    return rc;
  }
  req_ = req;
  return 0;
}

void Lookup::on_done(uv_getaddrinfo_t* uv, int status, addrinfo* res) {
  auto* req = static_cast<Req*>(uv->data);
  std::string ip;
  if (status == 0) {
    auto all = addresses_of(res);
    if (all.empty()) {
      status = UV_EAI_NODATA;
    } else {
      ip = std::move(all.front());
    }
  }
  uv_freeaddrinfo(res);
  Lookup* owner = req->owner;
  Done done = std::move(req->done);
  delete req;
  if (owner == nullptr) return;
  owner->req_ = nullptr;
  // Last: `done` may destroy the owner.
  done(ip, status);
}

}  // namespace slotgate::net
