"""slotgate's ACL commands for its own users (clients.users[].rules), its ACL LOG, the AUTH
failure limit per client address, and rules reloaded on SIGHUP or refused at load.

Ports (plus SLOTGATE_TEST_PORT_OFFSET): 7704 the redis-server behind slotgate, 7706/7707 the
module's slotgate, 7708/7709 a slotgate per test and 7710 its redis-server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import FileConfiguredSlotgate, RawConnection, RedisServer, RespError, http_get, wait_until  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
REDIS_PORT = 7704 + PORT_OFFSET
GATE_PORT, GATE_ADMIN = 7706 + PORT_OFFSET, 7707 + PORT_OFFSET
ONE_PORT, ONE_ADMIN = 7708 + PORT_OFFSET, 7709 + PORT_OFFSET
ONE_REDIS = 7710 + PORT_OFFSET


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def config(port: int, admin: int, users: str, extra: str = "", redis_port: int = REDIS_PORT) -> str:
    return (f"listen: 127.0.0.1:{port}\nworkers: 2\n"
            f"backend:\n  kind: standalone\n  address: 127.0.0.1:{redis_port}\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n"
            f"clients:\n  password: adminpw\n  auth_max_failures: 0\n{extra}  users:\n{users}")


USERS = """\
    - name: app
      rules: "on >apppw >second ~app:* resetchannels -@all +@read +@transaction"
    - name: ops
      rules: ["on", "#%s", "allkeys", "+@all", "-acl|setuser"]
    - name: sleeper
      rules: "off >pw allkeys +@all"
    - name: anyone
      rules: "on nopass allkeys +get"
    - name: legacy
      password: legacypw
      readonly: true
