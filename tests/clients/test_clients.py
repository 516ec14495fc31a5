"""Real client libraries against slotgate in front of a real 3x2 Redis Cluster.

Each client program (node/*.mjs, python/*.py) runs as a subprocess against its own
password-protected slotgate, with the slotgate address, password and one key per
cluster master in its environment. It prints one JSON line per feature (connect
with auth, SET/GET on every master, a pipeline, MGET across masters, MULTI/EXEC on
one slot, a blocking pop woken by a push from another connection, a subscribe that
receives a publish), then announces it is ready for a failover and keeps
working while this test runs CLUSTER FAILOVER on the replica of a master it uses;
the client must see no error during it and work after it. The protocol is
described in node/protocol.mjs and python/protocol.py; the table printed at the
end of the run (conftest.py) is the compatibility matrix in README.md.

Standalone clients are told slotgate is a plain Redis; cluster-mode clients
(`-c`, `--cluster`, RedisCluster, ioredis Cluster, node-redis createCluster) see one
node owning all 16384 slots at slotgate's address and must keep every connection
there.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.tls_certs import make_ca

PY = "/usr/bin/python3"
HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
PASSWORD = "client-suite-secret"
ALL = ["connect", "set_get", "pipeline", "mget", "transaction", "blocking_pop", "pubsub", "failover"]
BENCHMARK = ["connect", "set_get", "pipeline", "mset", "failover"]
RUN_LIMIT = 240.0
# Last port of make_slotgate's block (7430-7439 + offset): free for one admin server.
ADMIN_PORT_FOR_EMULATION = 7439 + int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# tls_listen of the slotgate a TLS client program talks to (one at a time).
TLS_PORT = 7815 + int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))


@dataclass(frozen=True)
class ClientProgram:
    name: str
    argv: tuple
    features: tuple = tuple(ALL)
    # slotgate configuration this client needs (YAML text), if any.
    slotgate_config: str = ""
    cwd: object = None
    # True: the program talks TLS to slotgate's tls_listen (SG_PORT), trusting SG_TLS_CA.
    tls: bool = False

    @property
    def is_node(self) -> bool:
        return self.argv[0] == "node"


def node(script, *args):
    return ("node", str(NODE_DIR / script), *args)


def python(script, *args):
    return (PY, str(HERE / "python" / script), *args)


def _tool_version(tool: str) -> str:
    """`redis-cli 7.0.15` -> "7.0.15" (redis-benchmark ships in the same package)."""
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.split()[1].split("-")[0] if tool == "redis-cli" else out.split()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "7"


def _node_version(pkg: str, major: str) -> str:
    try:
        return json.loads((NODE_DIR / "node_modules" / pkg / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return major


def _redis_py_version() -> str:
    try:
        import redis
        return redis.__version__
    except ImportError:
        return "4.3"


CLI = _tool_version("redis-cli")
PY4 = _redis_py_version()
IO5, IO6 = _node_version("ioredis5", "5"), _node_version("ioredis6", "6")
NR4, NR6 = _node_version("redis4", "4"), _node_version("redis6", "6")

CLIENTS = [
    ClientProgram(f"redis-cli {CLI}", python("redis_cli.py", "plain")),
    ClientProgram(f"redis-cli {CLI} -c", python("redis_cli.py", "cluster")),
    ClientProgram(f"redis-benchmark {CLI}", python("redis_benchmark.py", "plain"), tuple(BENCHMARK)),
    # redis-benchmark 7.0 refuses a cluster with fewer than two masters ("Invalid
    # cluster: 1 node(s)"), so this slotgate shows two emulated nodes (two ports).
    ClientProgram(f"redis-benchmark {CLI} --cluster", python("redis_benchmark.py", "cluster"), tuple(BENCHMARK),
                  slotgate_config="emulated_nodes: 2\n"),
    ClientProgram(f"redis-py {PY4} Redis", python("redis_py.py", "standalone")),
    ClientProgram(f"redis-py {PY4} RedisCluster", python("redis_py.py", "cluster")),
    ClientProgram(f"ioredis {IO5} (RESP2)", node("ioredis.mjs", "ioredis5", "standalone")),
    ClientProgram(f"ioredis {IO5} Cluster", node("ioredis.mjs", "ioredis5", "cluster")),
    ClientProgram(f"ioredis {IO6} (RESP3)", node("ioredis.mjs", "ioredis6", "standalone")),
    ClientProgram(f"ioredis {IO6} Cluster", node("ioredis.mjs", "ioredis6", "cluster")),
    ClientProgram(f"ioredis {IO5} TLS", node("ioredis.mjs", "ioredis5", "standalone"), tls=True),
    ClientProgram(f"ioredis {IO5} Cluster TLS", node("ioredis.mjs", "ioredis5", "cluster"), tls=True),
    ClientProgram(f"ioredis {IO6} TLS", node("ioredis.mjs", "ioredis6", "standalone"), tls=True),
    ClientProgram(f"ioredis {IO6} Cluster TLS", node("ioredis.mjs", "ioredis6", "cluster"), tls=True),
    ClientProgram(f"node-redis {NR4} (RESP2)", node("node-redis.mjs", "redis4", "standalone")),
    ClientProgram(f"node-redis {NR4} createCluster", node("node-redis.mjs", "redis4", "cluster")),
    ClientProgram(f"node-redis {NR6} (RESP3)", node("node-redis.mjs", "redis6", "standalone")),
    ClientProgram(f"node-redis {NR6} createCluster", node("node-redis.mjs", "redis6", "cluster")),
]


def _installed_versions() -> dict:
    versions = {}
    for pkg in ("ioredis5", "ioredis6", "redis4", "redis6"):
        try:
            versions[pkg] = json.loads((NODE_DIR / "node_modules" / pkg / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            versions[pkg] = None
    return versions


class ClientRun:
    """One client program as a subprocess: its JSON lines arrive on a queue; stderr
    goes to a log file for the failure message."""

    def __init__(self, program: ClientProgram, env: dict, log_path: Path):
        self.program = program
        self.log_path = log_path
        self.stderr = open(log_path, "wb")
        self.proc = subprocess.Popen(list(program.argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, cwd=str(program.cwd or HERE))
        self.lines: queue.Queue = queue.Queue()
        self.raw: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)

    def next_message(self, deadline: float):
        """Next JSON object from the program; None at EOF; raises TimeoutError."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.program.name}: no output within the {RUN_LIMIT:g} s limit")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                return None
            self.raw.append(line)
            try:
                return json.loads(line)
            except ValueError:
                continue  # a library printing to stdout; kept in self.raw

    def tell(self, line: str) -> None:
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.stderr.close()

    def stderr_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


