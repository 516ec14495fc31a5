"""slotgate's own sessions, seen and managed the way one Redis server shows its clients.

slotgate answers INFO clients/stats, CLIENT REPLY/KILL/NO-EVICT/NO-TOUCH about the
sessions it holds itself (proxy-wide: the fixture runs two workers, and the kernel
spreads connections over them), since the backend connections are shared and the
cluster nodes never see slotgate's clients. Tools and tests poll `blocked_clients` to
know when a client is blocked. Broadcasts that every master refuses the same way answer
that one error, as one Redis would.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

from harness import RawConnection, RespError, encode_command, error_text, processes, wait_until


def tag() -> str:
    return "{ca" + uuid.uuid4().hex[:10] + "}"


def info_fields(conn, section: str) -> dict[str, str]:
    text = conn.command("INFO", section)
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in str(text).splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def field(conn, section: str, name: str) -> int:
    fields = info_fields(conn, section)
    assert name in fields, f"INFO {section} has no {name}: {fields}"
    return int(fields[name])


def connections(slotgate, n: int):
    conns = [slotgate.raw() for _ in range(n)]
    for c in conns:
        assert c.command("PING") == "PONG"
    return conns


# -- INFO clients / stats ---------------------------------------------------------------------


def test_info_blocked_clients_counts_sessions_waiting_in_blocking_commands(slotgate, conn):
    t = tag()
    waiters = connections(slotgate, 6)
    try:
        for i, w in enumerate(waiters[:5]):
            w.send_command("BLPOP", f"{t}list{i}", "20")
        waiters[5].send_command("XREAD", "BLOCK", "20000", "STREAMS", f"{t}stream", "$")
        wait_until(lambda: field(conn, "clients", "blocked_clients") == 6, 5,
                   "blocked_clients reaches 6 (sessions spread over both workers)")
        for i, w in enumerate(waiters[:3]):
            assert conn.command("RPUSH", f"{t}list{i}", "x") == 1
            assert w.read_reply() == [f"{t}list{i}".encode(), b"x"]
        wait_until(lambda: field(conn, "clients", "blocked_clients") == 3, 5,
                   "blocked_clients drops as blocks are served")
        # A blocked client that goes away is no longer blocked.
        for w in waiters[3:]:
            w.close()
        wait_until(lambda: field(conn, "clients", "blocked_clients") == 0, 5,
                   "blocked_clients back to 0 after the blocked clients left")
    finally:
        for w in waiters:
            w.close()


def test_info_clients_counts_pubsub_clients_and_tracking(slotgate, conn):
    subs = connections(slotgate, 4)
    try:
        for i, s in enumerate(subs):
            assert s.command("SUBSCRIBE", f"chan-{uuid.uuid4().hex}")[0] == b"subscribe"
        wait_until(lambda: field(conn, "clients", "pubsub_clients") == 4, 5,
                   "pubsub_clients reaches 4")
        assert field(conn, "clients", "tracking_clients") == 0
        assert field(conn, "clients", "connected_clients") >= 5
    finally:
        for s in subs:
            s.close()
    wait_until(lambda: field(conn, "clients", "pubsub_clients") == 0, 5, "pubsub_clients back to 0")


def test_info_stats_counts_commands_and_ops_per_second_over_all_workers(slotgate, conn):
    before = info_fields(conn, "stats")
    conns = connections(slotgate, 8)
    try:
        deadline = time.monotonic() + 1.2
        sent = 0
        while time.monotonic() < deadline:
            for c in conns:
                c.send(b"PING\r\n" * 50)
            for c in conns:
                c.read_replies(50)
            sent += 400
        ops = field(conn, "stats", "instantaneous_ops_per_sec")
        after = info_fields(conn, "stats")
    finally:
        for c in conns:
            c.close()
    processed = int(after["total_commands_processed"]) - int(before["total_commands_processed"])
    assert processed >= sent + 8
    assert ops > 100, f"instantaneous_ops_per_sec {ops} while ~{sent / 1.2:.0f} commands/s ran"
    assert int(after["total_connections_received"]) - int(before["total_connections_received"]) >= 8
    assert "rejected_connections" in after


# -- CLIENT REPLY -----------------------------------------------------------------------------


def test_client_reply_off_drops_replies_until_on(conn):
    t = tag()
    conn.send_command("CLIENT", "REPLY", "OFF")
    conn.send_command("SET", f"{t}a", "1")
    conn.send_command("GET", f"{t}a")  # forwarded, answered by a master: dropped
    conn.send_command("MGET", f"{t}a", "{other}b")  # split over masters: dropped
    conn.send_command("PING")  # local: dropped
    conn.send_command("NOSUCHCOMMAND")  # an error: dropped too
    conn.send_command("CLIENT", "REPLY", "ON")
    assert conn.read_reply() == "OK"
    assert conn.command("GET", f"{t}a") == b"1"
    with pytest.raises(TimeoutError):
        conn.read_reply(timeout=0.3)


def test_client_reply_skip_drops_only_the_next_reply(conn):
    t = tag()
    conn.send_command("CLIENT", "REPLY", "SKIP")
    conn.send_command("INCR", f"{t}n")
    conn.send_command("INCR", f"{t}n")
    assert conn.read_reply() == 2
    assert conn.command("PING") == "PONG"
    assert "syntax error" in error_text(conn.command("CLIENT", "REPLY", "MAYBE"))


# -- broadcasts every master refuses alike ----------------------------------------------------


def direct_error(cluster, *args) -> str:
    """What one Redis answers (a cluster master, asked directly)."""
    node = cluster.master_for_key("any")
    with RawConnection(node.host, node.port) as c:
        return error_text(c.command(*args))


@pytest.mark.parametrize("args", [
    ("SCRIPT", "LOAD", "return +"),
    ("FUNCTION", "RESTORE", "not-a-dump-payload"),
    ("CONFIG", "SET", "notify-keyspace-events", "Q!"),
    ("FUNCTION", "DELETE", "no_such_library_here"),
], ids=["script-load", "function-restore", "config-set", "function-delete"])
def test_broadcast_refused_by_every_master_returns_their_error_unchanged(cluster, conn, args):
    expected = direct_error(cluster, *args)
    assert error_text(conn.command(*args)) == expected


# -- CLIENT KILL / UNBLOCK / NO-EVICT ---------------------------------------------------------


def client_id(c) -> int:
    return int(c.command("CLIENT", "ID"))


def local_addr(c) -> str:
    host, port = c.sock.getsockname()[:2]
    return f"{host}:{port}"


def test_client_kill_by_id_and_addr_reaches_sessions_on_every_worker(slotgate, conn):
    victims = connections(slotgate, 6)  # spread over both workers by the kernel
    try:
        for v in victims[:3]:
            assert conn.command("CLIENT", "KILL", "ID", str(client_id(v))) == 1
        for v in victims[3:5]:
            assert conn.command("CLIENT", "KILL", "ADDR", local_addr(v), "SKIPME", "yes") == 1
        # The old form answers +OK, or an error when nobody has that address.
        assert conn.command("CLIENT", "KILL", local_addr(victims[5])) == "OK"
        for v in victims:
            assert v.is_closed(timeout=2.0), "a killed client's connection stays open"
        assert error_text(conn.command("CLIENT", "KILL", "127.0.0.1:1")) == "ERR No such client"
        assert conn.command("CLIENT", "KILL", "ID", "999999999") == 0
        assert conn.command("PING") == "PONG"  # SKIPME yes by default: the caller lives
    finally:
        for v in victims:
            v.close()


def test_client_kill_laddr_user_and_skipme_filters(slotgate, conn):
    victims = connections(slotgate, 4)
    laddr = f"127.0.0.1:{slotgate.port}"
    try:
        # Every client of slotgate (but this one) connected to laddr as the default user.
        killed = conn.command("CLIENT", "KILL", "LADDR", laddr, "USER", "default")
        assert killed >= 4
        for v in victims:
            assert v.is_closed(timeout=2.0)
        assert conn.command("CLIENT", "KILL", "LADDR", "10.9.9.9:1") == 0
        assert error_text(conn.command("CLIENT", "KILL", "USER", "nobody-like-this")) == \
            "ERR No such user 'nobody-like-this'"
        assert "syntax error" in error_text(conn.command("CLIENT", "KILL", "ID", "1", "SKIPME"))
        assert "syntax error" in error_text(conn.command("CLIENT", "KILL", "BOGUS", "1"))
        # SKIPME no with the caller's own id: answered, then the caller is closed.
        assert conn.command("CLIENT", "KILL", "ID", str(client_id(conn)), "SKIPME", "no") == 1
        assert conn.is_closed(timeout=2.0)
    finally:
        for v in victims:
            v.close()


def test_client_unblock_ends_a_block_with_nil_or_unblocked_error(slotgate, conn):
    t = tag()
    a, b = connections(slotgate, 2)
    ida, idb = client_id(a), client_id(b)
    try:
        assert conn.command("CLIENT", "UNBLOCK", str(ida)) == 0  # not blocked yet
        a.send_command("BLPOP", f"{t}a", "30")
        b.send_command("XREAD", "BLOCK", "30000", "STREAMS", f"{t}s", "$")
        wait_until(lambda: field(conn, "clients", "blocked_clients") == 2, 5, "both blocked")
        assert conn.command("CLIENT", "UNBLOCK", str(ida), "TIMEOUT") == 1
        assert a.read_reply(timeout=3) is None
        assert conn.command("CLIENT", "UNBLOCK", str(idb), "ERROR") == 1
        assert error_text(b.read_reply(timeout=3)) == \
            "UNBLOCKED client unblocked via CLIENT UNBLOCK"
        wait_until(lambda: field(conn, "clients", "blocked_clients") == 0, 5, "none blocked")
        # Both sessions go on normally, and nothing was left blocked on the nodes.
        assert a.command("PING") == "PONG"
        assert conn.command("LPUSH", f"{t}a", "x") == 1
        assert a.command("LLEN", f"{t}a") == 1
        assert "TIMEOUT or ERROR" in error_text(conn.command("CLIENT", "UNBLOCK", str(ida), "NOW"))
    finally:
        a.close()
        b.close()


def test_client_no_evict_is_accepted_per_session(conn):
    assert conn.command("CLIENT", "NO-EVICT", "on") == "OK"
    assert conn.command("CLIENT", "NO-EVICT", "off") == "OK"
    assert "syntax error" in error_text(conn.command("CLIENT", "NO-EVICT", "maybe"))


USERS_CONFIG = """\
clients:
  password: adminpw
  users:
    - name: alice
      password: p
    - name: bob
      password: p
    - name: ro
      password: p
      readonly: true
    - name: songs
      password: p
      keys: ["song*"]
