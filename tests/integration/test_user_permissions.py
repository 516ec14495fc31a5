"""Users that mean what they say: what a user limited to key patterns can reach besides
the keys its commands name, how users live through configuration reloads, and how their
names reach the log.

- KEYS, SCAN, RANDOMKEY, FLUSHALL... name or touch keys their arguments do not: refused to
  a user limited to key patterns (NOPERM), in and out of MULTI.
- Scripts and functions can read any key: refused unless the user has `scripts: true`
  (default: true only for users whose keys are unrestricted).
- Pub/Sub channels are checked against the user's `channels` patterns (default: all
  channels for unrestricted users, none for users limited to key patterns).
- Administrative commands (CONFIG GET, SLOWLOG ...) are refused to read-only and
  key-limited users; CLIENT LIST shows a named user its own sessions only.
- A session keeps its user across reloads; it takes the user's new permissions, and a
  reload that removes the user closes its sessions.
- A user name a client sends is escaped in the log.
"""

from __future__ import annotations

import re
import signal
import time
import uuid

import pytest

from harness import RespError, error_text, wait_until

# Users a configuration of the starting version can hold too (so those checks fail there
# for the behaviour, not for the file), then users of the new keys.
BASE_USERS = """\
clients:
  users:
    - name: reporter
      password: p
      readonly: true
      keys: ["report:*"]
    - name: writer
      password: p
      keys: ["report:*"]
    - name: full
      password: p
"""
USERS = BASE_USERS + """\
    - name: scripter
      password: p
      keys: ["report:*"]
      scripts: true
    - name: news
      password: p
      keys: ["news:*"]
      channels: ["news.*"]
"""
NO_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NO_CHANNEL = "NOPERM this user has no permissions to access one of the channels used as arguments"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def no_command(user: str, command: str) -> str:
    return f"NOPERM this user has no permissions to run the '{command}' command"


def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def gate(make_slotgate):
    return make_slotgate(config_text=BASE_USERS)


def login(gate, user: str):
    c = gate.raw()
    assert c.command("AUTH", user, "p") == "OK"
    return c


def test_keys_filtered_or_refused_for_key_pattern_user(gate, cluster):
    secret = f"secret:{uid()}"
    cluster.master_for_key(secret).client().set(secret, "s")
    with login(gate, "reporter") as c:
        for cmd in [("KEYS", "*"), ("SCAN", "0"), ("SCAN", "0", "MATCH", "*", "COUNT", "1000"),
                    ("RANDOMKEY",), ("CLUSTER", "GETKEYSINSLOT", "0", "10")]:
            reply = c.command(*cmd)
            assert secret.encode() not in repr(reply).encode(), f"{cmd} showed another user's key"
            assert isinstance(reply, RespError) and error_text(reply).startswith("NOPERM"), (cmd, reply)
        assert error_text(c.command("KEYS", "*")) == no_command("reporter", "keys")
        # Inside MULTI too.
        assert c.command("MULTI") == "OK"
        assert error_text(c.command("KEYS", "*")) == no_command("reporter", "keys")
        assert error_text(c.command("EXEC")) == EXECABORT
    with login(gate, "writer") as c:
        assert error_text(c.command("FLUSHALL")) == no_command("writer", "flushall")
        assert error_text(c.command("FLUSHDB")) == no_command("writer", "flushdb")
        # SORT ... GET reads keys built from the list's values.
        tag = "{" + uid() + "}"
        assert error_text(c.command("SORT", f"report:{tag}", "BY", "nosort", "GET", f"secret:{tag}*")) == \
            no_command("writer", "sort")
    assert cluster.master_for_key(secret).client().get(secret) == b"s"
    # A user with every key may still list them.
    with login(gate, "full") as c:
        assert secret.encode() in c.command("KEYS", secret)


