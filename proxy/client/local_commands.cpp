#include "client/local_commands.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include "client/acl_log.hpp"
#include "client/acl_user.hpp"
#include "client/auth.hpp"
#include "client/auth_throttle.hpp"
#include "client/client_session.hpp"
#include "client/session_card.hpp"
#include "client/session_directory.hpp"
#include "client/session_host.hpp"
#include "client/session_tracking.hpp"
#include "client/tracked_keys.hpp"
#include "cluster/slot.hpp"
#include "commands/command_reply.hpp"
#include "commands/command_table.hpp"
#include "config/config.hpp"
#include "config/password_hash.hpp"
#include "metrics/worker_stats.hpp"
#include "net/loop.hpp"
#include "resp/integer_text.hpp"
#include "resp/reply_writer.hpp"
#include "text/ascii.hpp"

namespace slotgate::client {

namespace {

using resp::Value;

struct Ctx {
  ClientSession& s;
  const commands::CommandSpec& spec;
  std::span<const std::string_view> args;
  std::string out;
  int proto() const { return s.protocol(); }
  void ok() { out.append("+OK\r\n"); }
  void error(std::string_view text) { resp::append_error(out, text); }
  void value(const Value& v) { resp::write_value(out, v, proto()); }
};

using Handler = void (*)(Ctx&);

using text::iequals;

// Redis rejects names with spaces, newlines and other special characters.
bool valid_client_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '!' && c <= '~'; });
}

const config::Config& cfg(Ctx& c) {
  return c.s.worker().config();
}

void note_auth_failure(Ctx& c, std::string_view user) {
  uint64_t n = c.s.worker().count_auth_failure();
  // One line per event, but at most one per second under a flood.
  static std::atomic<uint64_t> last_log_ms{0};
  uint64_t now = c.s.worker().loop().now_ms();
  uint64_t prev = last_log_ms.load();
  if (now - prev >= 1000 && last_log_ms.compare_exchange_strong(prev, now)) {
    // The name is the client's text: escaped so it cannot forge or split a log line.
    spdlog::warn("authentication failed for user '{}' from {} ({} failures so far)",
                 user.empty() ? std::string("default") : log_escaped(user), c.s.peer(), n);
  }
}

AuthThrottleLimits auth_limits(const config::ClientsConfig& clients) {
  return {clients.auth_max_failures, static_cast<uint64_t>(clients.auth_failure_window.count()),
          static_cast<uint64_t>(clients.auth_block_time.count())};
}

// Shared by AUTH and HELLO … AUTH: true when the credentials were accepted.
bool try_auth(Ctx& c, std::string_view user, std::string_view password) {
  AuthThrottle& throttle = c.s.worker().auth_throttle();
  const std::string_view from = peer_host(c.s.peer());
  const uint64_t now = c.s.worker().loop().now_ms();
  const AuthThrottleLimits limits = auth_limits(cfg(c).clients);
  if (!throttle.allowed(from, now, limits)) {
    // Not even checked: a password cannot be guessed faster than the limit allows.
    c.s.worker().stats().auth_throttled++;
    c.error("ERR too many failed authentication attempts from this address; try again later");
    return false;
  }
  AuthResult r = authenticate(cfg(c).clients, user, password);
  if (r.outcome == AuthOutcome::WrongPass) {
    throttle.failed(from, now, limits);
    c.s.log_acl_denial("auth", "AUTH", user.empty() ? std::string_view("default") : user);
  }
  switch (r.outcome) {
    case AuthOutcome::Ok:
      c.s.set_authenticated(r.user, std::move(r.acl));
      return true;
    case AuthOutcome::NoPasswordConfigured:
      c.error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
      return false;
    case AuthOutcome::WrongPass:
      note_auth_failure(c, user);
      c.error("WRONGPASS invalid username-password pair or user is disabled.");
      return false;
  }
  return false;
}

void cmd_ping(Ctx& c) {
  if (c.args.size() > 2) {
    c.error("ERR wrong number of arguments for 'ping' command");
  } else if (c.args.size() == 2) {
    resp::append_bulk(c.out, c.args[1]);
  } else {
    c.out.append("+PONG\r\n");
  }
}

void cmd_echo(Ctx& c) {
  resp::append_bulk(c.out, c.args[1]);
}

void cmd_quit(Ctx& c) {
  c.ok();
  c.s.quit_after_reply();
}

void cmd_reset(Ctx& c) {
  c.s.reset_state();
  c.out.append("+RESET\r\n");
}

void cmd_auth(Ctx& c) {
  if (c.args.size() > 3) {
    c.error("ERR syntax error");
    return;
  }
  std::string_view user = c.args.size() == 3 ? c.args[1] : std::string_view{};
  if (try_auth(c, user, c.args.back())) c.ok();
}

void cmd_select(Ctx& c) {
  auto db = resp::parse_integer(c.args[1]);
  if (!db) {
    c.error("ERR value is not an integer or out of range");
  } else if (*db != 0) {
    c.error("ERR SELECT is not allowed in cluster mode");
  } else {
    c.ok();
  }
}

void cmd_ok(Ctx& c) {
  c.ok();
}

