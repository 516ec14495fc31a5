"""The test harness itself, against real redis-servers: the cluster it builds, its
slot helpers, resharding and failover primitives, and RawConnection's RESP2/RESP3
parsing. Other integration tests rely on all of this being right."""

from __future__ import annotations

import os
import signal

import pytest
import redis

from harness import Push, RawConnection, RedisServer, RespError, RespSet, Verbatim, key_slot
from harness.resp import ProtocolError, parse_reply


# -- the shared cluster ------------------------------------------------------------------


def test_cluster_has_three_masters_each_with_one_replica(cluster):
    masters = cluster.masters()
    assert len(masters) == 3
    assert len(cluster.replicas()) == 3
    for m in masters:
        assert len(cluster.replicas_of(m)) == 1
    base = 7400 + int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
    assert cluster.seeds == [f"127.0.0.1:{p}" for p in range(base, base + 6)]
    assert cluster.health_problems() == []


def test_keyslot_agrees_with_redis_including_hash_tags(cluster):
    keys = ["foo", "bar", "{user1000}.following", "{user1000}.followers", "foo{}{bar}",
            "foo{{bar}}zap", "foo{bar}{zap}", "{}", "a{", "}b{c}", "", "k\xe9y", "12345"]
    for k in keys:
        assert key_slot(k) == cluster.keyslot(k), k
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    assert key_slot("foo") == 12182  # the example from the Redis Cluster specification


def test_master_for_key_is_the_node_that_accepts_the_write(cluster):
    key = "harness:owner"
    owner = cluster.master_for_key(key)
    owner.client().set(key, "v")
    assert owner.client().get(key) == b"v"
    other = next(m for m in cluster.masters() if m is not owner)
    with pytest.raises(redis.ResponseError, match=rf"MOVED {key_slot(key)} {owner.address}"):
        other.client().get(key)
    owner.client().delete(key)


def test_keys_on_each_master_hash_to_that_master(cluster):
    keys = cluster.keys_on_each_master(n_per_master=4, prefix="kom")
    assert set(keys) == set(cluster.masters())
    for master, ks in keys.items():
        assert len(ks) == 4
        assert len({key_slot(k) for k in ks}) == 4
        for k in ks:
            assert cluster.master_for_key(k) is master


def test_move_slot_moves_the_keys_and_the_ownership(cluster):
    keys = ["{moved}a", "{moved}b", "{moved}c"]
    slot = key_slot(keys[0])
    source = cluster.master_for_slot(slot)
    target = next(m for m in cluster.masters() if m is not source)
    for k in keys:
        source.client().set(k, k)
    try:
        assert cluster.move_slot(slot, target) == 3
        assert cluster.master_for_slot(slot) is target
        assert [target.client().get(k) for k in keys] == [k.encode() for k in keys]
        with pytest.raises(redis.ResponseError, match=f"MOVED {slot} {target.address}"):
            source.client().get(keys[0])
    finally:
        if cluster.master_for_slot(slot) is not source:
            cluster.move_slot(slot, source)
    assert cluster.master_for_slot(slot) is source
    assert source.client().get(keys[1]) == b"{moved}b"
    source.client().delete(*keys)


def test_half_migrated_slot_answers_ask_for_moved_keys(cluster):
    # Other tests build ASK scenarios out of these three steps.
    k_moved, k_stays = "{ask}1", "{ask}2"
    slot = key_slot(k_moved)
    source = cluster.master_for_slot(slot)
    target = next(m for m in cluster.masters() if m is not source)
    source.client().mset({k_moved: "1", k_stays: "2"})
    cluster.begin_migration(slot, target)
    try:
        cluster.migrate_keys(slot, target, [k_moved])
        with pytest.raises(redis.ResponseError, match=f"ASK {slot} {target.address}"):
            source.client().get(k_moved)
        assert source.client().get(k_stays) == b"2"
        with RawConnection(target.host, target.port) as conn:
            assert conn.command("GET", k_moved).startswith("MOVED")
            assert conn.command("ASKING") == "OK"
            assert conn.command("GET", k_moved) == b"1"
    finally:
        cluster.migrate_keys(slot, target)
        cluster.finish_migration(slot, target)
    assert target.client().get(k_stays) == b"2"
    cluster.move_slot(slot, source)
    source.client().delete(k_moved, k_stays)


