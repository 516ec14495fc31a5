"""Client-facing users (`clients.users`) with read-only and key-pattern limits.

slotgate checks these users itself, the way a Redis ACL would, and answers with
Redis's NOPERM texts: a read-only user may read but not write, a user limited to
`song*` may touch only those keys, and a refused command writes nothing anywhere
(not even part of a multi-key command, not inside a transaction). The cluster never
learns about these users: slotgate's backend connections keep slotgate's own
credentials.
"""

from __future__ import annotations

import uuid

import pytest

from harness import RespError, error_text

USERS_CONFIG = """\
clients:
  users:
    - name: ro
      password: p
      readonly: true
    - name: songs
      password: p
      keys: ["song*"]
      scripts: true  # a key-limited user runs scripts only when allowed to
"""
NO_KEY_PERMISSION = "NOPERM this user has no permissions to access one of the keys used as arguments"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def no_command_permission(user: str, command: str) -> str:
    return f"NOPERM this user has no permissions to run the '{command}' command"


@pytest.fixture
def gate(make_slotgate):
    return make_slotgate(config_text=USERS_CONFIG)


def login(gate, user: str):
    c = gate.raw()
    assert c.command("AUTH", user, "p") == "OK"
    return c


@pytest.fixture
def ro(gate):
    c = login(gate, "ro")
    yield c
    c.close()


@pytest.fixture
def songs(gate):
    c = login(gate, "songs")
    yield c
    c.close()


def uid() -> str:
    return uuid.uuid4().hex[:10]


# ---- read-only user -------------------------------------------------------------------------


def test_readonly_user_reads(ro, cluster):
    for node, keys in cluster.keys_on_each_master(n_per_master=1, prefix=f"ro:{uid()}:").items():
        node.client().set(keys[0], "v")
        assert ro.command("GET", keys[0]) == b"v"
        assert ro.command("EXISTS", keys[0]) == 1
    assert ro.command("PING") == "PONG"


@pytest.mark.parametrize("cmd", [("SET", "K", "v"), ("DEL", "K"), ("INCR", "K"), ("LPUSH", "K", "x"),
                                 ("EXPIRE", "K", "100"), ("HSET", "K", "f", "v")],
                         ids=["set", "del", "incr", "lpush", "expire", "hset"])
def test_readonly_user_cannot_write(ro, cluster, cmd):
    key = f"ro:{uid()}"
    args = [a.replace("K", key) for a in cmd]
    assert error_text(ro.command(*args)) == no_command_permission("ro", cmd[0].lower())
    assert cluster.master_for_key(key).client().exists(key) == 0
    assert ro.command("GET", key) is None


def test_readonly_user_multi_key_read_and_write(ro, cluster):
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix=f"ro:{uid()}:")
    keys = [k for (k,) in per_master.values()]
    for node, (k,) in per_master.items():
        node.client().set(k, "v-" + k)
    assert ro.command("MGET", *keys) == [("v-" + k).encode() for k in keys]
    args = []
    for k in keys:
        args += [k, "new"]
    assert error_text(ro.command("MSET", *args)) == no_command_permission("ro", "mset")
    for node, (k,) in per_master.items():
        assert node.client().get(k) == ("v-" + k).encode()


def test_readonly_user_write_inside_multi_aborts(ro, cluster):
    key = "{" + uid() + "}:k"
    assert ro.command("MULTI") == "OK"
    assert ro.command("GET", key) == "QUEUED"
    assert error_text(ro.command("SET", key, "v")) == no_command_permission("ro", "set")
    assert error_text(ro.command("EXEC")) == EXECABORT
    assert cluster.master_for_key(key).client().exists(key) == 0


def test_readonly_user_cannot_write_through_a_script(ro, cluster):
    # Redis refuses the SET inside the script for such a user; whatever slotgate does
    # (refuse EVAL, or run it as a read-only script), the key must not be written.
    key = f"ro:{uid()}"
    reply = ro.command("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", key)
    assert isinstance(reply, RespError), f"a read-only user's script wrote: {reply!r}"
    assert cluster.master_for_key(key).client().exists(key) == 0
    assert ro.command("EVAL_RO", "return redis.call('GET', KEYS[1])", "1", key) is None


# ---- key-pattern user ------------------------------------------------------------------------


def test_key_pattern_user_writes_matching_keys(songs, cluster):
    for key in ["song1", f"song:{uid()}", f"songbook:{uid()}"]:
        assert songs.command("SET", key, "la") == "OK"
        assert cluster.master_for_key(key).client().get(key) == b"la"
        assert songs.command("GET", key) == b"la"


@pytest.mark.parametrize("cmd", [("SET", "K", "v"), ("GET", "K"), ("DEL", "K"), ("LPUSH", "K", "x")],
                         ids=["set", "get", "del", "lpush"])
def test_key_pattern_user_cannot_touch_other_keys(songs, cluster, cmd):
    key = f"other:{uid()}"
    args = [a.replace("K", key) for a in cmd]
    assert error_text(songs.command(*args)) == NO_KEY_PERMISSION
    assert cluster.master_for_key(key).client().exists(key) == 0
    for near_miss in [f"xsong{uid()}", f"Song{uid()}", "{song}1"]:
        assert error_text(songs.command("SET", near_miss, "v")) == NO_KEY_PERMISSION


