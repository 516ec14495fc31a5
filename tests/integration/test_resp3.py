"""RESP3 clients (HELLO 3) and RESP2 clients side by side on one slotgate.

slotgate opens backend connections per protocol, so a reply the cluster produces is
forwarded as it is: a RESP3 client must get exactly the bytes a RESP3 connection to
the owning master gets (maps, sets, doubles, nulls, big numbers, verbatim strings,
booleans...), and a RESP2 client on the same slotgate exactly the RESP2 bytes.
Replies slotgate builds or merges itself (HELLO, MGET across masters, SCAN, KEYS,
DBSIZE, INFO) are written in each client's protocol. Pub/Sub messages reach a RESP3
client as push frames, and that client keeps running ordinary commands on the same
connection.
"""

from __future__ import annotations

import select
import time
import uuid

import pytest

from harness import Push, RawConnection, RespError, Verbatim, encode_command, error_text, parse_info
from harness.resp import parse_reply

HELLO_FIELDS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


# ---- raw replies ----------------------------------------------------------------------------


def read_raw(conn: RawConnection, timeout: float = 5.0) -> bytes:
    """The bytes of the next complete reply, exactly as they came over the wire."""
    deadline = time.monotonic() + timeout
    while True:
        parsed = parse_reply(conn.buf)
        if parsed is not None:
            _, n = parsed
            raw, conn.buf = conn.buf[:n], conn.buf[n:]
            return raw
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete reply within {timeout:g}s (buffered {conn.buf[:200]!r})")
        ready, _, _ = select.select([conn.sock], [], [], remaining)
        if ready:
            chunk = conn.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"{conn.host}:{conn.port} closed the connection")
            conn.buf += chunk


def raw_command(conn: RawConnection, *args, timeout: float = 5.0) -> bytes:
    conn.send_command(*args)
    return read_raw(conn, timeout)


def hello3(conn: RawConnection) -> dict:
    reply = conn.command("HELLO", "3")
    assert isinstance(reply, dict), f"HELLO 3 answered {reply!r}"
    return reply


# ---- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(cluster):
    """Keys of every type under one hash tag, written directly on their master."""
    t = "{r3" + uuid.uuid4().hex[:8] + "}"
    owner = cluster.master_for_key(t)
    r = owner.client()
    r.hset(f"{t}:h", mapping={"f1": "v1", "f2": "2", "f3": "3.5"})
    r.sadd(f"{t}:s", "a", "b", "c", "10")
    r.zadd(f"{t}:z", {"m1": 1.5, "m2": 2, "m3": -0.25})
    r.set(f"{t}:str", "hello")
    r.rpush(f"{t}:l", "x", "y", "z")
    r.xadd(f"{t}:st", {"f": "v"}, id="1-1")
    r.xadd(f"{t}:st", {"g": "w"}, id="2-1")
    return {"tag": t, "owner": owner}


@pytest.fixture
def s3(slotgate):
    c = slotgate.raw()
    hello3(c)
    yield c
    c.close()


@pytest.fixture
def s2(slotgate):
    c = slotgate.raw()
    yield c
    c.close()


@pytest.fixture
def direct(data):
    owner = data["owner"]
    d3 = RawConnection(owner.host, owner.port)
    hello3(d3)
    d2 = RawConnection(owner.host, owner.port)
    yield d3, d2
    d3.close()
    d2.close()


# ---- HELLO ---------------------------------------------------------------------------------------


def test_hello_3_is_the_map_redis_gives(slotgate, cluster):
    version = parse_info(cluster.masters()[0].call("INFO", "server"))["redis_version"]
    with slotgate.raw() as c:
        raw = raw_command(c, "HELLO", "3")
        assert raw.startswith(b"%7\r\n"), raw
        reply = parse_reply(raw)[0]
        assert list(reply) == HELLO_FIELDS
        assert reply[b"server"] == b"redis"
        assert reply[b"version"] == version.encode()
        assert reply[b"proto"] == 3
        assert isinstance(reply[b"id"], int)
        assert reply[b"mode"] in (b"cluster", b"standalone")
        assert reply[b"role"] == b"master"
        assert reply[b"modules"] == []
        assert c.command("CLIENT", "ID") == reply[b"id"]


