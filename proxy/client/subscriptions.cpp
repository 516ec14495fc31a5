#include "client/subscriptions.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "backend/backend_connection.hpp"
#include "client/client_session.hpp"
#include "client/session_host.hpp"
#include "commands/command_table.hpp"
#include "net/loop.hpp"
#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"
#include "router/router.hpp"
#include "router/session_routing.hpp"

namespace slotgate::client {

namespace {
constexpr std::string_view kKeyspace = "__keyspace@";
constexpr std::string_view kKeyevent = "__keyevent@";

// A node confirms (P|S)(UN)SUBSCRIBE with a push named like the command.
bool is_confirmation(std::string_view kind) {
  const commands::CommandSpec* spec = commands::find(kind);
  return spec != nullptr && spec->routing == commands::Routing::PubSub;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

Subscriptions::Subscriptions(ClientSession& session) : s_(session) {}

Subscriptions::~Subscriptions() {
  close();
}

bool Subscriptions::is_keyspace_channel(std::string_view channel) {
  return channel.starts_with(kKeyspace) || channel.starts_with(kKeyevent);
}

bool Subscriptions::keyspace_capable(std::string_view name, bool pattern) {
  if (!pattern) return is_keyspace_channel(name);
  // The literal part of the pattern, up to its first glob character, decides
  // whether it could match a keyspace-notification channel.
  std::string_view prefix = name.substr(0, name.find_first_of("*?[\\"));
  auto compatible = [&](std::string_view ks) {
    return ks.starts_with(prefix) || prefix.starts_with(ks);
  };
  return compatible(kKeyspace) || compatible(kKeyevent);
}

std::string Subscriptions::confirmation(std::string_view kind, const std::string* name,
                                        long long count) const {
  std::string out;
  resp::append_push_header(out, 3, s_.protocol());
  resp::append_bulk(out, kind);
  if (name) {
    resp::append_bulk(out, *name);
  } else {
    resp::append_null_bulk(out, s_.protocol());
  }
  resp::append_integer(out, count);
  return out;
}

Subscriptions::Link* Subscriptions::link_to(const std::string& address) {
  auto it = links_.find(address);
  if (it != links_.end() && !it->second.lost && it->second.conn && !it->second.conn->closed()) {
    return &it->second;
  }
  if (it != links_.end()) drop_link(address);
  auto conn = s_.worker().router().open_dedicated(address, s_.protocol());
  if (!conn) return nullptr;
  conn->set_push_sink(this);
  Link& link = links_[address];
  link.conn = std::move(conn);
  return &link;
}

Subscriptions::Link* Subscriptions::primary() {
  if (!primary_address_.empty()) {
    auto it = links_.find(primary_address_);
    if (it != links_.end() && !it->second.lost) return &it->second;
  }
  primary_address_ = router::subscription_master(s_.worker().router().view());
  if (primary_address_.empty()) return nullptr;
  return link_to(primary_address_);
}

std::vector<std::string> Subscriptions::other_masters() const {
  return router::masters_except(s_.worker().router().view(), primary_address_);
}

void Subscriptions::send(Link& link, std::string_view command, std::span<const std::string> names,
                         router::Request* req, uint32_t confirmations) {
  std::vector<std::string_view> argv;
  argv.reserve(names.size() + 1);
  argv.push_back(command);
  for (const auto& n : names) argv.push_back(n);
  std::string wire;
  resp::append_command(wire, argv);
  link.conn->send_raw(wire);
  if (req != nullptr) {
    link.pending.push_back({req, confirmations});
  } else {
    link.absorb += confirmations;
  }
}

void Subscriptions::command(const commands::CommandSpec& spec,
                            std::span<const std::string_view> args) {
  std::vector<std::string> names(args.begin() + 1, args.end());
  router::Request* req = s_.new_request(spec);
  req->state = router::RequestState::Waiting;
  if (spec.session == commands::SessionOp::Unsubscribe) {
    unsubscribe(spec, std::move(names), req);
    return;
  }
  if (spec.session == commands::SessionOp::Subscribe) {
    if (spec.channel_kind == commands::ChannelKind::Shard) {
      ssubscribe(spec, names, req);
    } else {
      subscribe(spec, names, req);
    }
    return;
  }
  req->reply = fmt::format("-ERR slotgate has no subscription handler for '{}'\r\n", spec.name);
  finish_now(req);
}

void Subscriptions::finish_now(router::Request* req) {
  req->state = router::RequestState::Done;
  std::string bytes = std::move(req->reply);
  req->reply.clear();
  s_.deliver(req, bytes);
}

void Subscriptions::subscribe(const commands::CommandSpec& spec,
                              const std::vector<std::string>& names, router::Request* req) {
  std::string_view kind = spec.name;
  bool pattern = spec.channel_kind == commands::ChannelKind::Pattern;
  auto& set = pattern ? patterns_ : channels_;
  std::vector<std::string> capable;
  for (const auto& n : names) {
    set.insert(n);
    req->reply +=
        confirmation(kind, &n, static_cast<long long>(channels_.size() + patterns_.size()));
    if (keyspace_capable(n, pattern)) capable.push_back(n);
  }
  Link* p = primary();
  if (p == nullptr) {
    // No master known yet: answer now; tick() subscribes once one is.
    finish_now(req);
    return;
  }
  send(*p, upper(kind), names, req, static_cast<uint32_t>(names.size()));
  if (!capable.empty()) {
    keyspace_links_ = true;
    for (const auto& addr : other_masters()) {
      if (Link* l = link_to(addr))
        send(*l, upper(kind), capable, nullptr, static_cast<uint32_t>(capable.size()));
    }
  }
}

void Subscriptions::ssubscribe(const commands::CommandSpec& spec,
                               const std::vector<std::string>& names, router::Request* req) {
  // Shard channels of one command must share a slot, as in Redis Cluster.
  std::optional<cluster::Slot> slot =
      router::shard_channels_slot(names, s_.worker().router().view());
  if (!slot) {
    req->state = router::RequestState::Done;
    s_.deliver(req, "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    return;
  }
  for (const auto& n : names) {
    shard_[n] = *slot;
    req->reply += confirmation(spec.name, &n, static_cast<long long>(shard_.size()));
  }
  std::string owner = router::master_address(s_.worker().router().view(), *slot);
  Link* l = owner.empty() ? nullptr : link_to(owner);
  if (l == nullptr) {
    finish_now(req);
    return;
  }
  send(*l, "SSUBSCRIBE", names, req, static_cast<uint32_t>(names.size()));
}

void Subscriptions::unsubscribe(const commands::CommandSpec& spec, std::vector<std::string> names,
                                router::Request* req) {
  // Unsubscribing: answered at once (nothing to wait for), backends told in the background.
  std::string_view kind = spec.name;
  bool shard = spec.channel_kind == commands::ChannelKind::Shard;
  bool pattern = spec.channel_kind == commands::ChannelKind::Pattern;
  std::vector<std::string> targets = std::move(names);
  if (targets.empty()) {
    if (shard) {
      for (const auto& [n, slot] : shard_) targets.push_back(n);
    } else {
      const auto& set = pattern ? patterns_ : channels_;
      targets.assign(set.begin(), set.end());
    }
  }
  auto count = [&] {
    return static_cast<long long>(shard ? shard_.size() : channels_.size() + patterns_.size());
  };
  if (targets.empty()) req->reply += confirmation(kind, nullptr, count());
  for (const auto& n : targets) {
    if (shard) {
      shard_.erase(n);
    } else {
      (pattern ? patterns_ : channels_).erase(n);
    }
    req->reply += confirmation(kind, &n, count());
  }
  if (!targets.empty()) {
    for (auto& [addr, link] : links_) {
      if (!link.lost && link.conn && !link.conn->closed()) {
        send(link, upper(kind), targets, nullptr, static_cast<uint32_t>(targets.size()));
      }
    }
  }
  finish_now(req);
  if (!active()) close();  // back to a plain connection: no subscriber links left
}

void Subscriptions::release_pending(Link& link) {
  // The backend will not confirm any more: let the client have its replies; the
  // subscriptions themselves are re-established by tick().
  while (!link.pending.empty()) {
    router::Request* req = link.pending.front().req;
    link.pending.pop_front();
    finish_now(req);
  }
}

void Subscriptions::on_push(backend::BackendConnection& from, std::string_view frame,
                            const resp::FrameScanner&) {
  Link* link = nullptr;
  std::string address;
  for (auto& [addr, l] : links_) {
    if (l.conn.get() == &from) {
      link = &l;
      address = addr;
      break;
    }
  }
  if (link == nullptr) return;
  auto v = resp::parse_value(frame);
  if (!v || v->elements.empty() || !v->elements[0].is_string()) return;
  std::string_view kind = v->elements[0].str;
  if (is_confirmation(kind)) {
    if (link->absorb > 0) {
      link->absorb--;
      return;
    }
    if (!link->pending.empty() && --link->pending.front().remaining == 0) {
      router::Request* req = link->pending.front().req;
      link->pending.pop_front();
      finish_now(req);
    }
    return;
  }
  if (kind == "message" || kind == "pmessage") {
    // Every node delivers every PUBLISH: only the primary link passes ordinary
    // messages on; the others contribute their own node's keyspace events.
    if (address != primary_address_) {
      size_t channel_at = kind == "message" ? 1 : 2;
      if (v->elements.size() <= channel_at || !is_keyspace_channel(v->elements[channel_at].str)) {
        return;
      }
    }
    s_.reply(frame);
    return;
  }
  if (kind == "smessage") s_.reply(frame);
}

void Subscriptions::on_push_connection_lost(backend::BackendConnection& from, std::string_view) {
  for (auto& [addr, l] : links_) {
    if (l.conn.get() == &from) {
      l.lost = true;
      release_pending(l);
      return;
    }
  }
}

void Subscriptions::drop_link(const std::string& address) {
  auto it = links_.find(address);
  if (it == links_.end()) return;
  release_pending(it->second);
  if (it->second.conn) {
    if (!it->second.conn->closed()) it->second.conn->close_quietly();
    s_.worker().loop().release_later(std::move(it->second.conn));
  }
  links_.erase(it);
}

void Subscriptions::resubscribe_all() {
  std::vector<std::string> addrs;
  for (auto& [addr, l] : links_) addrs.push_back(addr);
  for (const auto& a : addrs) drop_link(a);
  primary_address_.clear();
  std::vector<std::string> chans(channels_.begin(), channels_.end());
  std::vector<std::string> pats(patterns_.begin(), patterns_.end());
  if (!chans.empty() || !pats.empty()) {
    Link* p = primary();
    if (p == nullptr) return;
    if (!chans.empty()) send(*p, "SUBSCRIBE", chans, nullptr, static_cast<uint32_t>(chans.size()));
    if (!pats.empty()) send(*p, "PSUBSCRIBE", pats, nullptr, static_cast<uint32_t>(pats.size()));
    if (keyspace_links_) {
      std::vector<std::string> kc, kp;
      for (const auto& c : chans) {
        if (keyspace_capable(c, false)) kc.push_back(c);
      }
      for (const auto& p2 : pats) {
        if (keyspace_capable(p2, true)) kp.push_back(p2);
      }
      for (const auto& addr : other_masters()) {
        Link* l = link_to(addr);
        if (l == nullptr) continue;
        if (!kc.empty()) send(*l, "SUBSCRIBE", kc, nullptr, static_cast<uint32_t>(kc.size()));
        if (!kp.empty()) send(*l, "PSUBSCRIBE", kp, nullptr, static_cast<uint32_t>(kp.size()));
      }
    }
  }
  const cluster::ClusterView* view = s_.worker().router().view();
  if (view == nullptr) return;
  std::map<std::string, std::vector<std::string>> by_node;
  for (const auto& [name, slot] : shard_) {
    std::string owner = router::master_address(view, slot);
    if (!owner.empty()) by_node[owner].push_back(name);
  }
  for (auto& [addr, names] : by_node) {
    if (Link* l = link_to(addr))
      send(*l, "SSUBSCRIBE", names, nullptr, static_cast<uint32_t>(names.size()));
  }
}

void Subscriptions::tick() {
  if (!active()) return;
  const cluster::ClusterView* view = s_.worker().router().view();
  if (view == nullptr) return;
  auto is_live_master = [&](const std::string& addr) {
    if (!router::is_master(view, addr)) return false;
    auto it = links_.find(addr);
    return it != links_.end() && !it->second.lost && it->second.conn && !it->second.conn->closed();
  };
  bool need = false;
  if (!channels_.empty() || !patterns_.empty()) {
    need = primary_address_.empty() || !is_live_master(primary_address_);
    if (!need && keyspace_links_) {
      for (const auto& addr : other_masters()) need = need || !is_live_master(addr);
    }
  }
  for (const auto& [name, slot] : shard_) {
    std::string owner = router::master_address(view, slot);
    need = need || owner.empty() || !is_live_master(owner);
  }
  if (need) resubscribe_all();
}

void Subscriptions::close() {
  std::vector<std::string> addrs;
  for (auto& [addr, l] : links_) addrs.push_back(addr);
  for (const auto& a : addrs) drop_link(a);
  primary_address_.clear();
  keyspace_links_ = false;
}

}  // namespace slotgate::client
