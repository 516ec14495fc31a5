"""Core routing: every keyed command reaches the master that owns its slot.

Clients here are plain, non-cluster clients (redis-cli without -c, redis-py's
standalone Redis): they only work if slotgate routes for them. Each write is
checked directly on the owning master, and each value written on a master is read
back through slotgate, so a proxy that answered from the wrong node (or from
itself) fails.
"""

import subprocess
import time
import uuid

import pytest

from harness import RespError, encode_command, error_text, key_slot


def prefix():
    return f"rt:{uuid.uuid4().hex[:10]}:"


def redis_cli(slotgate, *args):
    """redis-cli 7 in plain (non-cluster) mode: it never follows MOVED/ASK."""
    proc = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(slotgate.port), *args],
        capture_output=True,
        text=True,
        timeout=15,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rstrip("\n")


def keys_on_two_masters(cluster, p):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=p)
    (a,), (b,) = list(per_master.values())[:2]
    return a, b


# ---- single-key commands -----------------------------------------------------------


def test_redis_cli_set_get_on_every_master(slotgate, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=3, prefix=prefix())
    assert len(per_master) == len(cluster.masters())
    for node, keys in per_master.items():
        for key in keys:
            value = f"value-of-{key}"
            assert redis_cli(slotgate, "SET", key, value) == "OK"
            assert node.client().get(key) == value.encode(), f"{key} did not land on {node.address}"
            assert redis_cli(slotgate, "GET", key) == value


def test_values_written_on_masters_are_read_through_slotgate(conn, cluster):
    for node, keys in cluster.keys_on_each_master(n_per_master=3, prefix=prefix()).items():
        for key in keys:
            node.client().set(key, f"direct-{node.port}")
            assert conn.command("GET", key) == f"direct-{node.port}".encode()


def test_commands_never_leak_redirects(conn, cluster):
    # 300 keys spread over all slots ranges: a proxy that sent any of them to the
    # wrong node would hand the client a MOVED it cannot follow.
    p = prefix()
    for i in range(300):
        key = f"{p}{i}"
        reply = conn.command("SET", key, str(i))
        assert reply == "OK", reply
    for i in range(300):
        assert conn.command("GET", f"{p}{i}") == str(i).encode()
    assert len({cluster.master_for_key(f"{p}{i}").address for i in range(300)}) == len(cluster.masters())


def test_keyed_command_errors_come_from_redis(conn, cluster):
    key = prefix() + "list"
    cluster.master_for_key(key).client().rpush(key, "x")
    assert error_text(conn.command("GET", key)) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert error_text(conn.command("INCR", key)).startswith("WRONGTYPE")


# ---- multi-key commands -------------------------------------------------------------


def test_multi_key_same_slot_commands_go_to_the_owner(conn, cluster):
    tag = "{" + uuid.uuid4().hex[:8] + "}"
    a, b, dst = f"{tag}:a", f"{tag}:b", f"{tag}:dst"
    owner = cluster.master_for_key(tag)
    assert conn.command("SADD", a, "1", "2", "3") == 3
    assert conn.command("SADD", b, "2", "3", "4") == 3
    assert conn.command("SINTERSTORE", dst, a, b) == 2
    assert owner.client().smembers(dst) == {b"2", b"3"}
    assert conn.command("MSET", f"{tag}:x", "1", f"{tag}:y", "2") == "OK"
    assert conn.command("MGET", f"{tag}:x", f"{tag}:y", f"{tag}:none") == [b"1", b"2", None]
    assert conn.command("RENAME", f"{tag}:x", f"{tag}:z") == "OK"
    assert owner.client().get(f"{tag}:z") == b"1"
    assert conn.command("SMOVE", a, b, "1") == 1
    assert owner.client().smembers(b) == {b"1", b"2", b"3", b"4"}


