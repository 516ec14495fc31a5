"""MULTI / EXEC / DISCARD / WATCH through slotgate, as a plain (non-cluster) client sees them.

A transaction is one slot's business: slotgate answers +QUEUED itself, checks each
queued command the way Redis does (unknown command, arity, keys in one slot) and at
EXEC sends MULTI ... EXEC to the slot's master in one write. What a client must see:

  * the replies Redis gives, with Redis's texts (compared with a master asked directly
    where the text is Redis's own), and the data on the owning master afterwards;
  * an aborted transaction never writes anything (CROSSSLOT, queueing errors, DISCARD);
  * WATCH guards the transaction: a change by another client, a MOVED of the watched
    slot or a failover of its master make EXEC answer nil - never a success that
    ignored the guard;
  * a transaction that lives through a CLUSTER FAILOVER ends correctly or with a clear
    error, and the counters it increments prove nothing was lost or applied twice.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from harness import RawConnection, RespError, encode_command, error_text, key_slot

EXECABORT = "EXECABORT Transaction discarded because of previous errors."
CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"


def tag() -> str:
    return "{tx" + uuid.uuid4().hex[:10] + "}"


def direct(cluster, key) -> RawConnection:
    """A raw connection to the master that owns key (for Redis's own texts and data)."""
    node = cluster.master_for_key(key)
    return RawConnection(node.host, node.port)


def two_keys_in_different_slots(cluster, prefix: str, same_master: bool) -> tuple[str, str]:
    """Two keys in different slots, on the same master or on two different masters."""
    per_master = cluster.keys_on_each_master(n_per_master=2, prefix=prefix)
    nodes = list(per_master)
    if same_master:
        a, b = per_master[nodes[0]]
    else:
        a, b = per_master[nodes[0]][0], per_master[nodes[1]][0]
    assert key_slot(a) != key_slot(b)
    return a, b


# ---- the basic life of a transaction ------------------------------------------------------


def test_multi_exec_returns_every_reply_in_order(conn, cluster):
    t = tag()
    k, h = f"{t}:n", f"{t}:h"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "1") == "QUEUED"
    assert conn.command("INCR", k) == "QUEUED"
    assert conn.command("GET", k) == "QUEUED"
    assert conn.command("HSET", h, "f", "v") == "QUEUED"
    assert conn.command("EXEC") == ["OK", 2, b"2", 1]
    owner = cluster.master_for_key(k).client()
    assert owner.get(k) == b"2"
    assert owner.hgetall(h) == {b"f": b"v"}
    # The session left MULTI: the next command runs at once.
    assert conn.command("GET", k) == b"2"


def test_transactions_on_every_master(conn, cluster):
    for node, keys in cluster.keys_on_each_master(n_per_master=2, prefix=f"txm:{uuid.uuid4().hex[:8]}:").items():
        for key in keys:
            assert conn.command("MULTI") == "OK"
            assert conn.command("INCRBY", key, "5") == "QUEUED"
            assert conn.command("INCRBY", key, "6") == "QUEUED"
            assert conn.command("EXEC") == [5, 11]
            assert node.client().get(key) == b"11", f"{key} not written on its master {node.address}"


def test_runtime_error_inside_exec_is_an_element_not_an_abort(conn, cluster):
    # Redis runs every queued command; a WRONGTYPE or not-an-integer error is one
    # element of EXEC's array and the other commands still take effect.
    t = tag()
    s, n = f"{t}:s", f"{t}:n"
    with direct(cluster, s) as d:
        d.command("DEL", s, n)
        expected = [d.command("MULTI"), d.command("SET", s, "abc"), d.command("INCR", s),
                    d.command("SET", n, "1"), d.command("EXEC")]
        d.command("DEL", s, n)
    got = [conn.command("MULTI"), conn.command("SET", s, "abc"), conn.command("INCR", s),
           conn.command("SET", n, "1"), conn.command("EXEC")]
    assert got == expected
    reply = got[-1]
    assert reply[0] == "OK" and reply[2] == "OK"
    assert error_text(reply[1]) == "ERR value is not an integer or out of range"
    assert cluster.master_for_key(n).client().get(n) == b"1"


