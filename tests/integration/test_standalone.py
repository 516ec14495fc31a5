"""backend.kind standalone: one plain redis-server behind slotgate, with the same client-facing
behaviour as a cluster (CLUSTER emulation, users, /topology) and nothing a plain Redis would not
do: multi-key commands, transactions, SCAN and Pub/Sub over keys of any slots pass through to
the one node unsplit, without CROSSSLOT.

Ports (plus SLOTGATE_TEST_PORT_OFFSET): 7560 the module's redis-server, 7562/7563 its slotgate,
7564 and 7566/7567 for the restart test, 7568 a replica, 7570/7571 the replica's slotgate,
7572/7573 config checks, 7574 a fake Redis that answers MOVED, 7575 the address it names,
7576/7577 its slotgate."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import (FileConfiguredSlotgate, RawConnection, RedisServer, RespError, http_get,  # noqa: E402
                     key_slot, wait_until)
from harness.slotgate import default_binary  # noqa: E402

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
REDIS_PORT = 7560 + PORT_OFFSET
GATE_PORT, GATE_ADMIN = 7562 + PORT_OFFSET, 7563 + PORT_OFFSET
RESTART_REDIS_PORT = 7564 + PORT_OFFSET
RESTART_GATE, RESTART_ADMIN = 7566 + PORT_OFFSET, 7567 + PORT_OFFSET
REPLICA_PORT = 7568 + PORT_OFFSET
REPLICA_GATE, REPLICA_ADMIN = 7570 + PORT_OFFSET, 7571 + PORT_OFFSET
FAKE_PORT, TRAP_PORT = 7574 + PORT_OFFSET, 7575 + PORT_OFFSET
FAKE_GATE, FAKE_ADMIN = 7576 + PORT_OFFSET, 7577 + PORT_OFFSET
BACKEND_PASSWORD = "backend-secret"
ADMIN_PASSWORD = "admin-secret"

# Keys in three different slots (no hash tags).
KEYS = ["alpha", "bravo", "charlie"]
assert len({key_slot(k) for k in KEYS}) == 3


def standalone_config(port: int, admin: int, redis_port: int, extra: str = "",
                      backend_password: str = BACKEND_PASSWORD) -> str:
    return (f"listen: 127.0.0.1:{port}\n"
            f"workers: 2\n"
            f"backend:\n  kind: standalone\n  address: 127.0.0.1:{redis_port}\n"
            f"cluster:\n  password: {backend_password}\n  failover_hold: 20s\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n" + extra)


def start_gate(logdir: Path, name: str, text: str, port: int, admin: int) -> FileConfiguredSlotgate:
    gate = FileConfiguredSlotgate([], port=port, admin_port=admin, config_text=text,
                                  workdir=logdir / f"slotgate-{port}-{name}"[:200])
    gate.start()
    return gate


def stop_gate(gate: FileConfiguredSlotgate) -> None:
    stopped_by_test = not gate.is_running()
    code = gate.stop()
    assert stopped_by_test or code in (0, None), f"{gate} exited with {code}:\n{gate.log_tail(40)}"


@pytest.fixture(scope="module")
def backend(logdir):
    server = RedisServer(port=REDIS_PORT, password=BACKEND_PASSWORD,
                         workdir=logdir / f"redis-{REDIS_PORT}-standalone")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gate(backend, logdir):
    users = ("clients:\n"
             f"  password: {ADMIN_PASSWORD}\n"
             "  users:\n"
             "    - {name: reader, password: reader-pw, readonly: true}\n"
             "    - {name: app, password: app-pw, keys: ['app:*']}\n")
    g = start_gate(logdir, "standalone", standalone_config(GATE_PORT, GATE_ADMIN, REDIS_PORT, users),
                   GATE_PORT, GATE_ADMIN)
    yield g
    stop_gate(g)


@pytest.fixture
def client(gate, backend):
    backend.client().flushall()
    c = gate.client(password=ADMIN_PASSWORD, decode_responses=True)
    yield c
    c.close()


def calls(backend: RedisServer, command: str) -> int:
    stats = backend.client().info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def test_plain_commands_reach_the_standalone_redis(client, backend):
    assert client.set("greeting", "hello") is True
    assert client.get("greeting") == "hello"
    assert client.incr("counter") == 1
    assert backend.client(decode_responses=True).get("greeting") == "hello"


def test_multi_key_commands_across_slots_go_to_the_node_unsplit(client, backend):
    before_mset, before_mget, before_del = calls(backend, "mset"), calls(backend, "mget"), calls(backend, "del")
    assert client.mset({k: f"v-{k}" for k in KEYS}) is True
    assert client.mget(KEYS + ["missing"]) == ["v-alpha", "v-bravo", "v-charlie", None]
    assert client.delete(*KEYS) == 3
    # One command each on the node: a cluster would have split them into one part per slot.
    assert calls(backend, "mset") - before_mset == 1
    assert calls(backend, "mget") - before_mget == 1
    assert calls(backend, "del") - before_del == 1


def test_commands_with_keys_of_different_slots_get_no_crossslot(client):
    client.set("alpha", "1")
    assert client.rename("alpha", "bravo") is True
    assert client.get("bravo") == "1"
    client.sadd("s1", "a", "b")
    client.sadd("s2", "b", "c")
    assert key_slot("s1") != key_slot("s2")
    assert client.sinterstore("s3", ["s1", "s2"]) == 1
    client.rpush("src", "x")
    assert client.lmove("src", "dst") == "x"
    # A blocking command over keys of different slots, on its own connection.
    assert key_slot("queue1") != key_slot("queue2")
    client.rpush("queue2", "job")
    assert client.blpop(["queue1", "queue2"], timeout=1) == ("queue2", "job")


def test_a_transaction_over_keys_of_different_slots_runs(client):
    with client.pipeline(transaction=True) as p:
        for k in KEYS:
            p.set(k, k.upper())
        p.mget(KEYS)
        assert p.execute() == [True, True, True, ["ALPHA", "BRAVO", "CHARLIE"]]


def test_watch_over_keys_of_different_slots_guards_the_transaction(client, backend):
    client.set("alpha", "0")
    with client.pipeline(transaction=True) as p:
        p.watch("alpha", "bravo")
        backend.client().set("bravo", "changed by someone else")
        p.multi()
        p.set("alpha", "1")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert client.get("alpha") == "0"
    with client.pipeline(transaction=True) as p:
        p.watch("alpha", "charlie")
        p.multi()
        p.set("alpha", "2")
        p.set("charlie", "3")
        assert p.execute() == [True, True]
    assert client.mget("alpha", "charlie") == ["2", "3"]


def test_scan_keys_and_dbsize_see_every_key(client, backend):
    names = {f"key:{i}" for i in range(500)}
    backend.client().mset({n: "x" for n in names})
    assert set(client.scan_iter(count=37)) == names
    assert set(client.scan_iter(match="key:1*", count=50)) == {n for n in names if n.startswith("key:1")}
    assert set(client.keys("*")) == names
    assert client.dbsize() == 500
    assert client.flushall() is True
    assert client.dbsize() == 0


def test_pubsub_through_the_standalone_redis(gate, client):
    sub = gate.client(password=ADMIN_PASSWORD, decode_responses=True).pubsub()
    try:
        sub.subscribe("news")
        sub.psubscribe("alerts.*")
        wait_until(lambda: client.publish("news", "probe") >= 1, 5, "the subscription to be in place")
        assert client.publish("alerts.disk", "full") == 1
        got = []
        deadline = time.time() + 5
        while time.time() < deadline and len([m for m in got if m["type"] in ("message", "pmessage")]) < 2:
            m = sub.get_message(timeout=0.5)
            if m:
                got.append(m)
        data = [(m["channel"], m["data"]) for m in got if m["type"] in ("message", "pmessage")]
        assert ("news", "probe") in data and ("alerts.disk", "full") in data, got
    finally:
        sub.close()


def test_shard_channels_of_different_slots_subscribe_together(gate, client):
    assert key_slot("room1") != key_slot("room2")
    sub = gate.client(password=ADMIN_PASSWORD, decode_responses=True)
    try:
        reply = sub.execute_command("SSUBSCRIBE", "room1", "room2")
        assert reply[0] in ("ssubscribe", b"ssubscribe"), reply
    finally:
        sub.close()


def test_users_are_checked_by_slotgate_in_front_of_a_standalone_redis(gate, client):
    reader = gate.client(username="reader", password="reader-pw", decode_responses=True)
    client.set("shared", "v")
    assert reader.get("shared") == "v"
    with pytest.raises(redis.exceptions.NoPermissionError):
        reader.set("shared", "w")
    app = gate.client(username="app", password="app-pw", decode_responses=True)
    assert app.set("app:1", "ok") is True
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.get("other")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
        gate.client(username="app", password="wrong").ping()


def test_redis_cli_in_cluster_mode_works_through_slotgate(gate, client):
    slots = client.execute_command("CLUSTER", "SLOTS")
    assert len(slots) == 1 and slots[0][0] == 0 and slots[0][1] == 16383, slots
    assert int(slots[0][2][1]) == GATE_PORT
    base = ["redis-cli", "-c", "-p", str(GATE_PORT), "-a", ADMIN_PASSWORD, "--no-auth-warning"]
    for k in KEYS:
        out = subprocess.run(base + ["SET", k, f"cli-{k}"], capture_output=True, text=True, timeout=10)
        assert out.stdout.strip() == "OK", out
    out = subprocess.run(base + ["MGET"] + KEYS, capture_output=True, text=True, timeout=10)
    assert out.stdout.split() == [f"cli-{k}" for k in KEYS], out
    info = client.execute_command("CLUSTER", "INFO")
    assert "cluster_state:ok" in (info if isinstance(info, str) else info.decode())


def test_topology_and_readiness_show_the_one_node(gate, backend):
    status, body = http_get(GATE_ADMIN, "/topology")
    assert status == 200, body
    topo = json.loads(body)
    text = json.dumps(topo)
    assert f"127.0.0.1:{REDIS_PORT}" in text
    assert topo["backend"] == "standalone" and topo["slots_covered"] == 16384
    nodes = topo["nodes"]
    assert isinstance(nodes, list) and len(nodes) == 1, topo
    assert http_get(GATE_ADMIN, "/readyz")[0] == 200
    # The web page and its data load as for a cluster.
    assert http_get(GATE_ADMIN, "/")[0] == 200
    status, stats = http_get(GATE_ADMIN, "/stats")
    assert status == 200 and json.loads(stats), stats


def test_the_refresher_never_sends_cluster_commands_to_a_standalone_redis(gate, backend):
    time.sleep(0.5)
    stats = backend.client(decode_responses=True).info("commandstats")
    assert not any(name.startswith("cmdstat_cluster") for name in stats), sorted(stats)
    assert "cmdstat_role" in stats


def test_a_restart_of_the_redis_holds_requests_and_connections_recover(logdir):
    server = RedisServer(port=RESTART_REDIS_PORT, password=BACKEND_PASSWORD,
                         workdir=logdir / f"redis-{RESTART_REDIS_PORT}-restart")
    server.start()
    g = None
    try:
        g = start_gate(logdir, "restart", standalone_config(RESTART_GATE, RESTART_ADMIN, RESTART_REDIS_PORT),
                       RESTART_GATE, RESTART_ADMIN)
        c = g.client(decode_responses=True)
        assert c.set("before", "1") is True
        results: dict[str, object] = {}

        def during(name: str, fn) -> None:
            try:
                results[name] = fn()
            except Exception as exc:  # noqa: BLE001 - recorded for the assertion
                results[name] = exc

        # A write the Redis is still running when it dies: its outcome is unknown.
        busy_write = ("redis.call('set', KEYS[1], '1') local t = redis.call('time')[1] "
                      "while redis.call('time')[1] - t < 3 do end return 1")
        slow = g.client(decode_responses=True)
        in_flight = threading.Thread(target=during, args=("in_flight", lambda: slow.eval(busy_write, 1, "w")))
        in_flight.start()
        time.sleep(0.7)
        server.node.process.send_signal(signal.SIGKILL)
        server.node.process.wait(5)
        in_flight.join(10)
        lost = results.pop("in_flight", None)
        assert isinstance(lost, redis.ResponseError) and "outcome unknown" in str(lost), lost

        other = g.client(decode_responses=True)
        threads = [threading.Thread(target=during, args=("get", lambda: c.get("before"))),
                   threading.Thread(target=during, args=("set", lambda: other.set("during", "2")))]
        for t in threads:
            t.start()
        time.sleep(2)
        assert all(t.is_alive() for t in threads), f"requests were not held while Redis was down: {results}"
        started = time.time()
        server.start()
        for t in threads:
            t.join(25)
        # The data is gone (no persistence), but the requests are answered by the new process.
        assert results == {"get": None, "set": True}, results
        assert time.time() - started < 10
        assert c.set("after", "3") is True and other.get("after") == "3"
    finally:
        if g is not None:
            stop_gate(g)
        server.stop()


def test_a_standalone_redis_that_is_a_replica_is_reported_not_ready(backend, logdir):
    replica = RedisServer(port=REPLICA_PORT, password=BACKEND_PASSWORD,
                          workdir=logdir / f"redis-{REPLICA_PORT}-replica",
                          extra_config=[f"--masterauth {BACKEND_PASSWORD}"])
    replica.start()
    replica.client().execute_command("REPLICAOF", "127.0.0.1", str(REDIS_PORT))
    g = None
    try:
        g = FileConfiguredSlotgate([], port=REPLICA_GATE, admin_port=REPLICA_ADMIN,
                                   config_text=standalone_config(REPLICA_GATE, REPLICA_ADMIN, REPLICA_PORT)
                                   .replace("failover_hold: 20s", "failover_hold: 1s"),
                                   workdir=logdir / f"slotgate-{REPLICA_GATE}-replica")
        g.start()
        status, body = http_get(REPLICA_ADMIN, "/readyz")
        assert status == 503 and "replica" in body, (status, body)
        with pytest.raises(redis.exceptions.ResponseError) as err:
            g.client().set("k", "v")
        assert "READONLY" not in str(err.value)
        wait_until(lambda: "ROLE slave" in g.log_text(), 5, "the log to say the backend is a replica")
        # Promoted: it serves again.
        replica.client().execute_command("REPLICAOF", "NO", "ONE")
        wait_until(lambda: http_get(REPLICA_ADMIN, "/readyz")[0] == 200, 15, "readiness after the promotion")
        assert g.client().set("k", "v") is True
    finally:
        if g is not None:
            stop_gate(g)
        replica.stop()


class FakeRedis:
    """A RESP2 server that says it is a master (ROLE) and answers every GET with a MOVED to
    `moved_to`: what a standalone Redis never sends, so slotgate must pass it on as data."""

    def __init__(self, port: int, moved_to: str):
        self.sock = socket.create_server(("127.0.0.1", port))
        self.moved_to = moved_to
        self.commands: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while True:
                    args, buf = self._parse(buf)
                    if args is None:
                        break
                    name = args[0].upper()
                    self.commands.append(name)
                    if name == "ROLE":
                        conn.sendall(b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
                    elif name == "GET":
                        conn.sendall(f"-MOVED {key_slot(args[1])} {self.moved_to}\r\n".encode())
                    elif name == "INFO":
                        conn.sendall(b"$22\r\nredis_version:7.0.15\r\n\r\n")
                    else:
                        conn.sendall(b"+OK\r\n")

    @staticmethod
    def _parse(buf: bytes):
        if not buf.startswith(b"*") or b"\r\n" not in buf:
            return None, buf
        head, rest = buf.split(b"\r\n", 1)
        args = []
        for _ in range(int(head[1:])):
            if b"\r\n" not in rest:
                return None, buf
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line[1:])
            if len(rest) < size + 2:
                return None, buf
            args.append(rest[:size].decode())
            rest = rest[size + 2:]
        return args, rest

    def close(self) -> None:
        self.sock.close()


def test_a_moved_from_a_standalone_redis_is_data_never_followed(logdir):
    trap = socket.create_server(("127.0.0.1", TRAP_PORT))
    trap.settimeout(0.2)
    fake = FakeRedis(FAKE_PORT, f"127.0.0.1:{TRAP_PORT}")
    g = None
    try:
        g = start_gate(logdir, "moved", standalone_config(FAKE_GATE, FAKE_ADMIN, FAKE_PORT, backend_password=""),
                       FAKE_GATE, FAKE_ADMIN)
        with RawConnection("127.0.0.1", FAKE_GATE) as conn:
            reply = conn.command("GET", "somekey", timeout=5)
        assert isinstance(reply, RespError) and reply.startswith("MOVED "), reply
        assert fake.commands.count("GET") == 1, fake.commands  # not retried after a refresh
        with pytest.raises(socket.timeout):
            trap.accept()  # nothing connected where the MOVED pointed
        assert not any(c == "CLUSTER" for c in fake.commands), fake.commands
    finally:
        if g is not None:
            stop_gate(g)
        fake.close()
        trap.close()


@pytest.mark.parametrize("backend_yaml, message", [
    ("backend:\n  kind: standalone\n", "backend.address: backend.kind standalone needs the Redis address"),
    ("backend:\n  kind: sentinal\n  address: 127.0.0.1:1\n", "backend.kind: expected 'cluster', 'sentinel' or 'standalone'"),
    ("backend:\n  kind: sentinel\n  master_name: m\n", "backend.sentinels: backend.kind sentinel needs"),
    ("backend:\n  address: 127.0.0.1:1\n", "backend.address: only used with backend.kind standalone"),
])
def test_backend_config_errors_name_the_key(tmp_path, backend_yaml, message):
    path = tmp_path / "slotgate.yaml"
    path.write_text("listen: 127.0.0.1:7572\n" + backend_yaml)
    out = subprocess.run([str(default_binary()), "--check-config", str(path)], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 1, out
    assert message in out.stdout + out.stderr, out
