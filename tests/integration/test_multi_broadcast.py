"""Commands for every master are refused inside MULTI.

A transaction runs on one master (MULTI, the queued commands and EXEC go there in one
piece). DBSIZE, KEYS, FLUSHALL, SCRIPT LOAD, CONFIG SET... are broadcast to every master
outside a transaction; queued inside one they would reach only that master, and their
answer would look complete: DBSIZE counting one master's keys, FLUSHALL flushing a third of
the data. slotgate refuses them when they are queued, and EXEC then fails with EXECABORT, as
Redis does for any command refused at queue time.
"""

from __future__ import annotations

import uuid

import pytest

from harness import RespError, error_text

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def test_dbsize_inside_multi_is_refused_and_exec_aborts(slotgate, cluster):
    key = "{" + uuid.uuid4().hex[:10] + "}:multi-dbsize"
    with slotgate.raw() as c:
        assert c.command("MULTI") == "OK"
        assert c.command("SET", key, "v") == "QUEUED"
        queued = c.command("DBSIZE")
        exec_reply = c.command("EXEC")
        assert isinstance(queued, RespError), \
            f"DBSIZE was queued inside MULTI (EXEC answered {exec_reply!r}): it counts one master only"
        assert error_text(queued) == ("ERR 'DBSIZE' inside MULTI would reach only one master "
                                      "through slotgate; send it outside the transaction")
        assert error_text(exec_reply) == EXECABORT
        # Nothing of the transaction ran.
        assert cluster.master_for_key(key).client().exists(key) == 0
        # Outside MULTI it is still broadcast, and the session goes on.
        total = sum(m.client().dbsize() for m in cluster.masters())
        assert abs(c.command("DBSIZE") - total) <= 5  # other tests' keys may come and go


@pytest.mark.parametrize("command", [("KEYS", "multi-broadcast:*"),
                                     ("SCAN", "0"),
                                     ("SCRIPT", "LOAD", "return 1"),
                                     ("SLOWLOG", "LEN")])
def test_other_broadcast_commands_inside_multi_are_refused(slotgate, command):
    name = " ".join(command[:2]) if command[0] in ("SCRIPT", "SLOWLOG") else command[0]
    with slotgate.raw() as c:
        assert c.command("MULTI") == "OK"
        assert c.command("PING") == "QUEUED"
        queued = c.command(*command)
        exec_reply = c.command("EXEC")
        assert isinstance(queued, RespError), f"{name} was queued: EXEC answered {exec_reply!r}"
        assert error_text(queued).startswith(f"ERR '{name}' inside MULTI would reach only one master"), queued
        assert error_text(exec_reply) == EXECABORT
        assert c.command("PING") == "PONG"