def test_empty_transaction(conn):
    assert conn.command("MULTI") == "OK"
    assert conn.command("EXEC") == []
    assert conn.command("PING") == "PONG"


def test_keyless_command_queued_with_keyed_ones(conn, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "v") == "QUEUED"
    assert conn.command("PING") == "QUEUED"
    assert conn.command("EXEC") == ["OK", "PONG"]
    assert cluster.master_for_key(k).client().get(k) == b"v"


def test_pipelined_transaction_keeps_reply_order(conn, cluster):
    t = tag()
    k = f"{t}:k"
    before, after = f"{t}:before", f"{t}:after"
    conn.send(encode_command("SET", before, "b") + encode_command("MULTI") + encode_command("SET", k, "1")
              + encode_command("INCR", k) + encode_command("EXEC") + encode_command("SET", after, "a")
              + encode_command("GET", k))
    assert conn.read_replies(7, timeout=10) == ["OK", "OK", "QUEUED", "QUEUED", ["OK", 2], "OK", b"2"]


def test_transaction_is_atomic_against_concurrent_clients(slotgate, cluster):
    # Four clients increment one counter twice per transaction; a reader checking the
    # counter through slotgate between transactions must never see an odd value.
    t = tag()
    k = f"{t}:counter"
    rounds = 150
    errors: list[str] = []

    def worker():
        c = slotgate.raw()
        try:
            for _ in range(rounds):
                replies = [c.command("MULTI"), c.command("INCR", k), c.command("INCR", k), c.command("EXEC")]
                if replies[:3] != ["OK", "QUEUED", "QUEUED"]:
                    errors.append(f"queueing: {replies!r}")
                    return
                result = replies[3]
                if not (isinstance(result, list) and len(result) == 2 and result[1] == result[0] + 1):
                    errors.append(f"EXEC: {result!r}")
                    return
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    odd = []
    with slotgate.raw() as reader:
        while any(th.is_alive() for th in threads):
            value = reader.command("GET", k)
            if value is not None and int(value) % 2:
                odd.append(int(value))
            time.sleep(0.002)
    for th in threads:
        th.join()
    assert not errors, errors[:5]
    assert not odd, f"a reader saw half a transaction: {odd[:10]}"
    assert cluster.master_for_key(k).client().get(k) == str(4 * rounds * 2).encode()


# ---- aborted transactions -------------------------------------------------------------------


def test_discard_drops_the_queue(conn, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "v") == "QUEUED"
    assert conn.command("DISCARD") == "OK"
    assert cluster.master_for_key(k).client().exists(k) == 0
    assert conn.command("GET", k) is None
    assert conn.command("SET", k, "w") == "OK"


def test_exec_and_discard_without_multi(conn, cluster):
    assert error_text(conn.command("EXEC")) == "ERR EXEC without MULTI"
    assert error_text(conn.command("DISCARD")) == "ERR DISCARD without MULTI"
    assert conn.command("PING") == "PONG"


def same_on_master_and_slotgate(conn, cluster, key, commands) -> list:
    """Runs commands on the key's master directly, then through slotgate; returns
    slotgate's replies after checking they equal Redis's own."""
    with direct(cluster, key) as d:
        d.command("DEL", key)
        expected = [d.command(*c) for c in commands]
        d.command("DEL", key)
    got = [conn.command(*c) for c in commands]
    assert got == expected
    return got


def test_nested_multi_is_an_error_that_keeps_the_transaction(conn, cluster):
    # Redis answers the inner MULTI with an error but does not flag the transaction.
    t = tag()
    k = f"{t}:k"
    got = same_on_master_and_slotgate(conn, cluster, k, [("MULTI",), ("SET", k, "1"), ("MULTI",), ("INCR", k),
                                                         ("EXEC",)])
    assert error_text(got[2]) == "ERR MULTI calls can not be nested"
    assert got[4] == ["OK", 2]
    assert cluster.master_for_key(k).client().get(k) == b"2"


