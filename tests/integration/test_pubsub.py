"""Pub/Sub through slotgate (RESP2 clients; RESP3 push frames are in test_resp3.py).

In a Redis Cluster a PUBLISH on any node reaches every node, so a subscriber must be
subscribed on exactly one of them or it sees each message several times. Keyspace
notifications are the opposite: each node reports only its own keys, so they must be
collected from every master. Shard channels (SSUBSCRIBE / SPUBLISH) live on the master
of the channel's slot. What a client must see:

  * every message exactly once, whether published through slotgate or directly on any
    node; every keyspace event exactly once, whichever master owns the key;
  * the confirmations, counts and subscribed-mode rules of Redis (compared with a node
    asked directly);
  * a subscriber that outlives a failover of the node it listens on, and receives what
    is published afterwards;
  * a subscriber that stops reading is cut off at `clients.output_buffer_limit`, and
    nobody else notices.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

from harness import RawConnection, RespError, error_text, key_slot, wait_until

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"


@pytest.fixture
def sub(slotgate):
    c = slotgate.raw()
    yield c
    c.close()


@pytest.fixture
def pub(slotgate):
    c = slotgate.raw()
    yield c
    c.close()


def name(prefix: str = "ch") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:10]}"


def read_frames(conn, count: int, timeout: float = 5.0) -> list:
    """Exactly `count` frames, in arrival order. Messages published on other nodes reach
    the subscriber's node over the cluster bus, so they may arrive after a message
    published later on that node: callers compare them as a multiset."""
    frames = []
    deadline = time.monotonic() + timeout
    while len(frames) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{count} frames did not arrive within {timeout:g}s; got {frames!r}")
        frames.append(conn.read_reply(timeout=remaining))
    return frames


def publish_on_every_node(nodes, channel: str, prefix: str) -> list[bytes]:
    sent = []
    for node in nodes:
        payload = f"{prefix}-{node.port}"
        node.client().publish(channel, payload)
        sent.append(payload.encode())
    return sent


def subscription_owner(cluster, channel: str):
    """The master(s) on which somebody is subscribed to channel (PUBSUB NUMSUB is local)."""
    return [m for m in cluster.masters() if m.client().pubsub_numsub(channel)[0][1] > 0]


# ---- channels and patterns -------------------------------------------------------------------


def test_subscribe_confirms_like_redis(sub, cluster):
    a, b, p = name(), name(), name("pat") + ":*"
    node = cluster.masters()[0]
    sequence = [("SUBSCRIBE", a, b), ("PSUBSCRIBE", p), ("UNSUBSCRIBE", a), ("PUNSUBSCRIBE",), ("UNSUBSCRIBE",),
                ("UNSUBSCRIBE",)]
    counts = {"SUBSCRIBE": 2, "PSUBSCRIBE": 1, "UNSUBSCRIBE": 1, "PUNSUBSCRIBE": 1}
    expected, got = [], []
    with RawConnection(node.host, node.port) as d:
        for cmd in sequence:
            d.send_command(*cmd)
            sub.send_command(*cmd)
            n = counts[cmd[0]]
            expected += d.read_replies(n)
            got += sub.read_replies(n, timeout=5)
    assert got == expected
    assert expected[-1] == [b"unsubscribe", None, 0]
    # Out of subscribed mode: ordinary commands work again.
    assert sub.command("SET", name("k"), "v") == "OK"


def collect(sub, settle: float = 1.0) -> list:
    """Every frame that arrives until none has come for `settle` seconds."""
    frames = []
    try:
        while True:
            frames.append(sub.read_reply(timeout=settle))
    except TimeoutError:
        return frames


def test_message_published_through_slotgate_arrives_once(sub, pub):
    ch = name()
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    for i in range(20):
        assert isinstance(pub.command("PUBLISH", ch, f"m{i}"), int)
    frames = collect(sub)
    assert sorted(frames) == sorted([[b"message", ch.encode(), f"m{i}".encode()] for i in range(20)])


def test_one_publishers_messages_keep_their_order(sub, pub):
    # One connection publishing one message after the other (each acknowledged) is
    # what a single Redis node keeps in order; a proxy that spreads the PUBLISHes over
    # several nodes lets the cluster bus reorder them.
    ch = name()
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    for i in range(50):
        assert isinstance(pub.command("PUBLISH", ch, f"m{i}"), int)
    frames = collect(sub)
    assert [f[2] for f in frames] == [f"m{i}".encode() for i in range(50)]


def test_messages_published_on_every_node_arrive_once(sub, pub, cluster):
    ch = name()
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    sent = publish_on_every_node(cluster.nodes, ch, "direct")
    pub.command("PUBLISH", ch, "end")
    frames = read_frames(sub, len(sent) + 1)
    assert all(f[:2] == [b"message", ch.encode()] for f in frames), frames
    received = [f[2] for f in frames]
    assert sorted(received) == sorted(sent + [b"end"]), f"sent {sent} + end, received {received}"
    with pytest.raises(TimeoutError):
        sub.read_reply(timeout=0.5)


def test_pattern_messages_arrive_once(sub, pub, cluster):
    base = name("pat")
    pattern = base + ":*"
    assert sub.command("PSUBSCRIBE", pattern) == [b"psubscribe", pattern.encode(), 1]
    for node in cluster.nodes:
        node.client().publish(f"{base}:{node.port}", "direct")
    pub.command("PUBLISH", f"{base}:end", "end")
    frames = read_frames(sub, len(cluster.nodes) + 1)
    expected = [[b"pmessage", pattern.encode(), f"{base}:{n.port}".encode(), b"direct"] for n in cluster.nodes]
    expected.append([b"pmessage", pattern.encode(), f"{base}:end".encode(), b"end"])
    assert sorted(frames) == sorted(expected)
    with pytest.raises(TimeoutError):
        sub.read_reply(timeout=0.5)


def test_channel_and_matching_pattern_both_deliver(sub, pub):
    base = name("both")
    ch, pattern = f"{base}:x", f"{base}:*"
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    assert sub.command("PSUBSCRIBE", pattern) == [b"psubscribe", pattern.encode(), 2]
    pub.command("PUBLISH", ch, "hello")
    got = sub.read_replies(2, timeout=5)
    assert sorted(got) == sorted([[b"message", ch.encode(), b"hello"],
                                  [b"pmessage", pattern.encode(), ch.encode(), b"hello"]])


def test_unsubscribed_channel_no_longer_delivers(sub, pub):
    a, b = name(), name()
    sub.send_command("SUBSCRIBE", a, b)
    assert sub.read_replies(2, timeout=5) == [[b"subscribe", a.encode(), 1], [b"subscribe", b.encode(), 2]]
    assert sub.command("UNSUBSCRIBE", a) == [b"unsubscribe", a.encode(), 1]
    pub.command("PUBLISH", a, "gone")
    pub.command("PUBLISH", b, "kept")
    assert sub.read_reply(timeout=5) == [b"message", b.encode(), b"kept"]


def test_subscribers_on_many_connections_each_get_one_copy(slotgate, pub):
    ch = name()
    subs = [slotgate.raw() for _ in range(6)]
    try:
        for s in subs:
            assert s.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
        pub.command("PUBLISH", ch, "one")
        pub.command("PUBLISH", ch, "two")
        for s in subs:
            assert s.read_replies(2, timeout=5) == [[b"message", ch.encode(), b"one"],
                                                    [b"message", ch.encode(), b"two"]]
            with pytest.raises(TimeoutError):
                s.read_reply(timeout=0.2)
    finally:
        for s in subs:
            s.close()


# ---- subscribed mode (RESP2) -------------------------------------------------------------------


def test_ping_in_subscribed_mode(sub):
    ch = name()
    sub.command("SUBSCRIBE", ch)
    assert sub.command("PING") == [b"pong", b""]
    assert sub.command("PING", "hi") == [b"pong", b"hi"]


@pytest.mark.parametrize("cmd", [("GET", "k"), ("SET", "k", "v"), ("PUBLISH", "x", "y"), ("INFO",)],
                         ids=["GET", "SET", "PUBLISH", "INFO"])
def test_other_commands_in_subscribed_mode_are_refused_like_redis(sub, cluster, cmd):
    ch = name()
    node = cluster.master_for_key("k")  # the owner: a cluster node redirects other keys first
    with RawConnection(node.host, node.port) as d:
        d.command("SUBSCRIBE", ch)
        expected = d.command(*cmd)
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    assert sub.command(*cmd) == expected
    assert str(expected).startswith(f"ERR Can't execute '{cmd[0].lower()}'")
    # Still subscribed, still working.
    assert sub.command("PING") == [b"pong", b""]


def test_reset_leaves_subscribed_mode(sub, pub):
    ch = name()
    sub.command("SUBSCRIBE", ch)
    assert sub.command("RESET") == "RESET"
    pub.command("PUBLISH", ch, "after-reset")
    assert sub.command("PING") == "PONG"
    with pytest.raises(TimeoutError):
        sub.read_reply(timeout=0.3)


def test_quit_in_subscribed_mode(sub):
    sub.command("SUBSCRIBE", name())
    assert sub.command("QUIT") == "OK"
    assert sub.is_closed(timeout=2)


# ---- shard channels ----------------------------------------------------------------------------


def shard_channels_on_each_master(cluster) -> dict:
    return cluster.keys_on_each_master(n_per_master=1, prefix=f"sch:{uuid.uuid4().hex[:8]}:")


def test_ssubscribe_spublish_on_every_master(slotgate, pub, cluster):
    per_master = shard_channels_on_each_master(cluster)
    subs = []
    try:
        for node, (ch,) in per_master.items():
            s = slotgate.raw()
            subs.append((s, node, ch))
            assert s.command("SSUBSCRIBE", ch) == [b"ssubscribe", ch.encode(), 1]
            assert node.client().execute_command("PUBSUB", "SHARDNUMSUB", ch)[1] == 1, (
                f"shard channel {ch} not subscribed on its master {node.address}")
        for s, node, ch in subs:
            assert pub.command("SPUBLISH", ch, "via-slotgate") == 1
            assert node.client().execute_command("SPUBLISH", ch, "direct") == 1
            assert s.read_replies(2, timeout=5) == [[b"smessage", ch.encode(), b"via-slotgate"],
                                                    [b"smessage", ch.encode(), b"direct"]]
            with pytest.raises(TimeoutError):
                s.read_reply(timeout=0.2)
        for s, node, ch in subs:
            assert s.command("SUNSUBSCRIBE", ch) == [b"sunsubscribe", ch.encode(), 0]
            assert pub.command("SPUBLISH", ch, "nobody") == 0
    finally:
        for s, _, _ in subs:
            s.close()


def test_ssubscribe_channels_in_different_slots_is_crossslot(sub, cluster):
    per_master = shard_channels_on_each_master(cluster)
    (a,), (b,) = list(per_master.values())[:2]
    assert key_slot(a) != key_slot(b)
    assert error_text(sub.command("SSUBSCRIBE", a, b)) == CROSSSLOT
    assert sub.command("PING") == "PONG"


def test_spublish_is_not_a_broadcast(sub, pub, cluster):
    # A shard message is not an ordinary message: SUBSCRIBE to the same name hears nothing.
    ch = name("sch")
    assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
    assert pub.command("SPUBLISH", ch, "shard") == 0
    pub.command("PUBLISH", ch, "plain")
    assert sub.read_reply(timeout=5) == [b"message", ch.encode(), b"plain"]


# ---- keyspace notifications --------------------------------------------------------------------


@pytest.fixture
def keyspace_events(slotgate, cluster):
    with slotgate.raw() as c:
        assert c.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
    yield
    for node in cluster.live_nodes():
        node.client().config_set("notify-keyspace-events", "")


def test_config_set_notify_reaches_every_master(keyspace_events, cluster):
    for m in cluster.masters():
        flags = m.client().config_get("notify-keyspace-events")["notify-keyspace-events"]
        assert set("KEA") <= set(flags), f"{m.address} has notify-keyspace-events={flags!r}"


def test_keyevent_pattern_reports_every_master_once(keyspace_events, sub, pub, cluster):
    prefix = f"kse:{uuid.uuid4().hex[:8]}:"
    pattern = "__keyevent@*__:*"
    assert sub.command("PSUBSCRIBE", pattern) == [b"psubscribe", pattern.encode(), 1]
    per_master = cluster.keys_on_each_master(n_per_master=2, prefix=prefix)
    expected = []
    for node, (k1, k2) in per_master.items():
        assert pub.command("SET", k1, "v") == "OK"  # through slotgate
        node.client().set(k2, "v")  # directly on the master
        expected += [k1.encode(), k2.encode()]
    end = f"{prefix}end"
    assert pub.command("SET", end, "v") == "OK"
    expected.append(end.encode())

    def set_events(frames):
        return [f[3] for f in frames if f[2] == b"__keyevent@0__:set" and f[3].startswith(prefix.encode())]

    frames = read_events_until(sub, lambda frames: len(set_events(frames)) >= len(expected))
    assert sorted(set_events(frames)) == sorted(expected), f"events: {frames!r}"


def read_events_until(sub, done, timeout: float = 5.0) -> list:
    """Frames until done(frames), then whatever else arrives within 0.3 s (duplicates from
    a second subscription would). Events of different masters come over different links,
    so they are not ordered among themselves."""
    frames = []
    deadline = time.monotonic() + timeout
    while not done(frames):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"events did not all arrive within {timeout:g}s; got {frames!r}")
        frames.append(sub.read_reply(timeout=remaining))
    try:
        while True:
            frames.append(sub.read_reply(timeout=0.3))
    except TimeoutError:
        return frames


def test_keyspace_channels_for_keys_on_every_master(keyspace_events, slotgate, pub, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=f"ksc:{uuid.uuid4().hex[:8]}:")
    subs = []
    try:
        for node, (key,) in per_master.items():
            s = slotgate.raw()
            subs.append((s, key))
            ch = f"__keyspace@0__:{key}"
            assert s.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
        for s, key in subs:
            assert pub.command("SET", key, "v") == "OK"
            assert pub.command("DEL", key) == 1
        for s, key in subs:
            ch = f"__keyspace@0__:{key}".encode()
            assert s.read_replies(2, timeout=5) == [[b"message", ch, b"set"], [b"message", ch, b"del"]]
            with pytest.raises(TimeoutError):
                s.read_reply(timeout=0.3)
    finally:
        for s, _ in subs:
            s.close()


# ---- failover ---------------------------------------------------------------------------------


def wait_for_delivery(sub, pub, ch: str, timeout: float = 30.0) -> list:
    """Publish numbered probes until one arrives; return the frames read."""
    deadline = time.monotonic() + timeout
    i = 0
    frames = []
    while time.monotonic() < deadline:
        reply = pub.command("PUBLISH", ch, f"probe-{i}", timeout=10)
        assert isinstance(reply, int), f"PUBLISH after the failover answered {reply!r}"
        i += 1
        try:
            while True:
                frames.append(sub.read_reply(timeout=0.2))
        except TimeoutError:
            pass
        if frames:
            return frames
    raise AssertionError(f"no message reached the subscriber within {timeout:g}s after the failover")


def check_subscriber_after(sub, pub, ch: str, pattern: str):
    probes = [tuple(f) for f in wait_for_delivery(sub, pub, ch)]
    assert len(probes) == len(set(probes)), f"duplicate messages: {probes!r}"
    expected = []
    for i in range(5):
        pub.command("PUBLISH", ch, f"after-{i}")
        expected.append((b"message", ch.encode(), f"after-{i}".encode()))
        expected.append((b"pmessage", pattern.encode(), ch.encode(), f"after-{i}".encode()))
    frames = []
    deadline = time.monotonic() + 10
    while not set(expected) <= set(frames) and time.monotonic() < deadline:
        frames.append(tuple(sub.read_reply(timeout=max(0.0, deadline - time.monotonic()))))
    try:
        while True:  # anything more (a duplicate) arrives soon after
            frames.append(tuple(sub.read_reply(timeout=0.5)))
    except TimeoutError:
        pass
    # Probes that were still on their way are fine, once each.
    late_probes = [f for f in frames if f[-1].startswith(b"probe-")]
    assert len(set(late_probes + probes)) == len(late_probes + probes), f"duplicate probes: {late_probes!r}"
    assert sorted(f for f in frames if f not in late_probes) == sorted(expected), frames
    assert sub.command("PING") == [b"pong", b""]


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("how", ["cluster-failover", "kill"])
def test_subscriber_survives_failover_of_its_node(fresh_cluster, make_slotgate, how):
    c = fresh_cluster(node_timeout_ms=2000)
    gate = make_slotgate(seeds=c.seeds)
    ch = name()
    pattern = ch[:-4] + "*"
    with gate.raw() as sub, gate.raw() as pub:
        assert sub.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
        assert sub.command("PSUBSCRIBE", pattern) == [b"psubscribe", pattern.encode(), 2]
        owners = subscription_owner(c, ch)
        assert len(owners) == 1, f"subscribed on {owners}"
        node = owners[0]
        replica = c.replicas_of(node)[0]
        if how == "cluster-failover":
            c.failover(replica)
        else:
            c.kill(node)
            c.wait_promoted(replica, timeout=60)
        check_subscriber_after(sub, pub, ch, pattern)


# ---- a subscriber that does not read --------------------------------------------------------


@pytest.mark.timeout(120)
def test_slow_subscriber_is_cut_off_and_others_are_unaffected(make_slotgate, cluster):
    gate = make_slotgate(config_text="clients:\n  output_buffer_limit: 1mb\n")
    ch = name()
    payload = b"x" * 100_000
    n_messages = 200  # 20 MB in all

    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((gate.host, gate.port))
    slow.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(ch), ch.encode()))
    good = gate.raw()
    other = gate.raw()
    pub = gate.raw()
    try:
        assert good.command("SUBSCRIBE", ch) == [b"subscribe", ch.encode(), 1]
        wait_until(lambda: sum(m.client().pubsub_numsub(ch)[0][1] for m in cluster.masters()) >= 2, 5,
                   "both subscribers to be subscribed on the cluster")
        received: list[int] = []
        errors: list[str] = []

        def reader():
            try:
                for _ in range(n_messages):
                    frame = good.read_reply(timeout=30)
                    assert frame[:2] == [b"message", ch.encode()] and frame[2] == payload
                    received.append(1)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

        th = threading.Thread(target=reader)
        th.start()
        worst = 0.0
        for i in range(n_messages):
            # Why: the reading subscriber is a Python thread; never let it fall more than
            # three messages (300 kB) behind, or it is a slow subscriber too.
            deadline = time.monotonic() + 10
            while len(received) < i - 3 and time.monotonic() < deadline and not errors:
                time.sleep(0.001)
            reply = pub.command("PUBLISH", ch, payload, timeout=10)
            assert isinstance(reply, int), reply
            if i % 10 == 0:
                t0 = time.monotonic()
                assert other.command("SET", f"{ch}:k", str(i)) == "OK"
                assert other.command("GET", f"{ch}:k") == str(i).encode()
                worst = max(worst, time.monotonic() - t0)
        th.join(timeout=60)
        assert not errors, errors
        assert len(received) == n_messages, f"the reading subscriber got {len(received)} of {n_messages}"
        assert worst < 0.5, f"another client's round trip took {worst * 1000:.0f} ms"

        # The slow subscriber was disconnected: reading now ends in EOF well before 20 MB.
        slow.settimeout(10)
        total = 0
        closed = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                chunk = slow.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            total += len(chunk)
        assert closed, f"the subscriber that did not read is still connected ({total} bytes read)"
        assert total < n_messages * len(payload) // 2, f"{total} bytes reached the slow subscriber"
        assert other.command("PING") == "PONG"
        assert good.command("PING") == [b"pong", b""], "the subscriber that kept up was affected"
        assert gate.is_running()
    finally:
        slow.close()
        good.close()
        other.close()
        pub.close()
