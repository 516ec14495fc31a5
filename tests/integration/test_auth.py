"""Authentication on both sides of slotgate.

Client side: a password (SLOTGATE_PASSWORD or `clients.password`) and named users
(`clients.users`) are checked the way Redis checks them, with Redis's exact error
texts, because clients decide what to do from those texts (ioredis and Lettuce
treat WRONGPASS/NOAUTH as fatal, redis-py maps them to AuthenticationError).
Backend side: slotgate authenticates to a password-protected cluster with
REDIS_PASSWORD; without it the client gets an error, never a hang.
"""

import re
import uuid

import pytest

from harness import RespError, error_text

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
ERROR_CODE_RE = re.compile(r"^[A-Z][A-Z_]+ \S")


def check_hello2(reply):
    assert isinstance(reply, list) and len(reply) == 14, reply
    fields = dict(zip(reply[0::2], reply[1::2]))
    assert list(fields) == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    assert fields[b"proto"] == 2
    assert isinstance(fields[b"id"], int)
    assert isinstance(fields[b"modules"], list)


def fresh_key():
    return f"auth:{uuid.uuid4().hex}"


@pytest.fixture
def password_gate(make_slotgate):
    return make_slotgate(env={"SLOTGATE_PASSWORD": "secret"})


@pytest.fixture
def users_gate(make_slotgate):
    return make_slotgate(config_text="clients:\n  users:\n    - name: app\n      password: apppw\n")


def round_trip_works(conn):
    key = fresh_key()
    assert conn.command("SET", key, "v") == "OK"
    assert conn.command("GET", key) == b"v"


# ---- no password configured -------------------------------------------------


def test_without_password_commands_need_no_auth(slotgate):
    conn = slotgate.raw()
    try:
        round_trip_works(conn)
    finally:
        conn.close()


def test_auth_without_password_configured_is_redis_text(slotgate):
    # ioredis tolerates exactly this text when it is configured with a password
    # the server does not need (clients.md §1.5).
    conn = slotgate.raw()
    try:
        assert error_text(conn.command("AUTH", "x")) == NO_PASSWORD_CONFIGURED
        round_trip_works(conn)
    finally:
        conn.close()


# ---- password (SLOTGATE_PASSWORD) -------------------------------------------


def test_commands_before_auth_get_noauth(password_gate, cluster):
    key = fresh_key()
    conn = password_gate.raw()
    try:
        assert error_text(conn.command("PING")) == NOAUTH
        assert error_text(conn.command("GET", key)) == NOAUTH
        assert error_text(conn.command("SET", key, "v")) == NOAUTH
        assert error_text(conn.command("CLIENT", "SETNAME", "x")) == NOAUTH
        assert error_text(conn.command("SELECT", "0")) == NOAUTH
        # The refused write must not have reached the cluster.
        assert cluster.master_for_key(key).client().get(key) is None
        # The connection stays usable for a later AUTH.
        assert conn.command("AUTH", "secret") == "OK"
        assert conn.command("PING") == "PONG"
    finally:
        conn.close()


def test_hello_before_auth_is_noauth(password_gate):
    conn = password_gate.raw()
    try:
        assert error_text(conn.command("HELLO", "2")).startswith("NOAUTH ")
    finally:
        conn.close()


def test_wrong_password(password_gate):
    conn = password_gate.raw()
    try:
        assert error_text(conn.command("AUTH", "wrong")) == WRONGPASS
        assert error_text(conn.command("AUTH", "default", "wrong")) == WRONGPASS
        assert error_text(conn.command("PING")) == NOAUTH
    finally:
        conn.close()


def test_auth_arity(password_gate):
    conn = password_gate.raw()
    try:
        assert error_text(conn.command("AUTH")) == "ERR wrong number of arguments for 'auth' command"
    finally:
        conn.close()


def test_auth_password(password_gate):
    conn = password_gate.raw()
    try:
        assert conn.command("AUTH", "secret") == "OK"
        round_trip_works(conn)
    finally:
        conn.close()


def test_auth_default_user(password_gate):
    conn = password_gate.raw()
    try:
        assert conn.command("AUTH", "default", "secret") == "OK"
        round_trip_works(conn)
    finally:
        conn.close()


def test_hello_2_auth_default(password_gate):
    conn = password_gate.raw()
    try:
        check_hello2(conn.command("HELLO", "2", "AUTH", "default", "secret"))
        round_trip_works(conn)
    finally:
        conn.close()


