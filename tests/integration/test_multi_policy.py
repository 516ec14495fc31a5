"""One command policy, in and out of MULTI.

slotgate answers +QUEUED itself and sends the whole transaction on a *shared* backend
connection at EXEC. So every check a command passes outside a transaction (refused
commands, the CONFIG SET allow-list, users' permissions) is applied when it is queued,
and commands that change connection state (HELLO, AUTH, SELECT, CLIENT SETNAME, ...) or
that slotgate answers itself (INFO, CLUSTER ...) are refused inside MULTI: they would
otherwise change or expose the shared connection. As in Redis, a command refused at
queue time gets its error at once and makes EXEC fail with EXECABORT.
"""

from __future__ import annotations

import time
import uuid

from harness import RespError, error_text

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def uid() -> str:
    return uuid.uuid4().hex[:10]


def raw_reply_bytes(conn, *args, timeout: float = 3.0) -> bytes:
    """The exact bytes of a one-line reply (to tell RESP2's `$-1` from RESP3's `_`)."""
    conn.send_command(*args)
    deadline = time.monotonic() + timeout
    while b"\r\n" not in conn.buf:
        assert time.monotonic() < deadline, f"no reply to {args!r}"
        conn._recv(deadline - time.monotonic())
    line, _, rest = conn.buf.partition(b"\r\n")
    conn.buf = rest
    return line + b"\r\n"


def test_config_set_inside_multi_obeys_allow_list(slotgate, cluster):
    before = {m.address: m.client().config_get("maxmemory-policy")["maxmemory-policy"]
              for m in cluster.masters()}
    try:
        with slotgate.raw() as c:
            # Outside MULTI the allow-list refuses it ...
            assert error_text(c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-random")) \
                .startswith("ERR CONFIG SET 'maxmemory-policy' is not allowed")
            # ... and inside MULTI too: error now, EXECABORT at EXEC, no master changed.
            assert c.command("MULTI") == "OK"
            queued = c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
            exec_reply = c.command("EXEC")
            after = {m.address: m.client().config_get("maxmemory-policy")["maxmemory-policy"]
                     for m in cluster.masters()}
            assert after == before, "CONFIG SET inside MULTI changed a master"
            assert error_text(queued).startswith("ERR CONFIG SET 'maxmemory-policy' is not allowed"), queued
            assert error_text(exec_reply) == EXECABORT
            assert c.command("PING") == "PONG"
    finally:
        for m in cluster.masters():
            m.client().config_set("maxmemory-policy", before[m.address])


def test_hello_inside_multi_never_reaches_shared_connection(make_slotgate, cluster):
    # One worker: both clients share its backend connections.
    gate = make_slotgate(workers=1)
    missing = {m.address: keys[0] for m, keys in
               cluster.keys_on_each_master(n_per_master=1, prefix=f"missing:{uid()}:").items()}
    with gate.raw() as bystander, gate.raw() as c:
        for key in missing.values():  # the bystander's connections exist before the HELLO
            assert raw_reply_bytes(bystander, "GET", key) == b"$-1\r\n"
        assert c.command("MULTI") == "OK"
        hello = c.command("HELLO", "3")
        exec_reply = c.command("EXEC")
        # Whatever master would have run the transaction, every RESP2 client still gets RESP2.
        for _ in range(3):
            for key in missing.values():
                assert raw_reply_bytes(bystander, "GET", key) == b"$-1\r\n", \
                    "a shared backend connection was switched to RESP3"
        assert isinstance(hello, RespError), hello
        assert error_text(exec_reply) == EXECABORT
        # The client itself stays on RESP2 too.
        assert raw_reply_bytes(c, "GET", next(iter(missing.values()))) == b"$-1\r\n"


def test_auth_select_cluster_info_inside_multi_stay_local(make_slotgate, cluster):
    gate = make_slotgate(config_text="clients:\n  password: secret-pw\n")
    node_ports = {str(m.port) for m in cluster.masters()}
    with gate.raw() as c:
        assert c.command("AUTH", "secret-pw") == "OK"
        for cmd in [("AUTH", "secret-pw"), ("SELECT", "0"), ("CLUSTER", "NODES"), ("INFO", "server"),
                    ("CLIENT", "SETNAME", "x"), ("HELLO", "2")]:
            assert c.command("MULTI") == "OK"
            reply = c.command(*cmd)
            exec_reply = c.command("EXEC")
            text = repr(reply) + repr(exec_reply)
            assert not any(f":{p}" in text for p in node_ports), f"{cmd}: a node answered: {text[:300]}"
            assert isinstance(reply, RespError), f"{cmd} was queued: {reply!r}"
            assert error_text(exec_reply) == EXECABORT, cmd
        # Outside MULTI they are still answered by slotgate.
        assert c.command("SELECT", "0") == "OK"
        assert c.command("CLIENT", "SETNAME", "x") == "OK"
        # PING and ECHO are answered alike by a node: they may still be queued.
        assert c.command("MULTI") == "OK"
        assert c.command("PING") == "QUEUED"
        assert c.command("ECHO", "e") == "QUEUED"
        assert c.command("EXEC") == ["PONG", b"e"]


def test_refused_command_inside_multi_aborts_exec(slotgate, cluster):
    with slotgate.raw() as c:
        key = "{" + uid() + "}:k"
        assert c.command("MULTI") == "OK"
        assert c.command("SET", key, "v") == "QUEUED"
        assert error_text(c.command("SHUTDOWN")).startswith("ERR 'shutdown' is not available")
        assert error_text(c.command("EXEC")) == EXECABORT
        assert cluster.master_for_key(key).client().exists(key) == 0