def test_scripts_refused_without_scripts_permission(gate, make_slotgate, cluster):
    # The script declares a key the user may read and reads another one in the same slot.
    tag = "{" + uid() + "}"
    secret, declared = f"secret:{tag}", f"report:{tag}"
    cluster.master_for_key(secret).client().set(secret, "s")
    read_any = f"return redis.call('GET', '{secret}')"
    with login(gate, "reporter") as c:
        for cmd, name in [(("EVAL_RO", read_any, "1", declared), "eval_ro"),
                          (("EVAL", read_any, "1", declared), "eval"),
                          (("EVALSHA_RO", "0" * 40, "0"), "evalsha_ro"),
                          (("FCALL_RO", "f", "0"), "fcall_ro"), (("SCRIPT", "LOAD", read_any), "script|load"),
                          (("FUNCTION", "LIST"), "function|list")]:
            reply = c.command(*cmd)
            assert reply != b"s", f"{name}: a script read a key outside the user's patterns"
            assert error_text(reply) == no_command("reporter", name)
    with login(gate, "writer") as c:
        key = f"report:{uid()}"
        assert error_text(c.command("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", key)) == \
            no_command("writer", "eval")
        assert cluster.master_for_key(key).client().exists(key) == 0
    # A user with every key keeps scripts by default.
    with login(gate, "full") as c:
        assert c.command("EVAL_RO", read_any, "1", declared) == b"s"
    # `scripts: true` allows them; the declared keys are still checked.
    with login(make_slotgate(config_text=USERS), "scripter") as c:
        key = f"report:{uid()}"
        assert c.command("EVAL", "return redis.call('SET', KEYS[1], 'v')", "1", key) == "OK"
        assert error_text(c.command("EVAL", "return 1", "1", secret)) == NO_KEY


def test_channel_patterns_checked(gate, make_slotgate, cluster):
    # Limited to key patterns and no `channels`: no channels at all, so keyspace
    # notifications cannot list other users' keys.
    with login(gate, "reporter") as c:
        assert error_text(c.command("PSUBSCRIBE", "__key*__:*")) == NO_CHANNEL
        assert error_text(c.command("SUBSCRIBE", "__keyspace@0__:report:1")) == NO_CHANNEL
        assert error_text(c.command("PUBLISH", "gossip", "x")) == NO_CHANNEL
    with login(gate, "full") as c:
        assert c.command("SUBSCRIBE", "gossip") == [b"subscribe", b"gossip", 1]
    with login(make_slotgate(config_text=USERS), "news") as c:
        assert error_text(c.command("PUBLISH", "gossip", "x")) == NO_CHANNEL
        assert c.command("PUBLISH", "news.sport", "x") == 0
        assert error_text(c.command("SUBSCRIBE", "gossip")) == NO_CHANNEL
        assert error_text(c.command("SUBSCRIBE", "news.sport", "gossip")) == NO_CHANNEL
        assert error_text(c.command("PSUBSCRIBE", "*")) == NO_CHANNEL
        assert error_text(c.command("PSUBSCRIBE", "news.[a-z]*")) == NO_CHANNEL
        assert error_text(c.command("SSUBSCRIBE", "gossip")) == NO_CHANNEL
        assert error_text(c.command("SPUBLISH", "gossip", "x")) == NO_CHANNEL
        assert c.command("SUBSCRIBE", "news.sport") == [b"subscribe", b"news.sport", 1]
        assert c.command("PSUBSCRIBE", "news.*") == [b"psubscribe", b"news.*", 2]


def test_admin_commands_and_client_list_limited_to_own_user(make_slotgate, cluster):
    gate = make_slotgate(config_text=BASE_USERS, workers=1)  # CLIENT LIST shows one worker's clients
    with login(gate, "full") as other, login(gate, "writer") as w, login(gate, "writer") as w2:
        assert other.command("CLIENT", "SETNAME", "the-other-one") == "OK"
        for cmd, name in [(("CONFIG", "GET", "*"), "config|get"), (("SLOWLOG", "GET"), "slowlog|get"),
                          (("SLOWLOG", "RESET"), "slowlog|reset")]:
            assert error_text(w.command(*cmd)) == no_command("writer", name)
        listing = w.command("CLIENT", "LIST")
        text = listing.decode() if isinstance(listing, bytes) else str(listing)
        users = re.findall(r"\buser=(\S+)", text)
        assert users and set(users) == {"writer"} and len(users) == 2, text
        assert "the-other-one" not in text
        # A user with every key sees its own sessions too, not the writers'.
        assert w2.command("AUTH", "full", "p") == "OK"
        listing = w2.command("CLIENT", "LIST")
        text = listing.decode() if isinstance(listing, bytes) else str(listing)
        assert set(re.findall(r"\buser=(\S+)", text)) == {"full"}, text


