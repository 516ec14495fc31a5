// CRC16/XMODEM lookup table (built at compile time) and Redis's hash-tag rule.
#include "cluster/slot.hpp"

#include <array>

namespace slotgate::cluster {
namespace {

constexpr std::array<uint16_t, 256> make_crc16_table() {
  std::array<uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = make_crc16_table();
static_assert(kCrc16Table[1] == 0x1021 && kCrc16Table[255] == 0x1EF0);

// kCrc16Table[x] carried through one more (zero) byte. CRC is linear in XOR, so two bytes
// b0 b1 advance crc = (h << 8) | l to kCrc16Shifted[h ^ b0] ^ kCrc16Table[l ^ b1]: two
// independent lookups per two bytes instead of a chain of two dependent ones.
constexpr std::array<uint16_t, 256> make_crc16_shifted() {
  std::array<uint16_t, 256> shifted{};
  for (unsigned x = 0; x < 256; ++x) {
    const uint16_t t = kCrc16Table[x];
    shifted[x] = static_cast<uint16_t>(((t & 0xFF) << 8) ^ kCrc16Table[t >> 8]);
  }
  return shifted;
}

constexpr std::array<uint16_t, 256> kCrc16Shifted = make_crc16_shifted();

}  // namespace

uint16_t crc16(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t n = data.size();
  uint16_t crc = 0;
  size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    crc = static_cast<uint16_t>(kCrc16Shifted[(crc >> 8) ^ p[i]] ^
                                kCrc16Table[(crc & 0xFF) ^ p[i + 1]]);
  }
  if (i < n) crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[(crc >> 8) ^ p[i]]);
  return crc;
}

// Why this exact shape: Redis takes the *first* '{' and the *first* '}' after it. If there is
// no '}' or the braces are empty ("{}"), the whole key is hashed, so "a{}{b}" does not use
// "b" as its tag, "{{a}}" hashes "{a", and "foo{bar}{zap}" hashes "bar". Clients rely on
// these corner cases to co-locate keys, so any deviation silently sends keys to the wrong node.
std::string_view hash_tag(std::string_view key) {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

Slot key_slot(std::string_view key) {
  return static_cast<Slot>(crc16(hash_tag(key)) & (kSlotCount - 1));
}

}  // namespace slotgate::cluster
