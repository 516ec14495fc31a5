// net::TlsContext and net::TlsChannel: TLS on OpenSSL, kept inside net/ (no SSL_* name
// appears above it). A TlsContext is one loaded configuration (certificate, key, CA,
// versions, ciphers), immutable once built and shared by every connection that starts
// while it is current; a reload builds a new one and connections keep the one they
// started with. A TlsChannel is one connection's TLS state over memory BIOs: the
// stream feeds it ciphertext read from the socket and sends what it produces, so the
// handshake and every read and write stay non-blocking on the event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;
struct bio_st;

namespace slotgate::net {

enum class TlsRole { Server, Client };
enum class ClientAuth { None, Optional, Required };

struct TlsOptions {
  TlsRole role = TlsRole::Server;
  std::string cert_file;  // server: required; client: optional client certificate
  std::string key_file;
  std::string ca_file;  // server: verifies client certificates; client: verifies servers
  ClientAuth client_auth = ClientAuth::None;  // server only
  std::string min_version = "TLSv1.2";        // TLSv1.2 or TLSv1.3
  std::string ciphers;                        // TLS <= 1.2 cipher list ("" = safe default)
  std::string ciphersuites;                   // TLS 1.3 suites ("" = OpenSSL's default)
  bool verify_peer = true;                    // client only: false = insecure_skip_verify
};

// Safe defaults: forward-secret AEAD suites only.
inline constexpr std::string_view kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

class TlsContext {
 public:
  // Loads the files and checks that the key matches the certificate; the error names
  // the file and OpenSSL's reason.
  static std::variant<std::shared_ptr<const TlsContext>, std::string> create(
      const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const TlsOptions& options() const { return options_; }
  // The serial number (hex) of the loaded certificate ("" without one).
  const std::string& cert_serial() const { return serial_; }
  ssl_ctx_st* raw() const { return ctx_; }  // for TlsChannel only

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  TlsOptions options_;
  std::string serial_;
};

class TlsChannel {
 public:
  // server_name (client role): sent as SNI and verified against the certificate's
  // DNS or IP SANs when the context verifies peers.
  TlsChannel(std::shared_ptr<const TlsContext> context, std::string_view server_name = {});
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  enum class Progress { Done, NeedMore, Failed };

  // Ciphertext from the socket.
  void feed(std::span<const char> bytes);
  // Advances the handshake with what was fed (a client's first call says hello).
  Progress handshake();
  bool established() const { return established_; }
  // Decrypts into `into`: bytes > 0, 0 = nothing more until more is fed, -1 = the peer
  // closed or broke the protocol (error() says why).
  long read(std::span<char> into);
  // True when decrypted or fed bytes wait for read().
  bool has_buffered_input() const;
  // Encrypts all of `bytes` (only once established).
  bool write(std::string_view bytes);
  // Moves the ciphertext produced so far (handshake messages, records) to `out`.
  void take_output(std::string& out);
  bool has_output() const;

  // After a failure: a short class for metrics (verify, no_certificate, protocol, version,
  // closed) and OpenSSL's words for the log.
  std::string_view failure_class() const { return failure_class_; }
  const std::string& error() const { return error_; }
  // The peer certificate's subject CN and DNS SANs (verified peers only).
  std::vector<std::string> peer_names() const;
  std::string peer_serial() const;
  bool renegotiation_refused() const { return renegotiation_refused_; }

 private:
  void record_failure(int ssl_error);

  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // both BIOs are owned by ssl_
  bio_st* wbio_ = nullptr;
  bool established_ = false;
  bool renegotiation_refused_ = false;
  std::string failure_class_;
  std::string error_;
};

}  // namespace slotgate::net
