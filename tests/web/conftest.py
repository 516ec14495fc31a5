"""pytest wiring for the browser and monitoring checks (tests/web): one Redis Cluster and one
slotgate for the whole run, started with the harness. Run once per CI run (not in the twice-run
integration suite):  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/web

Ports: cluster 7600-7605, slotgate 7620/7621, prometheus 7690, all + $SLOTGATE_TEST_PORT_OFFSET.
Logs, screenshots and the Prometheus data go to $SLOTGATE_TEST_LOGDIR (or a temp dir), kept
after the run so the screenshots can be looked at (the path is printed at the end).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from harness import RedisCluster, Slotgate  # noqa: E402

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
CLUSTER_PORT = 7600 + PORT_OFFSET
SLOTGATE_PORT = 7620 + PORT_OFFSET
PROMETHEUS_PORT = 7690 + PORT_OFFSET
WEB_DIR = Path(__file__).resolve().parent


def _raise_keyboard_interrupt(signum, frame):
    # SIGTERM (the CI step's time limit) must still run the fixtures' cleanup.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


_logdir: list[Path] = []


@pytest.fixture(scope="session")
def logdir() -> Path:
    env = os.environ.get("SLOTGATE_TEST_LOGDIR")
    path = Path(env) / "web" if env else Path(tempfile.mkdtemp(prefix="slotgate-web-"))
    path.mkdir(parents=True, exist_ok=True)
    _logdir.append(path)
    return path


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _logdir:
        terminalreporter.write_line(f"slotgate web test logs and screenshots in {_logdir[0]}")


@pytest.fixture(scope="session")
def cluster(logdir):
    c = RedisCluster(base_port=CLUSTER_PORT, workdir=logdir / "cluster")
    c.start()
    yield c
    c.stop(keep_workdir=True)


@pytest.fixture(scope="session")
def slotgate(cluster, logdir):
    sg = Slotgate(cluster.seeds, port=SLOTGATE_PORT, admin_port=SLOTGATE_PORT + 1, workdir=logdir / "slotgate")
    sg.start()
    yield sg
    sg.stop()