_failovers = {"count": 0}


def fail_over_one_master(cluster, keys: list[str]) -> str:
    """CLUSTER FAILOVER on the replica of the master of one of `keys`, a different
    shard each time. Why rotate: a shard's masters vote for one failover of it per
    2 x cluster-node-timeout (10 s here); failing the same shard over again sooner
    ends in "Failover attempt expired"."""
    key = keys[_failovers["count"] % len(keys)]
    _failovers["count"] += 1
    master = cluster.master_for_key(key)
    replica = cluster.replicas_of(master)[0]
    cluster.failover(replica)
    return f"{replica.address} took over from {master.address}"


def kill_one_master(cluster, keys: list[str]):
    """kill -9 of the master of one of `keys` (rotating like fail_over_one_master);
    returns (note, killed node) once its replica is promoted. The caller restarts the
    killed node afterwards (it rejoins as a replica)."""
    key = keys[_failovers["count"] % len(keys)]
    _failovers["count"] += 1
    master = cluster.master_for_key(key)
    replica = cluster.replicas_of(master)[0]
    cluster.kill(master)
    cluster.wait_promoted(replica, timeout=60)
    return f"kill -9 of {master.address}; {replica.address} promoted", master


_tls = {}


def _tls_ca(logdir) -> dict:
    """A throw-away CA and slotgate's server certificate (127.0.0.1, localhost), made once."""
    if not _tls:
        ca = make_ca(str(logdir / "client-tls" / "ca"), "client-suite-ca")
        server = ca.issue("slotgate", out="server")
        _tls.update(ca=ca.cert, cert=server.cert, key=server.key)
    return _tls