def test_watch_inside_multi_is_an_error(conn, cluster):
    t = tag()
    k = f"{t}:k"
    got = same_on_master_and_slotgate(conn, cluster, k, [("MULTI",), ("WATCH", k), ("SET", k, "v"), ("EXEC",)])
    assert error_text(got[1]) == "ERR WATCH inside MULTI is not allowed"
    assert got[3] == ["OK"]


@pytest.mark.parametrize("bad", [("GET",), ("NOSUCHCOMMAND", "x"), ("SET", "only-key")],
                         ids=["arity", "unknown-command", "arity-set"])
def test_queueing_error_aborts_like_redis(conn, cluster, bad):
    t = tag()
    k = f"{t}:k"
    with direct(cluster, k) as d:
        d.command("MULTI")
        d.command("SET", k, "1")
        expected_error = d.command(*bad)
        expected_exec = d.command("EXEC")
    assert isinstance(expected_error, RespError) and expected_exec == EXECABORT
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "1") == "QUEUED"
    assert conn.command(*bad) == expected_error
    assert conn.command("INCR", k) == "QUEUED"  # Redis keeps queueing after the error
    assert error_text(conn.command("EXEC")) == EXECABORT
    assert cluster.master_for_key(k).client().exists(k) == 0
    # Out of the transaction again.
    assert conn.command("GET", k) is None


@pytest.mark.parametrize("same_master", [True, False], ids=["same-master", "two-masters"])
def test_key_in_another_slot_is_crossslot_and_aborts(conn, cluster, same_master):
    a, b = two_keys_in_different_slots(cluster, f"txx:{uuid.uuid4().hex[:8]}:", same_master)
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", a, "1") == "QUEUED"
    assert error_text(conn.command("SET", b, "2")) == CROSSSLOT
    assert conn.command("SET", a, "3") == "QUEUED"
    assert error_text(conn.command("EXEC")) == EXECABORT
    assert cluster.master_for_key(a).client().exists(a) == 0
    assert cluster.master_for_key(b).client().exists(b) == 0
    assert conn.command("GET", a) is None


def test_multi_key_command_across_slots_inside_multi_aborts(conn, cluster):
    a, b = two_keys_in_different_slots(cluster, f"txy:{uuid.uuid4().hex[:8]}:", same_master=False)
    assert conn.command("MULTI") == "OK"
    assert error_text(conn.command("MSET", a, "1", b, "2")) == CROSSSLOT
    assert error_text(conn.command("EXEC")) == EXECABORT
    assert cluster.master_for_key(a).client().exists(a) == 0
    assert cluster.master_for_key(b).client().exists(b) == 0


# ---- WATCH ----------------------------------------------------------------------------------


def test_watch_without_changes_executes(conn, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("SET", k, "10") == "OK"
    assert conn.command("WATCH", k) == "OK"
    assert conn.command("GET", k) == b"10"
    assert conn.command("MULTI") == "OK"
    assert conn.command("INCRBY", k, "5") == "QUEUED"
    assert conn.command("EXEC") == [15]
    assert cluster.master_for_key(k).client().get(k) == b"15"


@pytest.mark.parametrize("writer", ["through-slotgate", "on-the-master"])
def test_watched_key_changed_by_another_client_aborts(conn, other, cluster, writer):
    t = tag()
    k = f"{t}:k"
    assert conn.command("SET", k, "10") == "OK"
    assert conn.command("WATCH", k) == "OK"
    if writer == "through-slotgate":
        assert other.command("SET", k, "changed") == "OK"
    else:
        cluster.master_for_key(k).client().set(k, "changed")
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "mine") == "QUEUED"
    assert conn.command("EXEC") is None
    assert cluster.master_for_key(k).client().get(k) == b"changed"
    # WATCH ends with EXEC: the next transaction runs unguarded.
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "mine") == "QUEUED"
    assert conn.command("EXEC") == ["OK"]