def test_flushall_empties_every_master(cluster):
    keys = cluster.keys_on_each_master(n_per_master=1, prefix="flush")
    for m, ks in keys.items():
        m.client().set(ks[0], "x")
    cluster.flushall()
    assert all(m.client().dbsize() == 0 for m in cluster.masters())


# -- faults, on clusters of their own ---------------------------------------------------------


@pytest.mark.slow
def test_killed_master_is_replaced_by_its_replica_and_rejoins_as_replica(fresh_cluster):
    c = fresh_cluster(node_timeout_ms=1000)
    master = c.master_for_key("survivor")
    replica = c.replicas_of(master)[0]
    # wait_replicated really waits for the replica: a stopped replica times it out.
    c.kill(replica, signal.SIGSTOP)
    try:
        master.client().set("survivor", "1")
        with pytest.raises(TimeoutError):
            c.wait_replicated(master, timeout=0.5)
    finally:
        c.kill(replica, signal.SIGCONT)
    c.wait_replicated(master)  # the replica has the write before the crash

    c.kill(master)
    assert not master.is_alive()
    c.wait_promoted(replica)
    assert c.master_for_key("survivor") is replica
    assert replica.client().get("survivor") == b"1"
    assert master not in c.masters()

    c.restart(master)  # waits until healthy
    assert master.is_alive()
    assert c.master_of(master) is replica
    assert c.health_problems() == []


@pytest.mark.slow
def test_manual_failover_swaps_roles_and_keeps_data(fresh_cluster):
    c = fresh_cluster(node_timeout_ms=2000)
    master = c.master_for_key("kept")
    replica = c.replicas_of(master)[0]
    master.client().set("kept", "yes")
    c.failover(replica)
    assert c.master_for_key("kept") is replica
    assert c.master_of(master) is replica
    assert replica.client().get("kept") == b"yes"
    # FORCE works while the old master is down; the cluster must reach majority.
    c.kill(replica)
    c.failover(master, "FORCE")
    assert c.master_for_key("kept") is master
    c.restart(replica)
    assert c.master_of(replica) is master


@pytest.mark.slow
def test_restarted_replica_keeps_its_identity(fresh_cluster):
    c = fresh_cluster(masters=3, replicas_per_master=1)
    replica = c.replicas()[0]
    node_id = replica.node_id
    c.kill(replica, signal.SIGTERM)
    c.restart(replica)
    assert replica.call("CLUSTER", "MYID") == node_id
    assert replica in c.replicas()


def test_password_protected_cluster(fresh_cluster):
    c = fresh_cluster(password="s3cret")
    m = c.master_for_key("p")
    with pytest.raises(redis.AuthenticationError):
        m.client(password=None).ping()
    assert m.client().set("p", 1)
    assert c.move_slot(key_slot("p"), next(x for x in c.masters() if x is not m)) == 1


# -- RawConnection ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_redis(logdir):
    # DEBUG PROTOCOL emits every RESP3 type on demand; it needs enable-debug-command.
    with RedisServer(7410, workdir=logdir / "redis-7410", extra_config=["--enable-debug-command yes"]) as s:
        yield s


def test_resp3_types_from_debug_protocol(plain_redis):
    with RawConnection("127.0.0.1", plain_redis.port) as conn:
        hello = conn.command("HELLO", 3)
        assert isinstance(hello, dict) and hello[b"proto"] == 3
        p = lambda t: conn.command("DEBUG", "PROTOCOL", t)  # noqa: E731
        assert p("string") == b"Hello World"
        assert p("integer") == 12345
        assert p("double") == pytest.approx(3.141) and isinstance(p("double"), float)
        assert p("bignum") == 1234567999999999999999999999999999999
        assert p("null") is None
        assert p("array") == [0, 1, 2] and type(p("array")) is list
        s = p("set")
        assert isinstance(s, RespSet) and sorted(s) == [0, 1, 2]
        assert p("map") == {0: False, 1: True, 2: False}
        assert p("attrib") == b"Some real reply following the attribute"
        assert conn.last_attributes == {b"key-popularity": [b"key:123", 90]}
        push = p("push")
        assert isinstance(push, Push) and push == [b"server-cpu-usage", 42]
        assert conn.read_reply() == b"Some real reply following the push reply"
        v = p("verbatim")
        assert isinstance(v, Verbatim) and v.format == "txt" and v == "This is a verbatim\nstring"
        assert p("true") is True
        assert p("false") is False