def test_quit_is_allowed_before_auth(password_gate):
    conn = password_gate.raw()
    try:
        assert conn.command("QUIT") == "OK"
        assert conn.is_closed(timeout=2.0)
    finally:
        conn.close()


def test_reset_drops_authentication(password_gate):
    # Redis RESET returns the connection to the default user, which needs the password again.
    conn = password_gate.raw()
    try:
        assert conn.command("AUTH", "secret") == "OK"
        assert conn.command("RESET") == "RESET"
        assert error_text(conn.command("PING")) == NOAUTH
    finally:
        conn.close()


def test_failed_auth_keeps_an_authenticated_session(password_gate):
    # Redis keeps the previous user when a later AUTH fails.
    conn = password_gate.raw()
    try:
        assert conn.command("AUTH", "secret") == "OK"
        assert error_text(conn.command("AUTH", "wrong")) == WRONGPASS
        round_trip_works(conn)
    finally:
        conn.close()


def test_sessions_authenticate_independently(password_gate):
    authed, other = password_gate.raw(), password_gate.raw()
    try:
        assert authed.command("AUTH", "secret") == "OK"
        assert error_text(other.command("PING")) == NOAUTH
    finally:
        authed.close()
        other.close()


def test_redis_py_with_password(password_gate):
    client = password_gate.client(password="secret")
    key = fresh_key()
    assert client.set(key, "v")
    assert client.get(key) == b"v"


def test_password_from_config_file(make_slotgate):
    gate = make_slotgate(config_text="clients:\n  password: cfgpw\n")
    conn = gate.raw()
    try:
        assert error_text(conn.command("PING")) == NOAUTH
        assert error_text(conn.command("AUTH", "secret")) == WRONGPASS
        assert conn.command("AUTH", "cfgpw") == "OK"
        round_trip_works(conn)
    finally:
        conn.close()


# ---- named users (clients.users) --------------------------------------------


def test_named_user_auth(users_gate):
    conn = users_gate.raw()
    try:
        assert error_text(conn.command("PING")) == NOAUTH
        assert error_text(conn.command("AUTH", "app", "bad")) == WRONGPASS
        assert error_text(conn.command("AUTH", "nosuchuser", "apppw")) == WRONGPASS
        assert conn.command("AUTH", "app", "apppw") == "OK"
        round_trip_works(conn)
    finally:
        conn.close()


def test_named_user_hello_auth(users_gate):
    conn = users_gate.raw()
    try:
        check_hello2(conn.command("HELLO", "2", "AUTH", "app", "apppw"))
        round_trip_works(conn)
    finally:
        conn.close()


def test_named_user_hello_auth_wrong_password(users_gate):
    conn = users_gate.raw()
    try:
        assert error_text(conn.command("HELLO", "2", "AUTH", "app", "bad")) == WRONGPASS
        assert error_text(conn.command("PING")) == NOAUTH
    finally:
        conn.close()


# ---- backend auth ------------------------------------------------------------


@pytest.fixture
def protected_cluster(fresh_cluster):
    return fresh_cluster(password="backendpw")


def test_backend_password_from_env(protected_cluster, make_slotgate):
    gate = make_slotgate(seeds=protected_cluster.seeds, env={"REDIS_PASSWORD": "backendpw"})
    conn = gate.raw()
    try:
        for node, keys in protected_cluster.keys_on_each_master(n_per_master=2, prefix="bauth").items():
            for key in keys:
                assert conn.command("SET", key, "v-" + key) == "OK"
                assert conn.command("GET", key) == ("v-" + key).encode()
                assert node.client(password="backendpw").get(key) == ("v-" + key).encode()
    finally:
        conn.close()


def test_missing_backend_password_is_a_clear_error_not_a_hang(protected_cluster, make_slotgate):
    gate = make_slotgate(seeds=protected_cluster.seeds)
    conn = gate.raw()
    try:
        # Local commands still work: the proxy itself is up.
        assert conn.command("PING") == "PONG"
        key = fresh_key()
        conn.send_command("SET", key, "v")
        # Why 15 s: every seed answers NOAUTH, which no amount of waiting fixes, so
        # this must not be held like a failover (failover_hold, 20 s by default).
        reply = conn.read_reply(timeout=15.0)
        text = error_text(reply)
        assert ERROR_CODE_RE.match(text), text
        # A clear error says that authentication to the cluster is the problem.
        assert re.search(r"auth|password", text, re.IGNORECASE), text
        conn.send_command("GET", key)
        assert isinstance(conn.read_reply(timeout=15.0), RespError)
    finally:
        conn.close()
    assert protected_cluster.master_for_key(key).client(password="backendpw").get(key) is None
