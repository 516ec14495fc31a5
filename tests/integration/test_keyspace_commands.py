"""Commands about the whole keyspace or the whole server, through one slotgate address.

A plain client sees slotgate as one Redis: KEYS, SCAN, DBSIZE, RANDOMKEY and INFO's
keyspace must cover every master; FLUSHALL, SCRIPT LOAD/FLUSH, FUNCTION LOAD/DELETE/
FLUSH/RESTORE and CONFIG SET must reach every master; scripts and functions run
where their keys live; and commands that would change the cluster's shape or stop a
node are refused instead of being forwarded to whichever node is at hand. Every
broadcast is checked directly on each master.
"""

import hashlib
import time
import uuid

import pytest

from harness import RespError, error_text


def prefix():
    return f"ks:{uuid.uuid4().hex[:10]}:"


def spread_keys(cluster, per_master, p=None):
    groups = list(cluster.keys_on_each_master(n_per_master=per_master, prefix=p or prefix()).values())
    assert len(groups) == 3
    return [g[i] for i in range(per_master) for g in groups]


def set_on_owners(cluster, keys, value="v"):
    for k in keys:
        cluster.master_for_key(k).client().set(k, value)


def keys_on_masters(cluster, pattern):
    out = set()
    for m in cluster.masters():
        out |= set(m.client().keys(pattern))
    return out


def scan_all(conn, *options, limit=100_000):
    """Every key a full SCAN iteration returns (a list: duplicates kept), and the
    number of calls it took."""
    cursor = b"0"
    keys = []
    for calls in range(1, limit + 1):
        reply = conn.command("SCAN", cursor, *options, timeout=10)
        assert isinstance(reply, list) and len(reply) == 2, f"SCAN {cursor!r}: {reply!r}"
        cursor, page = reply
        assert isinstance(cursor, bytes) and cursor.isdigit(), f"cursor {cursor!r} is not a number"
        keys += page
        if cursor == b"0":
            return keys, calls
    raise AssertionError(f"SCAN did not finish within {limit} calls")


# ---- KEYS / SCAN --------------------------------------------------------------------------


def test_keys_is_the_union_over_masters(conn, cluster):
    p = prefix()
    keys = spread_keys(cluster, 20, p)
    set_on_owners(cluster, keys)
    reply = conn.command("KEYS", p + "*", timeout=10)
    assert isinstance(reply, list)
    assert sorted(reply) == sorted(k.encode() for k in keys)
    assert conn.command("KEYS", p + "nothing-matches*") == []
    one = keys[4]
    assert conn.command("KEYS", one) == [one.encode()]


def test_scan_full_iteration_returns_every_key(conn, cluster):
    p = prefix()
    keys = spread_keys(cluster, 200, p)
    set_on_owners(cluster, keys)
    got, calls = scan_all(conn, "MATCH", p + "*", "COUNT", "25")
    assert set(got) == {k.encode() for k in keys}
    assert calls > 3, "COUNT 25 over 600 keys should take several calls"
    # Without MATCH: every key of every master, whatever other tests left behind.
    everything, _ = scan_all(conn, "COUNT", "500")
    assert set(everything) == keys_on_masters(cluster, "*")


def test_scan_with_default_count(conn, cluster):
    p = prefix()
    keys = spread_keys(cluster, 50, p)
    set_on_owners(cluster, keys)
    got, _ = scan_all(conn, "MATCH", p + "*")
    assert set(got) == {k.encode() for k in keys}


def test_scan_type_filter_is_passed_through(conn, cluster):
    p = prefix()
    strings = spread_keys(cluster, 5, p + "s")
    hashes = spread_keys(cluster, 5, p + "h")
    lists = spread_keys(cluster, 5, p + "l")
    set_on_owners(cluster, strings)
    for k in hashes:
        cluster.master_for_key(k).client().hset(k, "f", "v")
    for k in lists:
        cluster.master_for_key(k).client().rpush(k, "x")
    got, _ = scan_all(conn, "MATCH", p + "*", "COUNT", "100", "TYPE", "hash")
    assert set(got) == {k.encode() for k in hashes}
    got, _ = scan_all(conn, "MATCH", p + "*", "TYPE", "list", "COUNT", "7")
    assert set(got) == {k.encode() for k in lists}


