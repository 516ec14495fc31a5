"""Commands slotgate answers itself, checked against the replies Redis 7 gives.

Clients decide whether a connection is usable from these replies (PING must be a
status, INFO must carry `redis_version:` and `loading:0`, COMMAND DOCS must have
the shape redis-cli asserts on), so the tests compare the exact reply types and,
where clients or users read it, the exact Redis text.
"""

import re
import subprocess

import pytest

from harness import RespError, error_text

VERSION_RE = re.compile(rb"^\d+\.\d+\.\d+$")


def pairs(flat):
    """A RESP2 map-as-array ([k1, v1, k2, v2, ...]) as a dict with str keys."""
    assert isinstance(flat, list) and len(flat) % 2 == 0, flat
    out = {}
    for key, value in zip(flat[0::2], flat[1::2]):
        assert isinstance(key, bytes), f"map key {key!r} is not a bulk string"
        out[key.decode()] = value
    return out


def check_hello2(reply):
    """HELLO over RESP2 is the flat array Redis sends: 7 pairs, in Redis's order."""
    fields = pairs(reply)
    assert list(fields) == ["server", "version", "proto", "id", "mode", "role", "modules"]
    assert isinstance(fields["server"], bytes)
    assert VERSION_RE.match(fields["version"]), fields["version"]
    assert fields["proto"] == 2
    assert isinstance(fields["id"], int)
    assert isinstance(fields["mode"], bytes)
    assert isinstance(fields["role"], bytes)
    assert isinstance(fields["modules"], list)
    return fields


# ---- PING / ECHO / QUIT / RESET / SELECT -------------------------------------


def test_ping_is_a_status_reply(conn):
    # Jedis' pool validation wants the status PONG; a bulk "PONG" fails it.
    assert conn.command("PING") == "PONG"


def test_ping_with_message_is_a_bulk_reply(conn):
    assert conn.command("PING", "hello world") == b"hello world"


def test_echo(conn):
    assert conn.command("ECHO", "a\r\nb") == b"a\r\nb"


def test_quit_replies_ok_then_closes(conn):
    assert conn.command("QUIT") == "OK"
    assert conn.is_closed(timeout=2.0)


def test_reset_replies_reset_and_keeps_the_connection(conn):
    conn.command("CLIENT", "SETNAME", "before-reset")
    assert conn.command("RESET") == "RESET"
    # RESET clears the session's name, like Redis does.
    assert conn.command("CLIENT", "GETNAME") is None
    assert conn.command("PING") == "PONG"


def test_select_0_is_ok(conn):
    assert conn.command("SELECT", "0") == "OK"


def test_select_other_db_is_refused_like_redis_cluster(conn):
    assert error_text(conn.command("SELECT", "1")) == "ERR SELECT is not allowed in cluster mode"
    assert conn.command("PING") == "PONG"


# ---- HELLO --------------------------------------------------------------------


def test_hello_without_arguments_is_a_resp2_map_as_array(conn):
    check_hello2(conn.command("HELLO"))


def test_hello_2(conn):
    check_hello2(conn.command("HELLO", "2"))


def test_hello_ids_differ_per_connection(slotgate, conn):
    other = slotgate.raw()
    try:
        assert check_hello2(conn.command("HELLO", "2"))["id"] != check_hello2(other.command("HELLO", "2"))["id"]
    finally:
        other.close()


def test_hello_3_answers_the_resp3_map(conn):
    # RESP3 is on by default: HELLO 3 gives Redis's map, with the fields Lettuce
    # casts (id integer, version x.y.z) and proto 3 (clients.md §1.1, §1.8).
    reply = conn.command("HELLO", "3")
    assert isinstance(reply, dict), reply
    assert reply[b"proto"] == 3
    assert isinstance(reply[b"id"], int)
    assert re.fullmatch(rb"\d+\.\d+\.\d+", reply[b"version"])
    assert reply[b"server"] == b"redis" and reply[b"role"] == b"master"
    assert reply[b"modules"] == []
    assert conn.command("PING") == "PONG"
    # Back to RESP2 on the same connection.
    assert isinstance(conn.command("HELLO", "2"), list)


def test_hello_3_in_resp2_only_mode_is_the_error_clients_fall_back_on(make_slotgate):
    # clients.resp3: false: HELLO 3 must be rejected with a text Lettuce 6.1
    # accepts as "fall back to RESP2": it only falls back on errors starting
    # `ERR unknown command` (clients.md §1.1); NOPROTO would break Lettuce 6.2.0-6.2.5.
    gate = make_slotgate(config_text="clients:\n  resp3: false\n")
    conn = gate.raw()
    try:
        assert error_text(conn.command("HELLO", "3")).startswith("ERR unknown command")
        assert conn.command("PING") == "PONG"
    finally:
        conn.close()


def test_hello_unsupported_version(conn):
    assert error_text(conn.command("HELLO", "4")).startswith("NOPROTO")


def test_hello_version_not_an_integer(conn):
    assert error_text(conn.command("HELLO", "abc")) == "ERR Protocol version is not an integer or out of range"


# ---- CLIENT -------------------------------------------------------------------


def test_client_setname_getname(conn):
    assert conn.command("CLIENT", "GETNAME") is None
    assert conn.command("CLIENT", "SETNAME", "svc") == "OK"
    assert conn.command("CLIENT", "GETNAME") == b"svc"


