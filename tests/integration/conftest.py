"""pytest wiring for slotgate's integration tests.

Owns the shared fixtures (a session-wide Redis Cluster, a module-wide slotgate, and
factories for extra slotgates and throw-away clusters), the per-test time limit, and
what a failing test prints: the log tails of the slotgate and redis processes it used.
Logs live under one directory per run ($SLOTGATE_TEST_LOGDIR or a temp dir); it is
removed when every test passed and kept (its path printed) otherwise.

Ports: session cluster 7400-7405, `slotgate` 7420/7421, `make_slotgate` 7430-7439,
`fresh_cluster` 7440-7499 (blocks of 10), standalone redis 7410-7419 (tests' choice).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from harness import FileConfiguredSlotgate, RedisCluster, Slotgate  # noqa: E402
from harness import processes  # noqa: E402

DEFAULT_TIMEOUT = float(os.environ.get("SLOTGATE_TEST_TIMEOUT", "180"))
# Shifts every fixture port, so two test runs on one machine do not collide.
PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ERROR: ThreadSanitizer")


class _RunState:
    logdir: Path | None = None
    failed = False
    own_logdir = True


# -- configuration, signals, time limit ----------------------------------------------------


def _raise_keyboard_interrupt(signum, frame):
    # Why: SIGTERM (CI cancelling the job) would otherwise end Python without running
    # fixture finalizers or atexit hooks, leaving redis-servers behind.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): time limit for one test phase "
                                       "(default $SLOTGATE_TEST_TIMEOUT or 180 s)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds (failover, resharding)")
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def _use_own_timeout(config) -> bool:
    # pytest-timeout, when installed and asked for (--timeout / ini), takes over.
    if config.pluginmanager.hasplugin("timeout"):
        try:
            if config.getoption("timeout") or config.getini("timeout"):
                return False
        except (ValueError, KeyError):
            pass
    return True


class TestTimeout(Exception):
    """A test phase ran longer than its limit."""


def _limit_for(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker and marker.args:
        return float(marker.args[0])
    return DEFAULT_TIMEOUT


def _with_alarm(item, phase):
    if not _use_own_timeout(item.config) or DEFAULT_TIMEOUT <= 0:
        yield
        return
    limit = _limit_for(item)

    def on_alarm(signum, frame):
        raise TestTimeout(f"{item.nodeid}: {phase} exceeded {limit:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _with_alarm(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _with_alarm(item, "test")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _with_alarm(item, "teardown")


# -- failure reports --------------------------------------------------------------------------


def _log_sections(item):
    seen = set()
    for value in list(item.funcargs.values()):
        for obj in getattr(value, "instances", None) or [value]:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Slotgate):
                yield f"slotgate {obj.address} log (tail)", obj.log_tail(80)
            elif isinstance(obj, RedisCluster):
                text = "\n".join(f"--- {n.address} ---\n{n.log_tail(12)}" for n in obj.nodes)
                yield f"redis cluster {obj.base_port} logs (tails)", text


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        _RunState.failed = True
        try:
            for title, text in _log_sections(item):
                rep.sections.append((title, text))
        except Exception as exc:  # noqa: BLE001 - a report must never crash
            rep.sections.append(("harness", f"could not collect logs: {exc!r}"))


def pytest_sessionfinish(session, exitstatus):
    if exitstatus not in (0, pytest.ExitCode.OK):
        _RunState.failed = True


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    logdir = _RunState.logdir
    if logdir is None:
        return
    if _RunState.failed or exitstatus != 0:
        terminalreporter.write_line(f"slotgate test logs kept in {logdir}")
    elif _RunState.own_logdir:
        shutil.rmtree(logdir, ignore_errors=True)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def logdir() -> Path:
    """Directory for this run's process logs and data."""
    env = os.environ.get("SLOTGATE_TEST_LOGDIR")
    if env:
        path = Path(env)
        path.mkdir(parents=True, exist_ok=True)
        _RunState.own_logdir = False
    else:
        path = Path(tempfile.mkdtemp(prefix="slotgate-tests-"))
    _RunState.logdir = path
    yield path
    processes.kill_all()


@pytest.fixture(scope="session")
def cluster(logdir):
    """3 masters + 3 replicas on 127.0.0.1:7400-7405 for the whole run. Tests leave it
    healthy (checked after each test); tests that kill or reshard use fresh_cluster."""
    c = RedisCluster(base_port=7400 + PORT_OFFSET, masters=3, replicas_per_master=1, workdir=logdir / f"cluster-{7400 + PORT_OFFSET}")
    c.start()
    yield c
    c.stop(keep_workdir=True)


@pytest.fixture(autouse=True)
def _cluster_left_healthy(request):
    yield
    if "cluster" in request.fixturenames:
        c = request.getfixturevalue("cluster")
        c.wait_ok(timeout=60)


