// A client session's TLS handshake, seen from the session: counted, a failure logged with
// the peer and the reason (at most one line a second per worker, so a scan of the TLS port
// cannot flood the log), and a verified client certificate whose name tls.cert_users maps
// to a user logs the session in as that user without AUTH. The handshake itself runs in
// net::TcpStream; its timeout is checked by the session's tick.
#include <spdlog/spdlog.h>

#include "client/client_session.hpp"
#include "client/session_host.hpp"
#include "config/config.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "net/tls.hpp"

namespace slotgate::client {

namespace {

// Per worker thread: the last failure logged and how many were not logged since.
struct FailureLog {
  uint64_t last_ms = 0;
  uint64_t suppressed = 0;
};
thread_local FailureLog failure_log;

}  // namespace

void ClientSession::on_tls_handshake(bool ok) {
  const net::TlsChannel* tls = stream_.tls();
  if (!ok) {
    worker_.stats().count_tls_failure("client", tls->failure_class());
    const uint64_t now = worker_.loop().now_ms();
    if (failure_log.last_ms != 0 && now - failure_log.last_ms < 1000) {
      ++failure_log.suppressed;
      return;
    }
    spdlog::warn("TLS handshake with client {} failed ({}): {}{}", peer_, tls->failure_class(),
                 tls->error(),
                 failure_log.suppressed == 0
                     ? std::string()
                     : fmt::format(" ({} more failures not logged)", failure_log.suppressed));
    failure_log = FailureLog{now, 0};
    return;
  }
  worker_.stats().tls_handshakes_client++;
  const auto& cfg = worker_.config();
  if (cfg.tls.cert_users.empty()) return;
  for (const std::string& name : tls->peer_names()) {
    for (const auto& [cert_name, user_name] : cfg.tls.cert_users) {
      if (cert_name != name) continue;
      for (const auto& u : cfg.clients.users) {
        if (u.name != user_name) continue;
        spdlog::debug("client {} logged in as '{}' by its certificate ({})", peer_, u.name, name);
        set_authenticated(&u);
        return;
      }
    }
  }
}

bool ClientSession::tls_handshake_overdue(uint64_t now_ms) const {
  const net::TlsChannel* tls = stream_.tls();
  if (tls == nullptr || tls->established() || closed_) return false;
  return now_ms - created_ms_ >
         static_cast<uint64_t>(worker_.config().tls.handshake_timeout.count());
}

}  // namespace slotgate::client