@pytest.mark.parametrize(
    "command",
    [
        lambda a, b: ("SINTERSTORE", f"{a}:dst", a, b),
        lambda a, b: ("SUNIONSTORE", a, a, b),
        lambda a, b: ("RENAME", a, b),
        lambda a, b: ("SMOVE", a, b, "m"),
        lambda a, b: ("LMOVE", a, b, "LEFT", "RIGHT"),
    ],
    ids=["SINTERSTORE", "SUNIONSTORE", "RENAME", "SMOVE", "LMOVE"],
)
def test_multi_key_across_slots_is_crossslot(conn, cluster, command):
    a, b = keys_on_two_masters(cluster, prefix())
    assert cluster.master_for_key(a) is not cluster.master_for_key(b)
    args = command(a, b)
    assert error_text(conn.command(*args)).startswith("CROSSSLOT ")
    # Nothing was written anywhere.
    for key in {a, b, args[1]}:
        assert cluster.master_for_key(key).client().exists(key) == 0
    assert conn.command("PING") == "PONG"


def test_crossslot_inside_a_pipeline_keeps_order(conn, cluster):
    a, b = keys_on_two_masters(cluster, prefix())
    conn.send(encode_command("SET", a, "1") + encode_command("SINTERSTORE", a, a, b) + encode_command("GET", a))
    first, second, third = (conn.read_reply(timeout=10) for _ in range(3))
    assert first == "OK"
    assert error_text(second).startswith("CROSSSLOT ")
    assert third == b"1"


# ---- keyless commands ---------------------------------------------------------------


def test_time(conn):
    reply = conn.command("TIME")
    assert isinstance(reply, list) and len(reply) == 2
    seconds, micros = int(reply[0]), int(reply[1])
    assert abs(seconds - time.time()) < 60
    assert 0 <= micros < 1_000_000


def test_echo_and_ping_with_message(conn):
    assert conn.command("ECHO", "hello") == b"hello"
    assert conn.command("PING", "msg") == b"msg"


# ---- redis-py standalone client --------------------------------------------------------


def test_redis_py_standalone_client(slotgate, cluster):
    r = slotgate.client()
    p = prefix()
    per_master = cluster.keys_on_each_master(n_per_master=2, prefix=p)
    for node, keys in per_master.items():
        s, h = keys
        direct = node.client()
        assert r.set(s, "v") is True
        assert r.get(s) == b"v"
        assert r.incr(s + "n") == 1 and r.incr(s + "n") == 2
        assert r.hset(h, mapping={"a": "1", "b": "2"}) == 2
        assert r.hgetall(h) == {b"a": b"1", b"b": b"2"}
        assert direct.hgetall(h) == {b"a": b"1", b"b": b"2"}
        assert direct.get(s) == b"v"
        lst = s + ":list"
        assert r.lpush(lst, "x", "y", "z") == 3
        assert r.lrange(lst, 0, -1) == [b"z", b"y", b"x"]
        assert cluster.master_for_key(lst).client().llen(lst) == 3
        assert r.expire(s, 100) is True
        assert 0 < r.ttl(s) <= 100
        assert 0 < direct.ttl(s) <= 100


def test_redis_py_pipeline_without_transaction(slotgate, cluster):
    r = slotgate.client()
    p = prefix()
    keys = [f"{p}{i}" for i in range(60)]
    pipe = r.pipeline(transaction=False)
    for i, key in enumerate(keys):
        pipe.set(key, i)
        pipe.incr(key)
        pipe.get(key)
    results = pipe.execute()
    assert results == [x for i in range(60) for x in (True, i + 1, str(i + 1).encode())]
    for i, key in enumerate(keys):
        assert cluster.master_for_key(key).client().get(key) == str(i + 1).encode()


def test_binary_keys_and_values(slotgate, cluster):
    r = slotgate.client()
    key = prefix().encode() + b"\x00\xff\r\n{x"
    value = bytes(range(256))
    assert r.set(key, value)
    assert r.get(key) == value
    assert cluster.master_for_slot(key_slot(key)).client().get(key) == value
