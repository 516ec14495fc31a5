// Local commands that need the nodes' data: slotgate answers them itself, from what
// the masters report. INFO: slotgate's own sections plus the keyspace summed over
// every master (a broadcast whose replies finish here); CLUSTER COUNTKEYSINSLOT and
// GETKEYSINSLOT: the slot's master answers (submit_to_slot).
#include <fmt/format.h>

#include <charconv>
#include <map>

#include "resp/reply_writer.hpp"
#include "router/router.hpp"

namespace slotgate::router {

void Router::submit_to_slot(Request* req, cluster::Slot slot) {
  req->keyed = true;
  req->slot = slot;
  dispatch(req);
}

void Router::finish_info(Request* parent) {
  // Sum "db0:keys=N,expires=M,avg_ttl=T" over the masters.
  struct Db {
    long long keys = 0, expires = 0, ttl_weighted = 0;
  };
  std::map<std::string, Db> dbs;
  for (const auto& part : parent->split->part_replies) {
    if (part.is_error()) continue;
    std::string_view text = part.str;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = end + 1;
      if (line.size() < 3 || line.substr(0, 2) != "db") continue;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      Db& db = dbs[std::string(line.substr(0, colon))];
      long long keys = 0, expires = 0, ttl = 0;
      std::string_view fields = line.substr(colon + 1);
      while (!fields.empty()) {
        size_t comma = fields.find(',');
        std::string_view f = fields.substr(0, comma);
        size_t eq = f.find('=');
        if (eq != std::string_view::npos) {
          long long v = 0;
          std::from_chars(f.data() + eq + 1, f.data() + f.size(), v);
          std::string_view k = f.substr(0, eq);
          if (k == "keys") keys = v;
          if (k == "expires") expires = v;
          if (k == "avg_ttl") ttl = v;
        }
        if (comma == std::string_view::npos) break;
        fields.remove_prefix(comma + 1);
      }
      db.keys += keys;
      db.expires += expires;
      db.ttl_weighted += ttl * expires;
    }
  }
  std::string text = parent->info_prefix;
  if (!text.empty()) text += "\r\n";
  text += "# Keyspace\r\n";
  for (const auto& [name, db] : dbs) {
    text += fmt::format("{}:keys={},expires={},avg_ttl={}\r\n", name, db.keys, db.expires,
                        db.expires ? db.ttl_weighted / db.expires : 0);
  }
  std::string out;
  resp::append_verbatim(out, text, parent->protocol);
  complete(parent, out);
}

}  // namespace slotgate::router
