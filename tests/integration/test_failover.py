"""Failovers, restarts and resharding under steady load: what a client of slotgate sees.

Each test gets its own Redis Cluster (3 masters + 3 replicas, cluster-node-timeout
5000, from `fresh_cluster`) and its own slotgate, runs the load generator of
tests/harness/load.py through slotgate (8 raw RESP connections, no client retries,
GET/SET/INCR on keys spread over every master), breaks or changes the cluster, and
then checks what the clients saw:

  * which errors reached them (a write in flight on a master that died may end with
    `ERR outcome unknown`; nothing else may fail), and that no client connection was
    closed because a backend went away;
  * every counter read back from the cluster satisfies acked <= final <= acked +
    unknown (no acknowledged write lost, nothing applied twice);
  * how long the longest single command stalled, and after a kill how soon writes on
    the affected slots succeeded again.

Every test prints a table of its measured counts (`pytest -s`); the closing notes of
the project quote them. bench/run_failover_compare.py runs the same kill/failover
scenarios with redis-py's RedisCluster talking to the cluster directly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from harness import RawConnection, RespError, key_slot, parse_cluster_nodes
from harness.load import (CONNECTION, OUTCOME_UNKNOWN, TIMEOUT, LoadGenerator, counter_problems, format_table,
                          keys_in_slots, read_counter_direct, report_rows, spread_keys)

pytestmark = pytest.mark.slow

CLIENTS = 8
RATE_PER_CLIENT = 150.0  # ops/s per connection: steady load that leaves CPU for 7 redis-servers
WARMUP_S = 1.5
AFTER_S = 1.5  # load kept running after the cluster is healthy again
# A write sent this long after the killed process is gone was not "in flight at the
# kill": slotgate must have seen the closed connection by then and held it instead.
IN_FLIGHT_SLACK_S = 0.1
ROUTE_AFTER_PROMOTION_S = 0.5


# -- helpers ------------------------------------------------------------------------------------------


def slots_of(cluster, node) -> set[int]:
    return {s for first, last, addr in cluster.slot_ranges() if addr == node.address for s in range(first, last + 1)}


def start_load(gate, counters=None, plain=None, **kw) -> LoadGenerator:
    counters = counters if counters is not None else spread_keys("cnt:", 96)
    plain = plain if plain is not None else spread_keys("val:", 48)
    kw.setdefault("clients", CLIENTS)
    kw.setdefault("rate", RATE_PER_CLIENT)
    return LoadGenerator.through(gate.host, gate.port, counters, plain, **kw).start()


def run_under_load(cluster, gate, scenario, counters=None, after_s: float = AFTER_S, wait_ok: bool = True):
    """The failover scenario every test below shares: start the counter load through gate,
    warm up, run scenario(marks) (it records named time.monotonic() points in the dict it is
    given), keep the load running for after_s, stop it, let the cluster settle and read the
    counters back from the nodes. Returns (load, marks, checks)."""
    load = start_load(gate, counters=counters)
    marks: dict[str, float] = {}
    try:
        time.sleep(WARMUP_S)
        scenario(marks)
        time.sleep(after_s)
    finally:
        load.stop()
    if wait_ok:
        cluster.wait_ok(timeout=30)
    return load, marks, load.check_counters(read_counter_direct(cluster))


def wait_for_promotion(replica, timeout: float = 30.0) -> float:
    """Poll CLUSTER NODES on the replica until it shows itself as a master with slots;
    returns time.monotonic() of the first poll that showed it."""
    deadline = time.monotonic() + timeout
    conn = None
    try:
        while time.monotonic() < deadline:
            try:
                conn = conn or RawConnection(replica.host, replica.port, connect_timeout=1)
                text = conn.command("CLUSTER", "NODES", timeout=1)
            except (OSError, TimeoutError):
                if conn is not None:
                    conn.close()
                conn, text = None, b""
            if isinstance(text, bytes):
                for v in parse_cluster_nodes(text.decode()):
                    if "myself" in v.flags and v.is_master and v.slots:
                        return time.monotonic()
            time.sleep(0.01)
    finally:
        if conn is not None:
            conn.close()
    raise TimeoutError(f"{replica.address} was not promoted within {timeout:g}s")


def redis_cli(*args, timeout: float = 180) -> str:
    res = subprocess.run(["redis-cli", *[str(a) for a in args]], stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError(f"redis-cli {' '.join(map(str, args))} failed ({res.returncode}):\n"
                             f"{res.stdout[-3000:]}\n{res.stderr[-2000:]}")
    return res.stdout


def unknown_ops(load, since=None):
    return [op for op in load.ops() if op.outcome == OUTCOME_UNKNOWN and (since is None or op.start >= since)]


def describe_ops(ops, t0: float, limit: int = 8) -> str:
    return "; ".join(f"{op.kind} {op.key} sent {op.start - t0:+.3f}s answered {op.end - t0:+.3f}s: "
                     f"{op.outcome} {op.detail}" for op in ops[:limit])


def assert_connections_survived(load, report, gate):
    assert not load.crashes, load.crashes
    assert report.errors.get(CONNECTION, 0) == 0 and report.errors.get(TIMEOUT, 0) == 0 and load.reconnects == 0, (
        f"client connections failed: {report.summary()}, reconnects {load.reconnects}\n"
        f"slotgate log tail:\n{gate.log_tail(40)}")


def assert_counters(checks, gate):
    problems = counter_problems(checks)
    assert not problems, (f"{len(problems)} counter(s) wrong: {problems[:10]}\n"
                          f"slotgate log tail:\n{gate.log_tail(40)}")


def topology_address_of(gate, node_id):
    """The address slotgate's /topology gives node_id: None when the admin endpoint is
    not there, "" when the node is not listed."""
    try:
        with urllib.request.urlopen(gate.admin_url("/topology"), timeout=2) as resp:
            text = resp.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        pytest.fail(f"/topology is not JSON: {text[:300]!r}")
    return next((n.get("address", "") for n in doc.get("nodes", []) if n.get("id") == node_id), "")


# -- 0. the check itself --------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_counter_check_catches_a_lost_and_a_doubled_write(fresh_cluster, make_slotgate):
    # The scenarios below pass when the check finds nothing; make sure it can find something.
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    load = start_load(gate, counters=spread_keys("cnt:", 6), plain=spread_keys("val:", 6), clients=2)
    time.sleep(1.0)
    load.stop()
    report = load.report()
    assert report.ops > 50 and report.error_count == 0, report.summary()
    lost, doubled = load.counters[0], load.counters[1]
    cluster.master_for_key(lost).call("DECR", lost)
    cluster.master_for_key(doubled).call("INCR", doubled)
    checks = {c.key: c for c in load.check_counters(read_counter_direct(cluster))}
    assert checks[lost].acked > 0 and checks[doubled].acked > 0
    assert any("acknowledged writes lost" in p for p in checks[lost].problems()), checks[lost]
    assert any("applied twice" in p for p in checks[doubled].problems()), checks[doubled]
    assert all(not c.problems() for k, c in checks.items() if k not in (lost, doubled))


# -- 1. kill -9 of a master under load ---------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_kill9_of_a_master_under_load_costs_only_the_writes_in_flight(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    victim = cluster.masters()[0]
    replica = cluster.replicas_of(victim)[0]
    affected = slots_of(cluster, victim)

    def kill_the_master(marks):
        marks["kill_sent"] = time.monotonic()
        cluster.kill(victim, signal.SIGKILL)
        marks["killed"] = time.monotonic()
        marks["promoted"] = wait_for_promotion(replica)
        cluster.wait_promoted(replica, timeout=30)

    load, marks, checks = run_under_load(cluster, gate, kill_the_master)
    t_kill_sent, t_killed, promoted_at = marks["kill_sent"], marks["killed"], marks["promoted"]
    report = load.report()
    first = load.first_success(affected, after=t_killed)
    last_key, keys_without_write = load.last_key_recovered(affected, after=t_killed)
    unknown = unknown_ops(load)
    late_unknown = [op for op in unknown if op.start > t_killed + IN_FLIGHT_SLACK_S]
    route_delay = None if first is None else first.end - promoted_at
    print(format_table("kill -9 of a master under load (through slotgate)", report_rows(load, report, checks, [
        ("kill -> promotion visible (s)", f"{promoted_at - t_kill_sent:.2f}"),
        ("kill -> first write on affected slots (s)", "never" if first is None else f"{first.end - t_kill_sent:.2f}"),
        ("promotion -> first write routed (ms)", "never" if route_delay is None else f"{route_delay * 1000:.0f}"),
        ("promotion -> every affected key written (ms)",
         "n/a" if last_key is None else f"{(last_key - promoted_at) * 1000:.0f} ({keys_without_write} keys unused)"),
        ("outcome-unknown sent after the kill", len(late_unknown)),
    ])))

    assert_connections_survived(load, report, gate)
    assert set(report.errors) <= {OUTCOME_UNKNOWN}, (
        f"errors other than outcome-unknown: {report.summary()}\nslotgate log tail:\n{gate.log_tail(40)}")
    assert report.read_errors() == 0, report.summary()
    assert not late_unknown, ("writes sent after the kill got outcome-unknown instead of being held: "
                              + describe_ops(late_unknown, t_killed))
    assert len(unknown) <= CLIENTS, f"{len(unknown)} outcome-unknown errors for {CLIENTS} connections"
    assert first is not None, "no write on the killed master's slots succeeded after the kill"
    assert route_delay <= ROUTE_AFTER_PROMOTION_S, (
        f"first write on the promoted master's slots succeeded {route_delay * 1000:.0f} ms after the promotion "
        f"was visible (limit {ROUTE_AFTER_PROMOTION_S * 1000:.0f} ms)\nslotgate log tail:\n{gate.log_tail(40)}")
    assert_counters(checks, gate)


# -- 2. CLUSTER FAILOVER under load --------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_manual_failover_under_load_is_invisible(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    victim = cluster.masters()[1]
    replica = cluster.replicas_of(victim)[0]

    def fail_over(marks):
        marks["start"] = time.monotonic()
        cluster.failover(replica, timeout=30)
        marks["done"] = time.monotonic()

    load, marks, checks = run_under_load(cluster, gate, fail_over)
    t0, t_done = marks["start"], marks["done"]
    report = load.report()
    print(format_table("CLUSTER FAILOVER under load (through slotgate)", report_rows(load, report, checks, [
        ("failover command -> cluster healthy (s)", f"{t_done - t0:.2f}"),
    ])))

    assert_connections_survived(load, report, gate)
    assert report.error_count == 0, f"{report.summary()}\nslotgate log tail:\n{gate.log_tail(40)}"
    assert all(c.unknown == 0 for c in checks)
    assert_counters(checks, gate)
    assert cluster.master_of(victim).address == replica.address


# -- 3. live resharding and a rebalance onto a new master ----------------------------------------------------


@pytest.mark.timeout(170)
def test_resharding_and_rebalance_under_load_lose_nothing(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    masters = cluster.masters()
    source, target = masters[0], masters[2]
    before = {s: addr for first, last, addr in cluster.slot_ranges() for s in range(first, last + 1)}
    src_first = min(slots_of(cluster, source))
    # redis-cli takes the source's lowest slots first: put extra counters there, so keys
    # are hit while their slot is MIGRATING/IMPORTING (the ASK path), not only after.
    counters = spread_keys("cnt:", 96) + keys_in_slots("mig:", src_first, src_first + 999, 48)

    found = {}

    def reshard_and_rebalance(marks):
        marks["reshard"] = time.monotonic()
        redis_cli("--cluster", "reshard", source.address, "--cluster-from", source.node_id, "--cluster-to",
                  target.node_id, "--cluster-slots", 1000, "--cluster-yes")
        cluster.wait_ok(timeout=60)
        marks["resharded"] = time.monotonic()
        after_reshard = {s: addr for first, last, addr in cluster.slot_ranges() for s in range(first, last + 1)}
        found["moved"] = sum(1 for s, addr in after_reshard.items() if addr != before[s])

        found["newcomer"] = newcomer = cluster.add_node()
        redis_cli("--cluster", "add-node", newcomer.address, masters[1].address)
        cluster.wait_ok(timeout=60)
        marks["rebalance"] = time.monotonic()
        redis_cli("--cluster", "rebalance", masters[1].address, "--cluster-use-empty-masters")
        cluster.wait_ok(timeout=60)
        marks["rebalanced"] = time.monotonic()

    load, marks, checks = run_under_load(cluster, gate, reshard_and_rebalance, counters=counters, wait_ok=False)
    t_reshard, t_resharded = marks["reshard"], marks["resharded"]
    t_rebalance, t_rebalanced = marks["rebalance"], marks["rebalanced"]
    moved, newcomer = found["moved"], found["newcomer"]
    report = load.report()
    new_slots = slots_of(cluster, newcomer)
    on_newcomer = load.first_success(new_slots, after=t_rebalanced)
    print(format_table("reshard 1000 slots + add master + rebalance under load (through slotgate)",
                       report_rows(load, report, checks, [
                           ("slots moved by reshard", moved),
                           ("reshard duration (s)", f"{t_resharded - t_reshard:.1f}"),
                           ("slots on the new master after rebalance", len(new_slots)),
                           ("rebalance duration (s)", f"{t_rebalanced - t_rebalance:.1f}"),
                       ])))

    assert moved >= 1000, f"reshard moved only {moved} slots"
    assert len(new_slots) >= 1000, f"rebalance gave the new master only {len(new_slots)} slots"
    assert_connections_survived(load, report, gate)
    assert report.error_count == 0, f"{report.summary()}\nslotgate log tail:\n{gate.log_tail(40)}"
    assert_counters(checks, gate)
    assert on_newcomer is not None, "no write on the new master's slots succeeded after the rebalance"


# -- 4. the killed master comes back as a replica -----------------------------------------------------------


@pytest.mark.timeout(150)
def test_killed_master_rejoining_as_replica_is_invisible(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    victim = cluster.masters()[2]
    replica = cluster.replicas_of(victim)[0]

    def kill_and_restart(marks):
        cluster.kill(victim, signal.SIGKILL)
        cluster.wait_promoted(replica, timeout=30)
        # Let the requests held during the failover drain; only what follows is measured.
        time.sleep(AFTER_S)
        marks["restart"] = time.monotonic()
        cluster.restart(victim, wait=True, timeout=60)
        marks["rejoined"] = time.monotonic()

    load, marks, checks = run_under_load(cluster, gate, kill_and_restart, after_s=2 * AFTER_S)
    t_restart, t_rejoined = marks["restart"], marks["rejoined"]
    during = load.report(since=t_restart)
    before = load.report(until=t_restart)
    print(format_table("killed master restarted, rejoins as replica (through slotgate; ops and errors counted "
                       "from the restart on, counters over the whole run)", report_rows(load, during, checks, [
                           ("restart -> cluster healthy (s)", f"{t_rejoined - t_restart:.2f}"),
                           ("before the restart (kill + failover): ops", before.ops),
                           ("before the restart: errors", dict(before.errors) or 0),
                       ])))

    assert cluster.master_of(victim) is not None and cluster.master_of(victim).address == replica.address, (
        f"{victim.address} did not rejoin as a replica of {replica.address}")
    assert_connections_survived(load, load.report(), gate)
    assert during.error_count == 0, f"{during.summary()}\nslotgate log tail:\n{gate.log_tail(40)}"
    assert_counters(checks, gate)


# -- 5. a slot range with no master at all --------------------------------------------------------------------

HOLD_S = 2.0


def timed_command(conn, *args, timeout=30.0):
    t = time.monotonic()
    reply = conn.command(*args, timeout=timeout)
    return reply, time.monotonic() - t


def assert_clusterdown_for_slot(reply, elapsed, slot, what):
    assert isinstance(reply, RespError) and reply.startswith("CLUSTERDOWN"), f"{what}: got {reply!r}"
    assert f"slot {slot}" in reply and "waited" in reply, f"{what}: error does not name the slot/wait: {reply!r}"
    assert HOLD_S - 0.2 <= elapsed <= HOLD_S + 3.0, f"{what}: answered after {elapsed:.2f}s, hold is {HOLD_S}s"


@pytest.mark.timeout(150)
def test_slots_without_any_master_fail_clearly_and_recover(fresh_cluster, make_slotgate):
    # Why full coverage off: otherwise Redis itself stops serving every slot when one
    # range has no master, and "the other slots keep working" could not be seen.
    cluster = fresh_cluster(extra_config=["--cluster-require-full-coverage no"])
    gate = make_slotgate(seeds=cluster.seeds, config_text=f"cluster:\n  failover_hold: {HOLD_S:g}s\n")
    victim = cluster.masters()[0]
    replica = cluster.replicas_of(victim)[0]
    dead = slots_of(cluster, victim)
    live_counters = [k for k in spread_keys("cnt:", 96) if key_slot(k) not in dead]
    live_plain = [k for k in spread_keys("val:", 48) if key_slot(k) not in dead]
    dead_key, dead_counter = [k for k in spread_keys("dead:", 400) if key_slot(k) in dead][:2]
    dead_slot = key_slot(dead_key)

    conn = gate.raw()
    assert conn.command("SET", dead_key, "before") == "OK"
    load = start_load(gate, counters=live_counters, plain=live_plain)
    try:
        time.sleep(WARMUP_S)
        t_down = time.monotonic()
        cluster.kill(replica, signal.SIGKILL)
        cluster.kill(victim, signal.SIGKILL)
        # At once: the master's connection is gone, no replica can take over.
        early_get, early_get_s = timed_command(conn, "GET", dead_key)
        early_incr, early_incr_s = timed_command(conn, "INCR", dead_counter)
        assert conn.command("PING") == "PONG"
        # After the node timeout the other nodes flag the master as failed; slotgate's
        # view then has no node at all for the range.
        time.sleep(max(0.0, t_down + cluster.node_timeout_ms / 1000 + 1.5 - time.monotonic()))
        late_get, late_get_s = timed_command(conn, "GET", dead_key)
        assert conn.command("PING") == "PONG"
        with RawConnection(gate.host, gate.port) as fresh:
            assert fresh.command("PING") == "PONG"

        t_restart = time.monotonic()
        cluster.restart(victim, wait=False)
        cluster.restart(replica, wait=True, timeout=60)
        t_ok = time.monotonic()
        recovered_at, attempts, last = None, 0, None
        while time.monotonic() < t_ok + 15:
            attempts += 1
            last = conn.command("GET", dead_key, timeout=30)
            if not isinstance(last, RespError):
                recovered_at = time.monotonic()
                break
        time.sleep(AFTER_S)
    finally:
        load.stop()
        conn.close()
    cluster.wait_ok(timeout=30)

    report = load.report()
    checks = load.check_counters(read_counter_direct(cluster))
    print(format_table("master and replica of a slot range down (hold 2s, through slotgate)",
                       report_rows(load, report, checks, [
                           ("GET on dead slot, right after the kill", f"{early_get_s:.2f}s {early_get!r}"),
                           ("INCR on dead slot, right after the kill", f"{early_incr_s:.2f}s {early_incr!r}"),
                           ("GET on dead slot, master flagged fail", f"{late_get_s:.2f}s {late_get!r}"),
                           ("restart -> cluster healthy (s)", f"{t_ok - t_restart:.2f}"),
                           ("cluster healthy -> dead slot served (s)",
                            "never" if recovered_at is None else f"{recovered_at - t_ok:.2f}"),
                       ])))

    assert_clusterdown_for_slot(early_get, early_get_s, dead_slot, "GET right after the kill")
    assert_clusterdown_for_slot(early_incr, early_incr_s, key_slot(dead_counter), "INCR right after the kill")
    assert_clusterdown_for_slot(late_get, late_get_s, dead_slot, "GET once the master is flagged fail")
    assert gate.is_running()
    assert recovered_at is not None, f"dead slot still failing 15s after the cluster recovered: {last!r}"
    assert recovered_at - t_ok <= 5.0, f"slotgate needed {recovered_at - t_ok:.2f}s to serve the slot again"
    assert_connections_survived(load, report, gate)
    assert report.error_count == 0, f"other slots failed during the outage: {report.summary()}"
    assert_counters(checks, gate)


# -- 6. a master restarted on a different IP --------------------------------------------------------------


@pytest.mark.timeout(150)
def test_master_restarted_on_a_new_address_is_followed(fresh_cluster, make_slotgate):
    # Why appendonly: without persistence the restarted master would come back empty and
    # its counters would read as "lost" - a property of the test cluster, not of slotgate.
    cluster = fresh_cluster(extra_config=["--appendonly yes"])
    gate = make_slotgate(seeds=cluster.seeds)
    victim = cluster.masters()[1]
    node_id = victim.node_id
    old_address = victim.address
    moved_slots = slots_of(cluster, victim)

    def restart_elsewhere(marks):
        marks["stop"] = time.monotonic()
        # SIGTERM, then back at once: well inside cluster-node-timeout, so no failover;
        # the node keeps its nodes.conf (same id, same slots) and announces 127.0.0.2.
        cluster.kill(victim, signal.SIGTERM)
        marks["stopped"] = time.monotonic()
        cluster.restart(victim, wait=True, timeout=60, host="127.0.0.2")
        marks["ok"] = time.monotonic()

    load, marks, checks = run_under_load(cluster, gate, restart_elsewhere, after_s=2 * AFTER_S)
    t_stop, t_stopped, t_ok = marks["stop"], marks["stopped"], marks["ok"]
    report = load.report()
    after = load.report(since=t_ok)
    first = load.first_success(moved_slots, after=t_stopped)
    topo = topology_address_of(gate, node_id)
    print(format_table(f"master {old_address} restarted as {victim.address} (through slotgate)",
                       report_rows(load, report, checks, [
                           ("stop -> cluster healthy at new address (s)", f"{t_ok - t_stop:.2f}"),
                           ("stop -> first write on its slots (s)",
                            "never" if first is None else f"{first.end - t_stop:.2f}"),
                           ("errors after the cluster was healthy", after.error_count),
                           ("/topology address of the node",
                            "no endpoint" if topo is None else topo),
                       ])))

    assert victim.address == "127.0.0.2:" + old_address.split(":")[1]
    assert victim.call("CLUSTER", "MYID") == node_id
    assert slots_of(cluster, victim) == moved_slots, "the restarted node should still own its slots"
    assert_connections_survived(load, report, gate)
    # The stop closes slotgate's connection: a write in flight then has an unknown outcome.
    assert set(report.errors) <= {OUTCOME_UNKNOWN}, f"{report.summary()}\nslotgate log tail:\n{gate.log_tail(40)}"
    assert report.read_errors() == 0, report.summary()
    late_unknown = unknown_ops(load, since=t_stopped + IN_FLIGHT_SLACK_S)
    assert not late_unknown, "writes sent after the stop got outcome-unknown: " + describe_ops(late_unknown, t_stopped)
    assert after.error_count == 0, after.summary()
    assert first is not None and load.first_success(moved_slots, after=t_ok) is not None, (
        f"no write on the moved node's slots succeeded at its new address\nslotgate log tail:\n{gate.log_tail(40)}")
    if topo is not None:
        assert topo == victim.address, f"/topology gives {node_id} the address {topo!r}, not {victim.address}"
