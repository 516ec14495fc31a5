"""MGET over several masters is answered by splicing the nodes' reply elements into the
client's key order (router/split.cpp splice_key_order), and MSET parts are built
straight from the client's arguments. These tests check the exact bytes the client
gets, in RESP2 and RESP3 (whose null is `_`), for what a splice can get wrong: the
order, duplicate keys, missing keys, empty and binary values (with CRLF inside), big
values, keys that share a slot with others, pipelining."""

from __future__ import annotations

import time
import uuid

from harness import RespError, encode_command


def spread_keys(cluster, per_master: int) -> list[str]:
    prefix = f"splice:{uuid.uuid4().hex[:8]}:"
    groups = list(cluster.keys_on_each_master(n_per_master=per_master, prefix=prefix).values())
    assert len(groups) == 3
    return [g[i] for i in range(per_master) for g in groups]


def expected_bytes(values: list, protocol: int) -> bytes:
    out = [f"*{len(values)}\r\n".encode()]
    for v in values:
        if v is None:
            out.append(b"_\r\n" if protocol == 3 else b"$-1\r\n")
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(v), v))
    return b"".join(out)


def raw_reply(conn, args: list, length: int, timeout: float = 10.0) -> bytes:
    """Exactly `length` bytes of reply to one command (and nothing more arrives with it)."""
    conn.send(encode_command(*args))
    deadline = time.monotonic() + timeout
    while len(conn.buf) < length and time.monotonic() < deadline:
        conn._recv(deadline - time.monotonic())
    conn._recv(0.2)  # anything past the expected reply would show up here
    got, conn.buf = conn.buf, b""
    return got


def hello(conn, protocol: int) -> None:
    if protocol == 3:
        reply = conn.command("HELLO", "3")
        assert reply is not None


def check_mget(conn, keys: list[str], truth: dict, protocol: int) -> None:
    want = expected_bytes([truth.get(k) for k in keys], protocol)
    assert raw_reply(conn, ["MGET", *keys], len(want)) == want


def test_mget_splice_is_byte_exact_in_resp2_and_resp3(slotgate, cluster):
    keys = spread_keys(cluster, 12)
    truth = {}
    for i, k in enumerate(keys):
        if i % 5 == 0:
            continue  # missing: null in the client's protocol
        value = {1: b"", 2: b"a\r\nb\r\n$3\r\n*1\r\n", 3: bytes(range(256))}.get(i % 7, f"v{i}".encode())
        cluster.master_for_key(k).client().set(k, value)
        truth[k] = value
    order = keys[::-1] + keys[:5] + [keys[3], keys[3]]  # reversed, then repeats and duplicates
    for protocol in (2, 3):
        conn = slotgate.raw()
        try:
            hello(conn, protocol)
            check_mget(conn, order, truth, protocol)
            check_mget(conn, [keys[0], keys[0], keys[1]], truth, protocol)
            # The connection is still in step: a plain command after the MGETs answers normally.
            assert conn.command("PING") in ("PONG", b"PONG")
        finally:
            conn.close()


def test_mget_splice_with_keys_sharing_a_slot_and_big_values(slotgate, cluster):
    tag = uuid.uuid4().hex[:6]
    same_slot = [f"{{{tag}}}:{i}" for i in range(5)]
    keys = spread_keys(cluster, 3)
    big = b"x" * 300_000
    truth = {same_slot[1]: big, same_slot[3]: b"three", keys[0]: b"zero", keys[4]: big[:70_000]}
    for k, v in truth.items():
        cluster.master_for_key(k).client().set(k, v)
    mixed = [same_slot[0], keys[0], same_slot[1], keys[1], same_slot[2], keys[4], same_slot[3], keys[2],
             same_slot[4], keys[5]]
    conn = slotgate.raw()
    try:
        for _ in range(3):  # the same pooled request buffers, reused
            check_mget(conn, mixed, truth, 2)
        # Pipelined: the answers come back whole and in order.
        conn.send(encode_command("MGET", *mixed) + encode_command("MGET", keys[0], same_slot[3]))
        assert conn.read_reply(timeout=10) == [truth.get(k) for k in mixed]
        assert conn.read_reply(timeout=10) == [b"zero", b"three"]
    finally:
        conn.close()