def _check_clean_exit(sg: Slotgate, stopped_by_test: bool) -> None:
    """After the harness stopped slotgate with SIGTERM, a clean exit is part of the
    contract (and the only way a sanitizer build reports leaks)."""
    text = sg.log_text()
    found = [m for m in SANITIZER_MARKERS if m in text]
    if found:
        pytest.fail(f"slotgate {sg.address} reported {found}; log tail:\n{sg.log_tail(120)}", pytrace=False)
    if not stopped_by_test and sg.returncode not in (0, None):
        pytest.fail(f"slotgate {sg.address} exited with {sg.returncode} after SIGTERM; log tail:\n"
                    f"{sg.log_tail(80)}", pytrace=False)


@pytest.fixture(scope="module")
def slotgate(cluster, logdir, request):
    """slotgate on 127.0.0.1:7420 (admin 7421) in front of `cluster`, per test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    sg = Slotgate(cluster.seeds, port=7420 + PORT_OFFSET, admin_port=7421 + PORT_OFFSET, workdir=logdir / f"slotgate-7420-{name}")
    sg.start()
    yield sg
    stopped_by_test = not sg.is_running()
    sg.stop()
    _check_clean_exit(sg, stopped_by_test)


@pytest.fixture
def make_slotgate(logdir, request):
    """Factory: make_slotgate(seeds=None, args=(), env=None, config_text=None, workers=2,
    start=True) -> Slotgate on 7430/7431, 7432/7433, ... Seeds default to the session
    cluster's. Every instance is stopped when the test ends."""
    instances: list[Slotgate] = []

    def factory(seeds=None, start=True, **kw) -> Slotgate:
        i = len(instances)
        if i >= 5:
            raise RuntimeError("make_slotgate: at most 5 instances per test (ports 7430-7439)")
        if seeds is None:
            seeds = request.getfixturevalue("cluster").seeds
        port = 7430 + PORT_OFFSET + 2 * i
        kw.setdefault("workdir", logdir / f"slotgate-{port}-{request.node.name}"[:200])
        kw.setdefault("admin_port", port + 1)
        sg = Slotgate(seeds, port=port, **kw)
        instances.append(sg)
        if start:
            sg.start()
        return sg

    factory.instances = instances
    yield factory
    errors = []
    for sg in instances:
        stopped_by_test = not sg.is_running()
        sg.stop()
        try:
            _check_clean_exit(sg, stopped_by_test)
        except pytest.fail.Exception as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def file_gate(logdir, request):
    """Factory: file_gate(config_text, port, admin_port, start=True, args=(), env=None) ->
    FileConfiguredSlotgate (`slotgate --config FILE`; the file says where it listens, so the
    test picks the ports). Every instance is stopped when the test ends and must exit 0."""
    gates: list[FileConfiguredSlotgate] = []

    def factory(config_text: str, port: int, admin_port: int, start: bool = True,
                **kw) -> FileConfiguredSlotgate:
        kw.setdefault("workdir", logdir / f"slotgate-{port}-{request.node.name}"[:200])
        gate = FileConfiguredSlotgate([], port=port, admin_port=admin_port, config_text=config_text, **kw)
        gates.append(gate)
        if start:
            gate.start()
        return gate

    yield factory
    for gate in gates:
        stopped_by_test = not gate.is_running()
        code = gate.stop()
        assert stopped_by_test or code in (0, None), f"{gate} exited with {code}:\n{gate.log_tail(40)}"


@pytest.fixture
def fresh_cluster(logdir, request):
    """Factory: fresh_cluster(masters=3, replicas_per_master=1, node_timeout_ms=5000,
    password=None) -> a started RedisCluster of its own on 7440+ (blocks of 10 ports),
    for tests that kill nodes or reshard. Stopped when the test ends."""
    instances: list[RedisCluster] = []

    def factory(**kw) -> RedisCluster:
        i = len(instances)
        if i >= 6:
            raise RuntimeError("fresh_cluster: at most 6 clusters per test (ports 7440-7499)")
        base = 7440 + PORT_OFFSET + 10 * i
        kw.setdefault("workdir", logdir / f"cluster-{base}-{request.node.name}"[:200])
        c = RedisCluster(base_port=base, **kw)
        if len(c.nodes) > 10:
            raise ValueError("fresh_cluster: at most 10 nodes per cluster")
        instances.append(c)
        c.start()
        return c

    factory.instances = instances
    yield factory
    for c in instances:
        c.stop(keep_workdir=True)


@pytest.fixture
def conn(slotgate):
    """A raw RESP connection to the module's slotgate."""
    c = slotgate.raw()
    yield c
    c.close()


@pytest.fixture
def other(slotgate):
    """A second raw connection to the module's slotgate."""
    c = slotgate.raw()
    yield c
    c.close()