def test_client_setname_rejects_spaces(conn):
    assert (
        error_text(conn.command("CLIENT", "SETNAME", "a b"))
        == "ERR Client names cannot contain spaces, newlines or special characters."
    )


def test_client_setinfo_lib_name_and_version(conn):
    assert conn.command("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
    assert conn.command("CLIENT", "SETINFO", "LIB-VER", "5.0.8") == "OK"
    assert conn.command("client", "setinfo", "lib-name", "Lettuce(spring-data-redis_v3.3.0)") == "OK"


def test_client_setinfo_lib_name_with_space_is_redis_error(conn):
    # Redis 7.2 networking.c: "<attr as given> cannot contain spaces, newlines or special characters."
    assert (
        error_text(conn.command("CLIENT", "SETINFO", "lib-name", "a b"))
        == "ERR lib-name cannot contain spaces, newlines or special characters."
    )


def test_client_id_is_an_integer_stable_per_connection(slotgate, conn):
    first = conn.command("CLIENT", "ID")
    assert isinstance(first, int) and first > 0
    assert conn.command("CLIENT", "ID") == first
    other = slotgate.raw()
    try:
        assert other.command("CLIENT", "ID") != first
    finally:
        other.close()


def test_lowercase_command_names(conn):
    assert conn.command("ping") == "PONG"
    assert conn.command("client", "setname", "x") == "OK"
    assert conn.command("client", "getname") == b"x"
    assert conn.command("echo", "e") == b"e"


# ---- COMMAND ------------------------------------------------------------------


def test_command_count(conn):
    count = conn.command("COMMAND", "COUNT")
    assert isinstance(count, int) and count >= 200


def test_command_info_get(conn):
    reply = conn.command("COMMAND", "INFO", "get")
    assert isinstance(reply, list) and len(reply) == 1
    entry = reply[0]
    # Redis 7: name, arity, flags, first key, last key, step, acl categories, tips, key specs, subcommands.
    assert isinstance(entry, list) and len(entry) >= 6
    assert entry[0] == b"get"
    assert entry[1] == 2
    assert isinstance(entry[2], list) and all(isinstance(f, str) for f in entry[2])
    assert entry[3:6] == [1, 1, 1]


def test_command_info_unknown_is_nil(conn):
    assert conn.command("COMMAND", "INFO", "nosuchcommand") == [None]


def check_docs_shape(docs):
    """The shape redis-cli 7 asserts on when it builds its help (clients.md §1.3, §6.5)."""
    entries = pairs(docs)
    assert entries
    for name, doc in entries.items():
        fields = pairs(doc)
        for text_field in ("summary", "since", "group"):
            if text_field in fields:
                assert isinstance(fields[text_field], bytes), (name, text_field)
        if "arguments" in fields:
            assert isinstance(fields["arguments"], list), name
            for argument in fields["arguments"]:
                pairs(argument)
    return entries


def test_command_docs_get(conn):
    entries = check_docs_shape(conn.command("COMMAND", "DOCS", "get"))
    assert list(entries) == ["get"]
    assert "summary" in pairs(entries["get"])


def test_command_docs_all_is_well_formed(conn):
    entries = check_docs_shape(conn.command("COMMAND", "DOCS"))
    assert {"get", "set", "ping", "cluster"} <= set(entries)


# ---- INFO ---------------------------------------------------------------------


def info_lines(text):
    return dict(line.split(":", 1) for line in text.split("\r\n") if line and not line.startswith("#"))


def test_info_has_what_clients_check(conn):
    reply = conn.command("INFO")
    assert isinstance(reply, bytes)
    text = reply.decode()
    for section in ("# Server", "# Clients", "# Stats"):
        assert section in text.split("\r\n"), section
    fields = info_lines(text)
    # ioredis' ready check waits while loading != 0; Spring health needs redis_version.
    assert fields["loading"] == "0"
    assert VERSION_RE.match(fields["redis_version"].encode())


def test_info_server_section(conn):
    reply = conn.command("INFO", "server")
    assert isinstance(reply, bytes)
    text = reply.decode()
    assert "# Server" in text.split("\r\n")
    assert "# Stats" not in text
    assert "redis_version" in info_lines(text)


# ---- errors -------------------------------------------------------------------


def test_unknown_command_uses_redis_7_text(conn):
    assert error_text(conn.command("FOO", "a")) == "ERR unknown command 'FOO', with args beginning with: 'a' "
    assert conn.command("PING") == "PONG"


def test_wrong_arity(conn):
    assert error_text(conn.command("GET")) == "ERR wrong number of arguments for 'get' command"
    assert error_text(conn.command("get", "a", "b")) == "ERR wrong number of arguments for 'get' command"
    assert conn.command("PING") == "PONG"


# ---- real redis-cli -----------------------------------------------------------


def redis_cli(slotgate, *args, stdin=None):
    proc = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(slotgate.port), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=15,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_redis_cli_command_docs_get_prints_sanely(slotgate):
    out = redis_cli(slotgate, "COMMAND", "DOCS", "GET")
    assert out.splitlines()[0] == "get"
    assert "summary" in out
    assert "ERR" not in out


def test_redis_cli_ping_from_stdin(slotgate):
    assert redis_cli(slotgate, stdin="PING\n").strip() == "PONG"