@pytest.mark.parametrize("cursor", ["1023", "18446744073709551615", "99999999999999999999999", "abc", "-1", "1.5"])
def test_scan_with_a_cursor_that_makes_no_sense_is_an_err(conn, cursor):
    assert error_text(conn.command("SCAN", cursor)).startswith("ERR")
    assert conn.command("PING") == "PONG"


def test_scan_cursor_survives_topology_refreshes(make_slotgate, cluster):
    gate = make_slotgate(config_text="cluster:\n  refresh_interval: 200ms\n")
    p = prefix()
    keys = spread_keys(cluster, 150, p)
    set_on_owners(cluster, keys)
    with gate.raw() as c:
        cursor, seen = b"0", []
        for _ in range(5):
            cursor, page = c.command("SCAN", cursor, "MATCH", p + "*", "COUNT", "20")
            seen += page
        assert cursor != b"0"
        time.sleep(1.5)  # several refreshes of an unchanged topology
        while cursor != b"0":
            reply = c.command("SCAN", cursor, "MATCH", p + "*", "COUNT", "20", timeout=10)
            assert isinstance(reply, list), f"SCAN {cursor!r} after refreshes: {reply!r}"
            cursor, page = reply
            seen += page
    assert set(seen) == {k.encode() for k in keys}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_scan_cursor_survives_a_replica_failover(fresh_cluster, make_slotgate):
    """CLUSTER FAILOVER changes which address serves a master's slots but not the slots:
    a SCAN that has started keeps going and still returns every key. The master that
    fails over is one the iteration has not reached yet (a cursor inside one redis-server
    means nothing to another process, whose hash table is seeded differently)."""
    fc = fresh_cluster()
    gate = make_slotgate(seeds=fc.seeds, config_text="cluster:\n  refresh_interval: 200ms\n")
    p = prefix()
    by_master = fc.keys_on_each_master(n_per_master=300, prefix=p)
    owner_of = {k: m for m, ks in by_master.items() for k in ks}
    for m, ks in by_master.items():
        pipe = m.client().pipeline(transaction=False)
        for k in ks:
            pipe.set(k, "v")
        pipe.execute()
    with gate.raw() as c:
        cursor, seen = b"0", set()
        reply = c.command("SCAN", cursor, "COUNT", "20")
        cursor, page = reply
        seen |= set(page)
        assert cursor != b"0"
        started = {owner_of[k.decode()] for k in seen}
        assert len(started) == 1, f"first page spans masters {started}"
        target = next(m for m in by_master if m not in started)
        replica = fc.replicas_of(target)[0]
        fc.failover(replica)
        assert replica in fc.masters()
        time.sleep(1.5)  # let slotgate refresh and reconnect
        while cursor != b"0":
            reply = c.command("SCAN", cursor, "COUNT", "20", timeout=10)
            assert isinstance(reply, list), f"SCAN {cursor!r} after the failover: {reply!r}"
            cursor, page = reply
            seen |= set(page)
        assert seen == {k.encode() for k in owner_of}
        again, _ = scan_all(c, "COUNT", "100")
        assert set(again) == {k.encode() for k in owner_of}


# ---- DBSIZE / FLUSHALL / FLUSHDB / RANDOMKEY ------------------------------------------------


def test_dbsize_is_the_sum_over_masters(conn, cluster):
    set_on_owners(cluster, spread_keys(cluster, 10))
    expected = sum(m.client().dbsize() for m in cluster.masters())
    assert expected >= 30
    assert conn.command("DBSIZE") == expected


@pytest.mark.parametrize("command", [("FLUSHALL",), ("FLUSHALL", "ASYNC"), ("FLUSHALL", "SYNC"),
                                     ("FLUSHDB",), ("FLUSHDB", "ASYNC"), ("FLUSHDB", "SYNC")],
                         ids=lambda c: " ".join(c))
def test_flush_reaches_every_master(conn, cluster, command):
    set_on_owners(cluster, spread_keys(cluster, 5))
    assert all(m.client().dbsize() > 0 for m in cluster.masters())
    assert conn.command(*command, timeout=10) == "OK"
    for m in cluster.masters():
        assert m.client().dbsize() == 0, f"{' '.join(command)} left keys on {m.address}"
    assert conn.command("DBSIZE") == 0


def test_randomkey_is_nil_on_an_empty_database(conn, cluster):
    cluster.flushall()
    assert conn.command("RANDOMKEY") is None


