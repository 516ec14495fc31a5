#include "cluster/sentinel_watch.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "cluster/cluster_view.hpp"
#include "cluster/control_connection.hpp"

namespace slotgate::cluster {

namespace {
// +try-failover: a Sentinel starts failing the master over; writes stop until the Sentinels name
// a master again (a write the old master acknowledged after its replica was promoted is lost).
constexpr const char* kChannels[] = {"+switch-master", "+sdown", "-sdown", "+odown",
                                     "+try-failover"};
// -failover-abort-not-elected, -failover-abort-no-good-slave, ...: the old master stays.
constexpr const char* kAbortPattern = "-failover-abort-*";

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}
}  // namespace

SentinelWatch::SentinelWatch(SentinelAccess access, OnEvent on_event)
    : access_(std::move(access)), on_event_(std::move(on_event)) {}

SentinelWatch::~SentinelWatch() {
  stop();
}

void SentinelWatch::start() {
  for (const std::string& sentinel : access_.sentinels) {
    threads_.emplace_back([this, sentinel] { watch(sentinel); });
  }
}

void SentinelWatch::stop() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void SentinelWatch::set_tls(std::shared_ptr<const net::TlsContext> tls) {
  std::lock_guard lock(tls_mu_);
  access_.tls = std::move(tls);
}

std::shared_ptr<const net::TlsContext> SentinelWatch::tls() const {
  std::lock_guard lock(tls_mu_);
  return access_.tls;
}

bool SentinelWatch::concerns(std::string_view payload, std::string_view name) {
  const auto w = words(payload);
  if (w.empty()) return false;
  if (w[0] == name) return true;  // +switch-master <name> <old ip> <old port> <new ip> <new port>
  if (w[0] == "master" && w.size() > 1) return w[1] == name;
  // A replica's or a Sentinel's event ends with "@ <master name> <master ip> <master port>".
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == "@") return w[i + 1] == name;
  }
  return false;
}

// One Sentinel, for as long as slotgate runs: (re)connect, SUBSCRIBE, read messages with a short
// timeout so stop() is noticed within a second.
void SentinelWatch::watch(std::string sentinel) {
  std::string last_error;
  while (!stopping_) {
    std::string host;
    uint16_t port = 0;
    std::string error;
    if (!split_address(sentinel, host, port)) return;
    const auto ips = resolve_all(host);
    if (ips.empty()) error = "cannot resolve " + host;
    for (size_t i = 0; i < ips.size() && error.empty() && !stopping_; ++i) {
      auto opened =
          ControlConnection::open(ips[i], port, access_.username, access_.password,
                                  access_.connect_timeout_ms, tls(), access_.server_name(host));
      if (auto* e = std::get_if<std::string>(&opened)) {
        error = *e;
        break;
      }
      auto& conn = std::get<ControlConnection>(opened);
      std::vector<std::string_view> cmd{"SUBSCRIBE"};
      for (const char* c : kChannels) cmd.emplace_back(c);
      auto first = conn.command(cmd, access_.command_timeout_ms);
      if (auto* e = std::get_if<std::string>(&first)) {
        error = *e;
        break;
      }
      const std::string_view pattern_cmd[] = {"PSUBSCRIBE", kAbortPattern};
      // The reply read here may be a SUBSCRIBE confirmation still queued; confirmations are
      // skipped below like any non-message.
      if (auto r = conn.command(pattern_cmd, access_.command_timeout_ms);
          std::holds_alternative<std::string>(r)) {
        error = std::get<std::string>(r);
        break;
      }
      if (!last_error.empty()) spdlog::info("Sentinel {} watched again", sentinel);
      last_error.clear();
      // An event may have been missed while not subscribed: the refresher checks now.
      on_event_("subscribed", sentinel);
      while (!stopping_) {
        auto msg = conn.next_reply(1000);
        if (auto* e = std::get_if<std::string>(&msg)) {
          if (*e == "reply timeout") continue;
          error = *e;
          break;
        }
        const auto& v = std::get<resp::Value>(msg);
        if (v.elements.size() == 3 && v.elements[0].str == "message" &&
            concerns(v.elements[2].str, access_.master_name))
          on_event_(v.elements[1].str, v.elements[2].str);
        if (v.elements.size() == 4 && v.elements[0].str == "pmessage" &&
            concerns(v.elements[3].str, access_.master_name))
          on_event_(v.elements[2].str, v.elements[3].str);
      }
    }
    if (stopping_) return;
    if (error != last_error) spdlog::warn("Sentinel {} not watched: {}", sentinel, error);
    last_error = error;
    for (int i = 0; i < 10 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace slotgate::cluster
