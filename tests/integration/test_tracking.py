"""Client-side caching (CLIENT TRACKING ON over RESP3) through slotgate.

Reads go over shared backend connections, so each tracking session holds a link of its own
to every master with CLIENT TRACKING ON BCAST, and slotgate tells the client about the keys
it read (default and OPTIN/OPTOUT modes) or the keys under its prefixes (BCAST), as
`>2 invalidate [keys]` pushes. A failover sends `>2 invalidate (nil)`: everything cached is
stale. RESP2, REDIRECT and NOLOOP are refused clearly.
"""

from __future__ import annotations

import time
import uuid

import pytest

from harness import error_text, wait_until
from harness.resp import Push


def tag() -> str:
    return uuid.uuid4().hex[:8]


def tracking_session(gate, *options):
    s = gate.raw()
    s.command("HELLO", "3")
    assert s.command("CLIENT", "TRACKING", "ON", *options) == "OK"
    return s


def next_push(s, timeout=5.0) -> Push:
    reply = s.read_reply(timeout=timeout)
    assert isinstance(reply, Push), f"expected an invalidation push, got {reply!r}"
    assert reply[0] == b"invalidate", reply
    return reply


def spread_keys(n=30) -> list[str]:
    """Keys with distinct hash tags (the test checks they reach every master)."""
    t = tag()
    return [f"{{{t}{i}}}k" for i in range(n)]


def skipping_flushes(s, *args):
    """The reply to a command, skipping `invalidate (nil)` pushes that arrive first."""
    s.send_command(*args)
    while True:
        r = s.read_reply()
        if not (isinstance(r, Push) and r[0] == b"invalidate" and r[1] is None):
            return r


