"""A reply is data until the cluster confirms it is a signal; one client's reply or slow
command never fails another client's request on a shared backend connection.

Scripts can return any error text (`redis.error_reply("MOVED 0 10.0.0.1:6379")`) after
they wrote; slotgate must pass it to the client, never re-run the script or connect where
it says. A reply redis-server sends (any nesting depth) is forwarded, and a command that
runs long (a script, KEYS) neither fails nor delays other clients' requests when it passes
command_timeout, and SCRIPT KILL still reaches the busy master through slotgate.
"""

import os
import re
import select
import socket
import sys
import time
import urllib.request

import pytest

from harness import RawConnection, RespError, key_slot

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))

# Busy-loops for ARGV[1] milliseconds without writing (so SCRIPT KILL may stop it).
BUSY_LUA = """
local function now() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end
local start = now()
while now() - start < tonumber(ARGV[1]) do end
return 'done'
"""


def nested_lua(depth):
    return f"local t = 'leaf' for i = 1, {depth} do t = {{t}} end return t"


def depth_of(reply):
    depth = 0
    while isinstance(reply, list):
        assert len(reply) == 1
        reply = reply[0]
        depth += 1
    assert reply == b"leaf" or reply == "leaf"
    return depth


def wait_for_metric(gate, pattern, timeout=5.0):
    deadline = time.monotonic() + timeout
    value = 0.0
    while time.monotonic() < deadline:
        text = urllib.request.urlopen(gate.admin_url("/metrics"), timeout=2).read().decode()
        m = re.search(pattern, text)
        value = float(m.group(1)) if m else 0.0
        if value > 0:
            break
        time.sleep(0.2)
    return value


def gate_config(command_timeout="5s", failover_hold="20s"):
    return (f"cluster:\n  command_timeout: {command_timeout}\n"
            f"  failover_hold: {failover_hold}\n")


@pytest.fixture
def listener():
    """A plain socket on 127.0.0.5 (loopback) that records every connection attempt."""
    port = 7777 + PORT_OFFSET
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.5", port))
    s.listen(16)
    s.setblocking(False)
    yield s, port
    s.close()


def accepted_within(sock, seconds):
    deadline = time.monotonic() + seconds
    count = 0
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if ready:
            try:
                c, _ = sock.accept()
                c.close()
                count += 1
            except BlockingIOError:
                pass
    return count


def test_script_redirect_opens_no_connection_to_unknown_hosts(make_slotgate, listener):
    sock, port = listener
    gate = make_slotgate(config_text=gate_config(failover_hold="3s"))
    conn = gate.raw()
    try:
        for text in (f"MOVED 0 127.0.0.5:{port}", f"ASK 0 127.0.0.5:{port}",
                     f"MOVED 5000 127.0.0.5:{port}"):
            reply = conn.command("EVAL_RO", f"return redis.error_reply('{text}')", "0", timeout=10)
            # The script's reply is the client's data: passed on as it is.
            assert isinstance(reply, RespError) and reply == text, reply
        assert accepted_within(sock, 1.5) == 0, "slotgate connected to an address a script named"
        assert conn.command("SET", "trust:after", "1") == "OK"
    finally:
        conn.close()


@pytest.mark.parametrize("error", ["TRYAGAIN fake", "CLUSTERDOWN fake", "LOADING fake",
                                   "MOVED {slot} {owner}"])
def test_script_tryagain_error_is_not_retried(make_slotgate, cluster, error):
    gate = make_slotgate(config_text=gate_config(failover_hold="3s"))
    key = "{trust-retry}:counter"
    owner = cluster.master_for_key(key)
    text = error.format(slot=key_slot(key), owner=owner.address)
    conn = gate.raw()
    try:
        conn.command("DEL", key)
        script = f"redis.call('INCR', KEYS[1]) return redis.error_reply('{text}')"
        reply = conn.command("EVAL", script, "1", key, timeout=15)
        assert isinstance(reply, RespError) and reply == text, reply
        # The script ran exactly once: its error did not make slotgate run it again.
        assert conn.command("GET", key) == b"1"
    finally:
        conn.close()


def test_deeply_nested_script_reply_is_forwarded_and_other_clients_unaffected(make_slotgate):
    # One worker: both clients share its backend connections.
    gate = make_slotgate(workers=1)
    tag = "{trust-deep}"
    a, b = gate.raw(), gate.raw()
    try:
        b.command("DEL", f"{tag}:b")
        # A's script first keeps the master busy for a moment, so B's writes are in
        # flight on the same master while A's 300-deep reply arrives.
        script = BUSY_LUA.replace("return 'done'", "") + nested_lua(300)
        a.send_command("EVAL", script, "1", f"{tag}:a", "300")
        time.sleep(0.1)
        for _ in range(50):
            b.send_command("INCR", f"{tag}:b")
        replies = b.read_replies(50, timeout=15)
        assert replies == list(range(1, 51)), [r for r in replies if isinstance(r, RespError)][:3]
        assert depth_of(a.read_reply(timeout=15)) == 300
        # And a deeper one with nothing else in flight (the test's own parser recurses).
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20000))
        try:
            assert depth_of(a.command("EVAL_RO", nested_lua(1000), "0", timeout=10)) == 1000
        finally:
            sys.setrecursionlimit(limit)
        assert b.command("GET", f"{tag}:b") == b"50"
    finally:
        a.close()
        b.close()


