"""Multi-key commands that slotgate splits over the masters and merges back.

MGET, MSET, DEL, UNLINK, EXISTS and TOUCH take keys that may live on every master
of the cluster; a plain client expects one reply exactly as a single Redis would
give it: MGET values in the client's key order, integer counts summed, +OK only
when every part was written. MSETNX cannot be split without losing its
all-or-nothing promise, so it only goes through when all keys share a slot.
Every write is checked directly on the master that owns the key, and the key sets
are built so that each command really touches all three masters.
"""

import random
import re
import threading
import time
import uuid

import pytest

from harness import RespError, encode_command, error_text, parse_info


def prefix():
    return f"mk:{uuid.uuid4().hex[:10]}:"


def spread_keys(cluster, per_master):
    """per_master keys on every master, interleaved (m1, m2, m3, m1, ...) so that
    neighbouring keys of a command always go to different masters."""
    groups = list(cluster.keys_on_each_master(n_per_master=per_master, prefix=prefix()).values())
    assert len(groups) == 3
    return [g[i] for i in range(per_master) for g in groups]


def owner_value(cluster, key):
    return cluster.master_for_key(key).client().get(key)


# ---- MGET ------------------------------------------------------------------------------


def test_mget_across_three_masters_keeps_the_clients_key_order(conn, cluster):
    keys = spread_keys(cluster, 4)
    assert len({cluster.master_for_key(k).address for k in keys}) == 3
    present = {k: f"v-{k}".encode() for i, k in enumerate(keys) if i % 3 != 1}
    for k, v in present.items():
        cluster.master_for_key(k).client().set(k, v)
    order = list(reversed(keys))
    assert conn.command("MGET", *order) == [present.get(k) for k in order]


def test_mget_of_100_keys_over_all_masters(conn, cluster):
    keys = spread_keys(cluster, 34)[:100]
    rng = random.Random(7)
    rng.shuffle(keys)
    for i, k in enumerate(keys):
        if i % 4:
            cluster.master_for_key(k).client().set(k, str(i))
    expected = [None if i % 4 == 0 else str(i).encode() for i in range(len(keys))]
    assert conn.command("MGET", *keys, timeout=10) == expected


def test_mget_repeats_duplicate_keys_like_redis(conn, cluster):
    a, b, c = spread_keys(cluster, 1)
    cluster.master_for_key(a).client().set(a, "A")
    cluster.master_for_key(c).client().set(c, "C")
    assert conn.command("MGET", a, b, a, c, a, b) == [b"A", None, b"A", b"C", b"A", None]


def test_mget_returns_nil_for_a_key_of_another_type(conn, cluster):
    # Why: Redis MGET never fails with WRONGTYPE; a non-string key reads as nil.
    a, b, c = spread_keys(cluster, 1)
    cluster.master_for_key(a).client().set(a, "A")
    cluster.master_for_key(b).client().rpush(b, "x")
    cluster.master_for_key(c).client().hset(c, "f", "v")
    assert conn.command("MGET", a, b, c) == [b"A", None, None]


def test_mget_same_slot_keys(conn, cluster):
    tag = "{" + uuid.uuid4().hex[:8] + "}"
    keys = [f"{tag}:{i}" for i in range(5)]
    cluster.master_for_key(tag).client().mset({keys[1]: "1", keys[3]: "3"})
    assert conn.command("MGET", *keys) == [None, b"1", None, b"3", None]


def test_mget_parts_are_sent_in_parallel(conn, cluster):
    """While one master is paused, the parts for the other masters must already have
    been sent to them: a slotgate that waits for one part before sending the next
    would keep them queued. Each master is paused in turn, so whatever order the
    parts are dispatched in, some round would catch a serial implementation."""
    keys = spread_keys(cluster, 1)
    for k in keys:
        cluster.master_for_key(k).client().set(k, f"v-{k}")
    masters = [cluster.master_for_key(k) for k in keys]

    def mget_calls(node):
        stats = parse_info(node.call("INFO", "commandstats"))
        line = stats.get("cmdstat_mget", "calls=0")
        return int(line.split(",", 1)[0].split("=", 1)[1])

    for paused in masters:
        others = [m for m in masters if m is not paused]
        before = {m.port: mget_calls(m) for m in others}
        paused.call("CLIENT", "PAUSE", "1500", "ALL")
        t0 = time.monotonic()
        conn.send_command("MGET", *keys)
        try:
            deadline = t0 + 1.0
            while time.monotonic() < deadline:
                if all(mget_calls(m) > before[m.port] for m in others):
                    break
                time.sleep(0.02)
            reached = {m.address: mget_calls(m) > before[m.port] for m in others}
            still_paused = time.monotonic() - t0 < 1.4
        finally:
            reply = conn.read_reply(timeout=10)
            paused.call("CLIENT", "UNPAUSE")
        assert still_paused, "the check took too long to be meaningful"
        assert all(reached.values()), (
            f"while {paused.address} was paused, MGET parts did not reach {reached}")
        assert reply == [f"v-{k}".encode() for k in keys]