# ---- reloads ---------------------------------------------------------------------------------------


def reload(gate, text: str) -> None:
    mark = len(gate.log_text())
    gate.config_path.write_text(text)
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: "clients.users" in gate.log_text()[mark:], 5, "slotgate to reload its users")


SONGS = """\
clients:
  users:
    - name: songs
      password: p
      keys: ["{keys}"]
    - name: extra{n}
      password: p
"""


def test_users_survive_two_sighup_reloads(make_slotgate, cluster):
    gate = make_slotgate(config_text=SONGS.format(keys="song:*", n=0))
    with login(gate, "songs") as c:
        assert c.command("SET", f"song:{uid()}", "v") == "OK"
        reload(gate, SONGS.format(keys="tune:*", n=1))
        reload(gate, SONGS.format(keys="tune:*", n=2))
        # Workers pick the configuration up on their next tick; the session's user is the
        # reloaded one (its old entry was freed by the second reload).
        tune = f"tune:{uid()}"
        wait_until(lambda: c.command("SET", tune, "v") == "OK", 3, "the session to take the new key patterns")
        assert error_text(c.command("SET", f"song:{uid()}", "v")) == NO_KEY
        assert c.command("ACL", "WHOAMI") == b"songs"
        assert error_text(c.command("KEYS", "*")) == no_command("songs", "keys")
        assert cluster.master_for_key(tune).client().get(tune) == b"v"


def test_removed_user_session_closed_on_reload(make_slotgate, cluster):
    both = "clients:\n  users:\n    - {name: stays, password: p}\n    - {name: goes, password: p}\n"
    gate = make_slotgate(config_text=both)
    with login(gate, "goes") as goes, login(gate, "stays") as stays:
        reload(gate, "clients:\n  users:\n    - {name: stays, password: p}\n")

        def closed() -> bool:
            try:
                goes.command("PING", timeout=1)
            except (ConnectionError, OSError):
                return True
            return False

        wait_until(closed, 3, "the removed user's session to be closed")
        assert stays.command("PING") == "PONG"
        assert stays.command("ACL", "WHOAMI") == b"stays"
    with gate.raw() as c:
        assert error_text(c.command("AUTH", "goes", "p")).startswith("WRONGPASS")


def test_subscriber_closed_when_reload_changes_its_channels(make_slotgate, cluster):
    news = "clients:\n  users:\n    - {{name: news, password: p, keys: ['news:*'], channels: {}}}\n"
    gate = make_slotgate(config_text=news.format("['news.*']"))
    with login(gate, "news") as sub, login(gate, "news") as idle:
        assert sub.command("SUBSCRIBE", "news.sport") == [b"subscribe", b"news.sport", 1]
        reload(gate, news.format("['weather.*']"))
        wait_until(lambda: sub.is_closed(timeout=0.2), 3, "the subscriber to be closed")
        # A session of the same user without subscriptions takes the new patterns.
        wait_until(lambda: idle.command("PUBLISH", "news.sport", "x") != 0, 3, "the new channels to apply")
        assert error_text(idle.command("PUBLISH", "news.sport", "x")) == NO_CHANNEL
        assert idle.command("PUBLISH", "weather.today", "x") == 0


def test_user_name_with_newline_cannot_forge_log_line(gate, cluster):
    forged = "FORGED-LOG-LINE [critical] slotgate compromised"
    with gate.raw() as c:
        reply = c.command("AUTH", f"evil\n{forged}\r\n{forged}", "wrong")
        assert error_text(reply).startswith("WRONGPASS")
    wait_until(lambda: "authentication failed" in gate.log_text(), 3, "the failure to be logged")
    time.sleep(0.2)
    lines = gate.log_text().splitlines()
    assert not any(line.startswith("FORGED-LOG-LINE") for line in lines), \
        "a client's user name started a log line of its own"
    failed = [line for line in lines if "authentication failed" in line]
    assert failed and "evil\\x0a" in failed[0], failed
