#include "worker/client_tls.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace slotgate::worker {

net::TlsOptions client_tls_options(const config::TlsConfig& tls) {
  net::TlsOptions o;
  o.role = net::TlsRole::Server;
  o.cert_file = tls.cert_file;
  o.key_file = tls.key_file;
  o.ca_file = tls.ca_file;
  o.client_auth = tls.client_auth == "required"   ? net::ClientAuth::Required
                  : tls.client_auth == "optional" ? net::ClientAuth::Optional
                                                  : net::ClientAuth::None;
  o.min_version = tls.min_version;
  o.ciphers = tls.ciphers;
  o.ciphersuites = tls.ciphersuites;
  return o;
}

net::TlsOptions cluster_tls_options(const config::ClusterTlsConfig& tls) {
  net::TlsOptions o;
  o.role = net::TlsRole::Client;
  o.cert_file = tls.cert_file;
  o.key_file = tls.key_file;
  o.ca_file = tls.ca_file;
  o.verify_peer = !tls.insecure_skip_verify;
  return o;
}

std::vector<ClientTls::FileStamp> ClientTls::stamps(const config::TlsConfig& tls) const {
  std::vector<FileStamp> out;
  for (const std::string* path : {&tls.cert_file, &tls.key_file, &tls.ca_file}) {
    FileStamp f;
    struct stat st {};
    if (!path->empty() && ::stat(path->c_str(), &st) == 0) {
      f.inode = static_cast<unsigned long>(st.st_ino);
      f.size = static_cast<long>(st.st_size);
      f.mtime_ns = static_cast<long>(st.st_mtim.tv_sec * 1'000'000'000L + st.st_mtim.tv_nsec);
    }
    out.push_back(f);
  }
  return out;
}

std::string ClientTls::load(const config::TlsConfig& tls) {
  auto stamps_before = stamps(tls);
  auto made = net::TlsContext::create(client_tls_options(tls));
  if (auto* err = std::get_if<std::string>(&made)) return "tls: " + *err;
  auto ctx = std::get<std::shared_ptr<const net::TlsContext>>(made);
  spdlog::info("TLS certificate {} loaded (serial {})", tls.cert_file, ctx->cert_serial());
  state_.set_client_tls(std::move(ctx));
  loaded_ = std::move(stamps_before);
  return {};
}

void ClientTls::reload(const config::TlsConfig& tls, const char* why) {
  if (state_.client_tls() == nullptr) return;  // no tls_listen
  std::string err = load(tls);
  metrics_.count_tls_reload(err.empty());
  if (!err.empty()) {
    // Remember what was seen, so a broken file is reported once, not on every check.
    loaded_ = stamps(tls);
    spdlog::error("{}: TLS certificate not reloaded, the previous one stays in use: {}", why, err);
  }
}

void ClientTls::check_files(const config::TlsConfig& tls) {
  if (state_.client_tls() == nullptr) return;
  if (stamps(tls) != loaded_) reload(tls, "certificate files changed");
}

}  // namespace slotgate::worker
