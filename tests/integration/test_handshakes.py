"""Replays of the connection handshakes real clients send, byte for byte.

The sequences and the checks come from /work/shared/research/clients.md (§1 for
what each client sends and which replies it treats as fatal, §6 for the replay
script). Each test names its section. Frames a client pipelines are written in one
send; frames it sends one per round trip are sent one at a time. Every replay runs
without and with a client password (SLOTGATE_PASSWORD=secret), and ends with a
SET/GET round trip on the same connection: a handshake that leaves the session
unusable is a failed handshake.
"""

import re
import subprocess
import uuid

import pytest

from harness import RespError

PASSWORD = "secret"
VERSION_RE = re.compile(rb"^\d+\.\d+\.\d+$")


def frame(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


# Exact frames from clients.md §6 (spot-checked against frame() in test_frames_match_clients_md).
HELLO_3 = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
HELLO_3_AUTH = b"*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\nsecret\r\n"
HELLO_3_AUTH_SETNAME = (
    b"*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\nsecret\r\n$7\r\nSETNAME\r\n$3\r\nsvc\r\n"
)
PING = b"*1\r\n$4\r\nPING\r\n"
AUTH = b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n"
CLIENT_SETNAME = b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\nsvc\r\n"
SELECT_0 = frame("SELECT", "0")
INFO = b"*1\r\n$4\r\nINFO\r\n"
INFO_SERVER = b"*2\r\n$4\r\nINFO\r\n$6\r\nSERVER\r\n"
COMMAND_DOCS = b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n"
COMMAND = b"*1\r\n$7\r\nCOMMAND\r\n"


def test_frames_match_clients_md():
    assert frame("HELLO", "3") == HELLO_3
    assert frame("HELLO", "3", "AUTH", "default", "secret") == HELLO_3_AUTH
    assert frame("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "svc") == HELLO_3_AUTH_SETNAME
    assert frame("AUTH", "secret") == AUTH
    assert frame("CLIENT", "SETNAME", "svc") == CLIENT_SETNAME
    assert frame("COMMAND", "DOCS") == COMMAND_DOCS


RESP2_ONLY = "clients:\n  resp3: false\n"


@pytest.fixture(params=["no-password", "password"])
def gate(request):
    """(slotgate in RESP2-only mode, password or None): the fallback paths below."""
    make_slotgate = request.getfixturevalue("make_slotgate")
    if request.param == "no-password":
        return make_slotgate(config_text=RESP2_ONLY), None
    return make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD}, config_text=RESP2_ONLY), PASSWORD


@pytest.fixture(params=["no-password", "password"])
def gate3(request):
    """(slotgate with RESP3 on, its default; password or None)."""
    if request.param == "no-password":
        return request.getfixturevalue("slotgate"), None
    make_slotgate = request.getfixturevalue("make_slotgate")
    return make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD}), PASSWORD


@pytest.fixture
def conn3(gate3):
    c = gate3[0].raw()
    yield c
    c.close()


def check_hello3_map(reply):
    """What Lettuce (casts id/version), node-redis 6 and redis-py 8 read (clients.md §1.1, §1.8)."""
    assert isinstance(reply, dict), f"HELLO 3 must answer a map, got {reply!r}"
    assert reply[b"proto"] == 3
    assert isinstance(reply[b"id"], int)
    assert re.fullmatch(rb"\d+\.\d+\.\d+", reply[b"version"]), reply[b"version"]
    for key in (b"server", b"mode", b"role"):
        assert isinstance(reply[key], bytes)
    assert reply[b"modules"] == []
    return reply


