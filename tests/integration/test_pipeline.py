"""Request framing and pipelining through slotgate.

A client may send RESP arrays or inline commands, split anywhere across TCP
segments, and pipeline any number of them; slotgate must answer every command
exactly once, strictly in request order, whichever master answers first. The
expected replies are computed by a small model of the data types used, so a
reply that is right but out of place fails the test.
"""

import random
import threading
import time
import uuid

import pytest

from harness import RespError, encode_command

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def prefix():
    return f"pl:{uuid.uuid4().hex[:10]}:"


def read_all(conn, n, timeout=20.0):
    return [conn.read_reply(timeout=timeout) for _ in range(n)]


def send_in_background(conn, chunks, pause=0.0):
    """Write chunks from a thread, so a proxy that stops reading while its replies
    are unread cannot deadlock the test; returns the thread (join it)."""

    def run():
        for chunk in chunks:
            conn.send(chunk)
            if pause:
                time.sleep(pause)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# ---- inline commands --------------------------------------------------------------


def test_inline_ping(conn):
    conn.send(b"PING\r\n")
    assert conn.read_reply() == "PONG"


def test_inline_command_with_quoted_argument(conn, cluster):
    key = prefix() + "inline"
    conn.send(f'SET {key} "b c"\r\n'.encode())
    assert conn.read_reply() == "OK"
    conn.send(f"GET {key}\r\n".encode())
    assert conn.read_reply() == b"b c"
    assert cluster.master_for_key(key).client().get(key) == b"b c"


def test_inline_commands_pipelined_and_mixed_with_arrays(conn):
    key = prefix() + "mixed"
    conn.send(b"PING\r\n" + encode_command("SET", key, "x y") + f"GET {key}\r\n".encode() + b"ECHO hi\r\n")
    assert read_all(conn, 4) == ["PONG", "OK", b"x y", b"hi"]


def test_inline_with_bare_newline(conn):
    # Redis accepts inline commands terminated by a lone \n (telnet, nc).
    conn.send(b"PING\n")
    assert conn.read_reply() == "PONG"


# ---- arrays, split anywhere -------------------------------------------------------


def short_pipeline(p):
    """Commands on several masters, with binary-unsafe-looking payloads."""
    value = b"a\r\nb\x00c$3\r\n*1"
    commands = [
        ("SET", p + "a", value),
        ("GET", p + "a"),
        ("PING",),
        ("INCR", p + "n"),
        ("INCR", p + "n"),
        ("ECHO", ""),
        ("SET", p + "b", ""),
        ("GET", p + "b"),
        ("GET", p + "missing"),
        ("RPUSH", p + "l", "x", "y"),
        ("LRANGE", p + "l", 0, -1),
    ]
    expected = ["OK", value, "PONG", 1, 2, b"", "OK", b"", None, 2, [b"x", b"y"]]
    return commands, expected


def test_pipeline_in_one_write(conn):
    commands, expected = short_pipeline(prefix())
    conn.send(b"".join(encode_command(*c) for c in commands))
    assert read_all(conn, len(commands)) == expected


def test_pipeline_sent_one_byte_at_a_time(conn):
    commands, expected = short_pipeline(prefix())
    payload = b"".join(encode_command(*c) for c in commands)
    # A pause after every byte makes each one its own TCP segment, so the proxy
    # sees a frame boundary at every possible offset.
    sender = send_in_background(conn, [payload[i : i + 1] for i in range(len(payload))], pause=0.001)
    assert read_all(conn, len(commands)) == expected
    sender.join(timeout=30)


def test_inline_sent_one_byte_at_a_time(conn):
    key = prefix() + "slow-inline"
    payload = f'SET {key} "x y"\r\nGET {key}\r\nPING\r\n'.encode()
    sender = send_in_background(conn, [payload[i : i + 1] for i in range(len(payload))], pause=0.001)
    assert read_all(conn, 3) == ["OK", b"x y", "PONG"]
    sender.join(timeout=30)