def test_randomkey_finds_the_only_key_whichever_master_holds_it(conn, cluster):
    for key in spread_keys(cluster, 1):
        cluster.flushall()
        set_on_owners(cluster, [key])
        for _ in range(15):
            assert conn.command("RANDOMKEY") == key.encode()


def test_randomkey_returns_existing_keys(conn, cluster):
    cluster.flushall()
    keys = spread_keys(cluster, 5)
    set_on_owners(cluster, keys)
    for _ in range(30):
        got = conn.command("RANDOMKEY")
        assert isinstance(got, bytes) and got.decode() in keys, got


# ---- INFO ---------------------------------------------------------------------------------


def section(text, name):
    """The lines of one INFO section (after '# name', up to the next '# ')."""
    lines = text.splitlines()
    out, inside = [], False
    for line in lines:
        if line.startswith("# "):
            inside = line[2:].strip().lower() == name.lower()
            continue
        if inside and line.strip():
            out.append(line.strip())
    return out


def db0(text):
    for line in section(text, "Keyspace"):
        if line.startswith("db0:"):
            return {k: int(v) for k, v in (kv.split("=") for kv in line[4:].split(","))}
    return None


def info_text(conn, *args):
    reply = conn.command("INFO", *args, timeout=10)
    assert isinstance(reply, bytes), f"INFO {' '.join(args)}: {reply!r}"
    return reply.decode()


def test_info_keyspace_is_merged_over_masters(conn, cluster):
    cluster.flushall()
    keys = spread_keys(cluster, 10)
    set_on_owners(cluster, keys)
    for k in keys[:7]:
        cluster.master_for_key(k).client().expire(k, 3600)
    direct = [db0(m.call("INFO", "keyspace")) for m in cluster.masters()]
    assert all(d is not None for d in direct)
    text = info_text(conn)
    assert "# Server" in text and "# Keyspace" in text
    merged = db0(text)
    assert merged is not None, f"no db0 line in INFO's Keyspace section:\n{text}"
    assert merged["keys"] == sum(d["keys"] for d in direct) == 30
    assert merged["expires"] == sum(d["expires"] for d in direct) == 7
    only = info_text(conn, "keyspace")
    assert db0(only) is not None and (db0(only)["keys"], db0(only)["expires"]) == (30, 7), only
    assert "# Server" not in only


@pytest.mark.parametrize("arg", ["everything", "all", "keyspace", "KEYSPACE", "default", "server"])
def test_info_variants_do_not_break(conn, cluster, arg):
    set_on_owners(cluster, spread_keys(cluster, 2))
    text = info_text(conn, arg)
    if arg.lower() != "server":
        assert "# Keyspace" in text and db0(text)["keys"] >= 6
    assert conn.command("PING") == "PONG"


def test_info_keyspace_on_an_empty_cluster(conn, cluster):
    cluster.flushall()
    text = info_text(conn, "keyspace")
    assert "# Keyspace" in text
    d = db0(text)
    assert d is None or d["keys"] == 0


# ---- SCRIPT / EVAL ---------------------------------------------------------------------------


GET_SCRIPT = "return redis.call('GET', KEYS[1])"


def test_script_load_reaches_every_master(conn, cluster):
    body = f"return 'h8-{uuid.uuid4().hex}'"
    sha = hashlib.sha1(body.encode()).hexdigest()
    assert conn.command("SCRIPT", "LOAD", body) == sha.encode()
    for m in cluster.masters():
        assert m.call("SCRIPT", "EXISTS", sha) == [1], f"script not loaded on {m.address}"
    assert conn.command("SCRIPT", "EXISTS", sha, "0" * 40) == [1, 0]


def test_script_exists_needs_the_script_on_every_master(conn, cluster):
    body = f"return 'only-one-{uuid.uuid4().hex}'"
    sha = hashlib.sha1(body.encode()).hexdigest()
    cluster.masters()[1].call("SCRIPT", "LOAD", body)
    assert conn.command("SCRIPT", "EXISTS", sha) == [0]
    everywhere = f"return 'all-{uuid.uuid4().hex}'"
    sha_all = conn.command("SCRIPT", "LOAD", everywhere).decode()
    assert conn.command("SCRIPT", "EXISTS", sha_all, sha, sha_all) == [1, 0, 1]


