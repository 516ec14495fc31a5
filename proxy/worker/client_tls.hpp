// worker::ClientTls: the certificate clients get on tls_listen, kept current. It builds a
// net::TlsContext from the `tls:` section and publishes it in ServerState, where every
// worker takes it for its next handshake (connections keep the one they started with).
// It loads again on SIGHUP and when the files change on disk — cert-manager and kubelet
// swap a Secret's files in place through a symlink, so the check compares each file's
// inode, size and mtime, following links. A certificate that fails to load is logged and
// counted and the previous one stays in use. Runs on the main thread.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "net/tls.hpp"
#include "worker/server_state.hpp"

namespace slotgate::worker {

net::TlsOptions client_tls_options(const config::TlsConfig& tls);
net::TlsOptions cluster_tls_options(const config::ClusterTlsConfig& tls);

class ClientTls {
 public:
  ClientTls(ServerState& state, metrics::Metrics& metrics) : state_(state), metrics_(metrics) {}

  // At start-up: "" when loaded, else the error (slotgate does not start).
  std::string load(const config::TlsConfig& tls);
  // SIGHUP (the settings may have changed) or a timer noticed changed files.
  void reload(const config::TlsConfig& tls, const char* why);
  // Reloads when a file changed since the last load; called every tls.watch_interval.
  void check_files(const config::TlsConfig& tls);

 private:
  struct FileStamp {
    unsigned long inode = 0;
    long size = -1;
    long mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  std::vector<FileStamp> stamps(const config::TlsConfig& tls) const;

  ServerState& state_;
  metrics::Metrics& metrics_;
  std::vector<FileStamp> loaded_;
};

}  // namespace slotgate::worker
