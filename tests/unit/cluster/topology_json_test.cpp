// to_json(): the admin /topology document and its string escaping.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "cluster/cluster_view.hpp"
#include "cluster/topology_json.hpp"

using slotgate::cluster::append_json_string;
using slotgate::cluster::ClusterView;
using slotgate::cluster::to_json;

namespace {

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace

TEST_CASE("JSON strings escape quotes, backslashes and control characters", "[json]") {
  CHECK(quoted("plain") == "\"plain\"");
  CHECK(quoted("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quoted("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(quoted(std::string_view("\0\x01\x1f", 3)) == "\"\\u0000\\u0001\\u001f\"");
  CHECK(quoted("\x7f") == "\"\x7f\"");
  CHECK(quoted("") == "\"\"");
}

TEST_CASE("JSON strings keep valid UTF-8 and replace invalid bytes", "[json]") {
  CHECK(quoted("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CHECK(quoted("\xFF") == "\"\\ufffd\"");
  CHECK(quoted("\xC3") == "\"\\ufffd\"");                                   // truncated sequence
  CHECK(quoted("\xC0\xAF") == "\"\\ufffd\\ufffd\"");                        // overlong '/'
  CHECK(quoted("\xED\xA0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");             // surrogate
  CHECK(quoted("\xF4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
}

TEST_CASE("to_json renders version, age, coverage and each node with its slot ranges", "[json]") {
  const std::string master_id(40, 'a');
  const std::string text =
      master_id + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-99 200-16383\n" +
      std::string(40, 'b') + " we\"ird\\host:6380@16380 slave " + master_id + " 0 0 1 connected\n";
  auto result = ClusterView::from_nodes(text, 12);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(result));
  const auto& view = *std::get<ClusterView::Ptr>(result);

  const std::string json = to_json(view, view.created() + std::chrono::milliseconds(1500));
  CHECK(json ==
        "{\"version\":12,\"age_seconds\":1.500,\"slots_covered\":16284,\"nodes\":["
        "{\"id\":\"" +
            master_id +
            "\",\"address\":\"10.0.0.1:6379\",\"role\":\"master\",\"health\":\"online\","
            "\"master_id\":\"\",\"slots\":[[0,99],[200,16383]]},"
            "{\"id\":\"" +
            std::string(40, 'b') +
            "\",\"address\":\"we\\\"ird\\\\host:6380\",\"role\":\"replica\","
            "\"health\":\"online\",\"master_id\":\"" +
            master_id + "\",\"serves_reads\":false,\"slots\":[]}]}");
}

TEST_CASE("to_json of an empty view, with a clock that went backwards", "[json]") {
  ClusterView view;
  CHECK(to_json(view, view.created() - std::chrono::seconds(5)) ==
        "{\"version\":0,\"age_seconds\":0.000,\"slots_covered\":0,\"nodes\":[]}");
}

TEST_CASE("replication offsets: from the refresher's latest map when given, else from the view") {
  auto r = ClusterView::from_nodes(
      "1111111111111111111111111111111111111111 10.0.0.1:6379@16379 master - 0 0 1 connected "
      "0-16383\n"
      "2222222222222222222222222222222222222222 10.0.0.2:6379@16379 slave "
      "1111111111111111111111111111111111111111 0 0 1 connected\n",
      1);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(r));
  const auto& view = *std::get<ClusterView::Ptr>(r);
  const auto now = view.created();
  CHECK(to_json(view, now).find("replication_offset") == std::string::npos);  // unknown
  const std::map<std::string, int64_t> offsets{{"10.0.0.1:6379", 500}, {"10.0.0.2:6379", 420}};
  const std::string json = to_json(view, now, &offsets);
  CHECK(json.find("\"slots\":[[0,16383]],\"replication_offset\":500}") != std::string::npos);
  CHECK(json.find("\"slots\":[],\"replication_offset\":420}") != std::string::npos);
}

TEST_CASE("to_json lists each node's migrating and importing slots with the peer's address",
          "[json]") {
  const std::string a(40, 'a'), b(40, 'b'), unknown(40, 'c');
  const std::string text = a + " 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-8191\n" + b +
                           " 10.0.0.2:6379@16379 master - 0 0 2 connected 8192-16383\n";
  auto result = ClusterView::from_nodes(text, 3);
  REQUIRE(std::holds_alternative<ClusterView::Ptr>(result));
  const auto& view = *std::get<ClusterView::Ptr>(result);
  std::map<std::string, slotgate::cluster::NodeMigrations> migrations;
  migrations["10.0.0.1:6379"].migrating = {{5, b}, {6, unknown}};
  migrations["10.0.0.2:6379"].importing = {{5, a}};
  const std::string json = to_json(view, view.created(), nullptr, &migrations);
  CHECK(json.find("\"migrating\":[{\"slot\":5,\"to\":\"" + b +
                  "\",\"to_address\":\"10.0.0.2:6379\"},{\"slot\":6,\"to\":\"" + unknown +
                  "\"}],\"importing\":[]") != std::string::npos);
  CHECK(json.find("\"migrating\":[],\"importing\":[{\"slot\":5,\"from\":\"" + a +
                  "\",\"from_address\":\"10.0.0.1:6379\"}]") != std::string::npos);
  CHECK(to_json(view, view.created()).find("migrating") == std::string::npos);
}