def test_slow_command_timeout_fails_only_the_slow_request(make_slotgate):
    gate = make_slotgate(workers=1, config_text=gate_config(command_timeout="2s"))
    tag = "{trust-slow}"
    a, b = gate.raw(), gate.raw()
    try:
        b.command("DEL", f"{tag}:b")
        started = time.monotonic()
        # A's script keeps the master busy for 3 s, past command_timeout (2 s).
        a.send_command("EVAL_RO", BUSY_LUA, "1", f"{tag}:a", "3000")
        time.sleep(1.5)
        # B's write waits 1.5 s for the busy master: less than command_timeout.
        b.send_command("INCR", f"{tag}:b")
        slow = a.read_reply(timeout=15)
        slow_after = time.monotonic() - started
        assert b.read_reply(timeout=15) == 1, "B's write failed with the slow request"
        assert b.command("GET", f"{tag}:b") == b"1"
        # The slow request itself failed at command_timeout, not when the script ended.
        assert isinstance(slow, RespError) and "command_timeout" in slow, slow
        assert slow_after < 2.9, f"the slow request failed only after {slow_after:.1f}s"
    finally:
        a.close()
        b.close()


BUSY_FUNCTION = """#!lua name=trustbusy
redis.register_function{function_name='trust_busy', flags={'no-writes'}, callback=function(keys, args)
  local function now() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end
  local start = now()
  while now() - start < tonumber(args[1]) do end
  return 'done'
end}
"""


@pytest.mark.parametrize("kind", ["script", "function"])
def test_script_kill_reaches_busy_master(make_slotgate, cluster, kind):
    gate = make_slotgate(workers=1, config_text=gate_config(command_timeout="1500ms"))
    tag = "{trust-kill}"
    master = cluster.master_for_key(f"{tag}:a")
    # The master takes other commands (SCRIPT KILL, or BUSY for the rest) only after
    # busy-reply-threshold; keep that short so the test is fast.
    master.call("CONFIG", "SET", "busy-reply-threshold", "200")
    a, b = gate.raw(), gate.raw()
    started = time.monotonic()
    try:
        if kind == "function":
            assert b.command("FUNCTION", "LOAD", "REPLACE", BUSY_FUNCTION, timeout=10) == b"trustbusy"
            started = time.monotonic()
            a.send_command("FCALL_RO", "trust_busy", "1", f"{tag}:a", "3000")
        else:
            a.send_command("EVAL_RO", BUSY_LUA, "1", f"{tag}:a", "3000")
        time.sleep(0.6)
        killed = b.command("SCRIPT" if kind == "script" else "FUNCTION", "KILL", timeout=10)
        assert killed == "OK", killed
        reply = a.read_reply(timeout=10)
        assert isinstance(reply, RespError) and "killed" in reply.lower(), reply
        assert time.monotonic() - started < 2.5, "the script ran to its end"
        # The master serves everyone again (not BUSY).
        assert master.call("PING", timeout=2) in (True, b"PONG", "PONG")
        assert b.command("SET", f"{tag}:b", "1") == "OK"
    finally:
        a.close()
        b.close()
        time.sleep(max(0.0, 3.2 - (time.monotonic() - started)))
        master.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        if kind == "function":
            for m in cluster.masters():
                m.call("FUNCTION", "DELETE", "trustbusy")


@pytest.mark.slow
def test_moved_and_ask_to_a_node_that_joined_later_are_followed_once_the_cluster_confirms(
        fresh_cluster, make_slotgate):
    # A real resharding onto a node slotgate has never seen: the redirect names an
    # address outside its view, the refresh from the known nodes confirms it, and the
    # client sees ordinary replies.
    cluster = fresh_cluster(replicas_per_master=0)
    gate = make_slotgate(seeds=cluster.seeds, config_text="cluster:\n  refresh_interval: 10m\n")
    conn = gate.raw()
    try:
        moved_key, asked_key = "{trust-join-moved}:k", "{trust-join-ask}:k"
        for key in (moved_key, asked_key):
            assert conn.command("SET", key, "before") == "OK"
        newcomer = cluster.add_node(join=True)
        cluster.move_slot(key_slot(moved_key), newcomer)
        assert conn.command("GET", moved_key, timeout=10) == b"before"
        assert conn.command("SET", moved_key, "after", timeout=10) == "OK"
        assert newcomer.client().get(moved_key) == b"after"

        slot = key_slot(asked_key)
        cluster.begin_migration(slot, newcomer)
        cluster.migrate_keys(slot, newcomer)
        assert conn.command("GET", asked_key, timeout=10) == b"before"
        cluster.finish_migration(slot, newcomer)
        assert conn.command("GET", asked_key, timeout=10) == b"before"
        # The first redirect named an address outside the view: routed after a refresh.
        assert wait_for_metric(gate, r'slotgate_redirections_total\{kind="unconfirmed"\} (\S+)') >= 1
    finally:
        conn.close()


