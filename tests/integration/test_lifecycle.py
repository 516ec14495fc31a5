"""slotgate's life as a process: reload on SIGHUP, drain on SIGTERM, and its log.

SIGHUP re-reads the configuration file with the same command line. What can change
safely while clients are connected (client credentials, log level, limits,
timeouts) is applied and logged; what needs a restart (listen, workers,
admin.listen) is logged as such and the running value stays. A file that does not
parse is refused and the running configuration is kept.

SIGTERM is how Kubernetes stops a pod: slotgate stops accepting connections, turns
/readyz to 503, lets requests in flight finish, closes idle clients and exits 0 -
at the latest after shutdown_grace. A second SIGTERM exits at once.

Logs: with log.format json every line is one JSON object; authentication failures
are logged, but a flood of them does not flood the log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid

import pytest

from harness import Slotgate, http_status, wait_until

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# This module's own slotgates (started without the harness's --listen/--admin flags).
BASE_PORT = 7520 + PORT_OFFSET
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def config_text(cluster, port: int, admin: int, **extra: str) -> str:
    """A config file: listen/admin/seeds plus extra sections written as YAML text."""
    text = (f"listen: 127.0.0.1:{port}\n"
            f"workers: 2\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n")
    sections = {"cluster": f"  seeds: [{', '.join(cluster.seeds)}]\n"}
    for name, body in extra.items():
        if name in sections:
            sections[name] += body
        else:
            sections[name] = body
    for name, body in sections.items():
        text += f"{name}:\n{body}" if body.startswith("  ") else f"{name}: {body}"
    return text


def log_lines_after(gate: Slotgate, mark: int) -> list[str]:
    return gate.log_text()[mark:].splitlines()


def wait_log(gate: Slotgate, mark: int, needle: str, timeout: float = 5) -> str:
    def found():
        return next((line for line in log_lines_after(gate, mark) if needle in line), None)

    return wait_until(found, timeout, f"log line containing {needle!r}",
                      describe=lambda: "--- log since mark ---\n" + "\n".join(log_lines_after(gate, mark)[-30:]))


def connect_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def auth_reply(gate: Slotgate, password: str):
    with gate.raw() as conn:
        return conn.command("AUTH", password)


def fresh_key(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


# -- SIGHUP ------------------------------------------------------------------------------------------


def test_sighup_changes_the_client_password_for_new_connections(cluster, file_gate):
    port, admin = BASE_PORT, BASE_PORT + 1
    gate = file_gate(config_text(cluster, port, admin, clients="  password: password-A\n"), port, admin)
    with gate.raw() as old:
        assert old.command("AUTH", "password-A") == "OK"
        mark = len(gate.log_text())
        gate.rewrite_config(config_text(cluster, port, admin, clients="  password: password-B\n",
                                        log="  level: debug\n"))
        gate.send_signal(signal.SIGHUP)
        line = wait_log(gate, mark, "clients.password")
        assert "changed" in line and "password-A" not in line and "password-B" not in line, line
        wait_log(gate, mark, "log.level: info -> debug")
        # Workers pick the new configuration up on their next tick.
        wait_until(lambda: auth_reply(gate, "password-B") == "OK", 3, "AUTH with the new password to work")
        assert auth_reply(gate, "password-A") == WRONGPASS
        # A connection authenticated before the reload keeps working.
        key = fresh_key("hup")
        assert old.command("SET", key, "v") == "OK"
    assert "password-A" not in gate.log_text() and "password-B" not in gate.log_text(), \
        "a password was written into the log"


def test_sighup_logs_that_listen_workers_and_admin_need_a_restart(cluster, file_gate):
    port, admin = BASE_PORT + 2, BASE_PORT + 3
    new_port, new_admin = BASE_PORT + 4, BASE_PORT + 5
    gate = file_gate(config_text(cluster, port, admin), port, admin)
    mark = len(gate.log_text())
    changed = config_text(cluster, new_port, new_admin).replace("workers: 2", "workers: 3")
    gate.rewrite_config(changed)
    gate.send_signal(signal.SIGHUP)
    for key in ("listen", "workers", "admin.listen"):
        line = wait_log(gate, mark, f"{key}: ")
        assert "restart" in line, line
    listen_line = wait_log(gate, mark, "listen: 127.0.0.1:")
    assert str(port) in listen_line and str(new_port) in listen_line, listen_line
    # The old addresses keep serving; the new ones are not opened.
    time.sleep(0.3)
    with gate.raw() as conn:
        key = fresh_key("hup")
        assert conn.command("SET", key, "still-here") == "OK"
        assert conn.command("GET", key) == b"still-here"
    assert http_status(admin, "/healthz") == 200
    assert connect_refused(new_port) and connect_refused(new_admin)


def test_sighup_with_a_broken_file_keeps_the_running_configuration(cluster, file_gate):
    port, admin = BASE_PORT + 6, BASE_PORT + 7
    gate = file_gate(config_text(cluster, port, admin, clients="  password: keep-me\n"), port, admin)
    mark = len(gate.log_text())
    gate.rewrite_config(config_text(cluster, port, admin, clients="  password: new\n  max_clinets: 5\n"))
    gate.send_signal(signal.SIGHUP)
    line = wait_log(gate, mark, "max_clinets")
    assert "not reloaded" in line or "error" in line.lower(), line
    time.sleep(0.3)
    assert auth_reply(gate, "keep-me") == "OK"
    assert auth_reply(gate, "new") == WRONGPASS
    assert gate.is_running()


def test_sighup_without_changes_says_so(cluster, file_gate):
    port, admin = BASE_PORT + 8, BASE_PORT + 9
    gate = file_gate(config_text(cluster, port, admin), port, admin)
    mark = len(gate.log_text())
    gate.send_signal(signal.SIGHUP)
    wait_log(gate, mark, "unchanged")


# -- SIGTERM -----------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_sigterm_drains_in_flight_requests_and_exits_0(make_slotgate):
    gate = make_slotgate(config_text="shutdown_grace: 10s\n")
    key = fresh_key("drain")
    with gate.raw() as idle, gate.raw() as busy:
        assert idle.command("PING") == "PONG"
        busy.send_command("BLPOP", key, 2)
        time.sleep(0.3)  # the BLPOP is on its way to the cluster
        t0 = time.monotonic()
        gate.send_signal(signal.SIGTERM)
        # Stops accepting at once and says so on /readyz.
        wait_until(lambda: connect_refused(gate.port), 1.5, "new connections to be refused")
        wait_until(lambda: http_status(gate.admin_port, "/readyz") == 503, 1.5, "/readyz to be 503")
        # Idle clients are closed without waiting for the grace period.
        assert idle.is_closed(timeout=1.5), "an idle client was not closed by the drain"
        # The request in flight ends with its own reply (BLPOP timed out: nil), not a cut connection.
        assert busy.read_reply(timeout=4) is None
        elapsed_blpop = time.monotonic() - t0
        assert busy.is_closed(timeout=2), "the client was not closed after its last reply"
    gate.process.wait(timeout=5)
    assert gate.process.returncode == 0, gate.log_tail(20)
    assert elapsed_blpop < 3, f"BLPOP reply came {elapsed_blpop:.1f}s after SIGTERM"
    assert "draining" in gate.log_text()


@pytest.mark.timeout(60)
def test_sigterm_exits_after_shutdown_grace_when_a_client_stays_busy(make_slotgate):
    gate = make_slotgate(config_text="shutdown_grace: 3s\n")
    with gate.raw() as busy:
        busy.send_command("BLPOP", fresh_key("grace"), 60)
        time.sleep(0.3)
        t0 = time.monotonic()
        gate.send_signal(signal.SIGTERM)
        gate.process.wait(timeout=10)
        took = time.monotonic() - t0
        assert busy.is_closed(timeout=2)
    assert gate.process.returncode == 0, gate.log_tail(20)
    assert 2.5 <= took <= 5.0, f"exited {took:.2f}s after SIGTERM with shutdown_grace 3s"
    assert "shutdown grace over" in gate.log_text()


@pytest.mark.timeout(60)
def test_second_sigterm_exits_at_once(make_slotgate):
    gate = make_slotgate(config_text="shutdown_grace: 30s\n")
    with gate.raw() as busy:
        busy.send_command("BLPOP", fresh_key("twice"), 60)
        time.sleep(0.3)
        gate.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert gate.is_running(), "exited on the first SIGTERM although a client was busy"
        t0 = time.monotonic()
        gate.send_signal(signal.SIGTERM)
        gate.process.wait(timeout=5)
        took = time.monotonic() - t0
    assert took < 1.5, f"exited {took:.2f}s after the second SIGTERM"
    assert gate.process.returncode == 0
    assert "second termination signal" in gate.log_text()


# -- logs ----------------------------------------------------------------------------------------------


def slotgate_lines(gate: Slotgate) -> list[str]:
    # The harness writes its own "$ argv" line into the same file before each start.
    return [l for l in gate.log_text().splitlines() if l and not l.startswith("$ ")]


@pytest.mark.timeout(60)
def test_json_log_format_writes_one_object_per_line(cluster, file_gate):
    port, admin = BASE_PORT + 10, BASE_PORT + 11
    gate = file_gate(config_text(cluster, port, admin, clients="  password: pw\n",
                                 log="  format: json\n  level: debug\n"), port, admin)
    # Produce a variety of lines: auth failure, reload, drain, stop.
    with gate.raw() as conn:  # the user name is quoted in the log: it must be escaped
        assert conn.command("AUTH", 'we"ird\\\n\tuser', "x") == WRONGPASS
    gate.rewrite_config(config_text(cluster, port, admin, clients="  password: pw2\n",
                                    log="  format: json\n  level: debug\n"))
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: "clients.password" in gate.log_text(), 5, "the reload to be logged")
    assert gate.stop() == 0
    lines = slotgate_lines(gate)
    assert len(lines) >= 4, lines
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail(f"log line is not JSON: {line!r}")
        assert isinstance(obj, dict), line
        assert obj.get("level") and obj.get("msg") is not None and obj.get("time"), obj
    messages = [json.loads(l)["msg"] for l in lines]
    assert any("authentication failed" in m for m in messages), messages
    assert any("clients.password" in m for m in messages), messages


@pytest.mark.timeout(60)
def test_auth_failures_are_logged_but_a_flood_is_rate_limited(make_slotgate):
    # The per-address AUTH limit (clients.auth_max_failures, test_acl.py) is off here: this
    # test is about the log, which must stay readable however many failures get through.
    gate = make_slotgate(env={"SLOTGATE_PASSWORD": "right"},
                         config_text="clients:\n  auth_max_failures: 0\n")
    time.sleep(1.1)
    mark = len(gate.log_text())
    assert auth_reply(gate, "wrong-once") == WRONGPASS
    wait_log(gate, mark, "authentication failed")
    time.sleep(1.1)  # the next failure is a new event, not part of a flood
    mark = len(gate.log_text())
    t0 = time.monotonic()
    with gate.raw() as conn:
        for i in range(100):
            assert conn.command("AUTH", f"wrong-{i}") == WRONGPASS
        assert conn.command("AUTH", "right") == "OK"
    took = time.monotonic() - t0
    assert took < 1.0, f"100 AUTHs took {took:.2f}s; the flood must fit in a second"
    time.sleep(0.5)
    logged = [l for l in log_lines_after(gate, mark) if "authentication failed" in l]
    assert 1 <= len(logged) <= 3, f"{len(logged)} log lines for 100 failed AUTHs in 1 s:\n" + "\n".join(logged[:10])
