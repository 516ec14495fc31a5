#include "cluster/sentinel_discovery.hpp"

#include <map>

#include "cluster/cluster_view.hpp"
#include "cluster/control_connection.hpp"
#include "resp/integer_text.hpp"

namespace slotgate::cluster {

namespace {

std::optional<uint16_t> port_of(const std::string& text) {
  auto port = resp::parse_integer(text);
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  return static_cast<uint16_t>(*port);
}

// One field of a SENTINEL REPLICAS entry (flat [k, v, k, v ...] in RESP2, a map in RESP3).
const std::string* field(const resp::Value& entry, std::string_view name) {
  for (size_t i = 0; i + 1 < entry.elements.size(); i += 2) {
    if (entry.elements[i].str == name) return &entry.elements[i + 1].str;
  }
  return nullptr;
}

// A Sentinel at one of the addresses its name resolved to; host is the name as configured (what
// its TLS certificate must name).
struct SentinelAt {
  std::string ip;
  uint16_t port = 0;
  std::string host;
};

struct Asked {
  std::vector<std::string> answers;               // one "host:port" per Sentinel that knew
  std::map<std::string, SentinelAt> answered_by;  // answer -> a Sentinel that gave it
  std::vector<std::string> errors;
};

std::variant<ControlConnection, std::string> connect(const SentinelAt& at,
                                                     const SentinelAccess& access) {
  return ControlConnection::open(at.ip, at.port, access.username, access.password,
                                 access.connect_timeout_ms, access.tls,
                                 access.server_name(at.host));
}

void ask_one(const SentinelAt& at, const std::string& label, const SentinelAccess& access,
             Asked& out) {
  auto opened = connect(at, access);
  if (auto* e = std::get_if<std::string>(&opened)) {
    out.errors.push_back(label + ": " + *e);
    return;
  }
  const std::string_view cmd[] = {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", access.master_name};
  auto reply = std::get<ControlConnection>(opened).command(cmd, access.command_timeout_ms);
  if (auto* e = std::get_if<std::string>(&reply)) {
    out.errors.push_back(label + ": " + *e);
    return;
  }
  const auto& v = std::get<resp::Value>(reply);
  if (v.is_error()) {
    out.errors.push_back(label + ": " + v.str);
    return;
  }
  auto master = parse_master_addr(v);
  if (!master) {
    out.errors.push_back(label + ": does not monitor a master named '" + access.master_name + "'");
    return;
  }
  std::string address = make_address(master->host, master->port);
  out.answered_by.emplace(address, at);
  out.answers.push_back(std::move(address));
}

std::vector<SentinelEndpoint> replicas_from(const SentinelAt& sentinel,
                                            const SentinelAccess& access) {
  auto opened = connect(sentinel, access);
  if (!std::holds_alternative<ControlConnection>(opened)) return {};
  const std::string_view cmd[] = {"SENTINEL", "REPLICAS", access.master_name};
  auto reply = std::get<ControlConnection>(opened).command(cmd, access.command_timeout_ms);
  const auto* v = std::get_if<resp::Value>(&reply);
  if (v == nullptr || v->is_error()) return {};
  return parse_sentinel_replicas(*v);
}

}  // namespace

std::optional<std::string> quorum_choice(const std::vector<std::string>& answers) {
  std::map<std::string, size_t> votes;
  for (const auto& a : answers) votes[a]++;
  for (const auto& [address, count] : votes) {
    if (count * 2 > answers.size()) return address;
  }
  return std::nullopt;
}

std::optional<SentinelEndpoint> parse_master_addr(const resp::Value& reply) {
  if (reply.type != resp::Type::Array || reply.elements.size() != 2) return std::nullopt;
  const std::string& host = reply.elements[0].str;
  auto port = port_of(reply.elements[1].str);
  if (host.empty() || !port) return std::nullopt;
  return SentinelEndpoint{host, *port};
}

std::vector<SentinelEndpoint> parse_sentinel_replicas(const resp::Value& reply) {
  std::vector<SentinelEndpoint> out;
  if (reply.type != resp::Type::Array) return out;
  for (const resp::Value& entry : reply.elements) {
    const std::string* ip = field(entry, "ip");
    const std::string* port_text = field(entry, "port");
    const std::string* flags = field(entry, "flags");
    if (ip == nullptr || port_text == nullptr || ip->empty()) continue;
    auto port = port_of(*port_text);
    if (!port) continue;
    if (flags != nullptr &&
        (flags->find("s_down") != std::string::npos || flags->find("o_down") != std::string::npos ||
         flags->find("disconnected") != std::string::npos))
      continue;
    out.push_back({*ip, *port});
  }
  return out;
}

std::variant<SentinelAnswer, std::string> discover_master(const SentinelAccess& access) {
  Asked asked;
  for (const std::string& sentinel : access.sentinels) {
    std::string host;
    uint16_t port = 0;
    if (!split_address(sentinel, host, port)) continue;
    const auto ips = resolve_all(host);
    if (ips.empty()) asked.errors.push_back(sentinel + ": cannot resolve " + host);
    for (const auto& ip : ips) ask_one({ip, port, host}, sentinel, access, asked);
  }
  if (asked.answers.empty()) {
    std::string error = "no Sentinel answered for master '" + access.master_name + "'";
    for (const auto& e : asked.errors) error += "; " + e;
    return error;
  }
  auto winner = quorum_choice(asked.answers);
  if (!winner) {
    std::string error = "the Sentinels disagree on master '" + access.master_name + "':";
    for (const auto& a : asked.answers) error += " " + a;
    return error;
  }
  SentinelAnswer answer;
  split_address(*winner, answer.master.host, answer.master.port);
  answer.answered = asked.answers.size();
  for (const auto& a : asked.answers) answer.votes += a == *winner ? 1 : 0;
  answer.replicas = replicas_from(asked.answered_by[*winner], access);
  return answer;
}

}  // namespace slotgate::cluster