def test_mget_with_a_wrong_type_key_still_answers_nil_for_it(slotgate, cluster):
    keys = spread_keys(cluster, 2)
    cluster.master_for_key(keys[0]).client().rpush(keys[0], "a")  # MGET gives nil for non-strings
    cluster.master_for_key(keys[1]).client().set(keys[1], "one")
    conn = slotgate.raw()
    try:
        assert conn.command("MGET", *keys) == [None, b"one"] + [None] * (len(keys) - 2)
    finally:
        conn.close()


def test_mset_over_masters_writes_every_key_incl_duplicates(slotgate, cluster):
    keys = spread_keys(cluster, 10)
    args = []
    for i, k in enumerate(keys):
        args += [k, f"first-{i}"]
    args += [keys[0], "last-wins", keys[7], b"bin\r\n\x00"]  # a repeated key: the last value wins
    conn = slotgate.raw()
    try:
        assert conn.command("MSET", *args, timeout=10) in ("OK", b"OK")
        for i, k in enumerate(keys):
            want = {0: b"last-wins", 7: b"bin\r\n\x00"}.get(i, f"first-{i}".encode())
            assert cluster.master_for_key(k).client().get(k) == want, k
        # And MGET through slotgate reads them back in order.
        assert conn.command("MGET", *keys, timeout=10) == [cluster.master_for_key(k).client().get(k) for k in keys]
        # Odd argument count: a clear error, and the connection stays usable.
        reply = conn.command("MSET", keys[0], "v", keys[1])
        assert isinstance(reply, RespError) and "wrong number of arguments" in str(reply).lower()
        assert conn.command("PING") in ("PONG", b"PONG")
    finally:
        conn.close()


def test_split_state_recycled_across_commands_of_every_width(slotgate, cluster):
    """Split parents and parts are recycled request objects: their per-part key lists and the
    router's slot -> part map are kept between commands rather than rebuilt (split.cpp,
    request.hpp). Interleave splits of different widths over overlapping slots with
    broadcasts, SCAN and plain commands, pipelined, and check every answer."""
    keys = spread_keys(cluster, 40)  # 120 keys in as many slots, over the 3 masters
    truth = {k: f"v{i}".encode() for i, k in enumerate(keys) if i % 7}
    conn = slotgate.raw()
    conn.command("MSET", *[x for k, v in truth.items() for x in (k, v)])
    widths = [120, 3, 60, 1, 117, 2, 120, 30]
    commands, expected = [], []
    for round_no in range(3):
        for n, w in enumerate(widths):
            start = (round_no * 11 + n * 7) % len(keys)
            chosen = (keys[start:] + keys[:start])[:w]
            if n % 3 == 2:
                chosen = chosen[::-1] + chosen[:1]  # another order, and a duplicate key
            commands.append(["MGET", *chosen])
            expected.append([truth.get(k) for k in chosen])
            commands.append(["EXISTS", *chosen])
            expected.append(sum(1 for k in chosen if k in truth))
            if n % 4 == 0:
                commands.append(["DBSIZE"])  # a broadcast on the recycled objects in between
                expected.append(None)
                commands.append(["GET", chosen[0]])
                expected.append(truth.get(chosen[0]))
    conn.send(b"".join(encode_command(*c) for c in commands))
    for c, want in zip(commands, expected):
        got = conn.read_reply(timeout=10)
        if c[0] == "DBSIZE":
            assert isinstance(got, int) and got >= len(truth), got
        else:
            assert got == want, f"{c[0]} of {len(c) - 1} keys: {got!r} != {want!r}"
    # A SCAN step (a one-part split) and a DEL split still answer right afterwards.
    cursor, _ = conn.command("SCAN", "0", "COUNT", "10")
    assert cursor is not None
    assert conn.command("DEL", *keys) == len(truth)
    assert conn.command("MGET", *keys[:50]) == [None] * 50