# ---- MSET / MSETNX ---------------------------------------------------------------------


def test_mset_splits_per_slot_and_every_key_lands_on_its_owner(conn, cluster):
    keys = spread_keys(cluster, 3)
    args = []
    for k in keys:
        args += [k, f"val-{k}"]
    assert conn.command("MSET", *args) == "OK"
    for k in keys:
        assert owner_value(cluster, k) == f"val-{k}".encode(), k
    assert conn.command("MGET", *keys) == [f"val-{k}".encode() for k in keys]


def test_mset_repeated_key_last_value_wins(conn, cluster):
    a, b, c = spread_keys(cluster, 1)
    assert conn.command("MSET", a, "1", b, "2", a, "3", c, "4", b, "5") == "OK"
    assert [owner_value(cluster, k) for k in (a, b, c)] == [b"3", b"5", b"4"]


def test_mset_of_200_keys(conn, cluster):
    keys = spread_keys(cluster, 67)[:200]
    args = []
    for i, k in enumerate(keys):
        args += [k, str(i)]
    assert conn.command("MSET", *args, timeout=10) == "OK"
    assert conn.command("MGET", *keys, timeout=10) == [str(i).encode() for i in range(200)]
    for node in cluster.masters():
        mine = [k for k in keys if cluster.master_for_key(k) is node]
        direct = node.client()
        assert sum(direct.exists(k) for k in mine) == len(mine), f"keys missing on {node.address}"


def test_mset_part_failure_names_the_keys_that_may_not_be_written(conn, cluster):
    keys = spread_keys(cluster, 2)
    failing = cluster.master_for_key(keys[0])
    failed_keys = [k for k in keys if cluster.master_for_key(k) is failing]
    ok_keys = [k for k in keys if k not in failed_keys]
    # Why maxmemory 1: with the default noeviction policy every write to that master
    # is refused with -OOM, while the other masters keep accepting writes.
    failing.call("CONFIG", "SET", "maxmemory", "1")
    try:
        args = []
        for k in keys:
            args += [k, "x"]
        reply = conn.command("MSET", *args, timeout=10)
    finally:
        failing.call("CONFIG", "SET", "maxmemory", "0")
    text = error_text(reply)
    assert text.split(" ", 1)[0].isupper(), f"error without a Redis error code: {text!r}"
    # Why the lookarounds: "...:k1" must not count as named because "...:k12" is.
    missing = [k for k in failed_keys if not re.search(rf"(?<![\w:]){re.escape(k)}(?!\w)", text)]
    assert not missing, f"MSET error does not name {missing}: {text!r}"
    for k in ok_keys:
        assert owner_value(cluster, k) == b"x", f"{k} on a healthy master was not written"
    for k in failed_keys:
        assert owner_value(cluster, k) is None
    assert conn.command("PING") == "PONG"


def test_msetnx_same_slot_goes_through(conn, cluster):
    tag = "{" + uuid.uuid4().hex[:8] + "}"
    owner = cluster.master_for_key(tag)
    assert conn.command("MSETNX", f"{tag}:a", "1", f"{tag}:b", "2") == 1
    assert owner.client().mget(f"{tag}:a", f"{tag}:b") == [b"1", b"2"]
    assert conn.command("MSETNX", f"{tag}:b", "x", f"{tag}:c", "3") == 0
    assert owner.client().mget(f"{tag}:b", f"{tag}:c") == [b"2", None]


def test_msetnx_across_slots_is_crossslot_and_writes_nothing(conn, cluster):
    a, b, c = spread_keys(cluster, 1)
    assert error_text(conn.command("MSETNX", a, "1", b, "2", c, "3")).startswith("CROSSSLOT ")
    for k in (a, b, c):
        assert owner_value(cluster, k) is None


# ---- DEL / UNLINK / EXISTS / TOUCH ---------------------------------------------------------


def _set_on_owners(cluster, keys, value="v"):
    for k in keys:
        cluster.master_for_key(k).client().set(k, value)


def test_exists_sums_over_masters_and_counts_duplicates(conn, cluster):
    keys = spread_keys(cluster, 3)
    present, absent = keys[:6], keys[6:]
    _set_on_owners(cluster, present)
    assert conn.command("EXISTS", *keys) == 6
    assert conn.command("EXISTS", *absent) == 0
    # Why: Redis counts a key once per mention: EXISTS a a -> 2.
    assert conn.command("EXISTS", present[0], present[0], present[1], absent[0], present[0]) == 4


def test_touch_sums_over_masters(conn, cluster):
    keys = spread_keys(cluster, 3)
    _set_on_owners(cluster, keys[:5])
    assert conn.command("TOUCH", *keys) == 5