@pytest.mark.parametrize("mode", [(), ("ASYNC",), ("SYNC",)], ids=["plain", "ASYNC", "SYNC"])
def test_script_flush_reaches_every_master(conn, cluster, mode):
    sha = conn.command("SCRIPT", "LOAD", f"return '{uuid.uuid4().hex}'").decode()
    assert conn.command("SCRIPT", "FLUSH", *mode) == "OK"
    for m in cluster.masters():
        assert m.call("SCRIPT", "EXISTS", sha) == [0], f"script survived on {m.address}"
    assert conn.command("SCRIPT", "EXISTS", sha) == [0]


def test_eval_is_routed_by_its_key(conn, cluster):
    for k in spread_keys(cluster, 2):
        cluster.master_for_key(k).client().set(k, f"at-{k}")
        assert conn.command("EVAL", GET_SCRIPT, "1", k) == f"at-{k}".encode()
        assert conn.command("EVAL_RO", GET_SCRIPT, "1", k) == f"at-{k}".encode()


def test_eval_writes_land_on_the_owner(conn, cluster):
    for k in spread_keys(cluster, 1):
        assert conn.command("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", k, "w") == "OK"
        assert cluster.master_for_key(k).client().get(k) == b"w"


def test_eval_without_keys_runs_on_some_master(conn):
    assert conn.command("EVAL", "return 42", "0") == 42
    assert conn.command("EVAL_RO", "return {1, 'two'}", "0") == [1, b"two"]


def test_eval_same_slot_keys(conn, cluster):
    tag = "{" + uuid.uuid4().hex[:8] + "}"
    script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 2"
    assert conn.command("EVAL", script, "2", f"{tag}:a", f"{tag}:b", "v") == 2
    assert cluster.master_for_key(tag).client().mget(f"{tag}:a", f"{tag}:b") == [b"v", b"v"]


@pytest.mark.parametrize("command", ["EVAL", "EVAL_RO"])
def test_eval_across_slots_is_crossslot(conn, cluster, command):
    a, b, _ = spread_keys(cluster, 1)
    script = "redis.call('SET', KEYS[1], 'x'); redis.call('SET', KEYS[2], 'x')"
    assert error_text(conn.command(command, script, "2", a, b)).startswith("CROSSSLOT ")
    for k in (a, b):
        assert cluster.master_for_key(k).client().exists(k) == 0


def test_evalsha_is_routed_by_its_key(conn, cluster):
    sha = conn.command("SCRIPT", "LOAD", GET_SCRIPT).decode()
    for k in spread_keys(cluster, 2):
        cluster.master_for_key(k).client().set(k, f"sha-{k}")
        assert conn.command("EVALSHA", sha, "1", k) == f"sha-{k}".encode()
        assert conn.command("EVALSHA_RO", sha, "1", k) == f"sha-{k}".encode()
    a, b, _ = spread_keys(cluster, 1)
    assert error_text(conn.command("EVALSHA", sha, "2", a, b)).startswith("CROSSSLOT ")
    assert error_text(conn.command("EVALSHA", "f" * 40, "0")).startswith("NOSCRIPT")


# ---- FUNCTION / FCALL -------------------------------------------------------------------------


LIBRARY = """#!lua name=h8lib
redis.register_function('h8get', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function('h8set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)
redis.register_function{function_name='h8ro', callback=function(keys, args)
  return redis.call('GET', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='h8hello', callback=function(keys, args)
  return 'hello' end, flags={'no-writes'}}
"""


def library_names(node):
    names = set()
    for lib in node.call("FUNCTION", "LIST"):
        fields = dict(zip(lib[0::2], lib[1::2]))
        names.add(fields["library_name"])
    return names


@pytest.fixture
def h8lib(conn, cluster):
    assert conn.command("FUNCTION", "LOAD", "REPLACE", LIBRARY) == b"h8lib"
    yield
    for m in cluster.masters():
        if "h8lib" in library_names(m):
            m.call("FUNCTION", "DELETE", "h8lib")


def test_function_load_reaches_every_master(conn, cluster, h8lib):
    for m in cluster.masters():
        assert "h8lib" in library_names(m), f"library missing on {m.address}"
    listed = conn.command("FUNCTION", "LIST", "LIBRARYNAME", "h8lib")
    assert isinstance(listed, list) and len(listed) == 1 and b"h8lib" in listed[0], listed
    stats = conn.command("FUNCTION", "STATS")
    assert isinstance(stats, list) and b"engines" in stats, stats


