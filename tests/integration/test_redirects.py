"""MOVED and ASK stay inside slotgate.

Each test resharding a slot gets its own cluster (fresh_cluster), starts slotgate
against it, makes slotgate learn the current map by using the slot, and only then
changes the cluster behind its back. The client must see ordinary replies: a
MOVED or ASK that reached it would point at an address it may not be able to
reach (a pod IP), which is the whole reason slotgate exists.
"""

import re
import time

import pytest

from harness import RawConnection, RespError, encode_command, key_slot

ERROR_CODE_RE = re.compile(r"^[A-Z][A-Z_]+ \S")


def is_redirect(reply):
    return isinstance(reply, RespError) and reply.startswith(("MOVED ", "ASK "))


def other_master(cluster, node):
    return next(m for m in cluster.masters() if m.address != node.address)


def node_raw(node):
    return RawConnection(host=node.host, port=node.port)


@pytest.fixture
def setup(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    conn = gate.raw()
    yield cluster, gate, conn
    conn.close()


def test_moved_is_absorbed_after_a_slot_moves(setup):
    cluster, gate, conn = setup
    tag = "{moved}"
    slot = key_slot(tag)
    source = cluster.master_for_slot(slot)
    target = other_master(cluster, source)
    keys = [f"{tag}:{i}" for i in range(10)]
    for key in keys:
        assert conn.command("SET", key, "before") == "OK"
    assert source.client().get(keys[0]) == b"before"

    cluster.move_slot(slot, target)
    assert cluster.master_for_slot(slot).address == target.address
    # The old owner now redirects: this is what slotgate has to absorb.
    direct = node_raw(source)
    try:
        assert direct.command("GET", keys[0]).startswith(f"MOVED {slot} ")
    finally:
        direct.close()

    for key in keys:
        reply = conn.command("GET", key, timeout=10)
        assert reply == b"before", f"GET {key} through slotgate: {reply!r}"
    for key in keys:
        assert conn.command("SET", key, "after", timeout=10) == "OK"
        assert target.client().get(key) == b"after"
    assert conn.command("SET", f"{tag}:new", "n", timeout=10) == "OK"
    assert target.client().get(f"{tag}:new") == b"n"


def test_moved_for_many_pipelined_requests_keeps_order(setup):
    cluster, gate, conn = setup
    tag = "{movedpipe}"
    slot = key_slot(tag)
    source = cluster.master_for_slot(slot)
    target = other_master(cluster, source)
    keys = [f"{tag}:{i}" for i in range(50)]
    conn.send(b"".join(encode_command("SET", k, k) for k in keys))
    assert conn.read_replies(len(keys), timeout=10) == ["OK"] * len(keys)

    cluster.move_slot(slot, target)
    # Every one of these reaches the old owner first and comes back as MOVED; the
    # replies must still be the values, in order, interleaved with local replies.
    payload = b"".join(encode_command("GET", k) + encode_command("ECHO", str(i)) for i, k in enumerate(keys))
    conn.send(payload)
    got = conn.read_replies(2 * len(keys), timeout=20)
    assert got == [x for i, k in enumerate(keys) for x in (k.encode(), str(i).encode())]


def test_new_connections_after_a_move_use_the_new_owner(setup):
    cluster, gate, conn = setup
    tag = "{movednew}"
    slot = key_slot(tag)
    target = other_master(cluster, cluster.master_for_slot(slot))
    assert conn.command("SET", f"{tag}:k", "v") == "OK"
    cluster.move_slot(slot, target)
    for _ in range(3):
        other = gate.raw()
        try:
            assert other.command("GET", f"{tag}:k", timeout=10) == b"v"
        finally:
            other.close()


def test_ask_is_absorbed_while_a_slot_is_half_migrated(setup):
    cluster, gate, conn = setup
    tag = "{ask}"
    slot = key_slot(tag)
    source = cluster.master_for_slot(slot)
    target = other_master(cluster, source)
    keys = [f"{tag}:{i}" for i in range(20)]
    for key in keys:
        assert conn.command("SET", key, f"v-{key}") == "OK"
    migrated, staying = keys[:10], keys[10:]

    cluster.begin_migration(slot, target)
    try:
        cluster.migrate_keys(slot, target, migrated)
        # The source now answers ASK for the migrated keys: slotgate must send
        # ASKING + the command to the target on the same connection.
        direct = node_raw(source)
        try:
            assert direct.command("GET", migrated[0]).startswith(f"ASK {slot} ")
        finally:
            direct.close()

        for key in keys:
            reply = conn.command("GET", key, timeout=10)
            assert reply == f"v-{key}".encode(), f"GET {key} through slotgate: {reply!r}"
        # All of them again as one pipelined write: ASKs in the middle keep the order.
        conn.send(b"".join(encode_command("GET", k) for k in keys))
        assert conn.read_replies(len(keys), timeout=20) == [f"v-{k}".encode() for k in keys]

        # A new key in a migrating slot belongs to the target (the source answers ASK).
        assert conn.command("SET", f"{tag}:new", "n", timeout=10) == "OK"
        assert conn.command("GET", f"{tag}:new", timeout=10) == b"n"
        # Overwriting a migrated key goes to the target, a staying key to the source.
        assert conn.command("SET", migrated[0], "changed", timeout=10) == "OK"
        assert conn.command("SET", staying[0], "changed", timeout=10) == "OK"
        assert source.client().get(staying[0]) == b"changed"

        cluster.migrate_keys(slot, target)
    finally:
        cluster.finish_migration(slot, target)

    for key in keys[1:10] + keys[11:]:
        assert conn.command("GET", key, timeout=10) == f"v-{key}".encode()
    for key in (migrated[0], staying[0]):
        assert conn.command("GET", key, timeout=10) == b"changed"
        assert target.client().get(key) == b"changed"
    assert target.client().get(f"{tag}:new") == b"n"


def test_redirect_loop_ends_in_a_clear_error(setup):
    # A slot MIGRATING on its owner A towards B while B is not IMPORTING it: A
    # answers ASK for a missing key, B (even after ASKING) answers MOVED back to A,
    # forever. slotgate must bound the redirections and answer with an error
    # instead of hanging or handing the client a redirect.
    cluster, gate, conn = setup
    tag = "{loop}"
    slot = key_slot(tag)
    a = cluster.master_for_slot(slot)
    b = other_master(cluster, a)
    assert conn.command("SET", f"{tag}:present", "p") == "OK"

    a.call("CLUSTER", "SETSLOT", slot, "MIGRATING", b.node_id)
    try:
        # Check the loop is real, straight on the nodes.
        to_a, to_b = node_raw(a), node_raw(b)
        try:
            assert to_a.command("GET", f"{tag}:missing").startswith(f"ASK {slot} {b.address}")
            to_b.send(encode_command("ASKING") + encode_command("GET", f"{tag}:missing"))
            assert to_b.read_replies(2) == ["OK", RespError(f"MOVED {slot} {a.address}")]
        finally:
            to_a.close()
            to_b.close()

        started = time.monotonic()
        conn.send_command("GET", f"{tag}:missing")
        reply = conn.read_reply(timeout=30)
        elapsed = time.monotonic() - started
        assert isinstance(reply, RespError), reply
        assert not is_redirect(reply), f"a redirect leaked to the client: {reply!r}"
        assert ERROR_CODE_RE.match(reply), reply
        assert elapsed < 15, f"took {elapsed:.1f}s to give up"
        # The session survives, and keys A still holds are served normally.
        assert conn.command("PING") == "PONG"
        assert conn.command("GET", f"{tag}:present", timeout=10) == b"p"
    finally:
        a.call("CLUSTER", "SETSLOT", slot, "STABLE")

    assert conn.command("GET", f"{tag}:missing", timeout=10) is None
    assert conn.command("SET", f"{tag}:missing", "now", timeout=10) == "OK"
    assert a.client().get(f"{tag}:missing") == b"now"