def test_pipelined_long_commands_keep_their_place_in_the_client_order(make_slotgate):
    # KEYS, SCAN and scripts run on connections of their own; a client's pipeline
    # still executes in its order, as on one Redis connection.
    gate = make_slotgate(workers=1)
    conn = gate.raw()
    try:
        conn.command("EVAL", "for _, k in ipairs(redis.call('KEYS', 'ord:*')) do "
                     "redis.call('DEL', k) end", "0")
        for prefix in ("ord:a", "ord:b", "ord:c"):
            conn.command("DEL", *[f"{prefix}{i}" for i in range(20)])
        expected = []
        for i in range(20):
            conn.send_command("SET", f"ord:a{i}", "x")
            conn.send_command("KEYS", "ord:a*")
            conn.send_command("SET", f"ord:b{i}", "x")
            conn.send_command("EVAL_RO", "return #redis.call('KEYS', ARGV[1])", "0", "ord:b*")
            conn.send_command("DEL", f"ord:b{i}")
            expected += ["OK", i + 1, "OK", None, 1]
        replies = conn.read_replies(len(expected), timeout=30)
        for n, (got, want) in enumerate(zip(replies, expected)):
            if n % 5 == 1:
                assert len(got) == want, (n, got)
            elif n % 5 == 3:
                # The EVAL_RO ran on one master: it sees ord:b{i} only if that key lives
                # there, and never a key the pipeline deleted before it.
                assert got in (0, 1), (n, got)
            else:
                assert got == want, (n, got)
    finally:
        conn.close()


@pytest.mark.slow
def test_tryagain_retries_wait_in_the_hold_queue_and_respect_its_limit(fresh_cluster, make_slotgate):
    # A multi-key command on a half-migrated slot gets TRYAGAIN from the node; slotgate
    # retries it by holding it, and the hold queue's limit applies to such retries too.
    cluster = fresh_cluster(replicas_per_master=0)
    gate = make_slotgate(seeds=cluster.seeds, config_text=(
        "cluster:\n  failover_hold: 3s\n  hold_queue_limit: 0\n"))
    conn = gate.raw()
    try:
        a, b = "{trust-tryagain}:a", "{trust-tryagain}:b"
        assert conn.command("MSET", a, "1", b, "2") == "OK"
        slot = key_slot(a)
        target = next(m for m in cluster.masters() if m.address != cluster.master_for_slot(slot).address)
        cluster.begin_migration(slot, target)
        try:
            cluster.migrate_keys(slot, target, keys=[a])
            started = time.monotonic()
            reply = conn.command("MGET", a, b, timeout=10)
            took = time.monotonic() - started
            assert isinstance(reply, RespError) and reply.startswith("CLUSTERDOWN too many requests"), reply
            assert took < 1.0, f"the retry waited {took:.1f}s outside the hold queue"
        finally:
            cluster.migrate_keys(slot, target)
            cluster.finish_migration(slot, target)
    finally:
        conn.close()


def test_a_burst_of_slow_commands_leaves_no_extra_connections_on_the_node(make_slotgate, cluster):
    gate = make_slotgate(workers=1)
    key = "{trust-burst}:x"
    master = cluster.master_for_key(key)

    def connections():
        c = RawConnection(master.host, master.port)
        try:
            return len(c.command("CLIENT", "LIST").decode().splitlines())
        finally:
            c.close()

    warm = gate.raw()
    assert warm.command("EVAL_RO", BUSY_LUA, "1", key, "1") == b"done"
    before = connections()
    conns = [gate.raw() for _ in range(6)]
    try:
        for c in conns:
            c.send_command("EVAL_RO", BUSY_LUA, "1", key, "200")
        assert [c.read_reply(timeout=15) for c in conns] == [b"done"] * 6
        # Six slow commands at once ran on connections of their own; once idle, all but
        # one are closed again.
        deadline = time.monotonic() + 3
        while connections() > before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert connections() <= before
    finally:
        warm.close()
        for c in conns:
            c.close()