def test_resp3_replies_of_ordinary_commands(plain_redis):
    with RawConnection("127.0.0.1", plain_redis.port) as conn:
        conn.command("HELLO", 3)
        conn.command("DEL", "h", "s", "z")
        conn.command("HSET", "h", "f1", "v1", "f2", "v2")
        assert conn.command("HGETALL", "h") == {b"f1": b"v1", b"f2": b"v2"}
        conn.command("SADD", "s", "a", "b")
        assert sorted(conn.command("SMEMBERS", "s")) == [b"a", b"b"]
        assert isinstance(conn.command("SMEMBERS", "s"), RespSet)
        conn.command("ZADD", "z", "1.5", "m")
        assert conn.command("ZSCORE", "z", "m") == 1.5
        assert conn.command("ZINCRBY", "z", "inf", "m") == float("inf")
        assert conn.command("GET", "missing") is None
        assert conn.command("EVAL", "redis.setresp(3); return true", 0) is True
        assert conn.command("EVAL", "redis.setresp(3); return {double=2.5}", 0) == 2.5
        info = conn.command("CLIENT", "INFO")
        assert isinstance(info, Verbatim) and "resp=3" in info
        err = conn.command("INCR", "h")
        assert isinstance(err, RespError) and err.code == "WRONGTYPE"


def test_resp3_push_messages_from_pubsub(plain_redis):
    with RawConnection("127.0.0.1", plain_redis.port) as sub:
        sub.command("HELLO", 3)
        assert sub.command("SUBSCRIBE", "ch") == Push([b"subscribe", b"ch", 1])
        assert plain_redis.client().publish("ch", "hi") == 1
        assert sub.read_reply() == Push([b"message", b"ch", b"hi"])
        # In RESP3 a subscribed connection still answers normal commands.
        assert sub.command("PING") == "PONG"


def test_resp2_nulls_errors_pipelining_inline_and_close(plain_redis):
    with RawConnection("127.0.0.1", plain_redis.port) as conn:
        assert conn.command("GET", "nope") is None
        assert conn.command("BLPOP", "nolist", "0.01") is None  # *-1
        err = conn.command("NOSUCHCOMMAND")
        assert isinstance(err, RespError) and err.startswith("ERR unknown command")
        conn.send(b"".join(b"*2\r\n$4\r\nECHO\r\n$1\r\n%d\r\n" % i for i in range(3)))
        assert conn.read_replies(3) == [b"0", b"1", b"2"]
        conn.send(b"PING\r\n")
        assert conn.read_reply() == "PONG"
        assert conn.command("SET", "n", 42) == "OK" and conn.command("INCR", "n") == 43
        assert not conn.is_closed(timeout=0.1)
        assert conn.command("QUIT") == "OK"
        assert conn.is_closed(timeout=2)
        with pytest.raises(ConnectionError):
            conn.read_reply(timeout=0.5)


def test_read_reply_times_out_without_a_reply(plain_redis):
    with RawConnection("127.0.0.1", plain_redis.port) as conn:
        conn.send(b"*2\r\n$4\r\nECHO\r\n")  # incomplete request: no reply can come
        with pytest.raises(TimeoutError):
            conn.read_reply(timeout=0.2)


def test_parser_handles_split_and_nested_frames():
    frame = b"%2\r\n*2\r\n:1\r\n:2\r\n$1\r\nx\r\n+k\r\n!9\r\nERR blob!\r\n"
    for cut in range(len(frame)):
        assert parse_reply(frame[:cut]) is None
    value, used = parse_reply(frame + b"+next\r\n")
    assert used == len(frame)
    assert value == {(1, 2): b"x", "k": "ERR blob!"}
    assert isinstance(value["k"], RespError)
    assert parse_reply(b",-inf\r\n")[0] == float("-inf")
    assert parse_reply(b"_\r\n") == (None, 3)
    with pytest.raises(ProtocolError):
        parse_reply(b"?what\r\n")


@pytest.mark.slow
def test_added_node_joins_as_empty_master_or_replica(fresh_cluster):
    c = fresh_cluster(masters=3, replicas_per_master=0)
    newcomer = c.add_node(join=True)
    assert newcomer.port == c.base_port + 3
    assert newcomer in c.masters()
    assert c.move_slot(0, newcomer) == 0
    assert c.master_for_slot(0) is newcomer
    spare = c.add_node(replica_of=newcomer)
    assert c.master_of(spare) is newcomer
