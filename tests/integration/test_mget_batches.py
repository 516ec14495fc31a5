"""A multi-key command whose keys live in many slots (MGET, MSET, DEL, ...) goes to each
master as one batch: the per-slot commands that master serves, written together, one
reply each (router/split.cpp plan_sends). These tests check that a batch is one round trip per master, and that a
part inside a batch that its node redirects (MOVED after a resharding slotgate has not
seen, ASK while its slot migrates) or does not answer in time is handled for that part
alone: the client gets every value, or a clear error, never a redirect or a hang."""

from __future__ import annotations

import time
import uuid

from prometheus_client.parser import text_string_to_metric_families

from harness import RespError, http_get, key_slot, wait_until

# Busy-loops for ARGV[1] milliseconds without writing.
BUSY_LUA = """
local function now() local t = redis.call('TIME') return t[1] * 1000 + t[2] / 1000 end
local start = now()
while now() - start < tonumber(ARGV[1]) do end
return 'done'
"""


def totals(gate) -> tuple[float, float]:
    """(commands slotgate sent to nodes, round trips it timed), summed over the nodes."""
    status, body = http_get(gate.admin_port, "/metrics")
    assert status == 200, body[:300]
    requests = trips = 0.0
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == "slotgate_backend_requests_total":
                requests += s.value
            elif s.name == "slotgate_backend_request_duration_seconds_count":
                trips += s.value
    return requests, trips


def wait_requests(gate, at_least: float) -> tuple[float, float]:
    last = [(0.0, 0.0)]

    def check():
        last[0] = totals(gate)
        return last[0][0] >= at_least

    wait_until(check, 10, f"slotgate_backend_requests_total to reach {at_least}", interval=0.2)
    return last[0]


def tags_on(cluster, master, n: int, prefix: str) -> list[str]:
    """n hash tags whose slots (all different) `master` owns."""
    tags, slots, i = [], set(), 0
    while len(tags) < n:
        tag = f"{{{prefix}{i}}}"
        i += 1
        slot = key_slot(tag)
        if slot not in slots and cluster.master_for_slot(slot).address == master.address:
            tags.append(tag)
            slots.add(slot)
    return tags


def test_an_mget_over_thirty_slots_is_one_round_trip_per_master(make_slotgate, cluster):
    gate = make_slotgate(workers=1)
    conn = gate.raw()
    try:
        prefix = f"batch:{uuid.uuid4().hex[:6]}:"
        groups = list(cluster.keys_on_each_master(n_per_master=10, prefix=prefix).values())
        keys = [k for g in groups for k in g]
        assert len({key_slot(k) for k in keys}) == 30
        values = {k: f"v-{k}".encode() for k in keys}
        start, _ = totals(gate)
        assert conn.command("MSET", *[x for k in keys for x in (k, values[k])]) == "OK"
        requests, trips = wait_requests(gate, start + 30)  # MSET: one part per slot
        assert conn.command("MGET", *keys) == [values[k] for k in keys]
        after_requests, after_trips = wait_requests(gate, requests + 30)
        # Every slot's MGET was sent (30 commands), in one round trip per master (3).
        assert after_requests - requests == 30
        assert after_trips - trips == 3, f"{after_trips - trips} round trips for an MGET over 3 masters"
    finally:
        conn.close()


