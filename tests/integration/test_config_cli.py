"""Configuring slotgate through the real binary: flags, the YAML file, the environment.

What an operator relies on: `--version` and `--help` answer and exit 0; a mistyped
flag exits 2 (a usage error, so a broken container command is obvious);
`--check-config FILE` exits 0 for a good file and 1 for a bad one, with every error
naming the key and the line; a file alone (no flags) is enough to run; flags win
over the file; secrets come from the environment (`${VAR}` in the file, and
REDIS_PASSWORD / SLOTGATE_PASSWORD over whatever the file says); durations and
sizes written the human way take effect.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from harness import RawConnection, RespError, Slotgate, http_status, parse_info, wait_until
from harness.slotgate import REPO_ROOT, default_binary

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# This module's own slotgates (started without the harness's --listen/--admin flags).
BASE_PORT = 7500 + PORT_OFFSET
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def run_slotgate(*args, env=None, timeout=15) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    for name in ("REDIS_USERNAME", "REDIS_PASSWORD", "SLOTGATE_PASSWORD"):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.run([str(default_binary()), *map(str, args)], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def seeds_yaml(seeds) -> str:
    return "[" + ", ".join(seeds) + "]"


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def round_trip(conn: RawConnection) -> None:
    key = f"cfg:{uuid.uuid4().hex}"
    assert conn.command("SET", key, "v") == "OK"
    assert conn.command("GET", key) == b"v"


# -- flags ------------------------------------------------------------------------------------------


def test_version_prints_the_version_and_exits_0():
    r = run_slotgate("--version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"slotgate \d+\.\d+\.\d+\S*\n", r.stdout), r.stdout


def test_help_lists_the_flags_and_exits_0():
    r = run_slotgate("--help")
    assert r.returncode == 0, r.stderr
    for flag in ("--config", "--listen", "--seed", "--admin", "--workers", "--log-level", "--log-format",
                 "--check-config", "--version"):
        assert flag in r.stdout, f"{flag} missing from --help:\n{r.stdout}"


@pytest.mark.parametrize("args,mentions", [
    (["--no-such-flag"], "--no-such-flag"),
    (["--listen"], "--listen"),
    (["--listen", "not-an-address"], "--listen"),
    (["--workers", "0"], "--workers"),
    (["--log-level", "loud"], "--log-level"),
    (["--seed", "127.0.0.1:99999"], "--seed"),
])
def test_bad_flags_exit_2_and_say_which(args, mentions):
    r = run_slotgate(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert mentions in r.stderr, r.stderr


# -- --check-config -----------------------------------------------------------------------------------


def test_check_config_accepts_the_shipped_files():
    r = run_slotgate("--check-config", REPO_ROOT / "config" / "slotgate.yaml")
    assert (r.returncode, r.stdout) == (0, "config OK\n"), r.stderr
    r = run_slotgate("--check-config", REPO_ROOT / "config" / "slotgate.k8s.yaml",
                     env={"REDIS_PASSWORD": "p", "SLOTGATE_PASSWORD": "q", "SLOTGATE_ANNOUNCE": "10.0.0.1:6379"})
    assert (r.returncode, r.stdout) == (0, "config OK\n"), r.stderr


def test_check_config_accepts_durations_and_sizes(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "cluster:\n"
        "  refresh_interval: 250ms\n"
        "  connect_timeout: 2s\n"
        "  failover_hold: 1m\n"
        "clients:\n"
        "  idle_timeout: 1h\n"
        "  max_request_size: 64kb\n"
        "  max_pipeline_size: 1gb\n"
        "  output_buffer_limit: 100b\n"
        "shutdown_grace: 3s\n")
    r = run_slotgate("--check-config", good)
    assert (r.returncode, r.stdout, r.stderr) == (0, "config OK\n", "")


def test_check_config_names_key_and_line_of_every_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "listen: 127.0.0.1:6380\n"          # 1
        "clients:\n"                        # 2
        "  max_clinets: 10\n"               # 3: unknown key (typo)
        "cluster:\n"                        # 4
        "  failover_hold: 20 parsecs\n"     # 5: bad duration
        "  refresh_interval: 10s\n"         # 6
        "admin:\n"                          # 7
        "  listen: 127.0.0.1:9121\n"        # 8
        "unknown_top: 1\n")                 # 9: unknown key
    bad2 = tmp_path / "bad_size.yaml"
    bad2.write_text("clients:\n  max_request_size: 12 potatoes\n")
    r = run_slotgate("--check-config", bad)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "config OK" not in r.stdout
    lines = r.stderr.strip().splitlines()
    by_line = {int(m.group(1)): l for l in lines if (m := re.search(re.escape(str(bad)) + r":(\d+):", l))}
    assert 3 in by_line and "clients.max_clinets" in by_line[3] and "max_clients" in by_line[3], lines
    assert 5 in by_line and "cluster.failover_hold" in by_line[5], lines
    assert 9 in by_line and "unknown_top" in by_line[9], lines
    r = run_slotgate("--check-config", bad2)
    assert r.returncode == 1
    assert f"{bad2}:2:" in r.stderr and "clients.max_request_size" in r.stderr, r.stderr


def test_check_config_reports_invalid_yaml_with_its_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("listen: 127.0.0.1:6380\ncluster:\n  seeds: [a:1, b:2\nlog:\n  level: info\n")
    r = run_slotgate("--check-config", bad)
    assert r.returncode == 1
    assert re.search(re.escape(str(bad)) + r":\d+: invalid YAML", r.stderr), r.stderr


def test_check_config_names_an_unset_environment_variable(tmp_path):
    f = tmp_path / "env.yaml"
    f.write_text("clients:\n  password: ${H12_SURELY_UNSET_VARIABLE}\n")
    r = run_slotgate("--check-config", f)
    assert r.returncode == 1
    assert "H12_SURELY_UNSET_VARIABLE" in r.stderr and "clients.password" in r.stderr, r.stderr
    r = run_slotgate("--check-config", f, env={"H12_SURELY_UNSET_VARIABLE": "x"})
    assert r.returncode == 0, r.stderr


def test_starting_with_a_bad_file_exits_1_without_listening(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(f"listen: 127.0.0.1:{BASE_PORT + 19}\nworkres: 2\n")
    r = run_slotgate("--config", f)
    assert r.returncode == 1
    assert f"{f}:2:" in r.stderr and "workres" in r.stderr and "workers" in r.stderr, r.stderr
    r = run_slotgate("--config", tmp_path / "missing.yaml")
    assert r.returncode == 1 and "missing.yaml" in r.stderr, r.stderr


# -- a configuration file that runs -------------------------------------------------------------------


def test_a_config_file_alone_sets_listen_admin_and_seeds(cluster, file_gate):
    port, admin = BASE_PORT, BASE_PORT + 1
    gate = file_gate(f"listen: 127.0.0.1:{port}\n"
                     f"workers: 2\n"
                     f"cluster:\n  seeds: {seeds_yaml(cluster.seeds[:2])}\n"
                     f"admin:\n  listen: 127.0.0.1:{admin}\n", port, admin)
    with gate.raw() as conn:
        round_trip(conn)
    assert http_status(admin, "/healthz") == 200
    wait_until(lambda: http_status(admin, "/readyz") == 200, 5, "readiness on the configured admin port")


def test_flags_override_the_file(cluster, file_gate):
    file_port, file_admin = BASE_PORT + 2, BASE_PORT + 3
    flag_port, flag_admin = BASE_PORT + 4, BASE_PORT + 5
    gate = file_gate(f"listen: 127.0.0.1:{file_port}\n"
                     f"cluster:\n  seeds: [127.0.0.1:1]\n"   # nothing there: --seed must replace it
                     f"admin:\n  listen: 127.0.0.1:{file_admin}\n",
                     flag_port, flag_admin,
                     args=["--listen", f"127.0.0.1:{flag_port}", "--admin", f"127.0.0.1:{flag_admin}",
                           "--seed", cluster.seeds[0], "--log-level", "debug"])
    with gate.raw() as conn:
        round_trip(conn)
    assert http_status(flag_admin, "/readyz") == 200
    assert not listening(file_port), "the file's listen address is used although --listen was given"
    assert not listening(file_admin), "the file's admin address is used although --admin was given"
    assert " debug " in gate.log_text() or "DEBUG" in gate.log_text().upper(), \
        "--log-level debug did not take effect"


def test_env_expansion_in_the_file(cluster, file_gate):
    port, admin = BASE_PORT + 6, BASE_PORT + 7
    gate = file_gate(f"listen: 127.0.0.1:{port}\n"
                     f"cluster:\n  seeds: ${{H12_SEEDS_UNUSED:-{cluster.seeds[0]}}}\n"
                     f"clients:\n  password: ${{H12_CLIENT_SECRET}}\n"
                     f"admin:\n  listen: 127.0.0.1:{admin}\n", port, admin,
                     env={"H12_CLIENT_SECRET": "from-the-environment"})
    with gate.raw() as conn:
        assert conn.command("GET", "x").startswith("NOAUTH")
        assert conn.command("AUTH", "${H12_CLIENT_SECRET}") == WRONGPASS
        assert conn.command("AUTH", "from-the-environment") == "OK"
        round_trip(conn)


def test_slotgate_password_env_overrides_the_file(cluster, file_gate):
    port, admin = BASE_PORT + 8, BASE_PORT + 9
    text = (f"listen: 127.0.0.1:{port}\ncluster:\n  seeds: [{cluster.seeds[0]}]\n"
            f"clients:\n  password: in-the-file\nadmin:\n  listen: 127.0.0.1:{admin}\n")
    gate = file_gate(text, port, admin, env={"SLOTGATE_PASSWORD": "from-env"})
    with gate.raw() as conn:
        assert conn.command("AUTH", "in-the-file") == WRONGPASS
        assert conn.command("AUTH", "from-env") == "OK"
        round_trip(conn)
    gate.stop()
    # An empty variable (a template with no value) never wipes the file's password.
    gate.env = {"SLOTGATE_PASSWORD": ""}
    gate.start()
    with gate.raw() as conn:
        assert conn.command("GET", "x").startswith("NOAUTH")
        assert conn.command("AUTH", "in-the-file") == "OK"


@pytest.mark.timeout(120)
def test_redis_password_env_overrides_the_file(fresh_cluster, file_gate):
    c = fresh_cluster(masters=3, replicas_per_master=0, password="cluster-secret")
    port, admin = BASE_PORT + 10, BASE_PORT + 11
    text = (f"listen: 127.0.0.1:{port}\ncluster:\n  seeds: {seeds_yaml(c.seeds)}\n  password: stale-in-file\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n")
    gate = file_gate(text, port, admin, env={"REDIS_PASSWORD": "cluster-secret"})
    wait_until(lambda: http_status(admin, "/readyz") == 200, 10, "slotgate to load the protected cluster")
    with gate.raw() as conn:
        round_trip(conn)


# -- durations and sizes take effect ----------------------------------------------------------------


@pytest.mark.timeout(60)
def test_idle_timeout_and_max_request_size_take_effect(cluster, file_gate):
    port, admin = BASE_PORT + 12, BASE_PORT + 13
    gate = file_gate(f"listen: 127.0.0.1:{port}\ncluster:\n  seeds: [{cluster.seeds[0]}]\n"
                     f"clients:\n  idle_timeout: 1500ms\n  max_request_size: 1kb\n"
                     f"admin:\n  listen: 127.0.0.1:{admin}\n", port, admin)
    key = f"cfg:{uuid.uuid4().hex}"
    with gate.raw() as idle, gate.raw() as busy, gate.raw() as big:
        assert idle.command("PING") == "PONG"
        assert busy.command("SET", key, "x" * 1000) == "OK"   # 1000 bytes <= 1kb
        reply = big.command("SET", key, "y" * 1025)          # one byte over
        assert isinstance(reply, RespError) and reply.startswith("ERR Protocol error"), reply
        assert big.is_closed(timeout=2), "a request over max_request_size must close the connection"
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.8:   # busy keeps talking, idle does not
            assert busy.command("PING") == "PONG"
            time.sleep(0.1)
        assert not idle.is_closed(timeout=0.1), "idle client closed before idle_timeout (1.5 s)"
        assert idle.is_closed(timeout=3), "idle client still open 1.5 s past idle_timeout"
        assert busy.command("GET", key) == b"x" * 1000


# -- workers: auto ------------------------------------------------------------------------------------


def wrapper(tmp_path, before: str = "", prefix: str = "") -> Path:
    """A script that runs `before`, then execs `prefix slotgate ARGS`, so the process
    the harness signals is slotgate itself."""
    script = tmp_path / "slotgate-wrapper"
    script.write_text(f"#!/bin/sh\n{before}\nexec {prefix} {default_binary()} \"$@\"\n")
    script.chmod(0o755)
    return script


def info_workers(gate: Slotgate) -> int:
    with RawConnection(gate.host, gate.port) as conn:
        return int(parse_info(conn.command("INFO", "server").decode())["workers"])


def test_workers_auto_follows_the_affinity_mask(make_slotgate, tmp_path):
    # Pinned to one CPU (taskset, or a cpuset in a container), auto is one loop, not
    # one per core of the machine.
    gate = make_slotgate(workers="auto", binary=wrapper(tmp_path, prefix="taskset -c 0"))
    assert info_workers(gate) == 1
    assert re.search(r"with 1 worker\(s\) = auto: 1 \(affinity 1 CPUs", gate.log_tail(40)), gate.log_tail(40)


def _cpu_cgroup_with_quota(name: str, cpus: float) -> Path | None:
    """A cgroup (v2, or v1's cpu controller) limited to `cpus`, or None where this
    machine does not let us make one."""
    period = 100_000
    candidates = [(Path("/sys/fs/cgroup"), "cpu.max", f"{int(cpus * period)} {period}"),
                  (Path("/sys/fs/cgroup/cpu"), "cpu.cfs_quota_us", str(int(cpus * period)))]
    for mount, knob, value in candidates:
        if not (mount / knob).exists() and not (mount / "cgroup.controllers").exists():
            continue
        group = mount / name
        try:
            group.mkdir(exist_ok=True)
            if knob == "cpu.cfs_quota_us":
                (group / "cpu.cfs_period_us").write_text(str(period))
            (group / knob).write_text(value)
            return group
        except OSError:
            try:
                group.rmdir()
            except OSError:
                pass
    return None


def test_workers_auto_follows_the_cgroup_cpu_quota(make_slotgate, tmp_path):
    # A pod with limits.cpu 500m on a bigger node: auto must be 1, not the node's cores.
    # (The quota files of cgroup v1 and v2, nested groups and malformed files are
    # covered by the unit test cpu_limit_test.cpp; this runs a real process in a real
    # cgroup where the machine allows making one.)
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the quota cannot lower auto below the affinity mask")
    group = _cpu_cgroup_with_quota(f"slotgate-test-{os.getpid()}", 0.5)
    if group is None:
        pytest.skip("cannot create a cpu cgroup here")
    gate = None
    try:
        gate = make_slotgate(workers="auto", binary=wrapper(tmp_path, before=f"echo $$ > {group}/cgroup.procs"))
        assert info_workers(gate) == 1
        assert "cgroup quota 0.5 CPUs" in gate.log_tail(40), gate.log_tail(40)
    finally:
        if gate is not None:
            gate.stop()
        wait_until(lambda: not (group / "cgroup.procs").read_text().strip(), 10, "the test cgroup to empty")
        group.rmdir()
