"""pytest wiring for the client compatibility suite (tests/clients).

Reuses the integration suite's fixtures and hooks (session cluster, make_slotgate,
time limits, log tails on failure, SLOTGATE_TEST_PORT_OFFSET) and adds the results
table: every client program reports one pass/fail per feature, test_clients.py
records them with `record_client_result`, and the end of the run prints a table
client x feature (also written as Markdown to $SLOTGATE_CLIENT_RESULTS when set).

Run this directory on its own (tests/clients/run does): pytest would load the
integration hooks twice if tests/integration were collected in the same run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from integration import conftest as _integration  # noqa: E402
from integration.conftest import *  # noqa: E402,F401,F403 - fixtures and hooks
from integration.conftest import _cluster_left_healthy  # noqa: E402,F401 - autouse fixture

RESULTS_KEY = pytest.StashKey[dict]()
# Column order of the table (node/protocol.mjs and python/protocol.py run these;
# mset is redis-benchmark's own).
FEATURES = ["connect", "set_get", "pipeline", "mget", "mset", "transaction", "blocking_pop", "pubsub",
            "pool200", "failover", "kill9", "topology", "health", "types", "cacheable", "repository",
            "client_cache"]


@pytest.fixture
def record_client_result(request):
    """record_client_result(client, features, results): features = the feature names
    this client is expected to run (table columns it fills); results = {feature:
    (ok, detail)}; a missing expected feature counts as failed."""

    def record(client: str, features: list[str], results: dict) -> None:
        table = request.config.stash.setdefault(RESULTS_KEY, {})
        table[client] = (list(features), dict(results))

    return record


def _feature_columns(table: dict) -> list[str]:
    seen = {f for features, _ in table.values() for f in features}
    return [f for f in FEATURES if f in seen] + sorted(seen - set(FEATURES))


def results_markdown(table: dict) -> tuple[str, list[str]]:
    """(Markdown table, failure lines) for a {client: (features, results)} table."""
    columns = _feature_columns(table)
    lines = ["| client | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    failures = []
    for client, (features, results) in table.items():
        cells = []
        for f in columns:
            if f not in features:
                cells.append("–")
                continue
            ok, detail = results.get(f, (False, "no result reported"))
            cells.append("pass" if ok else "FAIL")
            if not ok:
                failures.append(f"{client} / {f}: {detail}")
        lines.append(f"| {client} | " + " | ".join(cells) + " |")
    return "\n".join(lines), failures


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = config.stash.get(RESULTS_KEY, None)
    if table:
        text, failures = results_markdown(table)
        terminalreporter.section("client compatibility: client x feature")
        terminalreporter.write_line(text)
        if failures:
            terminalreporter.write_line("")
            terminalreporter.write_line("failures:")
            for line in failures:
                terminalreporter.write_line("  " + line)
        out = os.environ.get("SLOTGATE_CLIENT_RESULTS")
        if out:
            Path(out).write_text(text + "\n" + "".join(f"\n- {f}" for f in failures) + "\n")
    _integration.pytest_terminal_summary(terminalreporter, exitstatus, config)
