"""Blocking commands through slotgate: BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN/MAX, BZMPOP,
XREAD / XREADGROUP with BLOCK, and WAIT.

A blocking command stalls the connection it runs on, so slotgate serves it on a
dedicated backend connection. What a client must see:

  * other clients are never blocked by it (1000 GETs answer fast meanwhile);
  * the block ends the way Redis ends it: served by a push from another client, or a
    nil after the timeout (honoured within a reasonable margin);
  * the blocked client's own later commands answer after it, in order;
  * a client that goes away cancels its block: nothing is popped for nobody;
  * a block that lives through a CLUSTER FAILOVER of its master goes on on the new master
    (the demoted one ends it with -UNBLOCKED, having served nothing) and is served there;
    an element is never lost.
"""

from __future__ import annotations

import re
import socket
import struct
import os
import time
import urllib.request
import uuid

import pytest

from harness import RawConnection, RespError, encode_command, error_text, wait_until

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"
ERROR_CODE_RE = re.compile(r"^[A-Z][A-Z_]+ \S")


def tag() -> str:
    return "{bl" + uuid.uuid4().hex[:10] + "}"


def blocked_clients_on(node) -> int:
    info = node.client().info("clients")
    return int(info["blocked_clients"])


def assert_still_waiting(conn, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        conn.read_reply(timeout=seconds)


# ---- served by another client -------------------------------------------------------------

# (setup commands, blocking command, serving commands, expected reply) per command; "K"
# stands for the key (all keys share one hash tag).
SERVED = {
    "BLPOP": ([], ["BLPOP", "K:l", "0"], [["RPUSH", "K:l", "a", "b"]], [b"K:l", b"a"]),
    "BRPOP": ([], ["BRPOP", "K:l", "0"], [["RPUSH", "K:l", "a", "b"]], [b"K:l", b"b"]),
    "BLMOVE": ([], ["BLMOVE", "K:src", "K:dst", "LEFT", "RIGHT", "0"], [["RPUSH", "K:src", "x"]], b"x"),
    "BRPOPLPUSH": ([], ["BRPOPLPUSH", "K:src", "K:dst", "0"], [["RPUSH", "K:src", "x"]], b"x"),
    "BLMPOP": ([], ["BLMPOP", "0", "2", "K:l1", "K:l2", "LEFT"], [["RPUSH", "K:l2", "x", "y"]],
               [b"K:l2", [b"x"]]),
    "BZPOPMIN": ([], ["BZPOPMIN", "K:z", "0"], [["ZADD", "K:z", "1", "a", "2", "b"]], [b"K:z", b"a", b"1"]),
    "BZPOPMAX": ([], ["BZPOPMAX", "K:z", "0"], [["ZADD", "K:z", "1", "a", "2", "b"]], [b"K:z", b"b", b"2"]),
    "BZMPOP": ([], ["BZMPOP", "0", "1", "K:z", "MIN"], [["ZADD", "K:z", "1", "a", "2", "b"]],
               [b"K:z", [[b"a", b"1"]]]),
    "XREAD": ([], ["XREAD", "BLOCK", "0", "STREAMS", "K:s", "$"], [["XADD", "K:s", "5-1", "f", "v"]],
              [[b"K:s", [[b"5-1", [b"f", b"v"]]]]]),
    "XREADGROUP": ([["XGROUP", "CREATE", "K:s", "g", "$", "MKSTREAM"]],
                   ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "K:s", ">"],
                   [["XADD", "K:s", "5-1", "f", "v"]], [[b"K:s", [[b"5-1", [b"f", b"v"]]]]]),
}


def fill(args, t):
    return [a.replace("K:", f"{t}:") for a in args]


def fill_reply(value, t):
    if isinstance(value, bytes):
        return value.replace(b"K:", f"{t}:".encode())
    if isinstance(value, list):
        return [fill_reply(v, t) for v in value]
    return value


@pytest.mark.parametrize("name", list(SERVED))
def test_blocked_command_is_served_by_another_client(conn, other, cluster, name):
    setup, blocking, serving, expected = SERVED[name]
    t = tag()
    for cmd in setup:
        assert not isinstance(other.command(*fill(cmd, t)), RespError)
    owner = cluster.master_for_key(t)
    before = blocked_clients_on(owner)
    conn.send_command(*fill(blocking, t))
    # The command really blocks on the owning master before anybody serves it.
    wait_until(lambda: blocked_clients_on(owner) > before, 5, f"{name} to block on {owner.address}")
    assert_still_waiting(conn)
    for cmd in serving:
        assert not isinstance(other.command(*fill(cmd, t)), RespError)
    assert conn.read_reply(timeout=5) == fill_reply(expected, t)
    # The session is usable afterwards, on its ordinary path.
    assert conn.command("PING") == "PONG"
    assert conn.command("SET", f"{t}:after", "1") == "OK"