def test_long_pipeline_in_random_chunks(conn, cluster):
    rng = random.Random(7)
    p = prefix()
    commands = []
    for i in range(3000):
        key = f"{p}{i % 97}"
        if i % 3 == 0:
            commands.append(("SET", key, f"v{i}-" + "x" * rng.randrange(0, 200)))
        elif i % 3 == 1:
            commands.append(("GET", f"{p}{rng.randrange(97)}"))
        else:
            commands.append(("ECHO", str(i)))
    store, expected = {}, []
    for c in commands:
        if c[0] == "SET":
            store[c[1]] = c[2].encode()
            expected.append("OK")
        elif c[0] == "GET":
            expected.append(store.get(c[1]))
        else:
            expected.append(c[1].encode())
    payload = b"".join(encode_command(*c) for c in commands)
    chunks, pos = [], 0
    while pos < len(payload):
        size = rng.choice([1, 2, 3, 7, 64, 500, 1460, 4096, 20000])
        chunks.append(payload[pos : pos + size])
        pos += size
    # The pause keeps small chunks from being coalesced into one segment.
    sender = send_in_background(conn, chunks, pause=0.001)
    got = read_all(conn, len(commands))
    sender.join(timeout=60)
    assert got == expected
    for key, value in list(store.items())[:5]:
        assert cluster.master_for_key(key).client().get(key) == value


def test_large_value_round_trip(conn, cluster):
    key = prefix() + "big"
    value = bytes(random.Random(1).getrandbits(8) for _ in range(256 * 1024)) * 8  # 2 MiB
    sender = send_in_background(conn, [encode_command("SET", key, value), encode_command("GET", key)])
    assert read_all(conn, 2, timeout=30) == ["OK", value]
    sender.join(timeout=30)
    assert cluster.master_for_key(key).client().get(key) == value


def test_slow_reply_does_not_let_a_later_one_overtake(conn, cluster):
    # A large reply from one master followed by a tiny reply from another: the tiny
    # one is ready first but must be written after.
    keys = cluster.keys_on_each_master(n_per_master=1, prefix=prefix())
    (big_node, (big_key,)), (_, (small_key,)) = list(keys.items())[:2]
    big = b"z" * (4 * 1024 * 1024)
    big_node.client().set(big_key, big)
    cluster.master_for_key(small_key).client().set(small_key, b"small")
    for _ in range(3):
        conn.send(encode_command("GET", big_key) + encode_command("GET", small_key) + encode_command("PING"))
        assert read_all(conn, 3, timeout=30) == [big, b"small", "PONG"]


# ---- 10,000 mixed commands ---------------------------------------------------------


