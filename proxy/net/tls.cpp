#include "net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace slotgate::net {

namespace {

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown error") : out;
}

bool is_ip(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string serial_of(X509* cert) {
  if (cert == nullptr) return {};
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

// Sets versions, ciphers and the refusal of renegotiation; "" when all were accepted.
std::string apply_protocol(SSL_CTX* ctx, const TlsOptions& o) {
  int min = 0;
  if (o.min_version == "TLSv1.2") {
    min = TLS1_2_VERSION;
  } else if (o.min_version == "TLSv1.3") {
    min = TLS1_3_VERSION;
  } else {
    return "min_version must be TLSv1.2 or TLSv1.3, not '" + o.min_version + "'";
  }
  SSL_CTX_set_min_proto_version(ctx, min);
  // Renegotiation lets a peer restart the handshake mid-connection (CPU, and state the
  // event loop would have to track); Redis refuses it too.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  const std::string ciphers = o.ciphers.empty() ? std::string(kDefaultCiphers) : o.ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1)
    return "ciphers: no usable cipher in '" + ciphers + "'";
  if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1)
    return "ciphersuites: no usable suite in '" + o.ciphersuites + "'";
  // A write of a buffer always completes at once on a memory BIO; a moving buffer is fine.
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  return {};
}

std::string load_files(SSL_CTX* ctx, const TlsOptions& o, std::string* serial) {
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) return "cert_file and key_file go together";
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
      return "cert_file " + o.cert_file + ": " + openssl_errors();
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return "key_file " + o.key_file + ": " + openssl_errors();
    if (SSL_CTX_check_private_key(ctx) != 1)
      return "key_file " + o.key_file + " does not match cert_file " + o.cert_file;
    *serial = serial_of(SSL_CTX_get0_certificate(ctx));
  } else if (o.role == TlsRole::Server) {
    return "cert_file and key_file are required";
  }
  if (!o.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1)
      return "ca_file " + o.ca_file + ": " + openssl_errors();
    if (o.role == TlsRole::Server) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_file.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    }
  } else if (o.role == TlsRole::Client && o.verify_peer) {
    SSL_CTX_set_default_verify_paths(ctx);
  } else if (o.role == TlsRole::Server && o.client_auth != ClientAuth::None) {
    return "client_auth needs a ca_file";
  }
  return {};
}

}  // namespace

std::variant<std::shared_ptr<const TlsContext>, std::string> TlsContext::create(
    const TlsOptions& options) {
  std::shared_ptr<TlsContext> out(new TlsContext());
  out->options_ = options;
  SSL_CTX* ctx =
      SSL_CTX_new(options.role == TlsRole::Server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return "cannot create a TLS context: " + openssl_errors();
  out->ctx_ = ctx;
  if (std::string err = apply_protocol(ctx, options); !err.empty()) return err;
  if (std::string err = load_files(ctx, options, &out->serial_); !err.empty()) return err;
  int mode = SSL_VERIFY_NONE;
  if (options.role == TlsRole::Server) {
    if (options.client_auth != ClientAuth::None) mode = SSL_VERIFY_PEER;
    if (options.client_auth == ClientAuth::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    // No session resumption state shared between workers: every handshake is a full one.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
  } else if (options.verify_peer) {
    mode = SSL_VERIFY_PEER;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  return std::shared_ptr<const TlsContext>(std::move(out));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsChannel::TlsChannel(std::shared_ptr<const TlsContext> context, std::string_view server_name)
    : context_(std::move(context)) {
  ssl_ = SSL_new(context_->raw());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  // An empty read BIO means "want more", not end of file.
  BIO_set_mem_eof_return(rbio_, -1);
  BIO_set_mem_eof_return(wbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  if (context_->options().role == TlsRole::Server) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  const std::string name(server_name);
  if (name.empty()) return;
  if (is_ip(name)) {
    if (context_->options().verify_peer)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, name.c_str());
    if (context_->options().verify_peer) SSL_set1_host(ssl_, name.c_str());
  }
}

TlsChannel::~TlsChannel() {
  SSL_free(ssl_);
}

void TlsChannel::feed(std::span<const char> bytes) {
  if (!bytes.empty()) BIO_write(rbio_, bytes.data(), static_cast<int>(bytes.size()));
}

void TlsChannel::record_failure(int ssl_error) {
  unsigned long e = ERR_peek_error();
  int reason = ERR_GET_REASON(e);
  long verify = SSL_get_verify_result(ssl_);
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    failure_class_ = "closed";
  } else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    failure_class_ = "verify";
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    failure_class_ = "no_certificate";
  } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
             reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) {
    failure_class_ = "version";
  } else if (e == 0) {
    failure_class_ = "closed";
  } else {
    failure_class_ = "protocol";
  }
  error_ = e == 0 ? std::string("connection closed during the handshake") : openssl_errors();
  if (failure_class_ == "verify" && verify != X509_V_OK)
    error_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  ERR_clear_error();
}

TlsChannel::Progress TlsChannel::handshake() {
  if (established_) return Progress::Done;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    return Progress::Done;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Progress::NeedMore;
  record_failure(err);
  return Progress::Failed;
}

long TlsChannel::read(std::span<char> into) {
  ERR_clear_error();
  int n = SSL_read(ssl_, into.data(), static_cast<int>(into.size()));
  if (n > 0) return n;
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_NO_RENEGOTIATION) renegotiation_refused_ = true;
  record_failure(err);
  return -1;
}

bool TlsChannel::has_buffered_input() const {
  return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(rbio_) > 0;
}

bool TlsChannel::write(std::string_view bytes) {
  ERR_clear_error();
  while (!bytes.empty()) {
    int chunk = static_cast<int>(std::min<size_t>(bytes.size(), 1u << 30));
    int n = SSL_write(ssl_, bytes.data(), chunk);
    if (n <= 0) {
      record_failure(SSL_get_error(ssl_, n));
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void TlsChannel::take_output(std::string& out) {
  size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) return;
  size_t at = out.size();
  out.resize(at + pending);
  int n = BIO_read(wbio_, out.data() + at, static_cast<int>(pending));
  out.resize(at + static_cast<size_t>(n > 0 ? n : 0));
}

bool TlsChannel::has_output() const {
  return BIO_ctrl_pending(wbio_) > 0;
}

std::vector<std::string> TlsChannel::peer_names() const {
  std::vector<std::string> names;
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return names;
  if (SSL_get_verify_result(ssl_) == X509_V_OK) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      names.emplace_back(cn);
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS && gn->type != GEN_EMAIL) continue;
      const ASN1_STRING* s = gn->d.ia5;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_free(cert);
  return names;
}

std::string TlsChannel::peer_serial() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  std::string out = serial_of(cert);
  X509_free(cert);
  return out;
}

}  // namespace slotgate::net