def test_blmove_moves_on_the_owning_master(conn, other, cluster):
    t = tag()
    conn.send_command("BLMOVE", f"{t}:src", f"{t}:dst", "LEFT", "RIGHT", "5")
    assert_still_waiting(conn)
    assert other.command("RPUSH", f"{t}:src", "x") == 1
    assert conn.read_reply(timeout=5) == b"x"
    owner = cluster.master_for_key(t).client()
    assert owner.lrange(f"{t}:dst", 0, -1) == [b"x"]
    assert owner.exists(f"{t}:src") == 0


def test_ready_data_answers_at_once(conn, cluster):
    t = tag()
    assert conn.command("RPUSH", f"{t}:l", "a") == 1
    start = time.monotonic()
    assert conn.command("BLPOP", f"{t}:l", "0", timeout=2) == [f"{t}:l".encode(), b"a"]
    assert time.monotonic() - start < 0.5


def test_blocking_pops_on_every_master(slotgate, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=f"blm:{uuid.uuid4().hex[:8]}:")
    waiters = []
    try:
        for node, (key,) in per_master.items():
            c = slotgate.raw()
            waiters.append((c, node, key))
            c.send_command("BLPOP", key, "10")
        for node in per_master:
            wait_until(lambda n=node: blocked_clients_on(n) >= 1, 5, f"a BLPOP blocked on {node.address}")
        with slotgate.raw() as pusher:
            for _, _, key in waiters:
                assert pusher.command("LPUSH", key, "v-" + key) == 1
        for c, node, key in waiters:
            assert c.read_reply(timeout=5) == [key.encode(), ("v-" + key).encode()]
            assert node.client().exists(key) == 0
    finally:
        for c, _, _ in waiters:
            c.close()


def test_blocking_keys_in_different_slots_is_crossslot(conn, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=f"blx:{uuid.uuid4().hex[:8]}:")
    (a,), (b,) = list(per_master.values())[:2]
    start = time.monotonic()
    assert error_text(conn.command("BLPOP", a, b, "5")) == CROSSSLOT
    assert time.monotonic() - start < 1.0
    assert conn.command("PING") == "PONG"


# ---- timeouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("command,timeout_s", [
    (["BLPOP", "K:l", "1"], 1.0),
    (["BRPOP", "K:l1", "K:l2", "0.5"], 0.5),
    (["BLMOVE", "K:src", "K:dst", "LEFT", "LEFT", "0.5"], 0.5),
    (["BLMPOP", "0.5", "1", "K:l", "RIGHT"], 0.5),
    (["BZPOPMIN", "K:z", "0.5"], 0.5),
    (["BZPOPMAX", "K:z", "0.5"], 0.5),
    (["BZMPOP", "0.5", "1", "K:z", "MAX"], 0.5),
    (["XREAD", "BLOCK", "500", "STREAMS", "K:s", "$"], 0.5),
], ids=["BLPOP", "BRPOP", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "XREAD"])
def test_timeout_is_honoured_with_a_nil_reply(conn, cluster, command, timeout_s):
    t = tag()
    args = fill(command, t)
    with RawConnection(cluster.master_for_key(t).host, cluster.master_for_key(t).port) as d:
        expected = d.command(*args, timeout=timeout_s + 5)
    assert expected is None  # Redis's own answer to a timed-out block (RESP2 nil)
    start = time.monotonic()
    reply = conn.command(*args, timeout=timeout_s + 5)
    elapsed = time.monotonic() - start
    assert reply is None
    assert timeout_s * 0.9 <= elapsed <= timeout_s + 1.0, f"{command[0]} timed out after {elapsed:.2f}s"


def test_commands_pipelined_after_a_block_answer_after_it_in_order(conn, cluster):
    t = tag()
    start = time.monotonic()
    conn.send(encode_command("BLPOP", f"{t}:l", "1") + encode_command("PING") + encode_command("SET", f"{t}:k", "v")
              + encode_command("GET", f"{t}:k"))
    assert conn.read_reply(timeout=5) is None
    assert time.monotonic() - start >= 0.9
    assert conn.read_replies(3, timeout=5) == ["PONG", "OK", b"v"]


