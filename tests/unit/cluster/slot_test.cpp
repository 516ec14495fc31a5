// key_slot(): CRC16 vectors, Redis's hash-tag corner cases, and the vector file that
// tests/integration/test_keyslot.py checks against a real redis-server.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "cluster/slot.hpp"

using slotgate::cluster::crc16;
using slotgate::cluster::hash_tag;
using slotgate::cluster::key_slot;

TEST_CASE("crc16 is CRC16/XMODEM as Redis uses it", "[slot]") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
  CHECK(crc16(std::string_view("\0", 1)) == 0);
  CHECK(crc16("A") == 0x58E5);
}

// crc16() takes two bytes per step: compare it with the textbook bit-at-a-time CRC16/XMODEM
// over every length up to 64 (odd and even tails) and every byte value.
TEST_CASE("crc16 agrees with a bitwise CRC16/XMODEM on every length and byte", "[slot]") {
  auto bitwise = [](std::string_view data) {
    uint16_t crc = 0;
    for (char c : data) {
      crc = static_cast<uint16_t>(crc ^ (static_cast<uint8_t>(c) << 8));
      for (int bit = 0; bit < 8; ++bit) {
        crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                             : static_cast<uint16_t>(crc << 1);
      }
    }
    return crc;
  };
  std::string data;
  uint32_t seed = 12345;
  for (size_t len = 0; len <= 64; ++len) {
    INFO("length " << len);
    CHECK(crc16(data) == bitwise(data));
    seed = seed * 1103515245 + 12345;
    data.push_back(static_cast<char>(seed >> 16));
  }
  for (int b = 0; b < 256; ++b) {
    const std::string pair = {static_cast<char>(b), static_cast<char>(255 - b)};
    CHECK(crc16(pair) == bitwise(pair));
    CHECK(crc16(pair.substr(0, 1)) == bitwise(pair.substr(0, 1)));
  }
}

TEST_CASE("key_slot of plain keys matches CLUSTER KEYSLOT", "[slot]") {
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("") == 0);
  CHECK(key_slot("123456789") == (0x31C3 & 16383));
}

TEST_CASE("keys sharing a hash tag share a slot", "[slot]") {
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("x{a}y") == key_slot("a"));
}

TEST_CASE("hash tag corner cases follow Redis's first-{ first-} rule", "[slot]") {
  // Empty tag: the whole key is hashed.
  CHECK(hash_tag("{}") == "{}");
  CHECK(key_slot("{}") == 15257);
  // The tag ends at the first '}' after the first '{', so it may itself contain '{'.
  CHECK(hash_tag("{{a}}") == "{a");
  CHECK(key_slot("{{a}}") == 10276);
  // First braces are empty: whole key, even though "{b}" follows.
  CHECK(hash_tag("a{}{b}") == "a{}{b}");
  CHECK(key_slot("a{}{b}") == 15033);
  // Only the first tag counts.
  CHECK(hash_tag("foo{bar}{zap}") == "bar");
  CHECK(key_slot("foo{bar}{zap}") == 5061);
  CHECK(hash_tag("foo{{bar}}zap") == "{bar");
  CHECK(key_slot("foo{{bar}}zap") == 4015);
  // No closing brace: whole key.
  CHECK(hash_tag("{bar") == "{bar");
  CHECK(key_slot("{bar") == 4015);
  CHECK(hash_tag("bar}") == "bar}");
  CHECK(hash_tag("}{a}") == "a");
}

TEST_CASE("key_slot agrees with every line of keyslot_vectors.txt", "[slot]") {
  std::ifstream in(SLOTGATE_SOURCE_DIR "/tests/unit/cluster/keyslot_vectors.txt");
  REQUIRE(in.good());
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string line;
  size_t checked = 0, wrong = 0;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    REQUIRE(space % 2 == 0);
    std::string key;
    for (size_t i = 0; i < space; i += 2) {
      key.push_back(static_cast<char>(nibble(line[i]) * 16 + nibble(line[i + 1])));
    }
    const int expected = std::stoi(line.substr(space + 1));
    if (key_slot(key) != expected) {
      ++wrong;
      UNSCOPED_INFO("key hex " << line.substr(0, space) << ": want " << expected << " got "
                               << key_slot(key));
    }
    ++checked;
  }
  CHECK(checked >= 5000);
  CHECK(wrong == 0);
}