def test_hello_3_setname(slotgate):
    with slotgate.raw() as c:
        assert isinstance(c.command("HELLO", "3", "SETNAME", "r3client"), dict)
        assert c.command("CLIENT", "GETNAME") == b"r3client"


def test_hello_3_then_hello_2_switches_back(slotgate, data):
    t = data["tag"]
    with slotgate.raw() as c:
        hello3(c)
        assert raw_command(c, "HGETALL", f"{t}:h").startswith(b"%3\r\n")
        reply = c.command("HELLO", "2")
        assert isinstance(reply, list) and len(reply) == 14, reply
        assert dict(zip(reply[0::2], reply[1::2]))[b"proto"] == 2
        assert raw_command(c, "HGETALL", f"{t}:h").startswith(b"*6\r\n")
        assert raw_command(c, "GET", f"{t}:missing") == b"$-1\r\n"


def test_client_setinfo_in_resp3(s3):
    assert s3.command("CLIENT", "SETINFO", "lib-name", "x") == "OK"
    assert s3.command("CLIENT", "SETINFO", "lib-ver", "1.2.3") == "OK"
    assert s3.command("PING") == "PONG"


# ---- forwarded replies: byte for byte -----------------------------------------------------------

FORWARDED = {
    "HGETALL-map": ["HGETALL", "T:h"],
    "HGET-null": ["HGET", "T:h", "nope"],
    "GET-null": ["GET", "T:missing"],
    "GET": ["GET", "T:str"],
    "SMEMBERS-set": ["SMEMBERS", "T:s"],
    "SISMEMBER": ["SISMEMBER", "T:s", "a"],
    "ZSCORE-double": ["ZSCORE", "T:z", "m1"],
    "ZSCORE-null": ["ZSCORE", "T:z", "nope"],
    "ZRANGE-WITHSCORES": ["ZRANGE", "T:z", "0", "-1", "WITHSCORES"],
    "ZPOPMIN-empty": ["ZPOPMIN", "T:nozset"],
    "ZMSCORE": ["ZMSCORE", "T:z", "m1", "nope", "m3"],
    "HMGET": ["HMGET", "T:h", "f1", "nope"],
    "LRANGE": ["LRANGE", "T:l", "0", "-1"],
    "LPOS-null": ["LPOS", "T:l", "nope"],
    "XRANGE": ["XRANGE", "T:st", "-", "+"],
    "XINFO-STREAM-map": ["XINFO", "STREAM", "T:st"],
    "TYPE": ["TYPE", "T:z"],
    "OBJECT-ENCODING": ["OBJECT", "ENCODING", "T:h"],
    "WRONGTYPE": ["GET", "T:h"],
    "EVAL-true": ["EVAL", "return true", "0"],
    "EVAL-false": ["EVAL", "return false", "0"],
    "EVAL-nil": ["EVAL", "return nil", "0"],
    "EVAL-double": ["EVAL", "return {double=3.14}", "0"],
    "EVAL-big-number": ["EVAL", "return {big_number='1234567890123456789012345678901234567890'}", "0"],
    "EVAL-verbatim": ["EVAL", "return {verbatim_string={format='txt', string='hello'}}", "0"],
    "EVAL-map": ["EVAL", "return {map={a=1}}", "0"],
    "EVAL-set": ["EVAL", "return {set={a=true}}", "0"],
    "EVAL-nested": ["EVAL", "return {1, 'two', {3, {double=4.5}}}", "0"],
    "EVAL-error": ["EVAL", "return redis.error_reply('MYERR custom')", "0"],
    "EVAL-setresp3-hgetall": ["EVAL", "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", "1", "T:h"],
    "EVAL-setresp3-zscore": ["EVAL", "redis.setresp(3); return redis.call('ZSCORE', KEYS[1], 'm1')", "1",
                             "T:z"],
}