def test_lettuce_resp3_handshake(gate3, conn3):
    # clients.md §1.1 step 1 (success path) and §6.2: HELLO 3 [AUTH default pw]
    # [SETNAME], then one write of CLIENT SETINFO lib-name + lib-ver (errors
    # allowed, but exactly one reply per frame, in order).
    _, password = gate3
    conn3.send(HELLO_3_AUTH_SETNAME if password else HELLO_3)
    check_hello3_map(conn3.read_reply(timeout=10.0))
    conn3.send(frame("CLIENT", "SETINFO", "lib-name", "Lettuce") +
               frame("CLIENT", "SETINFO", "lib-ver", "6.8.2.RELEASE"))
    assert replies(conn3, 2) == ["OK", "OK"]
    set_get_round_trip(conn3)


def test_node_redis_6_one_write(gate3, conn3):
    # clients.md §6.8 v6 (observed 6.3.1, one write): HELLO must be a map (an error
    # is fatal for node-redis 6); the other three frames may answer anything.
    _, password = gate3
    hello = frame("HELLO", "3", "AUTH", "default", password, "SETNAME", "svc") if password \
        else frame("HELLO", "3", "SETNAME", "svc")
    conn3.send(hello + frame("CLIENT", "SETINFO", "LIB-VER", "6.3.1") +
               frame("CLIENT", "SETINFO", "LIB-NAME", "node-redis") +
               frame("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "external-ip"))
    got = replies(conn3, 4)
    check_hello3_map(got[0])
    assert got[1] == "OK" and got[2] == "OK"
    set_get_round_trip(conn3)
    assert conn3.command("CLIENT", "GETNAME") == b"svc"


def test_ioredis_6_resp3(gate3, conn3):
    # clients.md §1.5 6.0.0: pipelined hello 3 [AUTH], client setname, SETINFO x2, info.
    _, password = gate3
    hello = frame("hello", "3", "AUTH", "default", password) if password else frame("hello", "3")
    conn3.send(hello + frame("client", "setname", "svc") +
               frame("client", "SETINFO", "LIB-VER", "6.0.0") +
               frame("client", "SETINFO", "LIB-NAME", "ioredis") + frame("info"))
    got = replies(conn3, 5)
    check_hello3_map(got[0])
    assert got[1:4] == ["OK", "OK", "OK"]
    info = got[4]
    text = str(info) if isinstance(info, str) else bytes(info).decode()
    assert "redis_version:" in text and "loading:0" in text
    set_get_round_trip(conn3)


def test_redis_py_8_resp3(gate3, conn3):
    # clients.md §1.4 8.0+: HELLO 3 [AUTH default pw] first, no fallback; then
    # MAINT_NOTIFICATIONS (errors allowed), SETNAME, SETINFO, one at a time.
    _, password = gate3
    if password:
        check_hello3_map(conn3.command("HELLO", "3", "AUTH", "default", password))
    else:
        check_hello3_map(conn3.command("HELLO", "3"))
    conn3.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip")
    assert conn3.command("CLIENT", "SETNAME", "svc") == "OK"
    assert conn3.command("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
    assert conn3.command("CLIENT", "SETINFO", "LIB-VER", "8.1.0") == "OK"
    set_get_round_trip(conn3)


@pytest.fixture
def conn(gate):
    c = gate[0].raw()
    yield c
    c.close()


def is_error(reply):
    return isinstance(reply, RespError)


def replies(conn, n):
    return [conn.read_reply(timeout=10.0) for _ in range(n)]


def one_reply_each(rs):
    """Clients that ignore errors still need exactly one well-formed reply per frame, in order."""
    for r in rs:
        assert r == "OK" or is_error(r), rs


def set_get_round_trip(conn):
    key = f"hs:{uuid.uuid4().hex}"
    conn.send(frame("SET", key, "v"))
    assert conn.read_reply(timeout=10.0) == "OK"
    conn.send(frame("GET", key))
    assert conn.read_reply(timeout=10.0) == b"v"


def lettuce_fallback_error_ok(text, version):
    """Which HELLO 3 errors make Lettuce fall back to RESP2 (clients.md §1.1)."""
    if version == "6.1":
        return text.startswith("ERR unknown command")
    if version == "6.2":  # 6.2.0-6.2.5
        return text.startswith("ERR") and "unknown" in text
    return (text.startswith("ERR") and "unknown" in text) or text.startswith("NOPROTO")


# ---- Lettuce -------------------------------------------------------------------


@pytest.mark.parametrize("lettuce", ["6.1", "6.2", "6.3"])
def test_lettuce_6_resp2_fallback(gate, conn, lettuce):
    # clients.md §1.1 step 1 + §6.1 B/C and the 6.1.10 variant: HELLO 3 (with
    # AUTH default <pw> SETNAME <name> when configured) one round trip; on an error
    # Lettuce accepts, it falls back to RESP2 on the same socket: AUTH <pw> or PING.
    # Then (6.0-6.3, RESP2) CLIENT SETNAME pipelined (SELECT only when db > 0).
    _, password = gate
    conn.send(HELLO_3_AUTH_SETNAME if password else HELLO_3)
    hello = conn.read_reply(timeout=10.0)
    assert is_error(hello), f"HELLO 3 must be rejected until RESP3 lands, got {hello!r}"
    text = str(hello)
    # Until RESP3 lands (clients issue: RESP3 / HELLO 3), the rejection must be the
    # one every Lettuce 6.x falls back on; never NOAUTH/WRONGPASS, which are fatal.
    assert not text.startswith(("NOAUTH", "WRONGPASS")), text
    assert lettuce_fallback_error_ok(text, lettuce), text
    if password:
        conn.send(AUTH)
        assert conn.read_reply(timeout=10.0) == "OK"
    else:
        conn.send(PING)
        assert conn.read_reply(timeout=10.0) == "PONG"
    conn.send(CLIENT_SETNAME)
    assert conn.read_reply(timeout=10.0) == "OK"
    set_get_round_trip(conn)


def test_lettuce_6_select_0_after_fallback(gate, conn):
    # clients.md §6.1 C: SELECT 0 must be +OK (Lettuce only sends it for db > 0, but
    # apps that configure database 0 explicitly through other clients do).
    _, password = gate
    conn.send(HELLO_3_AUTH if password else HELLO_3)
    assert is_error(conn.read_reply(timeout=10.0))
    conn.send(AUTH if password else PING)
    conn.read_reply(timeout=10.0)
    conn.send(CLIENT_SETNAME + SELECT_0)
    assert replies(conn, 2) == ["OK", "OK"]
    set_get_round_trip(conn)


def test_lettuce_6_4_0_pipelined_handshake(gate, conn):
    # clients.md §1.1 step 2 (6.4.0-6.4.1 row) and §6.2 "6.4.0/6.4.1 variant":
    # HELLO, SELECT and both CLIENT SETINFO frames in one write before any reply.
    # Exactly four replies, in order. HELLO must be an error Lettuce falls back on;
    # with a password the three others may see NOAUTH; then AUTH <pw> (or PING).
    _, password = gate
    conn.send(
        (HELLO_3_AUTH if password else HELLO_3)
        + SELECT_0
        + frame("CLIENT", "SETINFO", "lib-name", "Lettuce")
        + frame("CLIENT", "SETINFO", "lib-ver", "6.4.0.RELEASE")
    )
    hello, select, lib_name, lib_ver = replies(conn, 4)
    assert is_error(hello) and lettuce_fallback_error_ok(str(hello), "6.4"), hello
    assert not str(hello).startswith(("NOAUTH", "WRONGPASS")), hello
    if password:
        for r in (select, lib_name, lib_ver):
            assert r == "OK" or (is_error(r) and str(r).startswith("NOAUTH")), r
        conn.send(AUTH)
        assert conn.read_reply(timeout=10.0) == "OK"
    else:
        assert select == "OK"  # SELECT failures are fatal for Lettuce
        one_reply_each([lib_name, lib_ver])  # SETINFO errors are ignored by 6.4
        conn.send(PING)
        assert conn.read_reply(timeout=10.0) == "PONG"
    set_get_round_trip(conn)


# ---- Jedis -----------------------------------------------------------------------


def test_jedis_5(gate, conn):
    # clients.md §1.7 and §6.9: AUTH <pw> must be the status OK; then one write of
    # CLIENT SETNAME + SETINFO LIB-NAME + SETINFO LIB-VER read back together
    # (errors stored, not thrown); pool validation PING must be the status PONG.
    _, password = gate
    if password:
        conn.send(AUTH)
        assert conn.read_reply(timeout=10.0) == "OK"
    conn.send(
        CLIENT_SETNAME
        + b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$5\r\njedis\r\n"
        + b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$7\r\nLIB-VER\r\n$5\r\n5.1.5\r\n"
    )
    one_reply_each(replies(conn, 3))
    conn.send(PING)
    assert conn.read_reply(timeout=10.0) == "PONG"
    set_get_round_trip(conn)


# ---- node-redis ------------------------------------------------------------------


def test_node_redis_4(gate, conn):
    # clients.md §1.6 and §6.8 v4 (observed, one write): AUTH, CLIENT SETNAME,
    # SETINFO LIB-NAME, SETINFO LIB-VER. AUTH and SETNAME errors fail the connection;
    # SETINFO errors are ignored. Replies in order, one per frame.
    _, password = gate
    payload = (
        CLIENT_SETNAME
        + b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$10\r\nnode-redis\r\n"
        + b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$7\r\nLIB-VER\r\n$5\r\n1.6.0\r\n"
    )
    if password:
        payload = AUTH + payload
    conn.send(payload)
    rs = replies(conn, 4 if password else 3)
    if password:
        assert rs.pop(0) == "OK"
    assert rs[0] == "OK"  # SETNAME
    one_reply_each(rs[1:])
    set_get_round_trip(conn)


# ---- redis-cli --------------------------------------------------------------------


def check_command_docs_shape(docs):
    # redis-cli 7 asserts string keys and map/array values (clients.md §1.3, §6.5).
    assert isinstance(docs, list) and len(docs) % 2 == 0 and docs
    for name, doc in zip(docs[0::2], docs[1::2]):
        assert isinstance(name, bytes)
        assert isinstance(doc, list) and len(doc) % 2 == 0
        fields = dict(zip(doc[0::2], doc[1::2]))
        for text_field in (b"summary", b"since", b"group"):
            if text_field in fields:
                assert isinstance(fields[text_field], bytes)
        if b"arguments" in fields:
            assert isinstance(fields[b"arguments"], list)


def test_redis_cli_7_replay(gate, conn):
    # clients.md §1.3 and §6.5: `redis-cli -a secret -n 0 PING` sends AUTH (when a
    # password is given; no SELECT for db 0) and PING, one per round trip. An
    # interactive start then sends COMMAND DOCS; on an error it falls back to
    # INFO SERVER (must be a bulk with redis_version) and COMMAND.
    _, password = gate
    if password:
        conn.send(AUTH)
        assert conn.read_reply(timeout=10.0) == "OK"
    conn.send(PING)
    assert conn.read_reply(timeout=10.0) == "PONG"
    conn.send(COMMAND_DOCS)
    docs = conn.read_reply(timeout=20.0)
    if is_error(docs):
        conn.send(INFO_SERVER)
        info = conn.read_reply(timeout=10.0)
        assert isinstance(info, bytes) and b"redis_version:" in info
        conn.send(COMMAND)
        assert isinstance(conn.read_reply(timeout=20.0), list)
    else:
        check_command_docs_shape(docs)
    set_get_round_trip(conn)


def test_redis_cli_7_binary(gate):
    # The real redis-cli 7 (Debian) with the same arguments as clients.md §6.5.
    slotgate, password = gate
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(slotgate.port), "-n", "0"]
    if password:
        argv += ["-a", password, "--no-auth-warning"]
    proc = subprocess.run(argv + ["PING"], capture_output=True, text=True, timeout=15)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "PONG"
    key = f"hs:{uuid.uuid4().hex}"
    proc = subprocess.run(argv + ["SET", key, "cli"], capture_output=True, text=True, timeout=15)
    assert proc.stdout.strip() == "OK", proc.stdout + proc.stderr
    proc = subprocess.run(argv + ["GET", key], capture_output=True, text=True, timeout=15)
    assert proc.stdout.strip() == "cli", proc.stdout + proc.stderr


# ---- ioredis ----------------------------------------------------------------------


def check_ioredis_info(info):
    # ioredis' ready check: INFO errors are fatal; it waits while loading != 0 and
    # splits lines on \r\n and ':' (clients.md §1.5).
    assert isinstance(info, bytes), info
    fields = dict(line.split(b":", 1) for line in info.split(b"\r\n") if b":" in line)
    assert fields.get(b"loading", b"0") == b"0"
    assert b"loading:1" not in info


def ioredis_resp2_handshake(conn, password, lib_ver):
    payload = (
        b"*3\r\n$6\r\nclient\r\n$7\r\nsetname\r\n$3\r\nsvc\r\n"
        + b"*4\r\n$6\r\nclient\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$7\r\nioredis\r\n"
        + frame("client", "SETINFO", "LIB-VER", lib_ver)
        + b"*1\r\n$4\r\ninfo\r\n"
    )
    if password:
        payload = b"*2\r\n$4\r\nauth\r\n$6\r\nsecret\r\n" + payload
    conn.send(payload)
    rs = replies(conn, 5 if password else 4)
    if password:
        assert rs.pop(0) == "OK"  # AUTH errors are fatal
    one_reply_each(rs[:3])  # setname / SETINFO errors are ignored
    check_ioredis_info(rs[3])


def test_ioredis_5(gate, conn):
    # clients.md §1.5 and §6.7 5.x (observed 5.11.1): lowercase commands, written
    # without waiting: auth, client setname, client SETINFO x2, info.
    _, password = gate
    ioredis_resp2_handshake(conn, password, "5.11.1")
    set_get_round_trip(conn)


def test_ioredis_6_falls_back_to_resp2(gate, conn):
    # clients.md §1.5 (6.0.0) and §6.7 6.0: `hello 3 [AUTH default <pw>]`; ioredis
    # redoes the handshake in RESP2 when the error contains NOPROTO, or both
    # "unknown command" and "hello" (case-insensitive).
    _, password = gate
    conn.send(frame("hello", "3", "AUTH", "default", PASSWORD) if password else frame("hello", "3"))
    hello = conn.read_reply(timeout=10.0)
    assert is_error(hello), hello  # until RESP3 lands (clients issue)
    text = str(hello).upper()
    assert "NOPROTO" in text or ("UNKNOWN COMMAND" in text and "HELLO" in text), hello
    ioredis_resp2_handshake(conn, password, "6.0.0")
    set_get_round_trip(conn)


# ---- redis-py ---------------------------------------------------------------------


def test_redis_py_5_protocol_2(gate, conn):
    # clients.md §1.4 and §6.6 5.x/7.x protocol 2: one command per round trip;
    # AUTH and SETNAME must be OK, SETINFO errors are swallowed, SELECT 0 must be OK.
    _, password = gate
    if password:
        conn.send(AUTH)
        assert conn.read_reply(timeout=10.0) == "OK"
    conn.send(CLIENT_SETNAME)
    assert conn.read_reply(timeout=10.0) == "OK"
    conn.send(b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis-py\r\n")
    one_reply_each([conn.read_reply(timeout=10.0)])
    conn.send(b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$7\r\nLIB-VER\r\n$5\r\n5.0.8\r\n")
    one_reply_each([conn.read_reply(timeout=10.0)])
    conn.send(SELECT_0)
    assert conn.read_reply(timeout=10.0) == "OK"
    set_get_round_trip(conn)
