"""Replays of what Lettuce and Jedis send in cluster mode, kept only for what the real
clients (test_real_clients.py: Lettuce RedisClusterClient, JedisCluster, Spring Boot
cluster.nodes) cannot check here:
  - an `--announce` DNS name that does not resolve on the test machine (a LoadBalancer
    name): NODES / SLOTS / MYID must carry it byte for byte, parsed the way Lettuce's
    strict NODES parser and Jedis's CLUSTER SLOTS check do;
  - Lettuce ReadFrom.REPLICA connections (READONLY / READWRITE in the handshake);
  - two slotgate replicas behind one Service answering byte-identically;
  - `emulated_nodes: 2` splitting the slots across ports.
The sequences follow /work/shared/research/clients.md (§1.1, §2.1, §2.3, §6.3, §6.9).
The standalone handshakes are replayed in tests/integration/test_handshakes.py.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid

import pytest

from harness import RawConnection, RespError, Verbatim
from harness.resp import encode_command, parse_reply

PASSWORD = "replay-secret"
ANNOUNCED = ("redis.example.test", 16379)  # a DNS name, as a LoadBalancer would have


def frame(*args) -> bytes:
    return encode_command(*args)


# Exact frames (clients.md §6 notation).
HELLO_3_AUTH = frame("HELLO", "3", "AUTH", "default", PASSWORD)
AUTH = frame("AUTH", PASSWORD)
SETNAME_REFRESH = frame("CLIENT", "SETNAME", "lettuce#ClusterTopologyRefresh")
CLUSTER_NODES = b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nNODES\r\n"
CLUSTER_SLOTS = b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n"
CLUSTER_MYID = b"*2\r\n$7\r\nCLUSTER\r\n$4\r\nMYID\r\n"
CLUSTER_SHARDS = b"*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n"
INFO = b"*1\r\n$4\r\nINFO\r\n"
JEDIS_CLIENT_INFO = (frame("CLIENT", "SETNAME", "svc") + frame("CLIENT", "SETINFO", "LIB-NAME", "jedis")
                     + frame("CLIENT", "SETINFO", "LIB-VER", "5.1.5"))


class Wire:
    """A raw socket that keeps each reply's exact bytes next to its parsed value, so
    tests can compare replies byte for byte."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self, timeout: float = 10.0):
        """(value, raw bytes) of the next reply."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = parse_reply(self.buf)
            if parsed is not None:
                value, n = parsed
                raw, self.buf = self.buf[:n], self.buf[n:]
                return value, raw
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("slotgate closed the connection")
            self.buf += chunk

    def value(self, timeout: float = 10.0):
        return self.reply(timeout)[0]

    def close(self) -> None:
        self.sock.close()


def text(v) -> str:
    """A bulk string (RESP2) or verbatim txt string (RESP3) as text."""
    if isinstance(v, Verbatim):
        assert v.format == "txt", v.format
        return str(v)
    assert isinstance(v, bytes), f"expected a bulk or verbatim string, got {v!r}"
    return v.decode()


def lettuce_fallback_ok(err: str) -> bool:
    """Lettuce 6.2.6+ falls back to RESP2 on these HELLO errors (clients.md §1.1)."""
    return err.startswith("NOPROTO") or (err.startswith("ERR") and "unknown" in err)


def lettuce_handshake(w: Wire) -> int:
    """Lettuce's connection handshake with a password (clients.md §1.1 step 1): returns
    the protocol the connection ended up with."""
    w.send(HELLO_3_AUTH)
    hello = w.value()
    if isinstance(hello, dict):
        fields = {k.decode() if isinstance(k, bytes) else k: v for k, v in hello.items()}
        assert fields["proto"] == 3, fields
        assert isinstance(fields["id"], int), fields
        assert re.fullmatch(rb"\d+\.\d+\.\d+", fields["version"]), fields
        return 3
    assert isinstance(hello, RespError) and lettuce_fallback_ok(hello), \
        f"Lettuce neither gets a HELLO map nor an error it falls back on: {hello!r}"
    w.send(AUTH)
    assert w.value() == "OK"
    return 2


def lettuce_parse_nodes(nodes: str) -> list[dict]:
    """Lettuce's ClusterPartitionParser, strictly (clients.md §2.3): lines split on
    \\n, fields on one space, ping/pong/epoch as longs, slot tokens through
    Integer.parseInt (a stray \\r makes it throw)."""
    assert nodes.endswith("\n"), "CLUSTER NODES must end with \\n"
    assert "\r" not in nodes, "CLUSTER NODES lines must end in \\n only (Dragonfly #2726)"
    parsed = []
    for line in nodes.split("\n"):
        if not line:
            continue
        fields = line.split(" ")
        assert len(fields) >= 8, f"fewer than 8 fields: {line!r}"
        node_id, address, flags, master, ping, pong, epoch, link = fields[:8]
        assert re.fullmatch(r"[0-9a-f]{40}", node_id), node_id
        m = re.fullmatch(r"(.*):(\d+)@(\d+)(,.*)?", address)
        assert m, f"address is not host:port@cport: {address!r}"
        for number in (ping, pong, epoch):
            int(number)  # Long.parseLong
        slots = []
        for token in fields[8:]:
            if token.startswith("["):
                continue  # migrating/importing markers are skipped
            first, _, last = token.partition("-")
            assert first.isdigit() and (not last or last.isdigit()), f"slot token {token!r}"
            slots.append((int(first), int(last or first)))
        parsed.append(dict(id=node_id, host=m.group(1), port=int(m.group(2)), flags=flags.split(","),
                           master=master, link=link, slots=slots))
    return parsed


def covers_all_slots(ranges) -> bool:
    covered = set()
    for first, last in ranges:
        covered.update(range(first, last + 1))
    return covered == set(range(16384))


@pytest.fixture
def gate(make_slotgate):
    """(slotgate with a client password announcing a DNS name, announced (host, port)).
    Only the announced-name variant is replayed: with the default announce (slotgate's
    own address) the real Lettuce RedisClusterClient, JedisCluster and Spring Boot
    cluster.nodes apps in test_real_clients.py do all of this for real, but a real
    client cannot follow a name that does not resolve here."""
    sg = make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD},
                       args=["--announce", f"{ANNOUNCED[0]}:{ANNOUNCED[1]}"])
    return sg, ANNOUNCED


@pytest.fixture
def wire(gate):
    w = Wire(gate[0].host, gate[0].port)
    yield w
    w.close()


# ---- Lettuce 6 RedisClusterClient ---------------------------------------------------------


def test_lettuce_topology_refresh_connection(gate, wire):
    """clients.md §6.3: handshake, CLIENT SETNAME lettuce#ClusterTopologyRefresh (reply
    ignored), then CLUSTER NODES and INFO in one write; Lettuce must find exactly one
    `myself` master at the announced address owning every slot."""
    _, (host, port) = gate
    lettuce_handshake(wire)
    wire.send(SETNAME_REFRESH)
    setname = wire.value()
    assert setname == "OK" or isinstance(setname, RespError)
    wire.send(CLUSTER_NODES + INFO)
    nodes_reply = wire.value()
    info_reply = wire.value()

    nodes = lettuce_parse_nodes(text(nodes_reply))
    me = [n for n in nodes if "myself" in n["flags"]]
    assert len(me) == 1, f"exactly one node must carry `myself`: {nodes}"
    me = me[0]
    assert "master" in me["flags"], me
    assert me["master"] == "-", me
    assert me["link"] == "connected", me
    assert me["host"], "an empty host makes Lettuce use the seed address instead of the announced one"
    assert (me["host"], me["port"]) == (host, port), f"announced {host}:{port}, NODES says {me}"
    assert covers_all_slots(me["slots"]), me["slots"]

    info = text(info_reply)
    assert "cluster_enabled:1" in info
    assert "redis_version:" in info


def test_lettuce_second_connection_cluster_myid(gate):
    """clients.md §2.1/§6.3: each new cluster connection (to the announced address,
    which is slotgate) runs the handshake and CLUSTER MYID; the id must be the one
    NODES reported, or Lettuce cannot match the connection to its partition."""
    sg, _ = gate
    first = Wire(sg.host, sg.port)
    second = Wire(sg.host, sg.port)
    try:
        lettuce_handshake(first)
        first.send(CLUSTER_NODES)
        node_id = lettuce_parse_nodes(text(first.value()))[0]["id"]
        lettuce_handshake(second)
        second.send(CLUSTER_MYID)
        myid = second.value()
        assert isinstance(myid, bytes), f"CLUSTER MYID must be a bulk string like Redis's: {myid!r}"
        assert myid.decode() == node_id
        # The data connection then works like any other.
        key = f"replay:{uuid.uuid4().hex}"
        second.send(frame("SET", key, "v") + frame("GET", key))
        assert second.value() == "OK" and second.value() == b"v"
    finally:
        first.close()
        second.close()


def test_replica_intent_connections_get_ok_for_readonly_and_readwrite(wire):
    """Lettuce ReadFrom.REPLICA* connections send READONLY in the handshake (must
    succeed, §1.1 step 2); READWRITE switches back."""
    lettuce_handshake(wire)
    wire.send(frame("READONLY") + frame("READWRITE"))
    assert wire.value() == "OK"
    assert wire.value() == "OK"


# ---- Jedis 5 JedisCluster -----------------------------------------------------------------


def test_jedis_cluster_slots(gate, wire):
    """clients.md §1.7, §2.1, §6.9: AUTH (status OK), SETNAME + SETINFO x2 in one write
    (errors tolerated, one reply each), then CLUSTER SLOTS: start/end integers, host
    bulk + port integer per node, ranges contiguous over 0-16383 (else "Cluster slots
    list is empty." / "Cluster slots have holes.")."""
    _, (host, port) = gate
    wire.send(AUTH)
    assert wire.value() == "OK"
    wire.send(JEDIS_CLIENT_INFO)
    for _ in range(3):
        r = wire.value()
        assert r == "OK" or isinstance(r, RespError), r
    wire.send(CLUSTER_SLOTS)
    slots = wire.value()
    assert isinstance(slots, list) and slots, "Cluster slots list is empty."
    ranges = []
    for entry in slots:
        assert isinstance(entry, list) and len(entry) >= 3, entry
        first, last = entry[0], entry[1]
        assert isinstance(first, int) and isinstance(last, int), entry
        for node_info in entry[2:]:
            assert isinstance(node_info[0], bytes) and node_info[0], f"host must be a non-empty bulk: {node_info}"
            assert isinstance(node_info[1], int), f"port must be an integer: {node_info}"
        master = entry[2]
        assert (master[0].decode(), master[1]) == (host, port), f"announced {host}:{port}, SLOTS says {master}"
        ranges.append((first, last))
    ranges.sort()
    assert ranges[0][0] == 0 and ranges[-1][1] == 16383, ranges
    for (_, prev_last), (next_first, _) in zip(ranges, ranges[1:]):
        assert next_first == prev_last + 1, f"Cluster slots have holes: {ranges}"


# ---- several replicas behind one Service ----------------------------------------------------


def test_two_replicas_with_one_announce_answer_byte_identically(make_slotgate):
    """Two slotgates behind one Service (same --announce) must give byte-identical
    CLUSTER NODES / MYID / SLOTS / SHARDS, node id included: Lettuce compares node ids
    across refreshes and closes connections of a node whose id changed (§2.3)."""
    announce = f"{ANNOUNCED[0]}:{ANNOUNCED[1]}"
    gates = [make_slotgate(args=["--announce", announce]) for _ in range(2)]
    answers = []
    for sg in gates:
        w = Wire(sg.host, sg.port)
        try:
            w.send(CLUSTER_NODES + CLUSTER_MYID + CLUSTER_SLOTS + CLUSTER_SHARDS)
            answers.append([w.reply()[1] for _ in range(4)])
        finally:
            w.close()
    for name, a, b in zip(["NODES", "MYID", "SLOTS", "SHARDS"], answers[0], answers[1]):
        assert a == b, f"CLUSTER {name} differs between two slotgates with one announce:\n{a!r}\n{b!r}"
    assert ANNOUNCED[0].encode() in answers[0][0]


def test_emulated_nodes_split_the_slots_across_ports(make_slotgate):
    """emulated_nodes: 2 (for tools that refuse one-node clusters, e.g. redis-benchmark
    7.0 --cluster): two masters at consecutive ports, each port sees itself as `myself`,
    the slots are covered once, and both ports are full slotgates."""
    admin = 7439 + int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
    sg = make_slotgate(config_text="emulated_nodes: 2\n", admin_port=admin)
    ids = []
    for port in (sg.port, sg.port + 1):
        conn = RawConnection("127.0.0.1", port)
        try:
            reply = conn.command("CLUSTER", "NODES")
            nodes = reply.decode() if isinstance(reply, bytes) else str(reply)
            lines = [l for l in nodes.split("\n") if l]
            assert len(lines) == 2 and "\r" not in nodes
            mine = [l for l in lines if "myself" in l.split(" ")[2]]
            assert len(mine) == 1 and f"127.0.0.1:{port}@" in mine[0]
            covered = []
            for l in lines:
                first, last = l.split(" ")[8].split("-")
                covered.extend(range(int(first), int(last) + 1))
            assert sorted(covered) == list(range(16384))
            myid = conn.command("CLUSTER", "MYID").decode()
            assert mine[0].split(" ")[0] == myid
            ids.append(myid)
            slots = conn.command("CLUSTER", "SLOTS")
            assert [(r[0], r[1], r[2][1]) for r in slots] == [(0, 8191, sg.port), (8192, 16383, sg.port + 1)]
            assert conn.command("SET", f"emu:{port}", "v") == "OK"
            assert conn.command("GET", f"emu:{port}") == b"v"
        finally:
            conn.close()
    assert ids[0] != ids[1]