def test_parts_of_a_batch_that_are_moved_or_asked_are_followed_alone(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds, workers=1)
    conn = gate.raw()
    try:
        source = cluster.masters()[0]
        target = next(m for m in cluster.masters() if m.address != source.address)
        tags = tags_on(cluster, source, 6, "mb")
        moved_tag, asked_tag, staying = tags[0], tags[1], tags[2:]
        others = [k for node, ks in cluster.keys_on_each_master(2, prefix="mb-other:").items()
                  if node.address != source.address for k in ks]
        keys = [f"{t}:k" for t in tags] + others
        values = {k: f"v-{k}".encode() for k in keys}
        for k in keys:
            assert conn.command("SET", k, values[k]) == "OK"
        assert conn.command("MGET", *keys) == [values[k] for k in keys]  # the batches as planned

        # Behind slotgate's back: one slot of the batch moves to another master (its source now
        # answers MOVED), and another is half-way there (its key gone: ASK).
        cluster.move_slot(key_slot(moved_tag), target)
        asked_slot = key_slot(asked_tag)
        cluster.begin_migration(asked_slot, target)
        try:
            cluster.migrate_keys(asked_slot, target, [f"{asked_tag}:k"])
            redirected = metric(gate, "slotgate_redirections_total")
            reply = conn.command("MGET", *keys, "mb-missing", timeout=10)
            assert reply == [values[k] for k in keys] + [None], reply
            # Both parts were redirected by the source (not re-planned before sending).
            wait_until(lambda: metric(gate, "slotgate_redirections_total") >= redirected + 2, 10,
                       "the MOVED and the ASK followed")
            # Pipelined, the same again: each reply in its place.
            conn.send_command("MGET", *keys)
            conn.send_command("MGET", *reversed(keys))
            assert conn.read_replies(2, timeout=10) == [[values[k] for k in keys],
                                                        [values[k] for k in reversed(keys)]]
            # Writes in batches too: MSET's and DEL's parts for those slots follow the same way.
            new = {k: f"w-{k}".encode() for k in keys}
            assert conn.command("MSET", *[x for k in keys for x in (k, new[k])], timeout=10) == "OK"
            assert conn.command("MGET", *keys, timeout=10) == [new[k] for k in keys]
            assert conn.command("DEL", *keys, "mb-missing", timeout=10) == len(keys)
            assert conn.command("EXISTS", *keys, timeout=10) == 0
            assert conn.command("MSET", *[x for k in keys for x in (k, values[k])], timeout=10) == "OK"
        finally:
            cluster.migrate_keys(asked_slot, target)
            cluster.finish_migration(asked_slot, target)
        assert conn.command("MGET", *keys, timeout=10) == [values[k] for k in keys]
        assert conn.command("EXISTS", *keys, *keys, timeout=10) == 2 * len(keys)
        assert target.client().get(f"{moved_tag}:k") == values[f"{moved_tag}:k"]
    finally:
        conn.close()


def metric(gate, name: str, **labels) -> float:
    status, body = http_get(gate.admin_port, "/metrics")
    assert status == 200, body[:300]
    return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def retries(gate) -> float:
    return metric(gate, "slotgate_retries_total")


def test_a_batch_whose_connection_is_lost_is_sent_again_part_by_part(make_slotgate, cluster):
    # command_timeout on a shared connection closes it: what it carried was written, and reads
    # are sent again (a write would fail "outcome unknown"). Here that is every part of a batch.
    gate = make_slotgate(workers=1, config_text="cluster:\n  command_timeout: 1s\n")
    busy, conn = gate.raw(), gate.raw()
    try:
        source = cluster.masters()[0]
        keys = [f"{t}:k" for t in tags_on(cluster, source, 4, "mt")]
        values = [f"v-{k}".encode() for k in keys]
        for k, v in zip(keys, values):
            assert conn.command("SET", k, v) == "OK"
        before = retries(gate)
        # The keys' master runs a script for 2.5 s: the batch waits past command_timeout, twice.
        busy.send_command("EVAL_RO", BUSY_LUA, "1", keys[0], "2500")
        time.sleep(0.3)
        started = time.monotonic()
        assert conn.command("MGET", *keys, "mt-missing", timeout=15) == values + [None]
        assert time.monotonic() - started > 1.0  # it did wait for the busy master
        slow = busy.read_reply(timeout=15)  # its lane gave up at command_timeout
        assert isinstance(slow, RespError) and "command_timeout" in slow, slow
        wait_until(lambda: retries(gate) >= before + len(keys), 10, "every part of the batch sent again")
        assert conn.command("MGET", *reversed(keys), timeout=10) == values[::-1]
    finally:
        busy.close()
        conn.close()