def test_key_pattern_user_multi_key_command_is_all_or_nothing(songs, cluster):
    good, bad = f"song:{uid()}", f"other:{uid()}"
    assert error_text(songs.command("MSET", good, "1", bad, "2")) == NO_KEY_PERMISSION
    assert cluster.master_for_key(good).client().exists(good) == 0
    assert cluster.master_for_key(bad).client().exists(bad) == 0
    assert error_text(songs.command("MGET", good, bad)) == NO_KEY_PERMISSION
    assert error_text(songs.command("DEL", good, bad)) == NO_KEY_PERMISSION


def test_key_pattern_user_blocking_command_on_other_key(songs, cluster):
    bad = f"other:{uid()}"
    assert error_text(songs.command("BLPOP", bad, "1", timeout=3)) == NO_KEY_PERMISSION
    assert error_text(songs.command("BLMOVE", f"song:{uid()}", bad, "LEFT", "LEFT", "1",
                                    timeout=3)) == NO_KEY_PERMISSION


def test_key_pattern_user_transaction(songs, cluster):
    t = "{song" + uid() + "}"
    key = f"song{t}"
    assert songs.command("MULTI") == "OK"
    assert songs.command("SET", key, "1") == "QUEUED"
    assert songs.command("INCR", key) == "QUEUED"
    assert songs.command("EXEC") == ["OK", 2]
    other = f"other{t}"
    assert songs.command("MULTI") == "OK"
    assert songs.command("SET", key, "3") == "QUEUED"
    assert error_text(songs.command("SET", other, "x")) == NO_KEY_PERMISSION
    assert error_text(songs.command("EXEC")) == EXECABORT
    assert cluster.master_for_key(key).client().get(key) == b"2"
    assert cluster.master_for_key(other).client().exists(other) == 0


def test_key_pattern_user_eval_keys(songs, cluster):
    good, bad = f"song:{uid()}", f"other:{uid()}"
    assert songs.command("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", good) == "OK"
    assert error_text(songs.command("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", bad)) == NO_KEY_PERMISSION
    assert cluster.master_for_key(bad).client().exists(bad) == 0


# ---- sessions and credentials ----------------------------------------------------------------


def test_unauthenticated_client_gets_noauth(gate, cluster):
    with gate.raw() as c:
        assert error_text(c.command("GET", "song1")) == "NOAUTH Authentication required."


def test_users_switch_with_auth(gate, cluster):
    key = f"other:{uid()}"
    with gate.raw() as c:
        assert c.command("AUTH", "songs", "p") == "OK"
        assert error_text(c.command("GET", key)) == NO_KEY_PERMISSION
        assert c.command("AUTH", "ro", "p") == "OK"
        assert c.command("GET", key) is None
        assert error_text(c.command("SET", key, "v")) == no_command_permission("ro", "set")
        assert error_text(c.command("AUTH", "ro", "wrong")).startswith("WRONGPASS")
        # A failed AUTH keeps the user that was logged in.
        assert c.command("GET", key) is None


def test_hello_auth_as_limited_user(gate, cluster):
    with gate.raw() as c:
        reply = c.command("HELLO", "2", "AUTH", "ro", "p")
        assert isinstance(reply, list), reply
        assert error_text(c.command("SET", f"x:{uid()}", "v")) == no_command_permission("ro", "set")


def test_backend_connections_keep_slotgates_own_user(gate, ro, songs, cluster):
    key = f"song:{uid()}"
    assert songs.command("SET", key, "v") == "OK"
    assert ro.command("GET", key) == b"v"
    for m in cluster.masters():
        for client in m.client().client_list():
            assert client["user"] == "default", f"{m.address} has a connection as user {client['user']!r}"


def test_users_on_a_password_protected_cluster(fresh_cluster, make_slotgate):
    c = fresh_cluster(password="backendpw")
    gate = make_slotgate(seeds=c.seeds, env={"REDIS_PASSWORD": "backendpw"}, config_text=USERS_CONFIG)
    with gate.raw() as songs, gate.raw() as ro, gate.raw() as stranger:
        # The cluster's password is not a client password of slotgate.
        assert error_text(stranger.command("AUTH", "backendpw")).startswith(("WRONGPASS", "ERR"))
        assert error_text(stranger.command("GET", "song1")) == "NOAUTH Authentication required."
        assert songs.command("AUTH", "songs", "p") == "OK"
        assert ro.command("AUTH", "ro", "p") == "OK"
        for node, keys in c.keys_on_each_master(n_per_master=1, prefix="song:").items():
            assert songs.command("SET", keys[0], "v") == "OK"
            assert ro.command("GET", keys[0]) == b"v"
            assert node.client(password="backendpw").get(keys[0]) == b"v"
        assert error_text(ro.command("SET", "song:x", "v")) == no_command_permission("ro", "set")