@pytest.mark.parametrize("command", ["DEL", "UNLINK"])
def test_delete_sums_over_masters(conn, cluster, command):
    keys = spread_keys(cluster, 4)
    present = keys[::2]
    _set_on_owners(cluster, present)
    cluster.master_for_key(keys[1]).client().rpush(keys[1], "x")  # any type counts
    assert conn.command(command, *keys) == len(present) + 1
    for k in keys:
        assert cluster.master_for_key(k).client().exists(k) == 0, f"{k} survived {command}"
    assert conn.command(command, *keys) == 0


@pytest.mark.parametrize("command", ["DEL", "UNLINK"])
def test_delete_with_repeated_keys_counts_each_key_once(conn, cluster, command):
    a, b, c = spread_keys(cluster, 1)
    _set_on_owners(cluster, [a, b])
    assert conn.command(command, a, b, a, c, b, a) == 2


def test_del_of_300_keys(conn, cluster):
    p = prefix()
    keys = [f"{p}{i}" for i in range(300)]
    args = []
    for k in keys:
        args += [k, "1"]
    assert conn.command("MSET", *args, timeout=10) == "OK"
    assert conn.command("DEL", *keys, "missing-" + p, timeout=10) == 300
    assert conn.command("EXISTS", *keys, timeout=10) == 0


# ---- pipelining -------------------------------------------------------------------------


def test_split_commands_keep_their_place_in_a_pipeline(conn, cluster):
    a, b, c = spread_keys(cluster, 1)
    script = [
        (("SET", a, "1"), "OK"),
        (("MGET", a, b, c), [b"1", None, None]),
        (("GET", b), None),
        (("DEL", a, b), 1),
        (("EXISTS", a, b, c), 0),
        (("MSET", a, "x", b, "y", c, "z"), "OK"),
        (("PING",), "PONG"),
        (("MGET", c, b, a), [b"z", b"y", b"x"]),
        (("GET", c), b"z"),
        (("EXISTS", a, a, c), 3),
        (("TOUCH", a, b, c), 3),
        (("UNLINK", a, b, c), 3),
        (("MGET", a, b, c), [None, None, None]),
        (("ECHO", "end"), b"end"),
    ]
    conn.send(b"".join(encode_command(*cmd) for cmd, _ in script))
    replies = conn.read_replies(len(script), timeout=10)
    for (cmd, expected), got in zip(script, replies):
        assert got == expected, f"{cmd}: expected {expected!r}, got {got!r} (all replies: {replies!r})"


def test_long_mixed_pipeline_of_split_and_single_key_commands(conn, cluster):
    """300 commands in one write; a Python model of the keys gives every expected reply."""
    keys = spread_keys(cluster, 4)
    rng = random.Random(11)
    model: dict[str, bytes] = {}
    script = []
    for i in range(300):
        kind = rng.choice(["SET", "GET", "MGET", "MSET", "DEL", "EXISTS"])
        if kind == "SET":
            k = rng.choice(keys)
            model[k] = str(i).encode()
            script.append((("SET", k, str(i)), "OK"))
        elif kind == "GET":
            k = rng.choice(keys)
            script.append((("GET", k), model.get(k)))
        elif kind == "MGET":
            ks = rng.sample(keys, rng.randint(2, len(keys)))
            script.append((("MGET", *ks), [model.get(k) for k in ks]))
        elif kind == "MSET":
            ks = rng.sample(keys, rng.randint(2, 6))
            args = []
            for k in ks:
                model[k] = f"m{i}{k}".encode()
                args += [k, f"m{i}{k}"]
            script.append((("MSET", *args), "OK"))
        elif kind == "DEL":
            ks = rng.sample(keys, rng.randint(1, 4))
            n = sum(1 for k in ks if k in model)
            for k in ks:
                model.pop(k, None)
            script.append((("DEL", *ks), n))
        else:
            ks = [rng.choice(keys) for _ in range(rng.randint(1, 6))]
            script.append((("EXISTS", *ks), sum(1 for k in ks if k in model)))
    conn.send(b"".join(encode_command(*cmd) for cmd, _ in script))
    replies = conn.read_replies(len(script), timeout=20)
    for n, ((cmd, expected), got) in enumerate(zip(script, replies)):
        assert got == expected, f"command #{n} {cmd}: expected {expected!r}, got {got!r}"


def test_many_clients_splitting_at_once(slotgate, cluster):
    """Eight connections pipelining MSET/MGET over the same masters at the same time:
    merged replies must never mix parts of another client's command."""
    keys = spread_keys(cluster, 3)
    errors = []

    def worker(n):
        try:
            with slotgate.raw() as c:
                mine = [f"{k}:{n}" for k in keys]
                for rnd in range(30):
                    args = []
                    for k in mine:
                        args += [k, f"{n}-{rnd}-{k}"]
                    c.send(encode_command("MSET", *args) + encode_command("MGET", *mine))
                    ok, got = c.read_replies(2, timeout=10)
                    want = [f"{n}-{rnd}-{k}".encode() for k in mine]
                    if ok != "OK" or got != want:
                        errors.append(f"client {n} round {rnd}: {ok!r} {got!r} != {want!r}")
                        return
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(f"client {n}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