def test_default_mode_invalidates_read_keys_on_every_master_once(slotgate, conn):
    s = tracking_session(slotgate)
    try:
        keys = spread_keys()
        for k in keys:
            assert conn.command("SET", k, "v1") == "OK"
        for k in keys:
            assert s.command("GET", k) == b"v1"
        slots = {int(conn.command("CLUSTER", "KEYSLOT", k)) for k in keys}
        assert len({sl * 3 // 16384 for sl in slots}) == 3, "keys do not reach every master"
        # A key the session never read first, then one it read, on the same node: only the
        # read one is reported.
        for k in keys:
            unread = k.replace("}k", "}unread")
            assert conn.command("SET", unread, "x") == "OK"
            assert conn.command("SET", k, "v2") == "OK"
        seen = set()
        while len(seen) < len(keys):
            seen.update(x.decode() for x in next_push(s)[1])
        assert seen == set(keys)
        # Forgotten after one invalidation until read again.
        assert conn.command("SET", keys[0], "v3") == "OK"
        assert s.command("PING") == "PONG"
        assert s.command("GET", keys[0]) == b"v3"
        assert conn.command("SET", keys[0], "v4") == "OK"
        assert next_push(s)[1] == [keys[0].encode()]
    finally:
        s.close()


def test_bcast_prefix_reports_every_key_under_the_prefix_read_or_not(slotgate, conn):
    p = f"bc{tag()}:"
    s = tracking_session(slotgate, "BCAST", "PREFIX", p)
    try:
        info = s.command("CLIENT", "TRACKINGINFO")
        assert info[b"flags"] == {b"on", b"bcast"} or list(info[b"flags"]) == [b"on", b"bcast"]
        assert list(info[b"prefixes"]) == [p.encode()]
        assert conn.command("SET", f"other{tag()}", "x") == "OK"
        assert conn.command("SET", f"{p}a", "x") == "OK"
        assert next_push(s)[1] == [f"{p}a".encode()]
        assert conn.command("SET", f"{p}a", "y") == "OK"  # every time, unlike default mode
        assert next_push(s)[1] == [f"{p}a".encode()]
    finally:
        s.close()


def test_optin_tracks_only_reads_after_client_caching_yes(slotgate, conn):
    t = tag()
    k1, k2 = f"{{{t}}}one", f"{{{t}}}two"
    s = tracking_session(slotgate, "OPTIN")
    try:
        assert s.command("GET", k1) is None
        assert s.command("CLIENT", "CACHING", "YES") == "OK"
        assert s.command("GET", k2) is None
        assert "OPTOUT" in error_text(s.command("CLIENT", "CACHING", "NO"))
        assert conn.command("SET", k1, "x") == "OK"
        assert conn.command("SET", k2, "x") == "OK"
        assert next_push(s)[1] == [k2.encode()]  # same node: k1's change came first, unreported
        # OPTIN through MULTI (rueidis' DoCache): CACHING YES holds until EXEC.
        assert s.command("CLIENT", "CACHING", "YES") == "OK"
        assert s.command("MULTI") == "OK"
        assert s.command("GET", k1) == "QUEUED"
        assert s.command("EXEC") == [b"x"]
        assert conn.command("SET", k1, "y") == "OK"
        assert next_push(s)[1] == [k1.encode()]
    finally:
        s.close()


def tracking_clients(conn) -> int:
    text = conn.command("INFO", "clients")
    text = text.decode() if isinstance(text, bytes) else str(text)
    for line in text.splitlines():
        if line.startswith("tracking_clients:"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"no tracking_clients in {text!r}")


def test_tracking_off_getredir_and_refusals(slotgate, conn):
    s = tracking_session(slotgate)
    try:
        assert s.command("CLIENT", "GETREDIR") == 0
        assert "flags=t " in str(s.command("CLIENT", "INFO"))
        wait_until(lambda: tracking_clients(conn) == 1, timeout=5,
                   what="INFO clients to count the one tracking session")
        k = f"{{{tag()}}}off"
        assert s.command("GET", k) is None
        assert s.command("CLIENT", "TRACKING", "OFF") == "OK"
        assert s.command("CLIENT", "GETREDIR") == -1
        assert tracking_clients(conn) == 0
        assert conn.command("SET", k, "x") == "OK"
        time.sleep(0.3)
        assert s.command("PING") == "PONG"  # no push came first
        assert error_text(s.command("CLIENT", "TRACKING", "ON", "NOLOOP")) == \
            "ERR CLIENT TRACKING NOLOOP is not supported by slotgate"
        assert error_text(s.command("CLIENT", "TRACKING", "ON", "PREFIX", "a")) == \
            "ERR PREFIX option requires BCAST mode to be enabled"
        assert "REDIRECT is not supported" in error_text(
            s.command("CLIENT", "TRACKING", "ON", "REDIRECT", "3"))
        assert "OPTIN or OPTOUT" in error_text(s.command("CLIENT", "CACHING", "YES"))
        assert s.command("PING") == "PONG"
    finally:
        s.close()


def test_a_session_back_on_resp2_gets_no_pushes(slotgate, conn):
    s = tracking_session(slotgate)
    try:
        k = f"{{{tag()}}}r2"
        assert s.command("GET", k) is None
        s.command("HELLO", "2")
        assert conn.command("SET", k, "x") == "OK"
        time.sleep(0.3)
        assert s.command("PING") == "PONG"  # a RESP2 client cannot parse a push
    finally:
        s.close()


def tracking_links(cluster) -> int:
    n = 0
    for m in cluster.masters():
        text = m.call("CLIENT", "LIST")
        text = text.decode() if isinstance(text, bytes) else str(text)
        for line in text.splitlines():
            flags = dict(p.split("=", 1) for p in line.split(" ") if "=" in p).get("flags", "")
            n += "t" in flags
    return n


def test_a_closed_tracking_session_leaves_no_link_on_the_nodes(slotgate, cluster):
    before = tracking_links(cluster)
    sessions = [tracking_session(slotgate) for _ in range(3)]
    assert tracking_links(cluster) == before + 3 * len(cluster.masters())
    for s in sessions:
        s.close()
    wait_until(lambda: tracking_links(cluster) == before, timeout=5,
               what="the tracking links to close with their sessions")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_failover_flushes_every_tracking_session_then_tracking_goes_on(fresh_cluster,
                                                                       make_slotgate):
    c = fresh_cluster(node_timeout_ms=2000)
    gate = make_slotgate(seeds=c.seeds)
    writer = gate.raw()
    s = tracking_session(gate)
    try:
        k = f"{{{tag()}}}fo"
        assert writer.command("SET", k, "v1") == "OK"
        assert s.command("GET", k) == b"v1"
        master = c.masters()[0]
        c.failover(c.replicas_of(master)[0])
        flush = next_push(s, timeout=30)
        assert flush[1] is None, f"expected invalidate (nil) after the failover, got {flush!r}"
        # Links follow the new masters: a read key is reported again.
        deadline = time.monotonic() + 20
        while True:
            assert skipping_flushes(s, "GET", k) == b"v1"
            assert writer.command("SET", k, "v1") == "OK"
            try:
                p = s.read_reply(timeout=1)
            except TimeoutError:
                p = None
            while isinstance(p, Push) and p[1] is None:  # a link confirmed again
                try:
                    p = s.read_reply(timeout=1)
                except TimeoutError:
                    p = None
            if isinstance(p, Push) and p[1] == [k.encode()]:
                break
            assert time.monotonic() < deadline, f"no invalidation after the failover: {p!r}"
    finally:
        s.close()
        writer.close()
