"""CLIENT LIST and CLIENT INFO describe slotgate's own sessions, on every worker.

The fixture runs two workers and the kernel spreads connections over them: CLIENT LIST
from any session shows every session, with what each one did last (name, library, MULTI,
subscriptions, protocol, idle time) as one Redis server shows its clients. CLIENT NO-TOUCH
OFF is accepted; ON is refused (the 7.0 nodes would still touch the keys).
"""

from __future__ import annotations

import time
import uuid

from harness import error_text, wait_until


def text_of(reply) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def parse_list(reply) -> dict[int, dict[str, str]]:
    out = {}
    for line in text_of(reply).splitlines():
        if not line.strip():
            continue
        fields = dict(part.split("=", 1) for part in line.split(" "))
        out[int(fields["id"])] = fields
    return out


def client_id(c) -> int:
    return int(c.command("CLIENT", "ID"))


def test_client_list_shows_every_workers_sessions_with_their_names(slotgate, conn):
    others = [slotgate.raw() for _ in range(8)]  # spread over both workers by the kernel
    try:
        ids = {}
        for i, o in enumerate(others):
            name = f"cl{i}{uuid.uuid4().hex[:6]}"
            assert o.command("CLIENT", "SETNAME", name) == "OK"
            assert o.command("CLIENT", "SETINFO", "LIB-NAME", f"lib{i}") == "OK"
            ids[client_id(o)] = (name, f"lib{i}", o.sock.getsockname())
        listed = parse_list(conn.command("CLIENT", "LIST"))
        me = client_id(conn)
        assert me in listed and listed[me]["cmd"] == "client|list"
        for cid, (name, lib, (host, port)) in ids.items():
            assert cid in listed, f"session {cid} (another worker?) missing from CLIENT LIST"
            f = listed[cid]
            assert f["name"] == name and f["lib-name"] == lib
            assert f["addr"] == f"{host}:{port}"
            assert f["laddr"] == f"127.0.0.1:{slotgate.port}"
            assert int(f["fd"]) > 0 and f["flags"] == "N" and f["user"] == "default"
            assert f["cmd"] == "client|id" and f["multi"] == "-1" and f["resp"] == "2"
        # ID filter: exactly the ids asked for, on whichever worker they live.
        some = list(ids)[:3]
        only = parse_list(conn.command("CLIENT", "LIST", "ID", *map(str, some)))
        assert sorted(only) == sorted(some)
        # A closed session leaves the list.
        gone = list(ids)[0]
        others[0].close()
        wait_until(lambda: gone not in parse_list(conn.command("CLIENT", "LIST")), timeout=5,
                   what="a closed session to leave CLIENT LIST")
    finally:
        for o in others:
            o.close()


def test_client_list_shows_multi_subscriptions_protocol_and_idle(slotgate, conn):
    tx, sub, r3 = slotgate.raw(), slotgate.raw(), slotgate.raw()
    try:
        assert tx.command("MULTI") == "OK"
        assert tx.command("SET", "{cl}a", "1") == "QUEUED"
        assert tx.command("GET", "{cl}a") == "QUEUED"
        sub.send_command("SUBSCRIBE", "cl-ch1", "cl-ch2")
        sub.read_replies(2)
        sub.send_command("PSUBSCRIBE", "cl-p*")
        sub.read_reply()
        r3.command("HELLO", "3")
        time.sleep(1.2)
        listed = parse_list(conn.command("CLIENT", "LIST"))
        t = listed[client_id_via_list(listed, tx)]
        assert t["flags"] == "x" and t["multi"] == "2" and t["cmd"] == "get"
        assert int(t["idle"]) >= 1 and int(t["age"]) >= 1
        s = listed[client_id_via_list(listed, sub)]
        assert s["flags"] == "P" and s["sub"] == "2" and s["psub"] == "1"
        assert s["cmd"] == "psubscribe"
        h = listed[client_id_via_list(listed, r3)]
        assert h["resp"] == "3" and h["cmd"] == "hello"
        # TYPE filters: pubsub is the subscribed session only; normal all the others.
        pubsub = parse_list(conn.command("CLIENT", "LIST", "TYPE", "pubsub"))
        assert list(pubsub) == [int(s["id"])]
        normal = parse_list(conn.command("CLIENT", "LIST", "TYPE", "normal"))
        assert int(s["id"]) not in normal and int(t["id"]) in normal
        assert parse_list(conn.command("CLIENT", "LIST", "TYPE", "master")) == {}
    finally:
        for c in (tx, sub, r3):
            c.close()


def client_id_via_list(listed, c) -> int:
    host, port = c.sock.getsockname()[:2]
    for cid, f in listed.items():
        if f["addr"] == f"{host}:{port}":
            return cid
    raise AssertionError(f"{host}:{port} not in CLIENT LIST")


def test_client_list_bad_filters_get_redis_errors(conn):
    assert error_text(conn.command("CLIENT", "LIST", "TYPE", "bogus")) == \
        "ERR Unknown client type 'bogus'"
    assert error_text(conn.command("CLIENT", "LIST", "ID", "0")) == "ERR Invalid client ID"
    assert error_text(conn.command("CLIENT", "LIST", "ID", "x1")) == "ERR Invalid client ID"
    assert error_text(conn.command("CLIENT", "LIST", "bogus")) == "ERR syntax error"
    assert conn.command("PING") == "PONG"


def test_client_info_describes_the_calling_session(conn):
    assert conn.command("CLIENT", "SETNAME", "me-info") == "OK"
    me = client_id(conn)
    info = parse_list(conn.command("CLIENT", "INFO"))
    assert list(info) == [me]
    f = info[me]
    assert f["name"] == "me-info" and f["cmd"] == "client|info" and f["flags"] == "N"
    host, port = conn.sock.getsockname()[:2]
    assert f["addr"] == f"{host}:{port}"


def test_client_no_touch_off_is_accepted_and_on_refused_clearly(conn):
    assert conn.command("CLIENT", "NO-TOUCH", "off") == "OK"
    err = error_text(conn.command("CLIENT", "NO-TOUCH", "on"))
    assert err.startswith("ERR CLIENT NO-TOUCH ON is not supported by slotgate")
    assert "syntax error" in error_text(conn.command("CLIENT", "NO-TOUCH", "maybe"))
    assert conn.command("PING") == "PONG"