class Model:
    """Expected replies for the commands used in the mixed pipeline."""

    def __init__(self):
        self.strings, self.hashes, self.lists, self.sets = {}, {}, {}, {}

    def _type_of(self, key):
        for kind, store in (("string", self.strings), ("hash", self.hashes), ("list", self.lists), ("set", self.sets)):
            if key in store:
                return kind
        return None

    def _wrongtype(self, key, kind):
        found = self._type_of(key)
        return found is not None and found != kind

    def apply(self, cmd):
        name, args = cmd[0], cmd[1:]
        if name == "PING":
            return "PONG"
        if name == "ECHO":
            return args[0].encode()
        key = args[0]
        if name == "SET":
            for store in (self.hashes, self.lists, self.sets):
                store.pop(key, None)
            self.strings[key] = args[1].encode()
            return "OK"
        if name in ("GET", "INCR", "APPEND", "STRLEN") and self._wrongtype(key, "string"):
            return RespError(WRONGTYPE)
        if name == "GET":
            return self.strings.get(key)
        if name == "INCR":
            value = self.strings.get(key, b"0")
            if not value.lstrip(b"-").isdigit():
                return RespError("ERR value is not an integer or out of range")
            self.strings[key] = str(int(value) + 1).encode()
            return int(value) + 1
        if name == "APPEND":
            self.strings[key] = self.strings.get(key, b"") + args[1].encode()
            return len(self.strings[key])
        if name == "STRLEN":
            return len(self.strings.get(key, b""))
        if name == "DEL":
            stores = (self.strings, self.hashes, self.lists, self.sets)
            return int(any(store.pop(key, None) is not None for store in stores))
        if name == "EXISTS":
            return int(self._type_of(key) is not None)
        if name in ("HSET", "HGET") and self._wrongtype(key, "hash"):
            return RespError(WRONGTYPE)
        if name == "HSET":
            h = self.hashes.setdefault(key, {})
            new = args[1] not in h
            h[args[1]] = args[2].encode()
            return int(new)
        if name == "HGET":
            return self.hashes.get(key, {}).get(args[1])
        if name in ("LPUSH", "LRANGE") and self._wrongtype(key, "list"):
            return RespError(WRONGTYPE)
        if name == "LPUSH":
            lst = self.lists.setdefault(key, [])
            lst.insert(0, args[1].encode())
            return len(lst)
        if name == "LRANGE":
            return self.lists.get(key, [])[: int(args[2]) + 1]
        if name in ("SADD", "SCARD") and self._wrongtype(key, "set"):
            return RespError(WRONGTYPE)
        if name == "SADD":
            s = self.sets.setdefault(key, set())
            new = args[1] not in s
            s.add(args[1])
            return int(new)
        if name == "SCARD":
            return len(self.sets.get(key, ()))
        raise AssertionError(f"model does not know {name}")


def mixed_commands(n, p, rng):
    keys = [f"{p}{i}" for i in range(150)]
    out = []
    for i in range(n):
        key = rng.choice(keys)
        roll = rng.randrange(16)
        if roll == 0:
            out.append(("PING",))
        elif roll == 1:
            out.append(("ECHO", f"e{i}"))
        elif roll == 2:
            out.append(("SET", key, f"v{i}"))
        elif roll == 3:
            out.append(("SET", key, str(rng.randrange(100))))
        elif roll == 4:
            out.append(("GET", key))
        elif roll == 5:
            out.append(("INCR", key))
        elif roll == 6:
            out.append(("APPEND", key, "a"))
        elif roll == 7:
            out.append(("STRLEN", key))
        elif roll == 8:
            out.append(("HSET", key, f"f{rng.randrange(4)}", f"h{i}"))
        elif roll == 9:
            out.append(("HGET", key, f"f{rng.randrange(4)}"))
        elif roll == 10:
            out.append(("LPUSH", key, f"l{i}"))
        elif roll == 11:
            out.append(("LRANGE", key, "0", "2"))
        elif roll == 12:
            out.append(("SADD", key, f"m{rng.randrange(5)}"))
        elif roll == 13:
            out.append(("SCARD", key))
        elif roll == 14:
            out.append(("DEL", key))
        else:
            out.append(("EXISTS", key))
    return out


def test_ten_thousand_mixed_commands_in_one_pipeline(conn, cluster):
    rng = random.Random(10_000)
    p = prefix()
    commands = mixed_commands(10_000, p, rng)
    model = Model()
    expected = [model.apply(c) for c in commands]
    # The keys must really be spread over every master.
    masters = {cluster.master_for_key(c[1]).address for c in commands if len(c) > 1 and c[0] != "ECHO"}
    assert len(masters) == len(cluster.masters())

    sender = send_in_background(conn, [b"".join(encode_command(*c) for c in commands)])
    got = read_all(conn, len(commands), timeout=30)
    sender.join(timeout=60)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert type(g) is type(e) and g == e, f"reply {i} to {commands[i]!r}: got {g!r}, expected {e!r}"
    # And the final state is what the model says, on the owning masters.
    for key, value in list(model.strings.items())[:20]:
        assert cluster.master_for_key(key).client().get(key) == value