def run_program(program, cluster, make_slotgate, logdir, record_client_result, env_extra=None,
                limit: float = RUN_LIMIT) -> None:
    """Run one client program against its own password-protected slotgate, perform the
    faults it asks for (CLUSTER FAILOVER, kill -9 of a master), record its results in
    the table and fail the test if any expected feature failed."""
    tls_env = {}
    if program.tls:
        ca = _tls_ca(logdir)
        sg = make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD}, config_text=(
            f"tls_listen: 127.0.0.1:{TLS_PORT}\n"
            f"tls: {{cert_file: {ca['cert']}, key_file: {ca['key']}}}\n"))
        tls_env = {"SG_TLS_CA": ca["ca"]}
    elif program.slotgate_config:
        # The second emulated node listens on port + 1, where the admin port would be.
        sg = make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD}, config_text=program.slotgate_config,
                           admin_port=ADMIN_PORT_FOR_EMULATION)
    else:
        sg = make_slotgate(env={"SLOTGATE_PASSWORD": PASSWORD})
    port = TLS_PORT if program.tls else sg.port
    run_id = f"{program.argv[-2] if program.is_node else 'p'}-{uuid.uuid4().hex[:8]}"
    keys = [ks[0] for ks in cluster.keys_on_each_master(n_per_master=1, prefix=f"cc:{run_id}:").values()]
    env = dict(os.environ, **tls_env, SG_HOST=sg.host, SG_PORT=str(port), SG_PASSWORD=PASSWORD, SG_KEYS=json.dumps(keys),
               SG_TAG=f"tx-{run_id}", SG_NAME=f"cc-{run_id}", SG_FEATURES=",".join(program.features),
               **(env_extra or {}))
    log_path = logdir / f"client-{program.name.replace(' ', '_').replace('/', '_')}.stderr.log"
    run = ClientRun(program, env, log_path)
    results: dict = {}
    notes = []
    killed = []
    try:
        deadline = time.monotonic() + limit
        while True:
            msg = run.next_message(deadline)
            if msg is None or msg.get("event") == "done":
                break
            if msg.get("event") in ("failover_ready", "fault_ready"):
                fault = msg.get("fault", "failover")
                try:
                    if fault == "kill9":
                        note, node = kill_one_master(cluster, keys)
                        killed.append(node)
                    else:
                        note = fail_over_one_master(cluster, keys)
                    notes.append(note)
                    run.tell("go")
                except Exception as exc:  # noqa: BLE001 - reported as the fault's result
                    run.tell("abort")
                    results[fault] = (False, f"the test could not {fault}: {exc!r}")
                continue
            if "feature" in msg:
                feature = msg["feature"]
                if feature in results and not results[feature][0]:
                    continue  # keep the test's own fault error
                results[feature] = (bool(msg.get("ok")), msg.get("detail", ""))
    except TimeoutError as exc:
        for f in program.features:
            results.setdefault(f, (False, str(exc)))
    finally:
        run.stop()
        for node in killed:
            cluster.restart(node, wait=True)
        record_client_result(program.name, program.features, results)

    failures = [f"  {f}: {results.get(f, (False, 'no result reported'))[1]}" for f in program.features
                if not results.get(f, (False, ""))[0]]
    if failures:
        pytest.fail(f"{program.name}: {len(failures)} of {len(program.features)} features failed\n"
                    + "\n".join(failures)
                    + (f"\nfaults: {'; '.join(notes)}" if notes else "")
                    + f"\nexit code {run.proc.returncode}; stderr tail:\n{run.stderr_tail()}", pytrace=False)


@pytest.mark.timeout(RUN_LIMIT + 90)
@pytest.mark.parametrize("program", CLIENTS, ids=[c.name for c in CLIENTS])
def test_client(program, cluster, make_slotgate, logdir, record_client_result):
    if program.is_node:
        missing = [p for p, v in _installed_versions().items() if v is None]
        if missing:
            record_client_result(program.name, program.features, {})
            pytest.fail(f"Node.js packages {missing} are not installed: run tests/clients/run "
                        f"(or npm ci in {NODE_DIR})", pytrace=False)
    run_program(program, cluster, make_slotgate, logdir, record_client_result)
