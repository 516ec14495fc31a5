// cluster::Slot and key_slot(): which of Redis Cluster's 16384 hash slots a key
// belongs to (CRC16/XMODEM of the key, or of its hash tag, modulo 16384).
// This is on the hot path of every keyed command: no allocation, table-driven.
#pragma once

#include <cstdint>
#include <string_view>

namespace slotgate::cluster {

constexpr int kSlotCount = 16384;
using Slot = uint16_t;

// CRC16 as Redis uses it: CCITT/XMODEM (poly 0x1021, init 0, no reflection, no final xor).
uint16_t crc16(std::string_view data);

// The part of the key that is hashed: the content of the first "{...}" if it is non-empty,
// otherwise the whole key (see key_slot()).
std::string_view hash_tag(std::string_view key);

// The slot of a key, exactly as CLUSTER KEYSLOT computes it.
Slot key_slot(std::string_view key);

}  // namespace slotgate::cluster
