"""The feature run every Python-driven client program performs against slotgate, and
the line protocol that reports it to tests/clients/test_clients.py.

The Python twin of node/protocol.mjs (same features, same checks, same output), so
redis-py and redis-cli are held to the assertions the Node.js libraries are held to.
A program supplies an adapter object with the library-specific calls:

    connect() -> detail            set(k, v) / get(k)       pipeline(ops) -> replies
    mget(keys) -> values           transaction(k1, v1, k2, v2) -> [OK, OK, v1]
    blocking_pop(key, timeout) -> (key, value) from a second connection
    push(key, value)               subscribe(channel, on_message) -> unsubscribe()
    publish(channel, message)      close()

Settings come from SG_HOST, SG_PORT, SG_PASSWORD, SG_KEYS (JSON list, at least one
key per master), SG_TAG (hash tag for the transaction) and SG_NAME (unique prefix).
Output, one JSON object per line on stdout: {"feature", "ok", "detail"} per feature,
{"event": "fault_ready", "fault": "failover"|"kill9"} before waiting for one stdin line ("go" once the test
has run CLUSTER FAILOVER), and {"event": "done"} at the end.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field

FEATURES = ["connect", "set_get", "pipeline", "mget", "transaction", "blocking_pop", "pubsub", "failover"]
FEATURE_TIMEOUT = 20.0
# The test needs up to a minute to fail over and see the cluster healthy again.
FAILOVER_TIMEOUT = 150.0


@dataclass
class Settings:
    host: str
    port: int
    password: str | None
    keys: list[str]
    tag: str
    name: str
    extra: dict = field(default_factory=dict)


def settings() -> Settings:
    keys = json.loads(os.environ.get("SG_KEYS", "[]"))
    if len(keys) < 3:
        raise SystemExit("SG_KEYS must list at least one key per master (>= 3)")
    return Settings(host=os.environ.get("SG_HOST", "127.0.0.1"), port=int(os.environ.get("SG_PORT", "6379")),
                    password=os.environ.get("SG_PASSWORD") or None, keys=keys,
                    tag=os.environ.get("SG_TAG", "tx"), name=os.environ.get("SG_NAME", f"client-{os.getpid()}"))


_out_lock = threading.Lock()


def emit(obj: dict) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def report(feature: str, ok: bool, detail: str = "") -> None:
    emit({"feature": feature, "ok": bool(ok), "detail": str(detail)[:500]})


class FeatureFailed(Exception):
    pass


def check(cond, message: str) -> None:
    if not cond:
        raise FeatureFailed(message)


def text(v):
    return v.decode() if isinstance(v, (bytes, bytearray)) else v


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_with_timeout(fn, timeout: float, what: str):
    """Run fn in a daemon thread; a hung library call becomes a failure, not a hang."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported as the feature's failure
            result["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"{what}: no answer within {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def set_get_every_key(a, s: Settings, suffix: str) -> None:
    for key in s.keys:
        value = f"{s.name}:{suffix}:{key}"
        ok = a.set(key, value)
        check(text(ok) in ("OK", True), f"SET {key} replied {ok!r}")
        got = text(a.get(key))
        check(got == value, f"GET {key} replied {got!r}, expected {value!r}")


def run_suite(make_adapter) -> None:
    s = settings()
    state = {"connected": False, "adapter": None}

    def feature(name, fn, timeout=FEATURE_TIMEOUT, needs_connection=True):
        if needs_connection and not state["connected"]:
            report(name, False, "not connected")
            return False
        try:
            detail = run_with_timeout(fn, timeout, name)
        except BaseException as exc:  # noqa: BLE001
            report(name, False, describe(exc))
            return False
        report(name, True, detail or "")
        return True

    def connect():
        state["adapter"] = make_adapter(s)
        detail = state["adapter"].connect()
        state["connected"] = True
        return detail

    wanted = [f for f in os.environ.get("SG_FEATURES", ",".join(FEATURES)).split(",") if f]
    if "connect" in wanted:
        feature("connect", connect, needs_connection=False)
    a = state["adapter"]

    def set_get():
        set_get_every_key(a, s, "sg")
        return f"{len(s.keys)} keys, one per master or more"

    def pipeline():
        ops = []
        for key in s.keys:
            ops += [("set", key, f"{s.name}:p:{key}"), ("get", key)]
        replies = [text(r) for r in a.pipeline(ops)]
        expected = []
        for key in s.keys:
            expected += ["OK", f"{s.name}:p:{key}"]
        replies = ["OK" if r is True else r for r in replies]
        check(replies == expected, f"pipeline replied {replies!r}")
        return f"{len(ops)} commands in one pipeline"

    def mget():
        values = [f"{s.name}:m:{k}" for k in s.keys]
        for k, v in zip(s.keys, values):
            a.set(k, v)
        got = [text(v) for v in a.mget(s.keys + [f"{s.name}:missing"])]
        check(got == values + [None], f"MGET replied {got!r}")
        return f"MGET of {len(s.keys) + 1} keys across masters, order kept"

    def transaction():
        k1, k2 = f"{{{s.tag}}}a", f"{{{s.tag}}}b"
        got = [text(v) for v in a.transaction(k1, "one", k2, "two")]
        got = ["OK" if v is True else v for v in got]
        check(got == ["OK", "OK", "one"], f"MULTI/EXEC replied {got!r}")
        after = text(a.get(k2))
        check(after == "two", f"GET after EXEC replied {after!r}")
        return "MULTI SET SET GET EXEC on one slot"

    def blocking_pop():
        key, value = f"{s.keys[0]}:list", f"{s.name}:bp"
        box: dict = {}

        def pop():
            try:
                box["value"] = a.blocking_pop(key, 10)
            except BaseException as exc:  # noqa: BLE001
                box["error"] = exc

        t = threading.Thread(target=pop, daemon=True)
        t.start()
        # Why wait: the push must arrive while BLPOP is blocked on the other connection.
        time.sleep(0.5)
        a.push(key, value)
        t.join(15)
        check(not t.is_alive(), "BLPOP did not return after RPUSH")
        if "error" in box:
            raise box["error"]
        got = box.get("value")
        got = [text(x) for x in got] if got else got
        check(got == [key, value], f"BLPOP on another connection returned {got!r}")
        return "BLPOP on a second connection woken by RPUSH"

    def pubsub():
        channel, message = f"{s.name}:ch", f"{s.name}:hello"
        received = threading.Event()

        def on_message(ch, msg):
            if text(ch) == channel and text(msg) == message:
                received.set()

        unsubscribe = a.subscribe(channel, on_message)
        try:
            receivers = None
            for _ in range(50):
                receivers = a.publish(channel, message)
                if received.wait(0.2):
                    break
            check(received.is_set(), f"no message received (PUBLISH reported {receivers} receivers)")
        finally:
            try:
                unsubscribe()
            except Exception:  # noqa: BLE001 - cleanup only
                pass
        return "SUBSCRIBE on one connection received a PUBLISH from another"

    def mset():
        kv = {k: f"{s.name}:ms:{k}" for k in s.keys}
        ok = a.mset(kv)
        check(text(ok) in ("OK", True), f"MSET replied {ok!r}")
        for k, v in kv.items():
            got = text(a.get(k))
            check(got == v, f"GET {k} after MSET replied {got!r}")
        return f"MSET of {len(kv)} keys across masters"

    features = {"set_get": set_get, "pipeline": pipeline, "mget": mget, "mset": mset, "transaction": transaction,
                "blocking_pop": blocking_pop, "pubsub": pubsub, "pool200": lambda: a.pool(200, s.keys)}
    features.update(getattr(a, "extras", lambda: {})() if a is not None else {})
    for name in wanted:
        if name == "connect":
            continue
        if name in ("failover", "kill9"):
            if state["connected"]:
                run_failover(a, s, feature, name)
            else:
                report(name, False, "not connected")
            continue
        if name not in features:
            report(name, False, "unknown feature")
            continue
        feature(name, features[name])
    try:
        run_with_timeout(a.close, 5, "close")
    except BaseException:  # noqa: BLE001 - closing is best effort
        pass
    emit({"event": "done"})
    sys.stdout.flush()
    # Why os._exit: a library thread stuck in a failed feature must not keep us alive.
    os._exit(0)


def run_failover(a, s: Settings, feature, fault: str = "failover") -> None:
    """Traffic runs while the test performs CLUSTER FAILOVER on a replica (or kill -9 of
    a master); passes when no command failed during it and everything works after it."""
    emit({"event": "fault_ready", "fault": fault})
    go = {"line": None}
    stop = threading.Event()
    stats = {"rounds": 0, "errors": []}

    def read_go():
        go["line"] = sys.stdin.readline().strip()
        time.sleep(1.0)
        stop.set()

    def traffic():
        while not stop.is_set():
            try:
                set_get_every_key(a, s, f"fo{stats['rounds']}")
            except Exception as exc:  # noqa: BLE001 - counted, reported below
                stats["errors"].append(describe(exc))
                time.sleep(0.05)
            stats["rounds"] += 1

    def failover():
        threading.Thread(target=read_go, daemon=True).start()
        worker = threading.Thread(target=traffic, daemon=True)
        worker.start()
        stop.wait()
        check(go["line"] == "go", f"test aborted the {fault} ({go['line']!r})")
        worker.join(60)
        check(not worker.is_alive(), f"a command hung after the {fault}")
        set_get_every_key(a, s, "after")
        got = [text(v) for v in a.mget(s.keys)]
        check(got == [f"{s.name}:after:{k}" for k in s.keys], f"MGET after the {fault} replied {got!r}")
        errors = stats["errors"]
        # kill -9: the one command in flight to the killed master when it died cannot be
        # answered (slotgate says "outcome unknown"); everything sent later is held and
        # answered after the promotion.
        in_flight = [e for e in errors if fault == "kill9" and "outcome unknown" in e]
        check(len(errors) == len(in_flight) and len(in_flight) <= 1,
              f"{len(errors)} errors during the {fault}, first: {errors[0] if errors else ''}")
        how = ", only the command in flight at the kill failed (outcome unknown)" if in_flight else " without an error"
        return f"{stats['rounds']} SET/GET rounds during the {fault}{how}; works after it"

    feature(fault, failover, timeout=FAILOVER_TIMEOUT)