def test_other_clients_are_not_blocked(slotgate, cluster):
    # Several blocked clients (more than workers) so that at least one shares a worker
    # and a backend with the GETs below.
    t = tag()
    keys = [f"{t}:v{i}" for i in range(20)]
    with slotgate.raw() as setter:
        for k in keys:
            assert setter.command("SET", k, k) == "OK"
    blocked = [slotgate.raw() for _ in range(4)]
    try:
        for c in blocked:
            c.send_command("BLPOP", f"{t}:empty", "30")
        owner = cluster.master_for_key(t)
        wait_until(lambda: blocked_clients_on(owner) >= 4, 5, "4 BLPOPs to block")
        with slotgate.raw() as reader:
            worst = 0.0
            start = time.monotonic()
            for i in range(1000):
                t0 = time.monotonic()
                assert reader.command("GET", keys[i % len(keys)], timeout=2) == keys[i % len(keys)].encode()
                worst = max(worst, time.monotonic() - t0)
            total = time.monotonic() - start
        assert worst < 0.5, f"slowest GET took {worst * 1000:.0f} ms while clients were blocked"
        assert total < 10, f"1000 GETs took {total:.1f}s while clients were blocked"
        for c in blocked:
            assert_still_waiting(c, 0.05)
    finally:
        for c in blocked:
            c.close()


def test_blocked_client_can_be_served_while_another_blocks_on_the_same_key(slotgate, cluster):
    # Redis serves the client that blocked first; each gets exactly one element.
    t = tag()
    key = f"{t}:l"
    first, second = slotgate.raw(), slotgate.raw()
    try:
        owner = cluster.master_for_key(key)
        first.send_command("BLPOP", key, "10")
        wait_until(lambda: blocked_clients_on(owner) >= 1, 5, "the first BLPOP to block")
        second.send_command("BLPOP", key, "10")
        wait_until(lambda: blocked_clients_on(owner) >= 2, 5, "the second BLPOP to block")
        with slotgate.raw() as pusher:
            assert pusher.command("RPUSH", key, "one") == 1
            assert first.read_reply(timeout=5) == [key.encode(), b"one"]
            assert_still_waiting(second)
            assert pusher.command("RPUSH", key, "two") == 1
            assert second.read_reply(timeout=5) == [key.encode(), b"two"]
    finally:
        first.close()
        second.close()


# ---- the client goes away --------------------------------------------------------------------


def close_abruptly(c: RawConnection) -> None:
    # SO_LINGER 0: close() sends RST, the way a killed process's socket ends.
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


@pytest.mark.parametrize("how", ["close", "reset"])
def test_disconnect_cancels_the_block(slotgate, cluster, how):
    t = tag()
    key = f"{t}:l"
    owner = cluster.master_for_key(key)
    c = slotgate.raw()
    before = blocked_clients_on(owner)
    c.send_command("BLPOP", key, "0")
    wait_until(lambda: blocked_clients_on(owner) > before, 5, "BLPOP to block on the master")
    if how == "reset":
        close_abruptly(c)
    else:
        c.close()
    # slotgate must give up the blocked backend connection, or the next push feeds it.
    wait_until(lambda: blocked_clients_on(owner) <= before, 5,
               f"the block to be cancelled on {owner.address} after the client went away")
    with slotgate.raw() as pusher:
        assert pusher.command("LPUSH", key, "kept") == 1
        time.sleep(0.2)
        assert pusher.command("LRANGE", key, "0", "-1") == [b"kept"]
    assert owner.client().lrange(key, 0, -1) == [b"kept"]


def test_disconnect_during_xread_block_cancels_it(slotgate, cluster):
    t = tag()
    key = f"{t}:s"
    owner = cluster.master_for_key(key)
    c = slotgate.raw()
    before = blocked_clients_on(owner)
    assert owner.client().xgroup_create(key, "g", id="$", mkstream=True)
    c.send_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", key, ">")
    wait_until(lambda: blocked_clients_on(owner) > before, 5, "XREADGROUP to block on the master")
    close_abruptly(c)
    wait_until(lambda: blocked_clients_on(owner) <= before, 5, "the XREADGROUP block to be cancelled")
    owner.client().xadd(key, {"f": "v"}, id="7-1")
    time.sleep(0.2)
    # Nobody consumed it: the entry is still undelivered to the group.
    pending = owner.client().xpending(key, "g")
    assert pending["pending"] == 0


# ---- WAIT ---------------------------------------------------------------------------------------


def test_wait_after_a_write_counts_replicas(conn, cluster):
    t = tag()
    assert conn.command("SET", f"{t}:k", "v") == "OK"
    start = time.monotonic()
    reply = conn.command("WAIT", "1", "2000", timeout=10)
    elapsed = time.monotonic() - start
    assert isinstance(reply, int) and 0 <= reply <= 1, reply
    assert elapsed < 3.0
    # Other clients are not held by it.
    assert conn.command("PING") == "PONG"


def test_wait_zero_replicas_returns_at_once(conn):
    start = time.monotonic()
    reply = conn.command("WAIT", "0", "0", timeout=5)
    assert isinstance(reply, int) and reply >= 0, reply
    assert time.monotonic() - start < 1.0