def test_fcall_is_routed_by_its_key(conn, cluster, h8lib):
    for k in spread_keys(cluster, 2):
        assert conn.command("FCALL", "h8set", "1", k, f"f-{k}") == "OK"
        assert cluster.master_for_key(k).client().get(k) == f"f-{k}".encode()
        assert conn.command("FCALL", "h8get", "1", k) == f"f-{k}".encode()
        assert conn.command("FCALL_RO", "h8ro", "1", k) == f"f-{k}".encode()
    assert conn.command("FCALL", "h8hello", "0") == b"hello"
    assert conn.command("FCALL_RO", "h8hello", "0") == b"hello"


@pytest.mark.parametrize("command,function", [("FCALL", "h8set"), ("FCALL_RO", "h8ro")])
def test_fcall_across_slots_is_crossslot(conn, cluster, h8lib, command, function):
    a, b, _ = spread_keys(cluster, 1)
    assert error_text(conn.command(command, function, "2", a, b, "v")).startswith("CROSSSLOT ")


def test_function_delete_reaches_every_master(conn, cluster, h8lib):
    assert conn.command("FUNCTION", "DELETE", "h8lib") == "OK"
    for m in cluster.masters():
        assert "h8lib" not in library_names(m), f"library survived on {m.address}"


def test_function_flush_and_restore_reach_every_master(conn, cluster, h8lib):
    dump = cluster.masters()[0].client().function_dump()
    assert conn.command("FUNCTION", "FLUSH") == "OK"
    for m in cluster.masters():
        assert library_names(m) == set(), f"FUNCTION FLUSH left {library_names(m)} on {m.address}"
    assert conn.command("FUNCTION", "RESTORE", dump) == "OK"
    for m in cluster.masters():
        assert "h8lib" in library_names(m), f"FUNCTION RESTORE missed {m.address}"
    assert conn.command("FUNCTION", "FLUSH", "ASYNC") == "OK"
    for m in cluster.masters():
        assert library_names(m) == set()


# ---- keyless reads, PUBLISH, CONFIG ------------------------------------------------------------