""" % sha("opspw")


@pytest.fixture(scope="module")
def gate(logdir):
    server = RedisServer(port=REDIS_PORT, workdir=logdir / f"redis-{REDIS_PORT}-acl")
    server.start()
    sg = FileConfiguredSlotgate([], port=GATE_PORT, admin_port=GATE_ADMIN,
                                config_text=config(GATE_PORT, GATE_ADMIN, USERS),
                                workdir=logdir / f"slotgate-{GATE_PORT}-acl")
    try:
        sg.start()
        yield sg
    finally:
        code = sg.stop()
        server.stop(keep_workdir=True)
        assert code in (0, None), sg.log_tail(40)


def login(port: int, user: str, password: str) -> RawConnection:
    c = RawConnection("127.0.0.1", port)
    assert c.command("AUTH", user, password) == "OK", user
    return c


def as_dict(flat) -> dict:
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in zip(flat[::2], flat[1::2])}


def text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def test_acl_list_users_and_getuser_show_slotgate_users_with_hashed_passwords(gate):
    with login(GATE_PORT, "default", "adminpw") as c:
        listing = [text(x) for x in c.command("ACL", "LIST")]
        assert f"user app on #{sha('apppw')} #{sha('second')} ~app:* resetchannels -@all +@read +@transaction" in listing
        assert f"user default on #{sha('adminpw')} ~* &* +@all" in listing
        assert not any("apppw" in line or "legacypw" in line for line in listing), listing
        legacy = next(line for line in listing if line.startswith("user legacy "))
        assert legacy.startswith(f"user legacy on #{sha('legacypw')} ~* &* +@all -") and " -set" in legacy
        assert [text(x) for x in c.command("ACL", "USERS")] == ["default", "app", "ops", "sleeper", "anyone", "legacy"]
        user = as_dict(c.command("ACL", "GETUSER", "app"))
        assert [text(f) for f in user["flags"]] == ["on"]
        assert [text(p) for p in user["passwords"]] == [sha("apppw"), sha("second")]
        assert text(user["keys"]) == "~app:*" and text(user["commands"]) == "-@all +@read +@transaction"
        assert text(user["channels"]) == ""
        assert c.command("ACL", "GETUSER", "nobody") is None
        assert c.command("ACL", "WHOAMI") == b"default"


def test_acl_cat_lists_categories_and_their_commands(gate):
    with login(GATE_PORT, "app", "apppw") as c:
        assert error_or(c.command("ACL", "CAT")) == "NOPERM this user has no permissions to run the 'acl|cat' command"
    with login(GATE_PORT, "ops", "opspw") as c:
        assert c.command("ACL", "WHOAMI") == b"ops"
        cats = [text(x) for x in c.command("ACL", "CAT")]
        assert cats[:3] == ["keyspace", "read", "write"] and "scripting" in cats and len(cats) == 21
        read = {text(x) for x in c.command("ACL", "CAT", "read")}
        assert "get" in read and "set" not in read and "config|get" not in read
        assert error_or(c.command("ACL", "CAT", "nope")) == "ERR Unknown category 'nope'"


def error_or(reply) -> str:
    return str(reply) if isinstance(reply, RespError) else f"not an error: {reply!r}"


def test_acl_commands_need_acl_permission_and_changes_are_refused(gate):
    with login(GATE_PORT, "app", "apppw") as c:
        for cmd, name in [(("ACL", "LIST"), "acl|list"), (("ACL", "GETUSER", "app"), "acl|getuser"),
                          (("ACL", "LOG"), "acl|log")]:
            assert error_or(c.command(*cmd)) == f"NOPERM this user has no permissions to run the '{name}' command"
    with login(GATE_PORT, "ops", "opspw") as c:
        assert c.command("ACL", "LIST")
        # Users come from the configuration file: no command changes them.
        for cmd in [("ACL", "SETUSER", "x", "on"), ("ACL", "DELUSER", "app"), ("ACL", "SAVE"), ("ACL", "LOAD")]:
            assert "configuration file" in error_or(c.command(*cmd)), cmd


def test_passwords_nopass_and_off_users_authenticate_as_redis_does(gate):
    for user, pw in [("app", "apppw"), ("app", "second"), ("anyone", "whatever"), ("legacy", "legacypw")]:
        login(GATE_PORT, user, pw).close()
    with RawConnection("127.0.0.1", GATE_PORT) as c:
        for user, pw in [("sleeper", "pw"), ("app", "wrong"), ("ops", sha("opspw"))]:
            assert error_or(c.command("AUTH", user, pw)).startswith("WRONGPASS"), user


def test_acl_log_records_denials_and_failed_auth_and_resets(gate):
    with login(GATE_PORT, "default", "adminpw") as admin:
        assert admin.command("ACL", "LOG", "RESET") == "OK"
        with login(GATE_PORT, "app", "apppw") as c:
            assert error_or(c.command("SET", "app:1", "v")).startswith("NOPERM")
            assert error_or(c.command("GET", "secret:1")).startswith("NOPERM")
            assert error_or(c.command("GET", "secret:1")).startswith("NOPERM")
            assert c.command("MULTI") == "OK"
            assert error_or(c.command("PUBLISH", "ch", "x")).startswith("NOPERM")
            assert c.command("DISCARD") == "OK"
            assert error_or(c.command("AUTH", "app", "nope")).startswith("WRONGPASS")
        entries = [as_dict(e) for e in admin.command("ACL", "LOG")]
        got = [(text(e["reason"]), text(e["context"]), text(e["object"]), text(e["username"]), e["count"])
               for e in entries]
        assert got == [("auth", "toplevel", "AUTH", "app", 1), ("command", "multi", "publish", "app", 1),
                       ("key", "toplevel", "secret:1", "app", 2), ("command", "toplevel", "set", "app", 1)], got
        assert "user=app" in text(entries[0]["client-info"])
        assert float(text(entries[0]["age-seconds"])) < 60
        assert len(admin.command("ACL", "LOG", "2")) == 2
        assert admin.command("ACL", "LOG", "RESET") == "OK"
        assert admin.command("ACL", "LOG") == []


def reload(sg, text_: str) -> None:
    mark = len(sg.log_text())
    sg.rewrite_config(text_)
    sg.send_signal(signal.SIGHUP)
    wait_until(lambda: "SIGHUP" in sg.log_text()[mark:], 5, "slotgate to read its configuration again")


def test_rules_reload_on_sighup_and_bad_rules_keep_the_running_users(logdir):
    server = RedisServer(port=ONE_REDIS, workdir=logdir / f"redis-{ONE_REDIS}-acl-reload")
    server.start()
    before = '    - name: app\n      rules: "on >pw allkeys -@all +get"\n'
    after = '    - name: app\n      rules: "on >pw allkeys -@all +get +set"\n'
    sg = FileConfiguredSlotgate([], port=ONE_PORT, admin_port=ONE_ADMIN,
                                config_text=config(ONE_PORT, ONE_ADMIN, before, redis_port=ONE_REDIS),
                                workdir=logdir / f"slotgate-{ONE_PORT}-acl-reload")
    try:
        sg.start()
        with login(ONE_PORT, "app", "pw") as c:
            assert error_or(c.command("SET", "k", "v")).startswith("NOPERM")
            reload(sg, config(ONE_PORT, ONE_ADMIN, after, redis_port=ONE_REDIS))
            wait_until(lambda: c.command("SET", "k", "v") == "OK", 3, "the session to take the new rules")
            mark = len(sg.log_text())
            reload(sg, config(ONE_PORT, ONE_ADMIN, '    - name: app\n      rules: "on >pw +bogus"\n',
                        redis_port=ONE_REDIS))
            log = sg.log_text()[mark:]
            assert "user 'app': Error in ACL SETUSER modifier '+bogus': Unknown command or category name in ACL" in log
            assert c.command("SET", "k", "v") == "OK"
    finally:
        code = sg.stop()
        server.stop(keep_workdir=True)
        assert code in (0, None), sg.log_tail(40)


def test_bad_rules_are_refused_at_load_naming_the_user_and_the_rule(tmp_path):
    path = tmp_path / "slotgate.yaml"
    for rules, reason in [("on +@nope", "'+@nope': Unknown command or category name in ACL"),
                          ("on #abc", "'#abc': The password hash must be exactly 64 characters"),
                          ("on %X~k", "'%X~k': Syntax error"),
                          ("on (~a +get)", "'(~a': selectors are not supported by slotgate")]:
        path.write_text(f'clients:\n  users:\n    - name: bob\n      rules: "{rules}"\n')
        r = subprocess.run([str(default_binary()), "--check-config", str(path)], capture_output=True, text=True,
                           timeout=10)
        out = r.stdout + r.stderr
        assert r.returncode != 0 and f"user 'bob': Error in ACL SETUSER modifier {reason}" in out, out


def test_auth_failures_from_one_address_are_throttled(logdir):
    server = RedisServer(port=ONE_REDIS, workdir=logdir / f"redis-{ONE_REDIS}-acl-throttle")
    server.start()
    extra = "  auth_max_failures: 3\n  auth_failure_window: 60s\n  auth_block_time: 60s\n"
    text_ = config(ONE_PORT, ONE_ADMIN, '    - name: app\n      rules: "on >pw allkeys +@all"\n',
                   redis_port=ONE_REDIS)
    text_ = text_.replace("  auth_max_failures: 0\n", extra)
    sg = FileConfiguredSlotgate([], port=ONE_PORT, admin_port=ONE_ADMIN, config_text=text_,
                                workdir=logdir / f"slotgate-{ONE_PORT}-acl-throttle")
    try:
        sg.start()
        with RawConnection("127.0.0.1", ONE_PORT) as c:
            for _ in range(3):
                assert error_or(c.command("AUTH", "app", "guess")).startswith("WRONGPASS")
            # Blocked now: even the right password is not checked, on any connection.
            assert "too many failed authentication attempts" in error_or(c.command("AUTH", "app", "pw"))
        with RawConnection("127.0.0.1", ONE_PORT) as c:
            assert "too many failed authentication attempts" in error_or(c.command("AUTH", "app", "pw"))
            assert "too many failed" in error_or(c.command("HELLO", "3", "AUTH", "app", "pw"))
            assert error_or(c.command("GET", "k")).startswith("NOAUTH")

        def throttled() -> float:
            _, body = http_get(ONE_ADMIN, "/metrics")
            line = next((ln for ln in body.splitlines() if ln.startswith("slotgate_auth_throttled_total")), "x 0")
            return float(line.split()[-1])
        wait_until(lambda: throttled() >= 3, 5, "slotgate_auth_throttled_total to count the refusals")
    finally:
        code = sg.stop()
        server.stop(keep_workdir=True)
        assert code in (0, None), sg.log_tail(40)