def fill(args, t):
    return [a.replace("T:", f"{t}:") for a in args]


@pytest.mark.parametrize("name", list(FORWARDED))
def test_reply_is_the_clusters_bytes_in_each_protocol(s3, s2, direct, data, name):
    d3, d2 = direct
    args = fill(FORWARDED[name], data["tag"])
    expected3 = raw_command(d3, *args)
    expected2 = raw_command(d2, *args)
    # Interleaved on one slotgate: the RESP2 client must not get RESP3 or vice versa.
    got3 = raw_command(s3, *args)
    got2 = raw_command(s2, *args)
    got3_again = raw_command(s3, *args)
    assert got3 == expected3
    assert got2 == expected2
    assert got3_again == expected3


def test_resp3_types_really_differ_from_resp2(s3, s2, data):
    # Guards the table above: these replies are not the same in both protocols.
    t = data["tag"]
    assert raw_command(s3, "HGETALL", f"{t}:h").startswith(b"%")
    assert raw_command(s2, "HGETALL", f"{t}:h").startswith(b"*")
    assert raw_command(s3, "SMEMBERS", f"{t}:s").startswith(b"~")
    assert raw_command(s3, "ZSCORE", f"{t}:z", "m1") == b",1.5\r\n"
    assert raw_command(s2, "ZSCORE", f"{t}:z", "m1") == b"$3\r\n1.5\r\n"
    assert raw_command(s3, "GET", f"{t}:missing") == b"_\r\n"
    assert raw_command(s2, "GET", f"{t}:missing") == b"$-1\r\n"
    assert raw_command(s3, "EVAL", "return {big_number='12345678901234567890123'}", "0") == (
        b"(12345678901234567890123\r\n")
    assert isinstance(s3.command("EVAL", "return {verbatim_string={format='txt', string='x'}}", "0"), Verbatim)


def test_transaction_reply_in_resp3(s3, direct, data):
    d3, _ = direct
    t = data["tag"]
    cmds = [["HGETALL", f"{t}:h"], ["ZSCORE", f"{t}:z", "m2"], ["GET", f"{t}:missing"], ["SMEMBERS", f"{t}:s"]]
    raws = []
    for conn in (d3, s3):
        assert conn.command("MULTI") == "OK"
        for cmd in cmds:
            assert conn.command(*cmd) == "QUEUED"
        raws.append(raw_command(conn, "EXEC"))
    assert raws[1] == raws[0]
    assert raws[0].startswith(b"*4\r\n%3\r\n")


def test_blocking_pop_in_resp3(s3, direct, slotgate, data):
    d3, _ = direct
    t = data["tag"]
    key = f"{t}:bl:{uuid.uuid4().hex[:6]}"
    assert raw_command(d3, "BLPOP", key, "0.2") == b"_\r\n"
    start = time.monotonic()
    assert raw_command(s3, "BLPOP", key, "0.5") == b"_\r\n"
    assert time.monotonic() - start >= 0.45
    s3.send_command("BLPOP", key, "5")
    time.sleep(0.2)
    with slotgate.raw() as pusher:
        assert pusher.command("RPUSH", key, "v") == 1
    assert read_raw(s3) == b"*2\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(key), key.encode())


def test_errors_in_resp3(s3, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=f"r3x:{uuid.uuid4().hex[:6]}:")
    (a,), (b,) = list(per_master.values())[:2]
    assert error_text(s3.command("RENAME", a, b)) == "CROSSSLOT Keys in request don't hash to the same slot"
    assert error_text(s3.command("NOSUCHCOMMAND")).startswith("ERR unknown command")
    assert s3.command("PING") == "PONG"


# ---- merged replies ----------------------------------------------------------------------------


@pytest.fixture
def spread(cluster):
    """Keys on every master (3 each) with values, plus the masters' view of them."""
    prefix = f"r3m:{uuid.uuid4().hex[:8]}:"
    per_master = cluster.keys_on_each_master(n_per_master=3, prefix=prefix)
    keys = []
    for node, ks in per_master.items():
        for k in ks:
            node.client().set(k, "v-" + k)
            keys.append(k)
    return prefix, keys


def bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def test_mget_across_masters_in_both_protocols(s3, s2, spread):
    prefix, keys = spread
    order = [keys[0], prefix + "missing1", keys[4], keys[8], prefix + "missing2", keys[2]]
    values = [None if "missing" in k else ("v-" + k).encode() for k in order]
    expected3 = b"*6\r\n" + b"".join(b"_\r\n" if v is None else bulk(v) for v in values)
    expected2 = b"*6\r\n" + b"".join(b"$-1\r\n" if v is None else bulk(v) for v in values)
    assert raw_command(s3, "MGET", *order) == expected3
    assert raw_command(s2, "MGET", *order) == expected2
    assert raw_command(s3, "MGET", prefix + "m1", prefix + "m2") == b"*2\r\n_\r\n_\r\n"


def test_counting_merges_in_both_protocols(s3, s2, spread):
    prefix, keys = spread
    assert raw_command(s3, "EXISTS", *keys, prefix + "missing") == b":%d\r\n" % len(keys)
    assert raw_command(s2, "EXISTS", *keys, prefix + "missing") == b":%d\r\n" % len(keys)
    assert raw_command(s3, "TOUCH", *keys) == b":%d\r\n" % len(keys)
    assert raw_command(s3, "DEL", *keys[:4]) == b":4\r\n"
    assert raw_command(s2, "DEL", *keys[4:]) == b":%d\r\n" % (len(keys) - 4)
    args = []
    for k in keys:
        args += [k, "again"]
    assert raw_command(s3, "MSET", *args) == b"+OK\r\n"
    assert s2.command("MGET", *keys) == [b"again"] * len(keys)


def test_dbsize_in_both_protocols(s3, s2, cluster, spread):
    total = sum(m.client().dbsize() for m in cluster.masters())
    assert raw_command(s3, "DBSIZE") == b":%d\r\n" % total
    assert raw_command(s2, "DBSIZE") == b":%d\r\n" % total


def test_keys_in_both_protocols(s3, s2, spread):
    prefix, keys = spread
    for conn in (s3, s2):
        raw = raw_command(conn, "KEYS", prefix + "*")
        assert raw.startswith(b"*%d\r\n" % len(keys)), raw
        assert sorted(parse_reply(raw)[0]) == sorted(k.encode() for k in keys)


def scan_all(conn, prefix: str) -> list[bytes]:
    cursor = b"0"
    found = []
    for _ in range(10_000):
        raw = raw_command(conn, "SCAN", cursor, "MATCH", prefix + "*", "COUNT", "50")
        assert raw.startswith(b"*2\r\n$"), raw[:40]
        cursor, batch = parse_reply(raw)[0]
        assert isinstance(batch, list)
        found += batch
        if cursor == b"0":
            return found
    raise AssertionError("SCAN did not finish")


def test_scan_in_both_protocols(s3, s2, spread):
    prefix, keys = spread
    for conn in (s3, s2):
        found = scan_all(conn, prefix)
        assert sorted(set(found)) == sorted(k.encode() for k in keys)


def test_info_is_verbatim_in_resp3_and_bulk_in_resp2(s3, s2):
    info3 = s3.command("INFO")
    info2 = s2.command("INFO")
    assert isinstance(info3, Verbatim) and info3.format == "txt", type(info3)
    assert isinstance(info2, bytes)
    sections3 = [line for line in info3.splitlines() if line.startswith("#")]
    sections2 = [line for line in info2.decode().splitlines() if line.startswith("#")]
    assert sections3 == sections2
    assert "redis_version:" in info3


# ---- Pub/Sub in RESP3 ---------------------------------------------------------------------------


