"""A real Redis Cluster of local redis-server processes for integration tests.

Owns the life of the cluster: start, create (via `redis-cli --cluster create`), wait
until healthy, kill/restart nodes, failovers and slot migrations, and stopping every
process it started. "Healthy" (wait_ok) means what a proxy needs: every live node says
cluster_state:ok, all live nodes agree on which master owns every slot, no live node is
flagged failing by another, and every live replica's link to its master is up."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import redis

from . import processes
from .slots import SLOT_COUNT, key_slot


def _admin_client(host: str, port: int, password: Optional[str], timeout: float = 5.0,
                  ssl: Optional[dict] = None) -> redis.Redis:
    c = redis.Redis(host=host, port=port, password=password, decode_responses=True,
                    socket_timeout=timeout, socket_connect_timeout=timeout, **(ssl or {}))
    # Plain replies: redis-py's per-command callbacks (INFO -> dict, ...) would hide
    # the server's text, and the harness parses it itself.
    c.response_callbacks.clear()
    return c


@dataclass(eq=False)
class Node:
    """One redis-server of the test cluster. Hashable by identity (usable as dict key)."""

    host: str
    port: int
    dir: Path
    password: Optional[str] = None
    process: Optional[subprocess.Popen] = field(default=None, repr=False)
    # redis-py's ssl=True arguments when the cluster speaks TLS only (RedisCluster(tls=...)).
    ssl: Optional[dict] = field(default=None, repr=False)
    _node_id: Optional[str] = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.dir / "redis.log"

    def client(self, **kw) -> redis.Redis:
        """A direct redis-py connection to this node (redis-py defaults: bytes replies)."""
        kw.setdefault("password", self.password)
        kw.setdefault("socket_timeout", 10)
        kw.setdefault("socket_connect_timeout", 5)
        for k, v in (self.ssl or {}).items():
            kw.setdefault(k, v)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def call(self, *args, timeout: float = 5.0):
        """Run one command on this node with str replies; the connection is closed after."""
        c = _admin_client(self.host, self.port, self.password, timeout, self.ssl)
        try:
            return c.execute_command(*args)
        finally:
            c.close()

    @property
    def node_id(self) -> str:
        if self._node_id is None:
            self._node_id = self.call("CLUSTER", "MYID")
        return self._node_id

    def log_tail(self, lines: int = 30) -> str:
        return processes.log_tail(self.log_path, lines)

    def __repr__(self) -> str:
        return f"Node({self.address})"


@dataclass
class NodeView:
    """One line of CLUSTER NODES as seen by some node."""

    node_id: str
    address: str  # host:port (cluster bus port and hostname stripped)
    flags: set
    master_id: Optional[str]
    link: str
    slots: list

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def failing(self) -> bool:
        return "fail" in self.flags or "fail?" in self.flags


def parse_cluster_nodes(text: str) -> list[NodeView]:
    views = []
    for line in text.strip().splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        addr = parts[1].split(",", 1)[0].split("@", 1)[0]
        views.append(NodeView(
            node_id=parts[0], address=addr, flags=set(parts[2].split(",")),
            master_id=None if parts[3] == "-" else parts[3], link=parts[7], slots=parts[8:]))
    return views


def parse_info(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


class RedisCluster:
    """masters x (1 + replicas_per_master) redis-servers on consecutive ports from base_port."""

    def __init__(self, base_port: int = 7400, masters: int = 3, replicas_per_master: int = 1,
                 host: str = "127.0.0.1", node_timeout_ms: int = 5000,
                 workdir: Optional[str | Path] = None, password: Optional[str] = None,
                 redis_server: str = "redis-server", redis_cli: str = "redis-cli",
                 extra_config: Iterable[str] = (), detach: bool = False,
                 tls: Optional[dict] = None):
        """tls: {"ca": path, "cert": path, "key": path} starts every node TLS-only
        (--port 0 --tls-port P --tls-cluster yes --tls-replication yes)."""
        if masters < 3:
            raise ValueError("redis-cli --cluster create needs at least 3 masters")
        self.host = host
        self.base_port = base_port
        self.n_masters = masters
        self.replicas_per_master = replicas_per_master
        self.node_timeout_ms = node_timeout_ms
        self.password = password
        self.redis_server = redis_server
        self.redis_cli = redis_cli
        self.extra_config = list(extra_config)
        self.detach = detach
        self.tls = tls
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"slotgate-cluster-{base_port}-"))
        total = masters * (1 + replicas_per_master)
        self.nodes: list[Node] = [
            Node(host, base_port + i, self.workdir / str(base_port + i), password) for i in range(total)]
        if tls:
            for n in self.nodes:
                n.ssl = {"ssl": True, "ssl_ca_certs": tls["ca"], "ssl_check_hostname": False}
        self.started = False

    # -- life cycle ----------------------------------------------------------------
    @property
    def seeds(self) -> list[str]:
        return [n.address for n in self.nodes]

    def _server_argv(self, node: Node) -> list[str]:
        port_args = ["--port", str(node.port)]
        if self.tls:
            port_args = ["--port", "0", "--tls-port", str(node.port), "--tls-cluster", "yes",
                         "--tls-replication", "yes", "--tls-cert-file", self.tls["cert"],
                         "--tls-key-file", self.tls["key"], "--tls-ca-cert-file", self.tls["ca"],
                         "--tls-auth-clients", "optional"]
        argv = [
            self.redis_server,
            *port_args, "--bind", node.host, "--protected-mode", "no",
            "--daemonize", "no", "--dir", str(node.dir), "--logfile", "redis.log",
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--save", "", "--appendonly", "no",
            # Why: a replica's full sync otherwise waits 5 s for more replicas to join the
            # same diskless transfer; tests want the replica in sync at once.
            "--repl-diskless-sync-delay", "0",
        ]
        if self.password:
            argv += ["--requirepass", self.password, "--masterauth", self.password]
        if node.host != self.host:
            # Why: a node moved to another address (restart(host=...)) must tell the others
            # its new address itself; otherwise they learn the source address of its
            # outgoing bus connections, which the kernel picks (127.0.0.1 on loopback).
            argv += ["--cluster-announce-ip", node.host]
        for item in self.extra_config:
            argv += item.split(" ", 1) if " " in item else [item]
        return argv

    def _spawn(self, node: Node) -> None:
        node.dir.mkdir(parents=True, exist_ok=True)
        # redis-server writes its own log via --logfile; stdout/stderr (startup errors
        # such as a bad option) go to a separate file so neither is lost.
        node.process = processes.spawn(self._server_argv(node), node.dir / "stdout.log",
                                       cwd=node.dir, detach=self.detach)
        processes.wait_until(lambda: self._pong(node), 10, f"redis-server {node.address} to answer PING",
                             describe=lambda: self._describe_node(node))

    def _pong(self, node: Node) -> bool:
        if node.process is not None and node.process.poll() is not None:
            raise RuntimeError(f"redis-server {node.address} exited with code {node.process.returncode}")
        return node.call("PING", timeout=1) in ("PONG", True)

    def _describe_node(self, node: Node) -> str:
        return (f"--- {node.address} redis.log ---\n{node.log_tail(20)}\n"
                f"--- {node.address} stdout ---\n{processes.log_tail(node.dir / 'stdout.log', 10)}")

    def describe(self) -> str:
        """Log tails of every node, for failure messages."""
        return "\n".join(self._describe_node(n) for n in self.nodes)

    def start(self) -> "RedisCluster":
        ports = [n.port for n in self.nodes] + [n.port + 10000 for n in self.nodes]
        processes.check_ports_free(self.host, ports)
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            for node in self.nodes:
                self._spawn(node)
            cmd = [self.redis_cli, "--cluster", "create", *self.seeds,
                   "--cluster-replicas", str(self.replicas_per_master), "--cluster-yes"]
            if self.password:
                cmd += ["-a", self.password, "--no-auth-warning"]
            if self.tls:
                cmd += ["--tls", "--cacert", self.tls["ca"], "--cert", self.tls["cert"],
                        "--key", self.tls["key"]]
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
            (self.workdir / "create.log").write_text(res.stdout + res.stderr)
            if res.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed ({res.returncode}):\n"
                                   f"{res.stdout[-3000:]}{res.stderr[-2000:]}")
            self.started = True
            self.wait_ok(timeout=60)
        except BaseException:
            # Leave logs for diagnosis, but never leave processes behind.
            self._kill_processes()
            raise
        return self

    def _kill_processes(self) -> None:
        for node in self.nodes:
            processes.terminate(node.process, signal.SIGKILL, timeout=5)

    def stop(self, keep_workdir: bool = False) -> None:
        """Kill every node; remove the workdir unless keep_workdir (logs for a failed run)."""
        for node in self.nodes:
            # Why SIGTERM first: a clean shutdown is quick (no persistence configured) and
            # leaves complete logs; SIGKILL follows if a node hangs.
            processes.terminate(node.process, signal.SIGTERM, timeout=5)
        self.started = False
        if not keep_workdir and self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RedisCluster":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(keep_workdir=exc_type is not None)

    # -- introspection ---------------------------------------------------------------
    def node_at(self, address: str) -> Node:
        for n in self.nodes:
            if n.address == address:
                return n
        raise KeyError(f"no node of this cluster at {address}")

    def live_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.is_alive()]

    def _any_live(self) -> Node:
        errors = []
        for n in self.nodes:
            if n.is_alive():
                try:
                    n.call("PING", timeout=1)
                    return n
                except redis.RedisError as exc:
                    errors.append(f"{n.address}: {exc}")
        raise RuntimeError("no live node answers: " + "; ".join(errors))

    def nodes_view(self, via: Optional[Node] = None) -> list[NodeView]:
        return parse_cluster_nodes((via or self._any_live()).call("CLUSTER", "NODES"))

    def slot_ranges(self, via: Optional[Node] = None) -> list[tuple[int, int, str]]:
        """[(first, last, master address)] sorted, from CLUSTER SLOTS. The address is the
        node's ip:port even when the cluster announces hostnames."""
        via = via or self._any_live()
        rows = via.call("CLUSTER", "SLOTS")
        ip_of = {v.node_id: v.address for v in self.nodes_view(via)}
        return sorted((int(r[0]), int(r[1]), ip_of.get(r[2][2], f"{r[2][0]}:{r[2][1]}")) for r in rows)

    def _by_id(self, view: list[NodeView]) -> dict[str, Node]:
        out = {}
        for v in view:
            try:
                out[v.node_id] = self.node_at(v.address)
            except KeyError:
                pass
        return out

    def masters(self) -> list[Node]:
        """Nodes the cluster currently considers masters (not flagged failed), by port."""
        view = self.nodes_view()
        return sorted((self.node_at(v.address) for v in view if v.is_master and "fail" not in v.flags),
                      key=lambda n: n.port)

    def replicas(self) -> list[Node]:
        view = self.nodes_view()
        return sorted((self.node_at(v.address) for v in view if "slave" in v.flags and "fail" not in v.flags),
                      key=lambda n: n.port)

    def replicas_of(self, master: Node) -> list[Node]:
        view = self.nodes_view()
        mid = master.node_id
        return sorted((self.node_at(v.address) for v in view
                       if v.master_id == mid and "slave" in v.flags and "fail" not in v.flags),
                      key=lambda n: n.port)

    def master_of(self, replica: Node) -> Optional[Node]:
        view = self.nodes_view()
        by_id = self._by_id(view)
        for v in view:
            if v.node_id == replica.node_id and v.master_id:
                return by_id.get(v.master_id)
        return None

    def keyslot(self, key) -> int:
        return int(self._any_live().call("CLUSTER", "KEYSLOT", key))

    def master_for_slot(self, slot: int) -> Node:
        for first, last, addr in self.slot_ranges():
            if first <= slot <= last:
                return self.node_at(addr)
        raise KeyError(f"slot {slot} is not served by any master")

    def master_for_key(self, key) -> Node:
        return self.master_for_slot(key_slot(key))

    def keys_on_each_master(self, n_per_master: int = 3, prefix: str = "k") -> dict[Node, list[str]]:
        """n_per_master keys ("<prefix><i>") for every slot-owning master, in different slots."""
        ranges = self.slot_ranges()
        owner = {}
        for first, last, addr in ranges:
            owner[(first, last)] = self.node_at(addr)
        result: dict[Node, list[str]] = {n: [] for n in owner.values()}
        used_slots: set[int] = set()
        i = 0
        while any(len(v) < n_per_master for v in result.values()):
            key = f"{prefix}{i}"
            i += 1
            if i > 1_000_000:
                raise RuntimeError("could not find keys for every master")
            slot = key_slot(key)
            if slot in used_slots:
                continue
            for (first, last), node in owner.items():
                if first <= slot <= last and len(result[node]) < n_per_master:
                    result[node].append(key)
                    used_slots.add(slot)
                    break
        return result

    # -- health ------------------------------------------------------------------------
    def health_problems(self) -> list[str]:
        """Why the cluster is not healthy right now; empty list = healthy."""
        problems = []
        live = self.live_nodes()
        if not live:
            return ["no live nodes"]
        live_ids = set()
        maps = {}
        for n in live:
            try:
                info = parse_info(n.call("CLUSTER", "INFO", timeout=2))
                if info.get("cluster_state") != "ok":
                    problems.append(f"{n.address}: cluster_state:{info.get('cluster_state')}")
                maps[n.address] = self.slot_ranges(via=n)
                live_ids.add(n.node_id)
                repl = parse_info(n.call("INFO", "replication", timeout=2))
                if repl.get("role") == "slave" and repl.get("master_link_status") != "up":
                    problems.append(f"{n.address}: replica link to {repl.get('master_host')}:"
                                    f"{repl.get('master_port')} is {repl.get('master_link_status')}")
            except redis.RedisError as exc:
                problems.append(f"{n.address}: {exc!r}")
        if problems:
            return problems
        distinct = {tuple(m) for m in maps.values()}
        if len(distinct) > 1:
            problems.append("nodes disagree on the slot map: " +
                            "; ".join(f"{a} -> {len(m)} ranges" for a, m in maps.items()))
        else:
            ranges = next(iter(distinct))
            covered = sum(last - first + 1 for first, last, _ in ranges)
            if covered != SLOT_COUNT:
                problems.append(f"only {covered} of {SLOT_COUNT} slots are served")
            for _, _, addr in ranges:
                try:
                    if not self.node_at(addr).is_alive():
                        problems.append(f"slots owned by dead node {addr}")
                except KeyError:
                    problems.append(f"slots owned by unknown node {addr}")
        # Roles spread by gossip: right after `--cluster create` or a failover some nodes
        # still list a replica as a slot-less master. Healthy means all views agree.
        roles = {}
        for n in live:
            try:
                view = parse_cluster_nodes(n.call("CLUSTER", "NODES", timeout=2))
            except redis.RedisError as exc:
                problems.append(f"{n.address}: {exc!r}")
                continue
            for v in view:
                if v.node_id in live_ids and v.failing:
                    problems.append(f"{n.address} flags live node {v.address} as {sorted(v.flags)}")
            roles[n.address] = sorted((v.node_id, "master" if v.is_master else "replica", v.master_id or "")
                                      for v in view if v.node_id in live_ids)
        if len({tuple(r) for r in roles.values()}) > 1:
            problems.append("nodes disagree on masters/replicas (gossip not converged)")
        return problems

    def wait_ok(self, timeout: float = 30) -> None:
        last: list[str] = []

        def healthy() -> bool:
            nonlocal last
            last = self.health_problems()
            return not last

        processes.wait_until(healthy, timeout, "a healthy cluster", interval=0.1,
                             describe=lambda: "problems: " + "; ".join(last))

    def wait_replicated(self, master: Node, timeout: float = 10) -> None:
        """Wait until every replica of master has acknowledged all of master's writes so far.

        A WAIT on a fresh connection proves nothing (its write offset is 0, so it returns at
        once); this compares the replicas' acknowledged offsets with the master's own."""
        target = int(parse_info(master.call("INFO", "replication"))["master_repl_offset"])
        expected = len(self.replicas_of(master))
        last: dict[str, str] = {}

        def caught_up() -> bool:
            nonlocal last
            last = parse_info(master.call("INFO", "replication", timeout=2))
            offsets = [int(dict(kv.split("=", 1) for kv in v.split(","))["offset"])
                       for k, v in last.items() if k.startswith("slave") and k[5:].isdigit()]
            return len(offsets) >= expected and all(o >= target for o in offsets)

        processes.wait_until(caught_up, timeout, f"the replicas of {master.address} to reach offset {target}",
                             interval=0.05, describe=lambda: str(last))

    # -- faults --------------------------------------------------------------------------
    def kill(self, node: Node, sig: int = signal.SIGKILL) -> None:
        """Send sig to the node; waits for it to exit unless sig is SIGSTOP/SIGCONT."""
        if node.process is None or node.process.poll() is not None:
            return
        if sig in (signal.SIGSTOP, signal.SIGCONT):
            node.process.send_signal(sig)
            return
        processes.terminate(node.process, sig, timeout=10)

    def restart(self, node: Node, wait: bool = True, timeout: float = 60, host: Optional[str] = None) -> None:
        """Start a stopped node again on its port with its nodes.conf, so it rejoins
        with its old identity. wait=True waits until the whole cluster is healthy.
        host (e.g. "127.0.0.2") restarts it bound to and announcing another address, the
        way a pod comes back with a new IP; the other nodes learn it through gossip."""
        if node.is_alive():
            raise RuntimeError(f"{node.address} is still running")
        if host is not None and host != node.host:
            processes.check_ports_free(host, [node.port, node.port + 10000])
            node.host = host
        self._spawn(node)
        if wait:
            self.wait_ok(timeout=timeout)

    def failover(self, replica: Node, mode: Optional[str] = None, timeout: float = 60) -> None:
        """CLUSTER FAILOVER [FORCE|TAKEOVER] on replica; waits until it is master in every
        live node's slot map and the cluster is healthy again."""
        args = ["CLUSTER", "FAILOVER"] + ([mode.upper()] if mode else [])
        replica.call(*args)
        self.wait_promoted(replica, timeout=timeout)

    def wait_promoted(self, node: Node, timeout: float = 60) -> None:
        """Wait until node is a master serving slots in every live node's view, then
        until the cluster is healthy (used after an automatic failover too)."""

        def promoted() -> bool:
            if parse_info(node.call("INFO", "replication", timeout=2)).get("role") != "master":
                return False
            return all(any(addr == node.address for _, _, addr in self.slot_ranges(via=n))
                       for n in self.live_nodes())

        processes.wait_until(promoted, timeout, f"{node.address} to be promoted to master",
                             interval=0.1)
        self.wait_ok(timeout=timeout)

    def add_node(self, port: Optional[int] = None, join: bool = False, replica_of: Optional[Node] = None,
                 timeout: float = 60) -> Node:
        """Start one more empty cluster-enabled redis-server and return it (default port:
        the next after the last node); stop() stops it like the others.

        By default it is not part of the cluster yet (introduce it with
        `redis-cli --cluster add-node` or CLUSTER MEET). join=True sends CLUSTER MEET and
        waits until the cluster is healthy; replica_of makes it a replica of that master."""
        port = port if port is not None else max(n.port for n in self.nodes) + 1
        processes.check_ports_free(self.host, [port, port + 10000])
        node = Node(self.host, port, self.workdir / str(port), self.password)
        node.ssl = self.nodes[0].ssl
        self.nodes.append(node)
        self._spawn(node)
        if join or replica_of is not None:
            self._any_live_member(exclude=node).call("CLUSTER", "MEET", node.host, node.port)
            if replica_of is not None:
                processes.wait_until(
                    lambda: any(v.node_id == replica_of.node_id for v in self.nodes_view(via=node)),
                    timeout, f"{node.address} to learn about {replica_of.address}")
                node.call("CLUSTER", "REPLICATE", replica_of.node_id)
            self.wait_ok(timeout=timeout)
        return node

    def _any_live_member(self, exclude: Node) -> Node:
        for n in self.nodes:
            if n is not exclude and n.is_alive():
                return n
        raise RuntimeError("no live cluster member")

    # -- resharding ------------------------------------------------------------------------
    def begin_migration(self, slot: int, target: Node) -> Node:
        """Mark slot IMPORTING on target and MIGRATING on its current owner; returns the owner.

        Why this order: importing first, so that the moment the source starts answering
        ASK, the target already accepts ASKING for the slot."""
        source = self.master_for_slot(slot)
        if source is target:
            raise ValueError(f"slot {slot} is already on {target.address}")
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        return source

    def migrate_keys(self, slot: int, target: Node, keys: Optional[Iterable] = None,
                     batch: int = 100) -> int:
        """MIGRATE the given keys (default: every key of the slot) from the owner to target.
        Returns the number of keys moved."""
        source = self.master_for_slot(slot)
        auth = ["AUTH", self.password] if self.password else []
        moved = 0
        if keys is not None:
            keys = list(keys)
            for i in range(0, len(keys), batch):
                chunk = keys[i:i + batch]
                source.call("MIGRATE", target.host, target.port, "", 0, 10000, *auth, "KEYS", *chunk, timeout=15)
                moved += len(chunk)
            return moved
        while True:
            chunk = source.call("CLUSTER", "GETKEYSINSLOT", slot, batch)
            if not chunk:
                return moved
            source.call("MIGRATE", target.host, target.port, "", 0, 10000, *auth, "KEYS", *chunk, timeout=15)
            moved += len(chunk)

    def finish_migration(self, slot: int, target: Node, wait: bool = True) -> None:
        """SETSLOT NODE on target, then the source, then every other live master."""
        source = self.master_for_slot(slot)
        order = [target] + ([source] if source is not target else [])
        masters = [n for n in self.masters() if n.is_alive()]
        order += [m for m in masters if m not in order]
        for m in order:
            m.call("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        if wait:
            processes.wait_until(
                lambda: all(self._owner_in_view(n, slot) == target.address for n in self.live_nodes()),
                30, f"every node to see slot {slot} on {target.address}", interval=0.05)
            self.wait_ok()

    def _owner_in_view(self, via: Node, slot: int) -> Optional[str]:
        for first, last, addr in self.slot_ranges(via=via):
            if first <= slot <= last:
                return addr
        return None

    def move_slot(self, slot: int, target: Node) -> int:
        """Full migration of one slot with its keys. Returns the number of keys moved."""
        self.begin_migration(slot, target)
        moved = self.migrate_keys(slot, target)
        self.finish_migration(slot, target)
        return moved

    # -- data ---------------------------------------------------------------------------------
    def flushall(self) -> None:
        """FLUSHALL on every master (replicas follow)."""
        for m in self.masters():
            if m.is_alive():
                m.call("FLUSHALL")
