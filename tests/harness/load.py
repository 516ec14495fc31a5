"""A steady read/write load through one address, with the outcome of every write tracked.

Owns the load generator used by the failover, restart and resharding scenarios: K
client threads, each with its own connection and no retries of its own, send a mix of
GET, SET (a fixed value per key) and INCR (on counters) at a steady rate. Every
finished command is recorded (kind, key, start/end time, outcome class), so a test can
ask afterwards how many operations failed and why, how long the longest stall was, and
when the first write on some slots succeeded after a fault.

The counters carry the correctness check. For every counter the generator knows how
many INCRs were acknowledged (an integer reply) and how many have an unknown outcome
(`ERR outcome unknown`, a timeout, a dropped connection). Read back from the cluster at
the end, each counter must satisfy `acked <= final <= acked + unknown`: an acknowledged
write was never lost, and nothing was applied that the client was told failed.

Clients: `RawRespClient` (one raw RESP2 socket, for slotgate) or `RedisPyClusterClient`
(redis-py's cluster client with the retries it ships with, for the comparison bench).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import redis

from .resp import RawConnection, RespError
from .slots import key_slot

# Outcome classes of one command. Everything except OK is an error seen by the client.
OK = "ok"
OUTCOME_UNKNOWN = "outcome_unknown"  # "ERR outcome unknown ..." from slotgate
CLUSTERDOWN = "clusterdown"  # CLUSTERDOWN error reply
REDIRECT = "redirect"  # a MOVED/ASK that reached the client
TRYAGAIN = "tryagain"  # TRYAGAIN / LOADING / MASTERDOWN reached the client
ERROR = "error"  # any other error reply
BAD_VALUE = "bad_value"  # a reply that is not what the command can return here
TIMEOUT = "timeout"  # no reply within the socket timeout
CONNECTION = "connection"  # the connection closed, reset or could not be opened

# Outcomes after which an INCR may or may not have been applied by the server.
UNKNOWN_OUTCOMES = frozenset({OUTCOME_UNKNOWN, TIMEOUT, CONNECTION})
WRITE_KINDS = ("INCR", "SET")


def classify_error_text(text: str) -> str:
    """The outcome class of an error reply, by its text."""
    upper = text.upper()
    if upper.startswith("ERR OUTCOME UNKNOWN"):
        return OUTCOME_UNKNOWN
    if upper.startswith("CLUSTERDOWN"):
        return CLUSTERDOWN
    if upper.startswith(("MOVED ", "ASK ")):
        return REDIRECT
    if upper.startswith(("TRYAGAIN", "LOADING", "MASTERDOWN")):
        return TRYAGAIN
    return ERROR


def classify_exception(exc: BaseException) -> str:
    # Why redis-py's classes are listed: its TimeoutError/ConnectionError do not derive
    # from the builtin ones, and its error replies arrive as exceptions, not values.
    if isinstance(exc, (TimeoutError, socket.timeout, redis.exceptions.TimeoutError)):
        return TIMEOUT
    if isinstance(exc, (ConnectionError, OSError, redis.exceptions.ConnectionError)):
        return CONNECTION
    if isinstance(exc, redis.exceptions.ResponseError):
        return classify_error_text(str(exc))
    if isinstance(exc, redis.exceptions.RedisClusterException):
        # redis-py gave up after its own retries ("TTL exhausted", no nodes reachable).
        return CONNECTION if "connect" in str(exc).lower() else ERROR
    return ERROR


# -- clients ----------------------------------------------------------------------------------


class RawRespClient:
    """One raw RESP2 connection to host:port. Error replies are returned as RespError
    values; a timeout or a closed connection raises. Never retries anything."""

    def __init__(self, host: str, port: int, timeout: float = 25.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.conn: Optional[RawConnection] = None

    def connect(self) -> None:
        self.close()
        self.conn = RawConnection(self.host, self.port, connect_timeout=5)

    def call(self, *args):
        if self.conn is None:
            self.connect()
        return self.conn.command(*args, timeout=self.timeout)

    def broken(self) -> None:
        """The last call failed at the connection level: its reply (if any) may still
        arrive, so the connection cannot be reused in order. Drop it."""
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class RedisPyClusterClient:
    """redis-py's RedisCluster (cluster-aware, with its shipped retry behaviour) behind the
    same call() interface. Error replies come back as RespError values like RawRespClient."""

    def __init__(self, startup_nodes: Iterable[str], timeout: float = 25.0):
        nodes = [redis.cluster.ClusterNode(*addr.rsplit(":", 1)) for addr in startup_nodes]
        self.client = redis.cluster.RedisCluster(startup_nodes=nodes, socket_timeout=timeout,
                                                 socket_connect_timeout=5)

    def connect(self) -> None:
        pass

    def call(self, *args):
        try:
            return self.client.execute_command(*args)
        except redis.exceptions.ResponseError as exc:
            if isinstance(exc, redis.exceptions.ClusterDownError):
                return RespError("CLUSTERDOWN " + str(exc))
            return RespError(str(exc))

    def broken(self) -> None:
        pass  # redis-py replaces its own broken connections

    def close(self) -> None:
        self.client.close()


# -- records ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Op:
    """One finished command as the client saw it."""

    client: int
    kind: str  # GET, SET or INCR
    key: str
    start: float  # time.monotonic() when sent
    end: float  # time.monotonic() when the reply (or the failure) arrived
    outcome: str  # OK or an error class
    detail: str = ""  # error text
    value: Optional[int] = None  # INCR's reply

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class LoadReport:
    """What the clients saw in some time window."""

    ops: int = 0
    ok: int = 0
    errors: Counter = field(default_factory=Counter)  # outcome class -> count
    errors_by_kind: Counter = field(default_factory=Counter)  # (kind, class) -> count
    max_latency: float = 0.0
    slowest: Optional[Op] = None
    error_samples: list = field(default_factory=list)  # a few error texts, for messages

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def read_errors(self) -> int:
        return sum(n for (kind, _), n in self.errors_by_kind.items() if kind == "GET")

    def summary(self) -> str:
        errs = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        return (f"{self.ops} ops, {self.ok} ok, errors: {errs}; longest stall {self.max_latency * 1000:.0f} ms"
                + (f"; samples: {self.error_samples}" if self.error_samples else ""))


@dataclass
class CounterCheck:
    key: str
    acked: int
    unknown: int
    final: Optional[int]
    max_reply: int
    duplicate_replies: int

    def problems(self) -> list[str]:
        final = self.final or 0
        out = []
        if final < self.acked:
            out.append(f"{self.key}: final {final} < acknowledged {self.acked} (acknowledged writes lost)")
        if final > self.acked + self.unknown:
            out.append(f"{self.key}: final {final} > acknowledged {self.acked} + unknown {self.unknown}"
                       f" (writes applied that the client was told failed, or applied twice)")
        if self.max_reply > final:
            out.append(f"{self.key}: an INCR replied {self.max_reply} but the final value is {final}")
        if self.duplicate_replies:
            out.append(f"{self.key}: {self.duplicate_replies} INCR replies repeat a value already returned"
                       f" (a write was lost and its value handed out again)")
        return out


# -- the generator ---------------------------------------------------------------------------------


def spread_keys(prefix: str, n: int) -> list[str]:
    """n keys "<prefix><i>" in n different slots (CRC16 spreads them over all masters)."""
    keys, slots, i = [], set(), 0
    while len(keys) < n:
        key = f"{prefix}{i}"
        i += 1
        s = key_slot(key)
        if s not in slots:
            slots.add(s)
            keys.append(key)
    return keys


def keys_in_slots(prefix: str, first: int, last: int, n: int) -> list[str]:
    """n keys "<prefix><i>" whose slots lie in [first, last], in different slots where possible."""
    keys, slots, i = [], set(), 0
    span = last - first + 1
    while len(keys) < n:
        key = f"{prefix}{i}"
        i += 1
        s = key_slot(key)
        if first <= s <= last and (s not in slots or len(slots) >= span):
            slots.add(s)
            keys.append(key)
    return keys


def set_value(key: str) -> bytes:
    """The one value SET ever writes to key: a GET returning anything else is a bug."""
    return f"v:{key}".encode()


class LoadGenerator:
    """K threads of steady load. Use as a context manager or start()/stop().

    make_client(i) returns client i's connection object (RawRespClient or
    RedisPyClusterClient). rate is operations per second per client (None = as fast
    as replies come). Weights: INCR on counters, SET and GET on plain keys (GET also
    reads counters)."""

    def __init__(self, make_client: Callable[[int], object], counters: list[str], plain_keys: list[str],
                 clients: int = 8, rate: Optional[float] = 200.0, weights=(("INCR", 5), ("SET", 2), ("GET", 3)),
                 seed: int = 1):
        if not counters or not plain_keys:
            raise ValueError("LoadGenerator needs counters and plain keys")
        self.make_client = make_client
        self.counters = list(counters)
        self.plain_keys = list(plain_keys)
        self.n_clients = clients
        self.rate = rate
        self.kinds = [k for k, _ in weights]
        self.weights = [w for _, w in weights]
        self.seed = seed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ops: list[list[Op]] = [[] for _ in range(clients)]
        self._reconnects = [0] * clients
        self._slots = {k: key_slot(k) for k in self.counters + self.plain_keys}
        self._counter_set = frozenset(self.counters)
        self.started_at: Optional[float] = None
        self.stopped_at: Optional[float] = None
        self.crashes: list[str] = []

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def through(cls, host: str, port: int, counters, plain_keys, timeout: float = 25.0, **kw) -> "LoadGenerator":
        """Load through one address (slotgate) with raw RESP connections."""
        return cls(lambda i: RawRespClient(host, port, timeout), counters, plain_keys, **kw)

    def start(self) -> "LoadGenerator":
        clients = []
        try:
            for i in range(self.n_clients):
                c = self.make_client(i)
                c.connect()
                clients.append(c)
        except BaseException:
            for c in clients:
                c.close()
            raise
        self.started_at = time.monotonic()
        for i, c in enumerate(clients):
            t = threading.Thread(target=self._run, args=(i, c), name=f"load-{i}", daemon=True)
            self._threads.append(t)
            t.start()
        return self

    def stop(self, timeout: float = 40.0) -> None:
        """Stop sending; wait for every command in flight to finish (held requests too)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.stopped_at = time.monotonic()
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise RuntimeError(f"load threads still running after {timeout:g}s: {alive}")

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> "LoadGenerator":
        return self.start()

    def __exit__(self, *exc) -> None:
        if not self.stopped:
            self.stop()

    # -- one client -------------------------------------------------------------------------
    def _run(self, i: int, client) -> None:
        rng = random.Random(self.seed * 1000 + i)
        ops = self._ops[i]
        interval = 1.0 / self.rate if self.rate else 0.0
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                if interval:
                    now = time.monotonic()
                    if next_at > now:
                        time.sleep(next_at - now)
                    # Why max(): after a stall do not fire a burst to catch up; steady load.
                    next_at = max(next_at + interval, time.monotonic())
                kind = rng.choices(self.kinds, self.weights)[0]
                if kind == "INCR":
                    key = rng.choice(self.counters)
                    args = ("INCR", key)
                elif kind == "SET":
                    key = rng.choice(self.plain_keys)
                    args = ("SET", key, set_value(key))
                else:
                    key = rng.choice(self.plain_keys if rng.random() < 0.7 else self.counters)
                    args = ("GET", key)
                ops.append(self._one(i, client, kind, key, args))
        except BaseException as exc:  # noqa: BLE001 - a crashed load thread must fail the test, not hide
            self.crashes.append(f"load-{i}: {exc!r}")
        finally:
            client.close()

    def _one(self, i: int, client, kind: str, key: str, args) -> Op:
        start = time.monotonic()
        try:
            reply = client.call(*args)
        except Exception as exc:  # noqa: BLE001 - every failure is a recorded outcome
            end = time.monotonic()
            outcome = classify_exception(exc)
            if outcome in (TIMEOUT, CONNECTION):
                client.broken()
                self._reconnects[i] += 1
                if not self._stop.is_set():
                    time.sleep(0.05)  # do not spin on a refused connect
            return Op(i, kind, key, start, end, outcome, f"{type(exc).__name__}: {exc}"[:300])
        end = time.monotonic()
        if isinstance(reply, RespError):
            return Op(i, kind, key, start, end, classify_error_text(reply), str(reply)[:300])
        if kind == "INCR":
            if isinstance(reply, int) and not isinstance(reply, bool):
                return Op(i, kind, key, start, end, OK, value=reply)
            return Op(i, kind, key, start, end, BAD_VALUE, f"INCR replied {reply!r}"[:300])
        if kind == "SET":
            ok = reply in ("OK", b"OK", True)
            return Op(i, kind, key, start, end, OK if ok else BAD_VALUE, "" if ok else f"SET replied {reply!r}")
        # GET: a plain key holds nothing or its fixed value; a counter holds a number.
        if isinstance(reply, str):
            reply = reply.encode()
        if key in self._counter_set:
            good = reply is None or (isinstance(reply, bytes) and reply.isdigit())
        else:
            good = reply is None or reply == set_value(key)
        if good:
            return Op(i, kind, key, start, end, OK)
        return Op(i, kind, key, start, end, BAD_VALUE, f"GET {key} replied {reply!r}"[:300])

    # -- results ------------------------------------------------------------------------------
    def ops(self) -> list[Op]:
        """Every finished command so far, sorted by start time."""
        out = [op for per_client in self._ops for op in list(per_client)]
        out.sort(key=lambda o: o.start)
        return out

    @property
    def reconnects(self) -> int:
        return sum(self._reconnects)

    def slot_of(self, key: str) -> int:
        return self._slots[key]

    def report(self, since: Optional[float] = None, until: Optional[float] = None) -> LoadReport:
        """Counts over the commands started in [since, until)."""
        r = LoadReport()
        for op in self.ops():
            if since is not None and op.start < since:
                continue
            if until is not None and op.start >= until:
                continue
            r.ops += 1
            if op.latency > r.max_latency:
                r.max_latency = op.latency
                r.slowest = op
            if op.outcome == OK:
                r.ok += 1
                continue
            r.errors[op.outcome] += 1
            r.errors_by_kind[(op.kind, op.outcome)] += 1
            if len(r.error_samples) < 5:
                r.error_samples.append(f"{op.kind} {op.key}: {op.detail}")
        return r

    def first_success(self, slots: set[int], after: float, kinds=WRITE_KINDS) -> Optional[Op]:
        """The first command (by reply time) of one of kinds on one of slots that was sent
        at or after `after` and succeeded."""
        best = None
        for op in self.ops():
            if op.start >= after and op.outcome == OK and op.kind in kinds and self._slots[op.key] in slots:
                if best is None or op.end < best.end:
                    best = op
        return best

    def last_key_recovered(self, slots: set[int], after: float, kinds=WRITE_KINDS) -> tuple[Optional[float], int]:
        """(time the last key on slots saw its first successful write sent after `after`,
        number of keys on slots that had none)."""
        first: dict[str, float] = {}
        for op in self.ops():
            if op.start >= after and op.outcome == OK and op.kind in kinds and self._slots[op.key] in slots:
                first[op.key] = min(op.end, first.get(op.key, op.end))
        keys = [k for k in self.counters + self.plain_keys if self._slots[k] in slots]
        missing = sum(1 for k in keys if k not in first)
        return (max(first.values()) if first else None), missing

    def check_counters(self, read_final: Callable[[str], Optional[int]]) -> list[CounterCheck]:
        """One CounterCheck per counter; read_final(key) reads its value from the cluster."""
        acked: Counter = Counter()
        unknown: Counter = Counter()
        replies: dict[str, list[int]] = {k: [] for k in self.counters}
        for op in self.ops():
            if op.kind != "INCR":
                continue
            if op.outcome == OK:
                acked[op.key] += 1
                replies[op.key].append(op.value)
            elif op.outcome in UNKNOWN_OUTCOMES:
                unknown[op.key] += 1
        checks = []
        for k in self.counters:
            vals = replies[k]
            checks.append(CounterCheck(k, acked[k], unknown[k], read_final(k), max(vals, default=0),
                                       len(vals) - len(set(vals))))
        return checks