def split_pushes(conn, n_replies: int, n_pushes: int, timeout: float = 5.0):
    """Read until n_replies ordinary replies and n_pushes push frames have arrived."""
    replies, pushes = [], []
    deadline = time.monotonic() + timeout
    while len(replies) < n_replies or len(pushes) < n_pushes:
        frame = conn.read_reply(timeout=max(0.0, deadline - time.monotonic()))
        (pushes if isinstance(frame, Push) else replies).append(frame)
    return replies, pushes


def test_subscribe_confirmations_and_messages_are_pushes(s3, s2):
    ch = f"r3ch:{uuid.uuid4().hex[:8]}"
    raw = raw_command(s3, "SUBSCRIBE", ch)
    assert raw == b">3\r\n$9\r\nsubscribe\r\n" + bulk(ch.encode()) + b":1\r\n"
    s2.command("PUBLISH", ch, "hi")
    msg = s3.read_reply(timeout=5)
    assert isinstance(msg, Push) and msg == [b"message", ch.encode(), b"hi"]
    pattern = ch + "*"
    assert s3.command("PSUBSCRIBE", pattern) == Push([b"psubscribe", pattern.encode(), 2])
    s2.command("PUBLISH", ch, "again")
    _, pushes = split_pushes(s3, 0, 2)
    assert sorted(pushes) == sorted([[b"message", ch.encode(), b"again"],
                                     [b"pmessage", pattern.encode(), ch.encode(), b"again"]])
    assert all(isinstance(p, Push) for p in pushes)
    assert s3.command("PUNSUBSCRIBE", pattern) == Push([b"punsubscribe", pattern.encode(), 1])
    assert s3.command("UNSUBSCRIBE", ch) == Push([b"unsubscribe", ch.encode(), 0])


def test_resp3_subscriber_runs_commands_on_the_same_connection(s3, s2, data):
    t = data["tag"]
    ch = f"r3ch:{uuid.uuid4().hex[:8]}"
    assert s3.command("SUBSCRIBE", ch) == Push([b"subscribe", ch.encode(), 1])
    assert s3.command("SET", f"{t}:sub", "v") == "OK"
    assert s3.command("GET", f"{t}:sub") == b"v"
    assert s3.command("PING") == "PONG"
    assert isinstance(s3.command("HGETALL", f"{t}:h"), dict)
    # Messages and replies interleave; each reply still answers its own command.
    s3.send(encode_command("GET", f"{t}:str") + encode_command("PUBLISH", ch, "from-self")
            + encode_command("GET", f"{t}:sub"))
    s2.command("PUBLISH", ch, "from-other")
    replies, pushes = split_pushes(s3, 3, 2)
    assert replies[0] == b"hello" and isinstance(replies[1], int) and replies[2] == b"v"
    assert sorted(pushes) == sorted([[b"message", ch.encode(), b"from-self"],
                                     [b"message", ch.encode(), b"from-other"]])


def test_shard_messages_are_pushes(s3, s2):
    ch = f"r3sch:{uuid.uuid4().hex[:8]}"
    assert s3.command("SSUBSCRIBE", ch) == Push([b"ssubscribe", ch.encode(), 1])
    assert s2.command("SPUBLISH", ch, "shard") == 1
    assert s3.read_reply(timeout=5) == Push([b"smessage", ch.encode(), b"shard"])
    assert s3.command("SUNSUBSCRIBE", ch) == Push([b"sunsubscribe", ch.encode(), 0])


def test_resp2_subscriber_next_to_a_resp3_one(slotgate, s3):
    ch = f"r3ch:{uuid.uuid4().hex[:8]}"
    with slotgate.raw() as s2sub, slotgate.raw() as pub:
        assert s2sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
        assert s3.command("SUBSCRIBE", ch) == Push([b"subscribe", ch.encode(), 1])
        pub.command("PUBLISH", ch, "both")
        assert read_raw(s2sub) == b"*3\r\n$7\r\nmessage\r\n" + bulk(ch.encode()) + b"$4\r\nboth\r\n"
        assert read_raw(s3) == b">3\r\n$7\r\nmessage\r\n" + bulk(ch.encode()) + b"$4\r\nboth\r\n"