# ---- failover -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_blocked_pop_through_cluster_failover(fresh_cluster, make_slotgate):
    """BLPOP blocked on a master that hands over to its replica. The demoted master ends the
    block with "-UNBLOCKED ... instance state changed": it popped nothing, so slotgate runs the
    BLPOP again where the slot's master now is, and a push after the failover serves it. The
    client never sees the failover: no error, no lost element, and its connection goes on."""
    c = fresh_cluster()
    gate = make_slotgate(seeds=c.seeds)
    t = tag()
    key = f"{t}:l"
    owner = c.master_for_key(key)
    replica = c.replicas_of(owner)[0]
    blocked = gate.raw()
    try:
        blocked.send_command("BLPOP", key, "0")
        wait_until(lambda: blocked_clients_on(owner) >= 1, 5, "BLPOP to block on the master")
        c.failover(replica)
        # Blocked again, on the new master, before anything is pushed: the retry did not wait
        # for the push to come.
        wait_until(lambda: blocked_clients_on(replica) >= 1, 20, "BLPOP to block on the new master")
        with gate.raw() as pusher:
            assert pusher.command("LPUSH", key, "after-failover", timeout=20) == 1
        reply = blocked.read_reply(timeout=20)
        assert reply == [key.encode(), b"after-failover"], reply
        assert c.master_for_key(key).client().lrange(key, 0, -1) == []
        # The connection is still good.
        assert blocked.command("PING") == "PONG"
        assert blocked.command("SET", f"{t}:k", "v", timeout=10) == "OK"
        # Operators see it (workers publish their counters about once a second).
        wait_until(lambda: unblocked_by_failover(gate) == 1, 5, "the unblocked counter to count it")
    finally:
        blocked.close()


def unblocked_by_failover(gate) -> float:
    with urllib.request.urlopen(gate.admin_url("/metrics"), timeout=5) as r:
        body = r.read().decode()
    m = re.search(r'^slotgate_cluster_errors_total\{kind="unblocked"\} (\S+)$', body, re.M)
    return float(m.group(1)) if m else -1.0


def test_client_unblock_error_on_the_node_is_the_clients_answer(cluster, make_slotgate):
    """Only a demotion's UNBLOCKED is run again: CLIENT UNBLOCK <id> ERROR sent to the node by
    someone else ends the block on purpose, and the client gets that error."""
    gate = make_slotgate(seeds=cluster.seeds)
    key = f"{tag()}:l"
    owner = cluster.master_for_key(key)
    blocked = gate.raw()
    try:
        blocked.send_command("BLPOP", key, "0")
        wait_until(lambda: blocked_clients_on(owner) >= 1, 5, "BLPOP to block on the master")
        node = owner.client()
        ids = [c["id"] for c in node.client_list() if c.get("cmd") == "blpop"]
        assert len(ids) == 1, node.client_list()
        assert node.execute_command("CLIENT", "UNBLOCK", ids[0], "ERROR") == 1
        reply = blocked.read_reply(timeout=10)
        assert isinstance(reply, RespError), reply
        assert error_text(reply) == "UNBLOCKED client unblocked via CLIENT UNBLOCK", reply
        assert blocked.command("PING") == "PONG"
    finally:
        blocked.close()


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_blocking_pop_for_a_dead_master_waits_quietly_then_is_served(fresh_cluster, make_slotgate):
    # A BLPOP sent while its master is dead (kill -9, failover not done yet) is held
    # like any request: slotgate must not spin reconnecting its dedicated connection
    # (the pool's backoff applies), and once the replica is promoted the BLPOP runs
    # there and is served by a push.
    cluster = fresh_cluster()
    sg = make_slotgate(seeds=cluster.seeds)
    key = tag() + "dead"
    master = cluster.master_for_key(key)
    replica = cluster.replicas_of(master)[0]
    warm = sg.raw()
    assert warm.command("SET", key + "x", "1") == "OK"  # the pool has a live connection to it
    warm.close()
    cluster.kill(master)
    blocked = sg.raw()
    try:
        blocked.send_command("BLPOP", key, "0")
        before = _cpu_seconds(sg.process.pid)
        time.sleep(3.0)
        burnt = _cpu_seconds(sg.process.pid) - before
        assert burnt < 1.0, f"slotgate used {burnt:.2f} CPU s in 3 s while the BLPOP waited"
        cluster.wait_promoted(replica)
        pusher = sg.raw()
        try:
            deadline = time.monotonic() + 20
            while True:
                # The push may itself be held until slotgate sees the new master.
                if pusher.command("RPUSH", key, "v", timeout=25) == 1 or time.monotonic() > deadline:
                    break
        finally:
            pusher.close()
        assert blocked.read_reply(timeout=25) == [key.encode(), b"v"]
    finally:
        blocked.close()