def counter_problems(checks: list[CounterCheck]) -> list[str]:
    return [p for c in checks for p in c.problems()]


def read_counter_direct(cluster) -> Callable[[str], Optional[int]]:
    """read_final for check_counters: GET through the master that owns the key now (ask
    after cluster.wait_ok(), so the map is final)."""
    ranges = cluster.slot_ranges()

    def read(key: str) -> Optional[int]:
        slot = key_slot(key)
        addr = next(a for first, last, a in ranges if first <= slot <= last)
        value = cluster.node_at(addr).call("GET", key)
        return None if value is None else int(value)

    return read


def format_table(title: str, rows: list[tuple[str, object]]) -> str:
    """A two-column Markdown table (what the scenario measured), for pytest -s output."""
    width = max(len(k) for k, _ in rows)
    lines = [f"\n### {title}", "", f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    for k, v in rows:
        lines.append(f"| {k.ljust(width)} | {v} |")
    return "\n".join(lines) + "\n"


def report_rows(load: LoadGenerator, report: LoadReport, checks: Optional[list[CounterCheck]] = None,
                extra: Iterable[tuple[str, object]] = ()) -> list[tuple[str, object]]:
    """The standard rows of a scenario table."""
    rows: list[tuple[str, object]] = [
        ("clients", load.n_clients),
        ("ops", report.ops),
        ("ok", report.ok),
        ("errors", report.error_count),
    ]
    for cls in (OUTCOME_UNKNOWN, CLUSTERDOWN, REDIRECT, TRYAGAIN, ERROR, BAD_VALUE, TIMEOUT, CONNECTION):
        if report.errors.get(cls):
            rows.append((f"  {cls}", report.errors[cls]))
    rows.append(("read errors", report.read_errors()))
    rows.append(("reconnects", load.reconnects))
    rows.append(("longest stall (ms)", f"{report.max_latency * 1000:.0f}"))
    if checks is not None:
        rows.append(("counters", len(checks)))
        rows.append(("INCR acked", sum(c.acked for c in checks)))
        rows.append(("INCR unknown", sum(c.unknown for c in checks)))
        rows.append(("sum of final values", sum(c.final or 0 for c in checks)))
        rows.append(("counters lost/doubled", sum(1 for c in checks if c.problems())))
    rows.extend(extra)
    return rows