def test_watched_key_changed_between_multi_and_exec_aborts(conn, other, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("WATCH", k) == "OK"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "mine") == "QUEUED"
    assert other.command("SET", k, "theirs") == "OK"
    assert conn.command("EXEC") is None
    assert cluster.master_for_key(k).client().get(k) == b"theirs"


def test_unwatch_forgets_the_guard(conn, other, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("WATCH", k) == "OK"
    assert conn.command("UNWATCH") == "OK"
    assert other.command("SET", k, "theirs") == "OK"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "mine") == "QUEUED"
    assert conn.command("EXEC") == ["OK"]
    assert cluster.master_for_key(k).client().get(k) == b"mine"


def test_discard_forgets_the_guard(conn, other, cluster):
    t = tag()
    k = f"{t}:k"
    assert conn.command("WATCH", k) == "OK"
    assert conn.command("MULTI") == "OK"
    assert conn.command("DISCARD") == "OK"
    assert other.command("SET", k, "theirs") == "OK"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", k, "mine") == "QUEUED"
    assert conn.command("EXEC") == ["OK"]


def test_watch_several_keys_of_one_slot(conn, other, cluster):
    t = tag()
    a, b = f"{t}:a", f"{t}:b"
    assert conn.command("WATCH", a, b) == "OK"
    assert other.command("SET", b, "x") == "OK"
    assert conn.command("MULTI") == "OK"
    assert conn.command("SET", a, "1") == "QUEUED"
    assert conn.command("EXEC") is None
    assert cluster.master_for_key(a).client().exists(a) == 0


def test_watch_keys_in_different_slots_is_crossslot(conn, cluster):
    a, b = two_keys_in_different_slots(cluster, f"txw:{uuid.uuid4().hex[:8]}:", same_master=False)
    assert error_text(conn.command("WATCH", a, b)) == CROSSSLOT
    assert conn.command("PING") == "PONG"


def test_transaction_on_another_slot_than_the_watch_never_succeeds_silently(conn, other, cluster):
    # The guard lives on the watched slot's master; a transaction on another master
    # cannot be guarded by it. Redis Cluster answers such a command with a redirect and
    # EXECABORT; slotgate must refuse it too, never run it ignoring the guard.
    a, b = two_keys_in_different_slots(cluster, f"txv:{uuid.uuid4().hex[:8]}:", same_master=False)
    assert conn.command("WATCH", a) == "OK"
    assert other.command("SET", a, "changed") == "OK"
    assert conn.command("MULTI") == "OK"
    queued = conn.command("SET", b, "mine")
    result = conn.command("EXEC")
    assert result is None or isinstance(result, RespError), (
        f"EXEC after a changed WATCH answered {result!r} (SET answered {queued!r})")
    assert cluster.master_for_key(b).client().exists(b) == 0


def test_watch_then_slot_moved_reports_aborted(fresh_cluster, make_slotgate):
    c = fresh_cluster()
    gate = make_slotgate(seeds=c.seeds)
    t = tag()
    k = f"{t}:k"
    slot = key_slot(k)
    with gate.raw() as conn:
        assert conn.command("SET", k, "before") == "OK"
        assert conn.command("WATCH", k) == "OK"
        owner = c.master_for_slot(slot)
        target = next(m for m in c.masters() if m is not owner)
        c.move_slot(slot, target)
        assert conn.command("MULTI") == "OK"
        assert conn.command("SET", k, "after") == "QUEUED"
        assert conn.command("EXEC", timeout=15) is None, "EXEC after the watched slot moved must report an abort"
        assert target.client().get(k) == b"before"
        # A new transaction goes to the new owner.
        assert conn.command("MULTI") == "OK"
        assert conn.command("SET", k, "after") == "QUEUED"
        assert conn.command("EXEC", timeout=15) == ["OK"]
        assert target.client().get(k) == b"after"


