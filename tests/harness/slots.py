"""Redis Cluster key -> slot mapping, computed locally.

Owns CRC16 (XMODEM variant, polynomial 0x1021, initial value 0) and the hash-tag rule.
Used to pick test keys quickly without a round trip per key; RedisCluster.keyslot()
asks a real server instead, and test_harness.py checks that both agree."""

from __future__ import annotations

SLOT_COUNT = 16384


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _make_table()


def crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def hash_part(key: bytes) -> bytes:
    # Why: only the part between the first '{' and the next '}' is hashed, and only
    # when that part is non-empty - "{}" or an unclosed "{" hash the whole key.
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def key_slot(key) -> int:
    if isinstance(key, str):
        key = key.encode()
    elif isinstance(key, int):
        key = str(key).encode()
    return crc16(hash_part(bytes(key))) % SLOT_COUNT