def test_keyless_reads_are_answered(conn):
    t = conn.command("TIME")
    assert isinstance(t, list) and len(t) == 2 and abs(int(t[0]) - time.time()) < 60
    assert isinstance(conn.command("LASTSAVE"), int)
    assert conn.command("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"noeviction"]
    many = conn.command("CONFIG", "GET", "maxmemory*")
    assert isinstance(many, list) and len(many) >= 4 and len(many) % 2 == 0
    assert isinstance(conn.command("DBSIZE"), int)


def test_publish_reaches_subscribers_on_the_cluster(conn, cluster):
    channel = f"h8-chan-{uuid.uuid4().hex[:8]}"
    sub = cluster.masters()[2].client().pubsub()
    try:
        sub.subscribe(channel)
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        n = conn.command("PUBLISH", channel, "hello")
        assert isinstance(n, int) and n >= 0, n
        deadline = time.monotonic() + 5
        msg = None
        while time.monotonic() < deadline and msg is None:
            msg = sub.get_message(timeout=0.5)
        assert msg and msg["type"] == "message" and msg["data"] == b"hello", msg
    finally:
        sub.close()


def notify_flags(node):
    return set(node.call("CONFIG", "GET", "notify-keyspace-events")[1])


def test_config_set_notify_keyspace_events_reaches_every_master(conn, cluster):
    try:
        assert conn.command("CONFIG", "SET", "notify-keyspace-events", "Kx") == "OK"
        for m in cluster.masters():
            assert notify_flags(m) == {"K", "x"}, f"not applied on {m.address}"
    finally:
        for m in cluster.masters():
            m.call("CONFIG", "SET", "notify-keyspace-events", "")


def _restore_policy(cluster):
    for m in cluster.masters():
        m.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        m.call("CONFIG", "SET", "notify-keyspace-events", "")


def test_config_set_of_a_parameter_not_allowed_is_refused(conn, cluster):
    try:
        assert error_text(conn.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")).startswith("ERR")
        # All or nothing: one refused parameter refuses the whole command.
        reply = conn.command("CONFIG", "SET", "notify-keyspace-events", "Kx", "maxmemory-policy", "allkeys-lru")
        assert error_text(reply).startswith("ERR")
        for m in cluster.masters():
            assert m.call("CONFIG", "GET", "maxmemory-policy")[1] == "noeviction"
            assert notify_flags(m) == set()
    finally:
        _restore_policy(cluster)


def test_config_set_allowed_by_config(make_slotgate, cluster):
    gate = make_slotgate(config_text="clients:\n  config_set_allowed: [notify-keyspace-events, maxmemory-policy]\n")
    try:
        with gate.raw() as c:
            assert c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == "OK"
            for m in cluster.masters():
                assert m.call("CONFIG", "GET", "maxmemory-policy")[1] == "allkeys-lru", m.address
            assert error_text(c.command("CONFIG", "SET", "maxmemory", "1")).startswith("ERR")
            for m in cluster.masters():
                assert m.call("CONFIG", "GET", "maxmemory")[1] == "0", m.address
    finally:
        _restore_policy(cluster)
        for m in cluster.masters():
            m.call("CONFIG", "SET", "maxmemory", "0")


# ---- refused and unknown commands ----------------------------------------------------------------


def test_unknown_command(conn):
    assert error_text(conn.command("NOSUCHCOMMAND", "a", "b")).startswith("ERR unknown command")
    assert conn.command("PING") == "PONG"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_cluster_changing_and_server_stopping_commands_are_refused(fresh_cluster, make_slotgate):
    """Forwarded to some node, these would stop it, change the slot map or break the
    cluster; slotgate refuses them with an error that names the command. Run on a
    throw-away cluster so a slotgate that forwards them cannot hurt other tests."""
    fc = fresh_cluster()
    gate = make_slotgate(seeds=fc.seeds)
    masters = fc.masters()
    slots_before = fc.slot_ranges()
    some_id, other_id = masters[0].node_id, masters[1].node_id
    commands = [
        ("SHUTDOWN",), ("SHUTDOWN", "NOSAVE"), ("SHUTDOWN", "NOSAVE", "FORCE"),
        ("DEBUG", "SLEEP", "0"), ("DEBUG", "SEGFAULT"), ("DEBUG", "RELOAD"),
        ("FAILOVER",), ("FAILOVER", "TO", "127.0.0.1", str(fc.nodes[3].port)),
        ("CLUSTER", "ADDSLOTS", "0"), ("CLUSTER", "ADDSLOTSRANGE", "0", "10"), ("CLUSTER", "DELSLOTS", "0"),
        ("CLUSTER", "DELSLOTSRANGE", "0", "10"), ("CLUSTER", "FLUSHSLOTS"),
        ("CLUSTER", "SETSLOT", "0", "NODE", other_id), ("CLUSTER", "SETSLOT", "0", "MIGRATING", other_id),
        ("CLUSTER", "FORGET", some_id), ("CLUSTER", "MEET", "127.0.0.1", "7459"),
        ("CLUSTER", "RESET"), ("CLUSTER", "RESET", "HARD"), ("CLUSTER", "FAILOVER"),
        ("CLUSTER", "FAILOVER", "TAKEOVER"), ("CLUSTER", "REPLICATE", some_id),
        ("CLUSTER", "BUMPEPOCH"), ("CLUSTER", "SET-CONFIG-EPOCH", "99"), ("CLUSTER", "SAVECONFIG"),
        ("REPLICAOF", "127.0.0.1", str(masters[0].port)), ("SLAVEOF", "NO", "ONE"),
    ]
    with gate.raw() as c:
        assert c.command("SET", "h8-survivor", "still-here") == "OK"
        problems = []
        for cmd in commands:
            reply = c.command(*cmd, timeout=10)
            if not isinstance(reply, RespError):
                problems.append(f"{' '.join(cmd)}: answered {reply!r}")
                continue
            code = reply.split(" ", 1)[0]
            if not code.isupper():
                problems.append(f"{' '.join(cmd)}: error without a Redis code: {reply!r}")
            named = cmd[0].lower() in reply.lower() or (len(cmd) > 1 and cmd[1].lower() in reply.lower())
            if not named:
                problems.append(f"{' '.join(cmd)}: error does not name the command: {reply!r}")
        assert c.command("GET", "h8-survivor") == b"still-here"
    time.sleep(0.5)
    assert all(n.is_alive() for n in fc.nodes), f"nodes died: {[n for n in fc.nodes if not n.is_alive()]}"
    assert fc.health_problems() == []
    assert fc.slot_ranges() == slots_before
    assert fc.masters() == masters
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("command", [("SWAPDB", "0", "1"), ("MOVE", "h8-key", "1")])
def test_commands_a_cluster_cannot_serve_get_a_clear_err(conn, command):
    text = error_text(conn.command(*command))
    assert text.startswith("ERR") and command[0].lower() in text.lower(), text