"""


def test_client_kill_respects_users(make_slotgate):
    gate = make_slotgate(config_text=USERS_CONFIG)

    def login(user):
        c = gate.raw()
        assert c.command("AUTH", user, "p") == "OK"
        return c

    alice, alice2, bob, ro, songs = (login(u) for u in ("alice", "alice", "bob", "ro", "songs"))
    try:
        # A named user reaches its own sessions only, as CLIENT LIST shows them.
        assert alice.command("CLIENT", "KILL", "ID", str(client_id(bob))) == 0
        assert alice.command("CLIENT", "KILL", "USER", "bob") == 0
        assert error_text(alice.command("CLIENT", "KILL", local_addr(bob))) == "ERR No such client"
        assert alice.command("CLIENT", "UNBLOCK", str(client_id(bob))) == 0
        assert not bob.is_closed(timeout=0.3)
        assert alice.command("CLIENT", "KILL", "USER", "alice") == 1
        assert alice2.is_closed(timeout=2.0)
        # Read-only and key-limited users may not run admin commands at all.
        for c, name in ((ro, "ro"), (songs, "songs")):
            for args in (("CLIENT", "KILL", "ID", str(client_id(bob))),
                         ("CLIENT", "UNBLOCK", str(client_id(bob))),
                         ("CLIENT", "NO-EVICT", "on")):
                text = error_text(c.command(*args))
                assert text.startswith("NOPERM this user has no permissions to run"), text
        assert bob.command("PING") == "PONG"
        # The default user (the administrator) reaches everyone.
        with gate.raw() as admin:
            assert admin.command("AUTH", "adminpw") == "OK"
            assert admin.command("CLIENT", "KILL", "USER", "bob") == 1
        assert bob.is_closed(timeout=2.0)
    finally:
        for c in (alice, alice2, bob, ro, songs):
            c.close()


# -- blocking commands whose key is deleted or changes type -----------------------------------


def _blocked_outcome(host, port, key, scenario):
    a = RawConnection(host, port)
    b = RawConnection(host, port)
    try:
        if scenario.startswith("xreadgroup"):
            assert b.command("XGROUP", "CREATE", key, "g", "$", "MKSTREAM") == "OK"
            a.send_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", key, ">")
        else:
            a.send_command("BLPOP", key, "2")
        time.sleep(0.3)
        if scenario == "xreadgroup-deleted":
            b.command("DEL", key)
        elif scenario == "xreadgroup-type":
            b.command("DEL", key)
            b.command("SET", key, "x")
        elif scenario == "xreadgroup-group-destroyed":
            b.command("XGROUP", "DESTROY", key, "g")
        elif scenario == "blpop-type":
            b.command("SET", key, "x")
        reply = a.read_reply(timeout=6)
        return str(reply) if isinstance(reply, RespError) else reply
    finally:
        b.command("DEL", key)
        a.close()
        b.close()


@pytest.mark.parametrize("scenario", ["xreadgroup-deleted", "xreadgroup-type",
                                      "xreadgroup-group-destroyed", "blpop-type"])
def test_blocked_command_on_deleted_or_retyped_key_ends_as_redis_ends_it(slotgate, cluster,
                                                                         scenario):
    key = tag() + "k"
    node = cluster.master_for_key(key)
    expected = _blocked_outcome(node.host, node.port, key, scenario)
    got = _blocked_outcome("127.0.0.1", slotgate.port, key, scenario)
    assert got == expected


# -- CLIENT PAUSE / UNPAUSE -------------------------------------------------------------------


def test_client_pause_write_holds_writes_of_every_session_until_unpause(slotgate, conn):
    t = tag()
    others = connections(slotgate, 4)  # both workers
    try:
        assert conn.command("SET", f"{t}k", "0") == "OK"
        assert conn.command("CLIENT", "PAUSE", "10000", "WRITE") == "OK"
        for o in others:
            assert o.command("GET", f"{t}k") == b"0"  # reads go on
            o.send_command("INCR", f"{t}k")
        for o in others:
            with pytest.raises(TimeoutError):
                o.read_reply(timeout=0.3)
        assert conn.command("GET", f"{t}k") == b"0"
        # PUBLISH counts as a write for a WRITE pause, as in Redis.
        publisher = others[0]
        assert conn.command("CLIENT", "UNPAUSE") == "OK"
        assert sorted(o.read_reply(timeout=3) for o in others) == [1, 2, 3, 4]
        assert conn.command("CLIENT", "PAUSE", "10000", "WRITE") == "OK"
        publisher.send_command("PUBLISH", f"{t}ch", "m")
        with pytest.raises(TimeoutError):
            publisher.read_reply(timeout=0.3)
        assert conn.command("CLIENT", "UNPAUSE") == "OK"
        assert publisher.read_reply(timeout=3) == 0
    finally:
        for o in others:
            o.close()


def test_client_pause_all_ends_by_itself_after_the_timeout(slotgate, conn):
    t = tag()
    other = slotgate.raw()
    try:
        start = time.monotonic()
        assert conn.command("CLIENT", "PAUSE", "700", "ALL") == "OK"
        assert other.command("GET", f"{t}k", timeout=5) is None
        assert 0.5 <= time.monotonic() - start < 3
        assert "WRITE or ALL" in error_text(conn.command("CLIENT", "PAUSE", "10", "SOME"))
    finally:
        other.close()


@pytest.mark.timeout(90)
def test_client_pause_stops_reading_a_paused_pipeline_instead_of_buffering_it(slotgate, conn):
    """A client that keeps pipelining writes during CLIENT PAUSE WRITE is not read (TCP pushes
    back) until the pause ends, rather than buffered in slotgate; then every write runs."""
    t = tag()
    value = b"v" * (64 * 1024)
    count = 768  # 48 MiB of SETs
    one = encode_command("SET", f"{t}k", value)
    writer = socket.create_connection((slotgate.host, slotgate.port), timeout=60)
    pid = slotgate.process.pid
    peak_before = processes.proc_status_kib(pid, "VmHWM")
    assert conn.command("CLIENT", "PAUSE", "20000", "WRITE") == "OK"
    sender = threading.Thread(target=lambda: writer.sendall(one * count), daemon=True)
    try:
        sender.start()
        time.sleep(3)  # the baseline reads (and keeps) all 48 MiB in this time
        grown_mib = (processes.proc_status_kib(pid, "VmHWM") - peak_before) / 1024
        assert grown_mib < 16, f"slotgate buffered {grown_mib:.0f} MiB of a paused pipeline"
    finally:
        assert conn.command("CLIENT", "UNPAUSE") == "OK"
    sender.join(timeout=60)
    assert not sender.is_alive()
    expected = b"+OK\r\n" * count
    got = b""
    deadline = time.monotonic() + 60
    while len(got) < len(expected) and time.monotonic() < deadline:
        got += writer.recv(65536)
    writer.close()
    assert got == expected


# -- client-side caching over RESP2: refused, as a server where tracking is off -----------------
# (RESP3 tracking: test_tracking.py)


def test_client_tracking_over_resp2_is_refused_clearly_and_answers_as_tracking_off(conn):
    for args in (("ON",), ("ON", "OPTIN"), ("ON", "BCAST", "PREFIX", "user:")):
        text = error_text(conn.command("CLIENT", "TRACKING", *args))
        assert text.startswith("ERR client-side caching through slotgate needs RESP3"), text
    text = error_text(conn.command("CLIENT", "TRACKING", "ON", "REDIRECT", "5"))
    assert text.startswith("ERR CLIENT TRACKING REDIRECT is not supported by slotgate"), text
    assert conn.command("CLIENT", "TRACKING", "OFF") == "OK"
    assert conn.command("CLIENT", "GETREDIR") == -1
    assert conn.command("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1,
                                                       b"prefixes", []]
    assert error_text(conn.command("CLIENT", "CACHING", "YES")).startswith(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode")
    assert conn.command("PING") == "PONG"
