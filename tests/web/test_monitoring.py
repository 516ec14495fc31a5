"""k8s/monitoring against the real thing: promtool checks and unit-tests the alerts of the
PrometheusRule, and a real Prometheus (Debian's /usr/bin/prometheus, on a loopback port)
scrapes the slotgate of this run, so every metric name in a Grafana panel or an alert is
checked against the series slotgate really exports, and every expression is evaluated."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import PROMETHEUS_PORT
from harness import wait_until

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "k8s" / "monitoring"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"


def rule_groups() -> dict:
    doc = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text())
    assert doc["kind"] == "PrometheusRule"
    return {"groups": doc["spec"]["groups"]}


def alerts() -> dict[str, dict]:
    return {r["alert"]: r for g in rule_groups()["groups"] for r in g["rules"] if "alert" in r}


def dashboard_exprs() -> list[tuple[str, str]]:
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    return out


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bslotgate_[a-z0-9_]+", expr))


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "slotgate-alerts.rules.yaml"
    path.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
    return path


def test_promtool_accepts_the_alert_rules(rules_file):
    r = subprocess.run([PROMTOOL, "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 8 rules found" in r.stdout, r.stdout


def _case(alert: str, series: list[tuple[str, str]], eval_time: str, labels: dict | None, summary: str = ""):
    rule = alerts()[alert]
    exp = []
    if labels is not None:
        description = rule["annotations"]["description"]
        for k, v in labels.items():
            description = description.replace("{{ $labels.%s }}" % k, v)
        exp.append({"exp_labels": {**labels, "severity": rule["labels"]["severity"]},
                    "exp_annotations": {"summary": summary, "description": description}})
    return {"interval": "15s",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": exp}]}


def test_alerts_fire_when_they_should_and_not_otherwise(rules_file):
    tests = [
        _case("SlotgateSlotsUncovered", [('slotgate_slots_uncovered{instance="a"}', "0 5461x10")], "1m",
              {"instance": "a"}, "5461 hash slots have no reachable master"),
        _case("SlotgateSlotsUncovered", [('slotgate_slots_uncovered{instance="a"}', "0 5461 0x10")], "1m", None),
        _case("SlotgateRequestsHeldTooLong", [('slotgate_requests_held_oldest_seconds{instance="a",worker="0"}', "0 7")],
              "15s", {"instance": "a"}, "slotgate has held a request for 7s"),
        _case("SlotgateRequestsHeldTooLong", [('slotgate_requests_held_oldest_seconds{instance="a",worker="0"}', "0 4")],
              "15s", None),
        _case("SlotgateHeldRequestsExpiring", [('slotgate_requests_held_expired_total{instance="a"}', "0+3x20")], "3m",
              {"instance": "a"}, "held requests are failing with CLUSTERDOWN"),
        _case("SlotgateOutcomeUnknown", [('slotgate_outcome_unknown_total{instance="a"}', "0 0 0 2 2 2")], "1m",
              {"instance": "a"}, "2 writes ended with an unknown outcome"),
        _case("SlotgateOutcomeUnknown", [('slotgate_outcome_unknown_total{instance="a"}', "5x20")], "4m", None),
        _case("SlotgateBackendReconnectStorm",
              [('slotgate_backend_reconnects_total{instance="a",node="10.0.0.1:6379",worker="0"}', "0+60x40")], "10m",
              {"instance": "a", "node": "10.0.0.1:6379"}, "slotgate reconnects to 10.0.0.1:6379 4 times a second"),
        _case("SlotgateTopologyStale", [('slotgate_topology_refresh_age_seconds{instance="a"}', "0+15x20")], "5m",
              {"instance": "a"}, "slotgate has not heard from the cluster for 5m 0s"),
        _case("SlotgateTopologyStale", [('slotgate_topology_refresh_age_seconds{instance="a"}', "5x40")], "10m", None),
        _case("SlotgateClientConnectionsNearLimit",
              [('slotgate_client_connections{instance="a"}', "950x40"),
               ('slotgate_client_connections_limit{instance="a"}', "1000x40")], "6m",
              {"instance": "a"}, "client connections at 95% of clients.max_clients"),
        _case("SlotgateClientConnectionsNearLimit",
              [('slotgate_client_connections{instance="a"}', "500x40"),
               ('slotgate_client_connections_limit{instance="a"}', "1000x40")], "6m", None),
        _case("SlotgateClientMemoryNearBudget",
              [('slotgate_client_memory_bytes{instance="a"}', "960x40"),
               ('slotgate_client_memory_limit_bytes{instance="a"}', "1000x40")], "6m",
              {"instance": "a"}, "client buffers use 96% of clients.max_memory"),
        # A limit of 0 means "no budget": never an alert (no division by zero firing).
        _case("SlotgateClientMemoryNearBudget",
              [('slotgate_client_memory_bytes{instance="a"}', "960x40"),
               ('slotgate_client_memory_limit_bytes{instance="a"}', "0x40")], "6m", None),
    ]
    covered = {t["alert_rule_test"][0]["alertname"] for t in tests}
    assert covered == set(alerts()), f"alerts without a promtool test: {set(alerts()) - covered}"
    test_file = rules_file.parent / "alerts_test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "15s",
                                         "tests": tests}, sort_keys=False))
    r = subprocess.run([PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


# -- a real Prometheus scraping slotgate -----------------------------------------------------------


def prom_get(path: str, **params):
    url = f"http://127.0.0.1:{PROMETHEUS_PORT}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def prometheus(slotgate, cluster, logdir):
    assert shutil.which(PROMETHEUS), "prometheus is not installed (.ci/setup installs it)"
    workdir = logdir / "prometheus"
    workdir.mkdir(exist_ok=True)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "slotgate", "metrics_path": "/metrics",
                            "static_configs": [{"targets": [f"127.0.0.1:{slotgate.admin_port}"]}]}],
    }))
    log = open(workdir / "prometheus.log", "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}",
                             f"--storage.tsdb.path={workdir / 'data'}",
                             f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
                             "--storage.tsdb.retention.time=1h"], stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        def up() -> bool:
            try:
                res = prom_get("/api/v1/query", query='up{job="slotgate"}')["data"]["result"]
                return bool(res) and res[0]["value"][1] == "1"
            except OSError:
                return False
        wait_until(up, 30, "prometheus to scrape slotgate")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(workdir / "data", ignore_errors=True)  # the log stays; the TSDB is not worth keeping


def make_every_series_appear(slotgate, cluster):
    """Traffic, plus a killed backend connection, so per-node error and reconnect series
    exist (they appear on first use, like every labelled counter)."""
    client = slotgate.client()
    keys = [k for ks in cluster.keys_on_each_master(n_per_master=2, prefix="mon").values() for k in ks]
    for k in keys:
        client.set(k, "v")
    for m in cluster.masters():
        m.call("CLIENT", "KILL", "TYPE", "normal")
    for _ in range(3):
        for k in keys:
            try:
                client.get(k)
            except Exception:  # noqa: BLE001 - a request on a killed connection may fail once
                pass
        time.sleep(0.3)


def test_every_panel_and_alert_uses_series_slotgate_exports(prometheus, slotgate, cluster):
    make_every_series_appear(slotgate, cluster)
    exprs = dashboard_exprs() + [(name, r["expr"]) for name, r in alerts().items()]
    names = set().union(*(metric_names(e) for _, e in exprs))
    assert len(names) >= 25, sorted(names)

    def missing_now() -> set[str]:
        gone = set()
        for n in names:
            if not prom_get("/api/v1/series", **{"match[]": n, "start": str(time.time() - 300)})["data"]:
                gone.add(n)
        return gone

    try:
        wait_until(lambda: not missing_now(), 20, "every series the dashboard and alerts use to be scraped")
    except Exception:
        pytest.fail(f"series used by panels/alerts that slotgate does not export: {sorted(missing_now())}")
    # Every expression is valid PromQL for this Prometheus, with Grafana's variables filled in.
    for title, expr in exprs:
        q = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
        res = prom_get("/api/v1/query", query=q)
        assert res["status"] == "success", (title, expr, res)


def test_dashboard_is_import_ready_with_a_datasource_variable():
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    rows = [p["title"] for p in dash["panels"] if p["type"] == "row"]
    assert rows == ["Traffic", "Latency", "Errors", "Failover and hold", "Topology freshness", "Per node"]
    for p in dash["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in p["targets"]), p["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