Value hello_map(Ctx& c) {
  std::vector<Value> kv;
  auto add = [&](std::string k, Value v) {
    kv.push_back(Value::bulk(std::move(k)));
    kv.push_back(std::move(v));
  };
  add("server", Value::bulk("redis"));
  add("version", Value::bulk(c.s.worker().redis_version()));
  add("proto", Value::integer_of(c.proto()));
  add("id", Value::integer_of(static_cast<long long>(c.s.id())));
  add("mode", Value::bulk("cluster"));
  add("role", Value::bulk("master"));
  add("modules", Value::array({}));
  return Value::map(std::move(kv));
}

void cmd_hello(Ctx& c) {
  int version = c.s.protocol();
  size_t i = 1;
  if (c.args.size() >= 2) {
    auto v = resp::parse_integer(c.args[1]);
    if (!v) {
      c.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (*v < 2 || *v > 3) {
      c.error("NOPROTO unsupported protocol version");
      return;
    }
    if (*v == 3 && !cfg(c).clients.resp3) {
      // RESP2-only mode: the one reply every Lettuce 6.x and ioredis fall back on
      // (NOPROTO breaks Lettuce 6.2.0-6.2.5).
      c.error(fmt::format("ERR unknown command '{}', with args beginning with: '3' ", c.args[0]));
      return;
    }
    version = static_cast<int>(*v);
    i = 2;
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (; i < c.args.size(); ++i) {
    size_t more = c.args.size() - i - 1;
    if (iequals(c.args[i], "AUTH") && more >= 2) {
      user = c.args[i + 1];
      pass = c.args[i + 2];
      has_auth = true;
      i += 2;
    } else if (iequals(c.args[i], "SETNAME") && more >= 1) {
      name = c.args[i + 1];
      has_name = true;
      i += 1;
    } else {
      c.error(fmt::format("ERR Syntax error in HELLO option '{}'", c.args[i]));
      return;
    }
  }
  if (has_auth && !try_auth(c, user, pass)) return;
  if (!c.s.authenticated()) {
    c.error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time");
    return;
  }
  if (has_name) {
    if (!valid_client_name(name)) {
      c.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    c.s.name().assign(name);
  }
  c.s.set_protocol(version);
  c.value(hello_map(c));
}

void cmd_client_setname(Ctx& c) {
  if (!valid_client_name(c.args[2])) {
    c.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  c.s.name().assign(c.args[2]);
  c.ok();
}

void cmd_client_getname(Ctx& c) {
  if (c.s.name().empty()) {
    resp::append_null_bulk(c.out, c.proto());
  } else {
    resp::append_bulk(c.out, c.s.name());
  }
}

void cmd_client_id(Ctx& c) {
  resp::append_integer(c.out, static_cast<long long>(c.s.id()));
}

void cmd_client_setinfo(Ctx& c) {
  std::string_view attr = c.args[2], val = c.args[3];
  bool is_name = iequals(attr, "lib-name");
  if (!is_name && !iequals(attr, "lib-ver")) {
    c.error(fmt::format("ERR Unrecognized option '{}'", attr));
    return;
  }
  if (!valid_client_name(val)) {
    c.error(fmt::format("ERR {} cannot contain spaces, newlines or special characters.",
                        is_name ? "lib-name" : "lib-ver"));
    return;
  }
  (is_name ? c.s.lib_name() : c.s.lib_ver()).assign(val);
  c.ok();
}

void cmd_client_reply(Ctx& c) {
  std::string_view mode = c.args[2];
  if (iequals(mode, "on")) {
    c.s.set_reply_mode(ClientSession::ReplyMode::On);
    c.ok();
  } else if (iequals(mode, "off")) {
    c.s.set_reply_mode(ClientSession::ReplyMode::Off);
  } else if (iequals(mode, "skip")) {
    c.s.set_reply_mode(ClientSession::ReplyMode::Skip);
  } else {
    c.error("ERR syntax error");
  }
}

// The sessions CLIENT KILL / UNBLOCK may act on: a named user reaches its own sessions only
// (as CLIENT LIST shows them); the default user (the administrator) reaches all.
bool may_manage(Ctx& c, const SessionDirectory::Entry& e) {
  const config::UserConfig* me = c.s.user();
  return me == nullptr || e.user == me->name;
}

void kill_sessions(Ctx& c, const std::vector<SessionDirectory::Entry>& victims) {
  for (const auto& e : victims) {
    if (e.id == c.s.id()) {
      c.s.quit_after_reply();  // Redis closes the caller after its reply
      continue;
    }
    uint64_t id = e.id;
    e.worker->post_task([w = e.worker, id] {
      if (ClientSession* s = w->find_session(id)) s->close("killed by CLIENT KILL");
    });
  }
}

void cmd_client_kill(Ctx& c) {
  auto& dir = c.s.worker().sessions();
  if (c.args.size() == 3) {
    // The old form: CLIENT KILL ip:port -> +OK or an error.
    std::string_view addr = c.args[2];
    auto victims = dir.find(
        [&](const SessionDirectory::Entry& e) { return e.addr == addr && may_manage(c, e); });
    if (victims.empty()) {
      c.error("ERR No such client");
      return;
    }
    kill_sessions(c, victims);
    c.ok();
    return;
  }
  if ((c.args.size() - 2) % 2 != 0) {
    c.error("ERR syntax error");
    return;
  }
  std::optional<uint64_t> id;
  std::optional<std::string_view> addr, laddr, user;
  bool skipme = true;
  for (size_t i = 2; i + 1 < c.args.size(); i += 2) {
    std::string_view opt = c.args[i], val = c.args[i + 1];
    if (iequals(opt, "id")) {
      auto v = resp::parse_integer(val);
      if (!v || *v <= 0) {
        c.error("ERR client-id should be greater than 0");
        return;
      }
      id = static_cast<uint64_t>(*v);
    } else if (iequals(opt, "addr")) {
      addr = val;
    } else if (iequals(opt, "laddr")) {
      laddr = val;
    } else if (iequals(opt, "user")) {
      bool known = val == "default";
      for (const auto& u : cfg(c).clients.users) known = known || u.name == val;
      if (!known) {
        c.error(fmt::format("ERR No such user '{}'", val));
        return;
      }
      user = val;
    } else if (iequals(opt, "skipme")) {
      if (iequals(val, "yes")) {
        skipme = true;
      } else if (iequals(val, "no")) {
        skipme = false;
      } else {
        c.error("ERR syntax error");
        return;
      }
    } else {
      c.error("ERR syntax error");
      return;
    }
  }
  const uint64_t me = c.s.id();
  auto victims = dir.find([&](const SessionDirectory::Entry& e) {
    if (id && e.id != *id) return false;
    if (addr && e.addr != *addr) return false;
    if (laddr && e.laddr != *laddr) return false;
    if (user && (e.user.empty() ? std::string_view("default") : std::string_view(e.user)) != *user)
      return false;
    if (skipme && e.id == me) return false;
    return may_manage(c, e);
  });
  kill_sessions(c, victims);
  resp::append_integer(c.out, static_cast<long long>(victims.size()));
}

void cmd_client_unblock(Ctx& c) {
  auto id = resp::parse_integer(c.args[2]);
  if (!id) {
    c.error("ERR value is not an integer or out of range");
    return;
  }
  bool with_error = false;
  if (c.args.size() == 4) {
    if (iequals(c.args[3], "error")) {
      with_error = true;
    } else if (!iequals(c.args[3], "timeout")) {
      c.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  } else if (c.args.size() > 4) {
    c.error("ERR syntax error");
    return;
  }
  auto found = c.s.worker().sessions().find([&](const SessionDirectory::Entry& e) {
    return e.id == static_cast<uint64_t>(*id) && e.blocked && may_manage(c, e);
  });
  if (found.empty()) {
    resp::append_integer(c.out, 0);
    return;
  }
  const auto& e = found.front();
  if (e.id == c.s.id()) {
    resp::append_integer(c.out, 0);  // a client that runs a command is not blocked
    return;
  }
  uint64_t target = e.id;
  e.worker->post_task([w = e.worker, target, with_error] {
    if (ClientSession* s = w->find_session(target)) s->unblock(with_error);
  });
  resp::append_integer(c.out, 1);
}

uint64_t steady_now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// CLIENT PAUSE timeout [WRITE|ALL] / CLIENT UNPAUSE: every worker holds its clients' commands
// (all, or the writes) until the pause ends; slotgate's own connection commands still run.
void cmd_client_pause(Ctx& c) {
  auto ms = resp::parse_integer(c.args[2]);
  if (!ms || *ms < 0) {
    c.error("ERR timeout is not an integer or out of range");
    return;
  }
  bool writes_only = false;
  if (c.args.size() == 4) {
    if (iequals(c.args[3], "write")) {
      writes_only = true;
    } else if (!iequals(c.args[3], "all")) {
      c.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
      return;
    }
  } else if (c.args.size() > 4) {
    c.error("ERR syntax error");
    return;
  }
  uint64_t until = steady_now_ms() + static_cast<uint64_t>(*ms);
  for (SessionHost* w : c.s.worker().hosts()) {
    if (w == &c.s.worker()) {
      w->set_pause(until, writes_only);
    } else {
      w->post_task([w, until, writes_only] { w->set_pause(until, writes_only); });
    }
  }
  c.ok();
}

void cmd_client_unpause(Ctx& c) {
  for (SessionHost* w : c.s.worker().hosts()) {
    if (w == &c.s.worker()) {
      w->set_pause(0, false);
    } else {
      w->post_task([w] { w->set_pause(0, false); });
    }
  }
  c.ok();
}

// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
// False: an error was replied.
bool parse_tracking_options(Ctx& c, TrackingOptions& o) {
  bool bcast = false, optin = false, optout = false;
  for (size_t i = 3; i < c.args.size(); ++i) {
    std::string_view a = c.args[i];
    if (iequals(a, "bcast")) {
      bcast = true;
    } else if (iequals(a, "optin")) {
      optin = true;
    } else if (iequals(a, "optout")) {
      optout = true;
    } else if (iequals(a, "prefix") && i + 1 < c.args.size()) {
      o.prefixes.emplace_back(c.args[++i]);
    } else if (iequals(a, "redirect") && i + 1 < c.args.size()) {
      c.error(
          "ERR CLIENT TRACKING REDIRECT is not supported by slotgate: use RESP3 (HELLO 3) so the "
          "invalidations arrive on the tracking connection itself");
      return false;
    } else if (iequals(a, "noloop")) {
      c.error("ERR CLIENT TRACKING NOLOOP is not supported by slotgate");
      return false;
    } else {
      c.error("ERR syntax error");
      return false;
    }
  }
  if (bcast && (optin || optout)) {
    c.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    return false;
  }
  if (optin && optout) {
    c.error("ERR You can't use both OPTIN and OPTOUT");
    return false;
  }
  if (!o.prefixes.empty() && !bcast) {
    c.error("ERR PREFIX option requires BCAST mode to be enabled");
    return false;
  }
  using Mode = TrackingOptions::Mode;
  o.mode = bcast ? Mode::Bcast : optin ? Mode::OptIn : optout ? Mode::OptOut : Mode::Default;
  return true;
}

// Client-side caching through slotgate: RESP3 sessions only, their invalidations pushed on
// the same connection (client/session_tracking.hpp). RESP2 tracking needs REDIRECT to
// another connection, which slotgate does not offer.
void cmd_client_tracking(Ctx& c) {
  TrackingOptions o;
  if (iequals(c.args[2], "off")) {
    c.s.stop_tracking();
    c.ok();
  } else if (!iequals(c.args[2], "on")) {
    c.error("ERR syntax error");
  } else if (parse_tracking_options(c, o)) {
    if (c.proto() != 3) {
      c.error(
          "ERR client-side caching through slotgate needs RESP3 (HELLO 3): RESP2 tracking with "
          "REDIRECT is not supported");
      return;
    }
    c.s.start_tracking(c.spec, std::move(o));  // answered when every master confirmed
  }
}

void cmd_client_caching(Ctx& c) {
  const bool yes = iequals(c.args[2], "yes");
  if (!yes && !iequals(c.args[2], "no")) {
    c.error("ERR syntax error");
    return;
  }
  SessionTracking* t = c.s.tracking();
  if (t == nullptr || (t->keys().options().mode != TrackingOptions::Mode::OptIn &&
                       t->keys().options().mode != TrackingOptions::Mode::OptOut)) {
    c.error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
  } else if (!t->keys().set_caching(yes)) {
    c.error(yes ? "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                : "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
  } else {
    c.ok();
  }
}

// Invalidations arrive on the tracking connection itself: 0, as Redis says for no REDIRECT.
void cmd_client_getredir(Ctx& c) {
  resp::append_integer(c.out, c.s.tracking() ? 0 : -1);
}

void cmd_client_trackinginfo(Ctx& c) {
  SessionTracking* t = c.s.tracking();
  std::vector<Value> flags, prefixes;
  if (t == nullptr) {
    flags.push_back(Value::bulk("off"));
  } else {
    using Mode = TrackingOptions::Mode;
    const TrackingOptions& o = t->keys().options();
    flags.push_back(Value::bulk("on"));
    if (o.mode == Mode::Bcast) flags.push_back(Value::bulk("bcast"));
    if (o.mode == Mode::OptIn) flags.push_back(Value::bulk("optin"));
    if (o.mode == Mode::OptOut) flags.push_back(Value::bulk("optout"));
    for (const auto& p : o.prefixes) prefixes.push_back(Value::bulk(p));
  }
  c.value(Value::map({Value::bulk("flags"), Value::array(std::move(flags)), Value::bulk("redirect"),
                      Value::integer_of(t ? 0 : -1), Value::bulk("prefixes"),
                      Value::array(std::move(prefixes))}));
}

void cmd_client_no_evict(Ctx& c) {
  if (iequals(c.args[2], "on")) {
    c.s.set_no_evict(true);
  } else if (iequals(c.args[2], "off")) {
    c.s.set_no_evict(false);
  } else {
    c.error("ERR syntax error");
    return;
  }
  c.ok();
}

// One CLIENT LIST line in Redis 7's format, from a session's directory entry and card (read
// under the directory's lock; the session may live on another worker). Buffers slotgate does
// not keep per client (qbuf, argv-mem, obl...) read 0.
// CLIENT NO-TOUCH (Redis 7.2): the nodes behind slotgate run 7.0, which would touch the keys
// anyway, so ON is refused rather than promised; OFF is what every session already is.
void cmd_client_no_touch(Ctx& c) {
  if (iequals(c.args[2], "off")) {
    c.ok();
  } else if (iequals(c.args[2], "on")) {
    c.error(
        "ERR CLIENT NO-TOUCH ON is not supported by slotgate: the cluster nodes (Redis 7.0) would "
        "still update the keys' LRU/LFU");
  } else {
    c.error("ERR syntax error");
  }
}

std::string client_line(const SessionDirectory::Entry& e, uint64_t now_ms) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  const SessionCard& k = *e.card;
  const uint32_t sub = k.sub.load(kRelaxed), psub = k.psub.load(kRelaxed),
                 ssub = k.ssub.load(kRelaxed);
  const int32_t multi = k.multi.load(kRelaxed);
  std::string flags;
  if (sub + psub + ssub > 0) flags += 'P';
  if (multi >= 0) flags += 'x';
  if (e.blocked) flags += 'b';
  if (k.no_evict.load(kRelaxed)) flags += 'e';
  if (k.tracking.load(kRelaxed)) flags += 't';
  if (flags.empty()) flags = "N";
  const commands::CommandSpec* cmd = k.last_command.load(kRelaxed);
  auto since = [now_ms](uint64_t t) { return now_ms > t ? (now_ms - t) / 1000 : 0; };
  return fmt::format(
      "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} ssub={} "
      "multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 "
      "tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}\n",
      e.id, e.addr, e.laddr, k.fd.load(kRelaxed), e.name, since(e.created_ms),
      since(k.last_activity_ms.load(kRelaxed)), flags, sub, psub, ssub, multi,
      k.tot_mem.load(kRelaxed), cmd ? cmd->name : std::string_view("NULL"),
      e.user.empty() ? std::string_view("default") : std::string_view(e.user),
      k.resp.load(kRelaxed), e.lib_name, e.lib_ver);
}

// INFO clients: sessions with CLIENT TRACKING on, on every worker.
size_t tracking_clients(Ctx& c) {
  size_t n = 0;
  c.s.worker().sessions().visit([&](const SessionDirectory::Entry& e) {
    n += e.card->tracking.load(std::memory_order_relaxed) ? 1 : 0;
  });
  return n;
}

void cmd_client_info(Ctx& c) {
  c.s.publish_card();
  std::string text;
  const uint64_t now = c.s.worker().loop().now_ms();
  c.s.worker().sessions().visit([&](const SessionDirectory::Entry& e) {
    if (e.id == c.s.id()) text = client_line(e, now);
  });
  resp::append_verbatim(c.out, text, c.proto());
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]: the filters Redis 7 has. A
// slotgate session is never a master or a replica connection.
struct ClientListFilter {
  std::optional<bool> pubsub;  // TYPE: pubsub (true) or normal (false)
  bool none = false;           // TYPE master/replica: no session matches
  std::vector<uint64_t> ids;   // ID: only these
};

bool parse_client_list_filter(Ctx& c, ClientListFilter& f) {
  if (c.args.size() == 2) return true;
  if (c.args.size() == 4 && iequals(c.args[2], "type")) {
    std::string_view t = c.args[3];
    if (iequals(t, "normal")) {
      f.pubsub = false;
    } else if (iequals(t, "pubsub")) {
      f.pubsub = true;
    } else if (iequals(t, "master") || iequals(t, "replica") || iequals(t, "slave")) {
      f.none = true;
    } else {
      c.error(fmt::format("ERR Unknown client type '{}'", t.substr(0, 128)));
      return false;
    }
    return true;
  }
  if (c.args.size() >= 4 && iequals(c.args[2], "id")) {
    for (size_t i = 3; i < c.args.size(); ++i) {
      auto v = resp::parse_integer(c.args[i]);
      if (!v || *v <= 0) {
        c.error("ERR Invalid client ID");
        return false;
      }
      f.ids.push_back(static_cast<uint64_t>(*v));
    }
    return true;
  }
  c.error("ERR syntax error");
  return false;
}

// Every worker's sessions, in id order, read through the proxy-wide session directory.
void cmd_client_list(Ctx& c) {
  ClientListFilter f;
  if (!parse_client_list_filter(c, f)) return;
  c.s.publish_card();
  std::string text;
  const uint64_t now = c.s.worker().loop().now_ms();
  // A named user sees its own sessions only; the default user (the administrator) sees all.
  const config::UserConfig* me = c.s.user();
  constexpr auto kRelaxed = std::memory_order_relaxed;
  c.s.worker().sessions().visit([&](const SessionDirectory::Entry& e) {
    if (f.none || (me != nullptr && e.user != me->name)) return;
    if (!f.ids.empty() && std::find(f.ids.begin(), f.ids.end(), e.id) == f.ids.end()) return;
    if (f.pubsub) {
      const SessionCard& k = *e.card;
      bool subscribed = k.sub.load(kRelaxed) + k.psub.load(kRelaxed) + k.ssub.load(kRelaxed) > 0;
      if (subscribed != *f.pubsub) return;
    }
    text += client_line(e, now);
  });
  resp::append_verbatim(c.out, text, c.proto());
}

void cmd_acl_whoami(Ctx& c) {
  resp::append_bulk(c.out, c.s.user() ? std::string_view(c.s.user()->name) : "default");
}

// ---- ACL: slotgate's own users (clients.users) and denials ----

void cmd_acl_cat(Ctx& c) {
  std::vector<Value> names;
  if (c.args.size() == 2) {
    for (std::string_view n : commands::acl_category_names())
      names.push_back(Value::bulk(std::string(n)));
  } else if (c.args.size() == 3) {
    const uint64_t bit = commands::acl_category_bit(c.args[2]);
    if (bit == 0) {
      c.error(fmt::format("ERR Unknown category '{}'", log_escaped(c.args[2], 128)));
      return;
    }
    for (const commands::CommandSpec& top : commands::all_commands()) {
      if ((top.acl_categories & bit) != 0) names.push_back(Value::bulk(std::string(top.name)));
      for (const commands::CommandSpec& sub : top.subs()) {
        if ((sub.acl_categories & bit) != 0) names.push_back(Value::bulk(std::string(sub.name)));
      }
    }
  } else {
    c.error("ERR wrong number of arguments for 'acl|cat' command");
    return;
  }
  c.value(Value::array(std::move(names)));
}

// Each configured user as its rules built it; the default user as clients.password makes it.
template <typename F>
void for_each_acl_user(Ctx& c, F&& f) {
  AclUser def;
  def.name = "default";
  for (std::string_view r : {"on", "~*", "&*", "+@all"}) (void)apply_acl_rule(def, r);
  if (cfg(c).clients.password.empty()) {
    (void)apply_acl_rule(def, "nopass");
  } else {
    (void)apply_acl_rule(def, "#" + config::sha256_hex(cfg(c).clients.password));
  }
  f(def);
  for (const config::UserConfig& u : cfg(c).clients.users) {
    AclBuild b = build_acl_user(u);
    if (b.user) f(*b.user);
  }
}

void cmd_acl_list(Ctx& c) {
  std::vector<Value> lines;
  for_each_acl_user(c, [&](const AclUser& u) {
    lines.push_back(Value::bulk("user " + u.name + " " + u.describe()));
  });
  c.value(Value::array(std::move(lines)));
}

void cmd_acl_users(Ctx& c) {
  std::vector<Value> names;
  for_each_acl_user(c, [&](const AclUser& u) { names.push_back(Value::bulk(u.name)); });
  c.value(Value::array(std::move(names)));
}

void cmd_acl_getuser(Ctx& c) {
  std::optional<Value> found;
  for_each_acl_user(c, [&](const AclUser& u) {
    if (u.name != c.args[2]) return;
    // "on nopass #h ~k resetchannels &c -@all +get": split into Redis's fields.
    std::vector<Value> flags, passwords;
    std::string keys, channels, commands_text;
    auto add = [](std::string& to, std::string_view word) {
      if (!to.empty()) to += ' ';
      to += word;
    };
    flags.push_back(Value::bulk(u.enabled ? "on" : "off"));
    if (u.nopass) flags.push_back(Value::bulk("nopass"));
    for (const std::string& h : u.password_hashes) passwords.push_back(Value::bulk(h));
    const std::string all = u.describe();
    for (std::string_view w : split_acl_rules(all)) {
      if (w[0] == '~' || w[0] == '%') {
        add(keys, w);
      } else if (w[0] == '&') {
        add(channels, w);
      } else if (w[0] == '+' || w[0] == '-') {
        add(commands_text, w);
      }
    }
    std::vector<Value> kv;
    for (auto& [k, v] : std::initializer_list<std::pair<const char*, Value>>{
             {"flags", Value::array(std::move(flags))},
             {"passwords", Value::array(std::move(passwords))},
             {"commands", Value::bulk(commands_text)},
             {"keys", Value::bulk(keys)},
             {"channels", Value::bulk(channels)},
             {"selectors", Value::array({})}}) {
      kv.push_back(Value::bulk(k));
      kv.push_back(v);
    }
    found = c.proto() >= 3 ? Value::map(std::move(kv)) : Value::array(std::move(kv));
  });
  c.value(found ? *found : Value::null());
}

void cmd_acl_log(Ctx& c) {
  AclLog& log = c.s.worker().acl_log();
  size_t count = 10;
  if (c.args.size() == 3) {
    if (iequals(c.args[2], "reset")) {
      log.reset();
      c.ok();
      return;
    }
    auto n = resp::parse_integer(c.args[2]);
    if (!n || *n < 0) {
      c.error("ERR value is out of range, must be positive");
      return;
    }
    count = static_cast<size_t>(*n);
  } else if (c.args.size() > 3) {
    c.error("ERR syntax error");
    return;
  }
  const uint64_t now = c.s.worker().loop().now_ms();
  std::vector<Value> entries;
  for (const AclLogEntry& e : log.newest(count)) {
    std::vector<Value> kv;
    auto field = [&](const char* k, Value v) {
      kv.push_back(Value::bulk(k));
      kv.push_back(std::move(v));
    };
    field("count", Value::integer_of(static_cast<long long>(e.count)));
    field("reason", Value::bulk(e.reason));
    field("context", Value::bulk(e.context));
    field("object", Value::bulk(e.object));
    field("username", Value::bulk(e.username));
    field("age-seconds", Value::bulk(fmt::format("{:.3f}", (now - e.created_ms) / 1000.0)));
    field("client-info", Value::bulk(e.client_info));
    entries.push_back(c.proto() >= 3 ? Value::map(std::move(kv)) : Value::array(std::move(kv)));
  }
  c.value(Value::array(std::move(entries)));
}

void cmd_command_count(Ctx& c) {
  c.value(commands::command_count_reply());
}
void cmd_command_info(Ctx& c) {
  c.value(commands::command_info_reply(c.args.subspan(2), c.proto()));
}
void cmd_command_list(Ctx& c) {
  c.value(commands::command_list_reply(c.args.subspan(2)));
}
void cmd_command_getkeys(Ctx& c) {
  c.value(commands::command_getkeys_reply(c.args.subspan(2), false, c.proto()));
}
void cmd_command_getkeysandflags(Ctx& c) {
  c.value(commands::command_getkeys_reply(c.args.subspan(2), true, c.proto()));
}

// ---- cluster emulation ------------------------------------------------------
// slotgate presents itself as one healthy master that owns all 16384 slots at
// its announce address, with a node id that is the same on every replica of
// slotgate behind one Service (derived from the announce address by default).
// With emulated_nodes = N it shows N masters at consecutive ports that split the
// slots; each port is a full slotgate, so a client may use any of them.
// A session on tls_listen is told the TLS ports (tls_announce_address() + i), the way
// Redis with tls-cluster tells a TLS connection its tls-port: a cluster-mode TLS client
// then stays on TLS. The node ids are the same on both sides (the same nodes).

uint16_t bus_port(uint16_t port) {
  return port <= 55535 ? static_cast<uint16_t>(port + 10000) : port;
}

struct EmulatedNode {
  std::string id;
  std::string host;
  uint16_t port;      // the port this session's kind of client connects to
  uint16_t tcp_port;  // plain port, for CLUSTER SHARDS
  int tls_port;       // TLS port, 0 = no tls_listen
  int first_slot, last_slot;
};

bool on_tls(Ctx& c) {
  return c.s.stream().tls() != nullptr;
}

std::vector<EmulatedNode> emulated_nodes(const config::Config& conf, bool tls) {
  std::vector<EmulatedNode> out;
  const uint32_t n = std::max<uint32_t>(conf.emulated_nodes, 1);
  const auto plain = conf.announce_address();
  const auto secure = conf.tls_announce_address();
  const auto& a = tls ? secure : plain;
  for (uint32_t i = 0; i < n; ++i) {
    int first = static_cast<int>(i * 16384 / n);
    int last = static_cast<int>((i + 1) * 16384 / n) - 1;
    out.push_back({conf.emulated_node_id(i), a.host, static_cast<uint16_t>(a.port + i),
                   static_cast<uint16_t>(plain.port + i),
                   conf.tls_listen ? static_cast<int>(secure.port + i) : 0, first, last});
  }
  return out;
}
std::vector<EmulatedNode> emulated_nodes(Ctx& c) {
  return emulated_nodes(cfg(c), on_tls(c));
}

void cmd_cluster_info(Ctx& c) {
  size_t n = emulated_nodes(c).size();
  std::string text = fmt::format(
      "cluster_state:ok\r\n"
      "cluster_slots_assigned:16384\r\n"
      "cluster_slots_ok:16384\r\n"
      "cluster_slots_pfail:0\r\n"
      "cluster_slots_fail:0\r\n"
      "cluster_known_nodes:{}\r\n"
      "cluster_size:{}\r\n"
      "cluster_current_epoch:{}\r\n"
      "cluster_my_epoch:{}\r\n"
      "cluster_stats_messages_sent:0\r\n"
      "cluster_stats_messages_received:0\r\n"
      "total_cluster_links_buffer_limit_exceeded:0\r\n",
      n, n, n, c.s.node_index() + 1);
  resp::append_verbatim(c.out, text, c.proto());
}

void cmd_cluster_myid(Ctx& c) {
  resp::append_bulk(c.out, cfg(c).emulated_node_id(c.s.node_index()));
}

void cmd_cluster_nodes(Ctx& c) {
  // Lettuce splits on '\n' only and on single spaces: no '\r', exactly one `myself`.
  std::string text;
  auto nodes = emulated_nodes(c);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    text += fmt::format("{} {}:{}@{} {} - 0 0 {} connected {}-{}\n", n.id, n.host, n.port,
                        bus_port(n.port), i == c.s.node_index() ? "myself,master" : "master", i + 1,
                        n.first_slot, n.last_slot);
  }
  resp::append_verbatim(c.out, text, c.proto());
}

void cmd_cluster_slots(Ctx& c) {
  std::vector<Value> ranges;
  for (const auto& n : emulated_nodes(c)) {
    Value node = Value::array({Value::bulk(n.host), Value::integer_of(n.port), Value::bulk(n.id),
                               c.proto() == 3 ? Value::map({}) : Value::array({})});
    ranges.push_back(Value::array(
        {Value::integer_of(n.first_slot), Value::integer_of(n.last_slot), std::move(node)}));
  }
  c.value(Value::array(std::move(ranges)));
}

void cmd_cluster_shards(Ctx& c) {
  std::vector<Value> shards;
  for (const auto& n : emulated_nodes(c)) {
    // Like Redis: "port" is the plain port, "tls-port" the TLS one (when there is one).
    std::vector<Value> fields{Value::bulk("id"), Value::bulk(n.id), Value::bulk("port"),
                              Value::integer_of(n.tcp_port)};
    if (n.tls_port != 0) {
      fields.push_back(Value::bulk("tls-port"));
      fields.push_back(Value::integer_of(n.tls_port));
    }
    for (auto* f : {"ip", "endpoint"}) {
      fields.push_back(Value::bulk(f));
      fields.push_back(Value::bulk(n.host));
    }
    fields.insert(fields.end(),
                  {Value::bulk("role"), Value::bulk("master"), Value::bulk("replication-offset"),
                   Value::integer_of(0), Value::bulk("health"), Value::bulk("online")});
    Value node = Value::map(std::move(fields));
    shards.push_back(
        Value::map({Value::bulk("slots"),
                    Value::array({Value::integer_of(n.first_slot), Value::integer_of(n.last_slot)}),
                    Value::bulk("nodes"), Value::array({std::move(node)})}));
  }
  c.value(Value::array(std::move(shards)));
}

void cmd_cluster_myshardid(Ctx& c) {
  // Each emulated node is its own shard; the shard id is derived like the node id.
  std::string id = cfg(c).emulated_node_id(c.s.node_index());
  std::reverse(id.begin(), id.end());
  resp::append_bulk(c.out, id);
}

void cmd_cluster_keyslot(Ctx& c) {
  resp::append_integer(c.out, cluster::key_slot(c.args[2]));
}

void cmd_info(Ctx& c);

// One handler per commands::LocalHandler, in the enum's order: the command table names the
// handler of each local command (routing_policy.hpp), this array holds the code.
constexpr Handler kHandlers[] = {
    nullptr,                      // None
    cmd_ping,                     // Ping
    cmd_echo,                     // Echo
    cmd_quit,                     // Quit
    cmd_reset,                    // Reset
    cmd_auth,                     // Auth
    cmd_hello,                    // Hello
    cmd_select,                   // Select
    cmd_ok,                       // Ok
    cmd_info,                     // Info
    cmd_acl_whoami,               // AclWhoami
    cmd_acl_cat,                  // AclCat
    cmd_acl_getuser,              // AclGetuser
    cmd_acl_list,                 // AclList
    cmd_acl_users,                // AclUsers
    cmd_acl_log,                  // AclLog
    cmd_client_setname,           // ClientSetname
    cmd_client_getname,           // ClientGetname
    cmd_client_id,                // ClientId
    cmd_client_info,              // ClientInfo
    cmd_client_list,              // ClientList
    cmd_client_setinfo,           // ClientSetinfo
    cmd_client_reply,             // ClientReply
    cmd_client_kill,              // ClientKill
    cmd_client_unblock,           // ClientUnblock
    cmd_client_no_evict,          // ClientNoEvict
    cmd_client_no_touch,          // ClientNoTouch
    cmd_client_pause,             // ClientPause
    cmd_client_unpause,           // ClientUnpause
    cmd_client_tracking,          // ClientTracking
    cmd_client_caching,           // ClientCaching
    cmd_client_getredir,          // ClientGetredir
    cmd_client_trackinginfo,      // ClientTrackinginfo
    cmd_command_count,            // CommandCount
    cmd_command_info,             // CommandInfo
    cmd_command_list,             // CommandList
    cmd_command_getkeys,          // CommandGetkeys
    cmd_command_getkeysandflags,  // CommandGetkeysandflags
    cmd_cluster_info,             // ClusterInfo
    cmd_cluster_slots,            // ClusterSlots
    cmd_cluster_shards,           // ClusterShards
    cmd_cluster_nodes,            // ClusterNodes
    cmd_cluster_myid,             // ClusterMyid
    cmd_cluster_myshardid,        // ClusterMyshardid
    cmd_cluster_keyslot,          // ClusterKeyslot
};
static_assert(std::size(kHandlers) == static_cast<size_t>(commands::LocalHandler::Count));

// ---- INFO -------------------------------------------------------------------

void cmd_info(Ctx& c) {
  // Sections asked for (Redis 7 takes several); none, "default", "all" or "everything" = all.
  bool all = c.args.size() == 1;
  auto wants = [&](std::string_view section) {
    if (all) return true;
    for (size_t i = 1; i < c.args.size(); ++i) {
      if (iequals(c.args[i], section) || iequals(c.args[i], "all") ||
          iequals(c.args[i], "everything") || iequals(c.args[i], "default")) {
        return true;
      }
    }
    return false;
  };
  const ProxyInfo info = c.s.worker().proxy_info();
  const auto& conf = cfg(c);
  std::string text;
  if (wants("server")) {
    uint64_t up = info.uptime_seconds;
    text += fmt::format(
        "# Server\r\nredis_version:{}\r\nredis_mode:cluster\r\nslotgate_version:{}\r\n"
        "os:Linux\r\narch_bits:64\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n"
        "uptime_in_days:{}\r\nworkers:{}\r\n\r\n",
        info.redis_version, SLOTGATE_VERSION_STRING, ::getpid(), conf.listen.port, up, up / 86400,
        conf.effective_workers());
  }
  if (wants("clients")) {
    c.s.publish_card();
    text += fmt::format(
        "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:{}\r\n"
        "tracking_clients:{}\r\npubsub_clients:{}\r\n\r\n",
        info.connected_clients, conf.clients.max_clients,
        std::max<int64_t>(info.blocked_clients, 0), tracking_clients(c),
        std::max<int64_t>(info.pubsub_clients, 0));
  }
  if (wants("persistence")) text += "# Persistence\r\nloading:0\r\nasync_loading:0\r\n\r\n";
  if (wants("stats")) {
    text += fmt::format(
        "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
        "instantaneous_ops_per_sec:{}\r\nrejected_connections:{}\r\nauth_failures:{}\r\n\r\n",
        info.total_connections, info.commands_processed, info.ops_per_sec,
        info.rejected_connections, info.auth_failures);
  }
  if (wants("replication")) text += "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n";
  if (wants("cluster")) text += "# Cluster\r\ncluster_enabled:1\r\n\r\n";
  if (text.size() >= 2) text.resize(text.size() - 2);  // Redis ends without an empty line
  if (wants("keyspace")) {
    // The keyspace lives on the masters: the router sums their sections.
    c.s.forward_info(c.spec, std::move(text));
    return;
  }
  resp::append_verbatim(c.out, text, c.proto());
}

}  // namespace

void run_local_command(ClientSession& session, const commands::CommandSpec& spec,
                       std::span<const std::string_view> args) {
  const uint64_t started_ns = net::Loop::hrtime_ns();
  Ctx c{session, spec, args, {}};
  const auto index = static_cast<size_t>(spec.local);
  if (Handler h = index < std::size(kHandlers) ? kHandlers[index] : nullptr) {
    h(c);
  } else {
    c.error(fmt::format("ERR slotgate has no handler for '{}'", spec.name));
  }
  // SETNAME, SETINFO, HELLO, RESET: what CLIENT LIST shows by name may have changed.
  if (spec.has_trait(commands::kConnectionState)) session.publish_identity();
  // A handler that asked the cluster (INFO keyspace) is counted when that reply arrives.
  if (!c.out.empty()) {
    session.worker().stats().count_command(
        spec.metrics_index,
        resp::is_error_reply(c.out) ? metrics::CommandResult::Error : metrics::CommandResult::Ok,
        static_cast<double>(net::Loop::hrtime_ns() - started_ns) / 1e9);
  }
  session.reply(c.out);
}

}  // namespace slotgate::client