@pytest.mark.slow
def test_watch_then_failover_reports_aborted(fresh_cluster, make_slotgate):
    c = fresh_cluster()
    gate = make_slotgate(seeds=c.seeds)
    t = tag()
    k = f"{t}:k"
    with gate.raw() as conn:
        assert conn.command("SET", k, "before") == "OK"
        assert conn.command("WATCH", k) == "OK"
        owner = c.master_for_key(k)
        replica = c.replicas_of(owner)[0]
        c.failover(replica)
        assert conn.command("MULTI") == "OK"
        assert conn.command("SET", k, "after") == "QUEUED"
        assert conn.command("EXEC", timeout=30) is None, "EXEC after a failover of the watched master must abort"
        assert replica.client().get(k) == b"before"
        assert conn.command("MULTI") == "OK"
        assert conn.command("SET", k, "after") == "QUEUED"
        assert conn.command("EXEC", timeout=30) == ["OK"]
        assert replica.client().get(k) == b"after"


# ---- a transaction stream through a failover -------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_transactions_through_cluster_failover_are_never_wrong(fresh_cluster, make_slotgate):
    """Four clients run MULTI / INCR k / INCR k / EXEC while the key's master fails over.
    Every EXEC is either [n, n+1] (both increments applied, atomically) or an error reply
    with a Redis error code; the final counter is 2 x successes plus at most 2 per
    error (an error may hide an outcome the proxy could not know)."""
    c = fresh_cluster()
    gate = make_slotgate(seeds=c.seeds)
    t = tag()
    k = f"{t}:counter"
    owner = c.master_for_key(k)
    replica = c.replicas_of(owner)[0]
    stop = threading.Event()
    lock = threading.Lock()
    successes = 0
    errors: list[str] = []
    wrong: list[str] = []
    crashes: list[str] = []
    aborted: list = []

    def worker():
        nonlocal successes
        conn = gate.raw()
        try:
            while not stop.is_set():
                conn.send(encode_command("MULTI") + encode_command("INCR", k) + encode_command("INCR", k)
                          + encode_command("EXEC"))
                replies = conn.read_replies(4, timeout=30)
                with lock:
                    if replies[:3] == ["OK", "QUEUED", "QUEUED"] and isinstance(replies[3], list):
                        r = replies[3]
                        if len(r) == 2 and isinstance(r[0], int) and r[1] == r[0] + 1:
                            successes += 1
                        else:
                            wrong.append(f"EXEC answered {r!r}")
                    elif replies[:3] == ["OK", "QUEUED", "QUEUED"] and replies[3] is None:
                        aborted.append(replies)  # "nothing ran": checked by the counter bound
                    elif any(isinstance(r, RespError) for r in replies):
                        bad = [r for r in replies if isinstance(r, RespError)]
                        errors.append(" / ".join(bad))
                        if replies[3] is None or isinstance(replies[3], list):
                            wrong.append(f"an error while queueing, yet EXEC answered {replies[3]!r}: {replies!r}")
                    else:
                        wrong.append(f"replies {replies!r}")
                    if len(wrong) > 20:
                        return
        except Exception as exc:  # noqa: BLE001 - reported below
            crashes.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    try:
        time.sleep(1.0)
        c.failover(replica)
        time.sleep(1.5)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
    c.wait_ok(timeout=60)
    final = int(c.master_for_key(k).client().get(k) or 0)
    print(f"\ntransactions through failover: {successes} EXEC ok, {len(aborted)} EXEC nil, {len(errors)} errors, "
          f"final counter {final}")
    for text in sorted(set(errors))[:10]:
        print(f"  error: {text}")
    assert not crashes, f"client connections failed: {crashes[:5]}\nslotgate log:\n{gate.log_tail(40)}"
    assert not wrong, f"wrong answers: {wrong[:10]}\nslotgate log:\n{gate.log_tail(40)}"
    assert successes > 0
    for text in errors:
        code = text.split(" ", 1)[0]
        assert code.isupper() and len(text) > len(code) + 1, f"unclear error {text!r}"
    assert 2 * successes <= final <= 2 * successes + 2 * len(errors), (
        f"final counter {final} does not fit {successes} successes and {len(errors)} errors")
