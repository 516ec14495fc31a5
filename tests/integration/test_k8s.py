"""Kubernetes manifests: render every kustomization under k8s/ and check that the
pieces agree with each other, with the Dockerfile, and with slotgate itself.

Kubernetes never sees these files in this test; what is checked is what a
mismatch would break on a real cluster: probes on a port or path slotgate does
not serve, a ${VAR} in the config that no env var provides, a grace period
shorter than the drain, a Service selecting no pods, and a config file slotgate
refuses (`slotgate --check-config`, run with the env the pod would get).

Needs kubectl (`kubectl kustomize`); .ci/setup installs kubernetes-client when
kubectl is absent. KUBECTL=/path/to/kubectl picks another one (e.g. Debian's
1.20, whose kustomize 2.0 the manifests also support). The --check-config and
admin-endpoint tests need the slotgate binary: SLOTGATE_BIN or build/slotgate.
Ports used: 7516-7519 on 127.0.0.1.
"""

import base64
import functools
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
KUSTOMIZATIONS = ["base", "overlays/nodeport", "overlays/tls", "overlays/sentinel", "monitoring", "redis-cluster", "example"]
# What slotgate's admin server serves (DESIGN.md: admin part).
ADMIN_ENDPOINTS = {"/metrics", "/healthz", "/readyz", "/topology"}
EXAMPLE_NAMESPACE = "redis"
PORT_LISTEN, PORT_ADMIN, PORT_NO_REDIS = 7516, 7517, 7519


# ---- helpers -------------------------------------------------------------------


def kubectl():
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "kubectl not found: these tests render k8s/ with `kubectl kustomize`. "
            "Install it (apt-get install kubernetes-client; .ci/setup does this) "
            "or point KUBECTL at a kubectl binary."
        )
    return path


@functools.lru_cache(maxsize=None)
def render(name):
    """Objects of one kustomization, as `kubectl kustomize` renders them."""
    proc = subprocess.run(
        [kubectl(), "kustomize", str(K8S / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"kubectl kustomize k8s/{name} failed:\n{proc.stderr}"
    return tuple(d for d in yaml.safe_load_all(proc.stdout) if d)


def find(objs, kind, name=None):
    hits = [o for o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert hits, f"no {kind} {name or ''} in the rendered objects"
    return hits[0] if name else hits


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"]["labels"]


def slotgate_container(objs):
    deployment = find(objs, "Deployment", "slotgate")
    containers = pod_spec(deployment)["containers"]
    return deployment, next(c for c in containers if c["name"] == "slotgate")


def config_text(objs):
    """The slotgate.yaml held by the generated ConfigMap the Deployment mounts."""
    prefix = "slotgate-config"  # kustomize appends a content hash
    cms = [o for o in find(objs, "ConfigMap") if o["metadata"]["name"].startswith(prefix)]
    assert len(cms) == 1, "expected exactly one slotgate-config ConfigMap"
    return cms[0]["metadata"]["name"], cms[0]["data"]["slotgate.yaml"]


def config(objs):
    return yaml.safe_load(config_text(objs)[1])


def port_of(listen):
    host, _, port = listen.rpartition(":")
    assert host and port.isdigit(), f"'{listen}' is not HOST:PORT"
    return int(port)


def seconds(duration):
    """slotgate durations: 250ms 20s 5m 1h 0, plain integers are seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", str(duration))
    assert m, f"'{duration}' is not a duration"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def cpu_cores(quantity):
    q = str(quantity)
    return int(q[:-1]) / 1000 if q.endswith("m") else float(q)


def container_port(container, port):
    """A probe or Service target port (name or number) resolved to the container's number."""
    if isinstance(port, int):
        return port
    if str(port).isdigit():
        return int(port)
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"port name '{port}' is not a port of container {container['name']}"
    return named[port]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def workloads(objs):
    return [o for o in objs if o["kind"] in ("Deployment", "StatefulSet", "Job")]


def example_secrets(objs):
    """name -> {key: value} of the Secrets the example generates."""
    out = {}
    for s in (o for o in objs if o["kind"] == "Secret"):
        data = {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}
        data.update(s.get("stringData") or {})
        out[s["metadata"]["name"]] = data
    return out


def pod_env(objs, container):
    """The environment Kubernetes would give the container (secrets from the example)."""
    secrets = example_secrets(objs)
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            # Kubernetes expands $(VAR) of earlier env entries in a value.
            expand = lambda m: env.get(m.group(1), m.group(0))  # noqa: E731
            env[e["name"]] = re.sub(r"\$\((\w+)\)", expand, e["value"])
        elif "secretKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
        elif "fieldRef" in e.get("valueFrom", {}):
            env[e["name"]] = "10.0.0.1"  # status.podIP and the like
    return env


def slotgate_bin():
    path = Path(os.environ.get("SLOTGATE_BIN") or REPO / "build" / "slotgate")
    assert path.is_file() and os.access(path, os.X_OK), (
        f"slotgate binary not found at {path}: build it (cmake --build build --target slotgate) "
        "or set SLOTGATE_BIN"
    )
    return path


def dockerfile_instructions(name):
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    words = (line.split(None, 1) for line in text.splitlines())
    return [w[1] for w in words if len(w) == 2 and w[0] == name]


# ---- every kustomization renders ----------------------------------------------------


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_kustomization_renders(name):
    objs = render(name)
    assert objs, f"k8s/{name} rendered nothing"
    for o in objs:
        assert o.get("apiVersion") and o.get("kind") and o["metadata"].get("name"), o


def test_base_and_monitoring_are_namespace_agnostic_and_example_uses_redis():
    for name in ("base", "overlays/nodeport", "monitoring", "redis-cluster"):
        assert all("namespace" not in o["metadata"] for o in render(name)), name
    objs = render("example")
    find(objs, "Namespace", EXAMPLE_NAMESPACE)
    for o in objs:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == EXAMPLE_NAMESPACE, o["metadata"]["name"]


def test_base_applies_without_the_prometheus_operator_crd():
    for name in ("base", "overlays/nodeport", "redis-cluster", "example"):
        assert not [o for o in render(name) if o["kind"] == "ServiceMonitor"], name


# ---- slotgate pod against its own config ---------------------------------------------


def test_config_copy_is_identical_to_config_dir_and_is_what_the_configmap_holds():
    copy = (K8S / "base" / "slotgate.yaml").read_text()
    original = (REPO / "config" / "slotgate.k8s.yaml").read_text()
    assert copy == original, (
        "k8s/base/slotgate.yaml differs from config/slotgate.k8s.yaml: copy it again"
    )
    assert config_text(render("base"))[1] == original


def test_config_is_mounted_where_slotgate_is_told_to_read_it():
    objs = render("base")
    deployment, c = slotgate_container(objs)
    cm_name, _ = config_text(objs)
    args = c["args"]
    path = Path(args[args.index("--config") + 1])
    volume = next(v for v in pod_spec(deployment)["volumes"] if v.get("configMap"))
    assert volume["configMap"]["name"] == cm_name, "the Deployment mounts another ConfigMap"
    mount = next(m for m in c["volumeMounts"] if m["name"] == volume["name"])
    assert Path(mount["mountPath"]) / "slotgate.yaml" == path
    # The image bakes the same file at the same place, so `docker run` works without a mount.
    assert any(i.split()[-1] == str(path) for i in dockerfile_instructions("COPY"))


def test_container_ports_match_listen_and_admin_listen():
    objs = render("base")
    _, c = slotgate_container(objs)
    cfg = config(objs)
    assert container_port(c, "redis") == port_of(cfg["listen"])
    assert container_port(c, "admin") == port_of(cfg["admin"]["listen"])
    exposed = {int(p.split("/")[0]) for i in dockerfile_instructions("EXPOSE") for p in i.split()}
    assert exposed == {port_of(cfg["listen"]), port_of(cfg["admin"]["listen"])}


def test_probes_ask_the_admin_port_for_endpoints_slotgate_serves():
    objs = render("base")
    deployment, c = slotgate_container(objs)
    admin_port = port_of(config(objs)["admin"]["listen"])
    probes = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in probes.items():
        get = c[probe]["httpGet"]
        assert get["path"] == path, probe
        assert get["path"] in ADMIN_ENDPOINTS
        assert container_port(c, get["port"]) == admin_port, probe
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == admin_port
    assert annotations["prometheus.io/path"] == "/metrics"


def test_every_config_variable_is_set_by_the_deployment_and_every_secret_key_exists():
    objs = render("example")
    _, c = slotgate_container(objs)
    env_names = {e["name"] for e in c["env"]}
    referenced = set(re.findall(r"(?<!\$)\$\{(\w+)(?::-[^}]*)?\}", config_text(objs)[1]))
    assert referenced, "expected ${VAR} references in slotgate.k8s.yaml"
    assert referenced <= env_names, f"not set by the Deployment: {sorted(referenced - env_names)}"
    # The env overrides slotgate reads for credentials come from the Secret.
    for name in ("REDIS_PASSWORD", "SLOTGATE_PASSWORD"):
        assert "secretKeyRef" in next(e for e in c["env"] if e["name"] == name)["valueFrom"], name
    secrets = example_secrets(objs)
    refs = 0
    for w in workloads(objs):
        for ctr in w["spec"]["template"]["spec"]["containers"]:
            for e in ctr.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs += 1
                    where = f"{w['kind']}/{w['metadata']['name']} env {e['name']}"
                    assert ref["name"] in secrets, f"{where}: no Secret {ref['name']}"
                    assert ref["key"] in secrets[ref["name"]], f"{where}: no key {ref['key']}"
    assert refs >= 5
    assert set(secrets["slotgate-secrets"]) == {"redis-password", "slotgate-password"}


def test_grace_period_covers_prestop_and_shutdown_grace():
    objs = render("base")
    deployment, c = slotgate_container(objs)
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep", pre_stop
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= seconds(config(objs)["shutdown_grace"]) + seconds(pre_stop[1])


def test_pod_runs_as_the_images_non_root_user_with_a_read_only_root():
    deployment, c = slotgate_container(render("base"))
    pod_sc = deployment["spec"]["template"]["spec"]["securityContext"]
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and pod_sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    (user,) = dockerfile_instructions("USER")
    assert user.split(":")[0] == str(sc["runAsUser"]) == str(pod_sc["runAsUser"]), (
        "runAsUser must be the Dockerfile's numeric USER"
    )


def test_workers_fit_the_cpu_limit():
    objs = render("base")
    _, c = slotgate_container(objs)
    args = c["args"]
    workers = config(objs).get("workers", "auto")
    if "--workers" in args:  # the command line overrides the file
        workers = args[args.index("--workers") + 1]
    # "auto" follows the container's cgroup CPU quota (test_config_cli's workers_auto
    # tests), so it needs limits.cpu; without a limit it would be every core of the node.
    limit = cpu_cores(c["resources"]["limits"]["cpu"])
    assert limit > 0, "set limits.cpu: workers auto follows it"
    if str(workers) != "auto":
        assert str(workers).isdigit(), f"workers must be auto or a number, not {workers!r}"
        assert 1 <= int(workers) <= max(1, limit)
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]


def test_deployment_spreads_replicas_over_nodes():
    deployment, _ = slotgate_container(render("base"))
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert matches(spread["labelSelector"]["matchLabels"], labels)
    (anti,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert matches(anti["podAffinityTerm"]["labelSelector"]["matchLabels"], labels)


# ---- selectors -----------------------------------------------------------------------


def test_services_and_pdbs_select_the_pods_of_a_workload():
    objs = render("example")
    pods = {f"{w['kind']}/{w['metadata']['name']}": pod_labels(w) for w in workloads(objs)}
    for w in workloads(objs):
        if w["kind"] != "Job":
            assert matches(w["spec"]["selector"]["matchLabels"], pod_labels(w))
    for o in objs:
        if o["kind"] == "Service":
            selector = o["spec"]["selector"]
        elif o["kind"] == "PodDisruptionBudget":
            selector = o["spec"]["selector"]["matchLabels"]
        else:
            continue
        hit = [name for name, labels in pods.items() if matches(selector, labels)]
        assert len(hit) == 1, f"{o['kind']}/{o['metadata']['name']} selects {hit or 'no pods'}"


def test_slotgate_services_reach_the_right_container_ports():
    objs = render("base")
    _, c = slotgate_container(objs)
    cfg = config(objs)
    svc = find(objs, "Service", "slotgate")
    assert svc["spec"]["type"] == "LoadBalancer"
    (port,) = svc["spec"]["ports"]  # the admin port is not exposed outside
    assert port["port"] == 6379 and container_port(c, port["targetPort"]) == port_of(cfg["listen"])
    admin = find(objs, "Service", "slotgate-admin")
    assert admin["spec"].get("type", "ClusterIP") == "ClusterIP"
    (port,) = admin["spec"]["ports"]
    assert container_port(c, port["targetPort"]) == port_of(cfg["admin"]["listen"])


def test_pdb_keeps_one_slotgate_up():
    pdb = find(render("base"), "PodDisruptionBudget", "slotgate")
    assert pdb["spec"]["minAvailable"] == 1


def test_servicemonitor_scrapes_metrics_through_the_admin_service():
    (sm,) = find(render("monitoring"), "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    admin = find(render("base"), "Service", "slotgate-admin")
    assert matches(sm["spec"]["selector"]["matchLabels"], admin["metadata"]["labels"])
    lb = find(render("base"), "Service", "slotgate")
    assert not matches(sm["spec"]["selector"]["matchLabels"], lb["metadata"]["labels"]), (
        "the ServiceMonitor would scrape every pod twice (also through the LoadBalancer Service)"
    )
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in admin["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


# ---- overlays and the example ----------------------------------------------------------


def test_nodeport_overlay_only_changes_the_service_type_and_node_port():
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    base = {key(o): o for o in render("base")}
    overlay = {key(o): o for o in render("overlays/nodeport")}
    assert base.keys() == overlay.keys()
    for k in base:
        if k != ("Service", "slotgate"):
            assert overlay[k] == base[k], f"the nodeport overlay changed {k}"
    svc = overlay[("Service", "slotgate")]
    assert svc["spec"]["type"] == "NodePort"
    (port,) = svc["spec"]["ports"]
    assert port.pop("nodePort") == 30679
    svc["spec"]["type"] = "LoadBalancer"
    assert svc == base[("Service", "slotgate")]


def test_example_seed_is_the_redis_cluster_headless_service():
    objs = render("example")
    headless = find(objs, "Service", "redis-cluster-headless")
    assert headless["spec"]["clusterIP"] == "None"
    sts = find(objs, "StatefulSet", "redis-cluster")
    assert sts["spec"]["serviceName"] == "redis-cluster-headless"
    redis_port = next(p["port"] for p in headless["spec"]["ports"] if p["name"] == "redis")
    for seed in config(objs)["cluster"]["seeds"]:
        host, _, port = seed.rpartition(":")
        parts = host.split(".")
        assert parts[0] == "redis-cluster-headless" and int(port) == redis_port, seed
        ns = EXAMPLE_NAMESPACE
        assert len(parts) == 1 or parts[1] == ns, f"{seed}: not in namespace {ns}"


def test_example_redis_cluster_is_six_nodes_with_passwords_and_an_init_job():
    objs = render("example")
    sts = find(objs, "StatefulSet", "redis-cluster")
    assert sts["spec"]["replicas"] == 6
    (redis,) = sts["spec"]["template"]["spec"]["containers"]
    args = redis["args"]
    for flag, value in {
        "--cluster-enabled": "yes",
        "--requirepass": "$(REDIS_PASSWORD)",
        "--masterauth": "$(REDIS_PASSWORD)",
    }.items():
        assert args[args.index(flag) + 1] == value, flag
    # $(VAR) in args expands only when the env var exists.
    assert {"REDIS_PASSWORD", "POD_IP"} <= {e["name"] for e in redis["env"]}
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] in {m["name"] for m in redis["volumeMounts"]}
    job = find(objs, "Job", "redis-cluster-init")
    (init,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in init["env"]}
    assert env["STATEFULSET"] == sts["metadata"]["name"]
    assert env["HEADLESS_SERVICE"] == sts["spec"]["serviceName"]
    assert int(env["CLUSTER_SIZE"]) == sts["spec"]["replicas"]
    script_cm = next(v["configMap"]["name"] for v in pod_spec(job)["volumes"] if "configMap" in v)
    script = find(objs, "ConfigMap", script_cm)["data"]["cluster-init.sh"]
    assert "--cluster create" in script and "--cluster-replicas 1" in script
    assert script == (K8S / "redis-cluster" / "cluster-init.sh").read_text()


def test_example_passwords_are_marked_as_examples():
    (secret,) = [o for o in render("example") if o["kind"] == "Secret"]
    for key, value in example_secrets([secret])["slotgate-secrets"].items():
        assert "example" in value and "change-me" in value, key


# ---- slotgate itself ---------------------------------------------------------------------


def test_configmap_config_passes_slotgate_check_config(tmp_path):
    objs = render("example")
    _, c = slotgate_container(objs)
    config_file = tmp_path / "slotgate.yaml"
    config_file.write_text(config_text(objs)[1])
    overrides = ("REDIS_USERNAME", "REDIS_PASSWORD", "SLOTGATE_PASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in overrides}
    env.update(pod_env(objs, c))
    proc = subprocess.run(
        [str(slotgate_bin()), "--check-config", str(config_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "config OK" in out, out


def test_sentinel_overlay_points_slotgate_at_the_sentinels_and_passes_check_config(tmp_path):
    objs = render("overlays/sentinel")
    cfg = config(objs)
    backend = cfg["backend"]
    assert backend["kind"] == "sentinel" and backend["master_name"] == "mymaster"
    assert all(s.startswith("redis-headless.") and s.endswith(":26379") for s in backend["sentinels"])
    assert "seeds" not in cfg["cluster"], "a Sentinel deployment has no cluster seeds"
    # Only the slotgate.yaml differs from the base: same Deployment, Service and Secrets.
    base_kinds = sorted((o["kind"], o["metadata"]["name"]) for o in render("base") if o["kind"] != "ConfigMap")
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objs if o["kind"] != "ConfigMap") == base_kinds
    example = render("example")
    _, c = slotgate_container(example)
    config_file = tmp_path / "slotgate.yaml"
    config_file.write_text(config_text(objs)[1])
    overrides = ("REDIS_USERNAME", "REDIS_PASSWORD", "SLOTGATE_PASSWORD", "SENTINEL_PASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in overrides}
    env.update(pod_env(example, c))
    proc = subprocess.run([str(slotgate_bin()), "--check-config", str(config_file)],
                          capture_output=True, text=True, env=env, timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "config OK" in out, out


def wait_for_port(port, proc, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        assert proc.poll() is None, f"slotgate exited with {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"slotgate's admin port {port} did not open within {deadline}s")


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_probe_paths_are_served_by_slotgate(tmp_path):
    """Runs slotgate with the ConfigMap's config (ports moved to 127.0.0.1, a seed where
    no Redis listens) and asks the admin port for every path the manifests use."""
    objs = render("example")
    deployment, c = slotgate_container(objs)
    config_file = tmp_path / "slotgate.yaml"
    config_file.write_text(config_text(objs)[1])
    env = dict(os.environ)
    env.update(pod_env(objs, c))
    cmd = [
        str(slotgate_bin()),
        "--config", str(config_file),
        "--listen", f"127.0.0.1:{PORT_LISTEN}",
        "--admin", f"127.0.0.1:{PORT_ADMIN}",
        "--seed", f"127.0.0.1:{PORT_NO_REDIS}",
        "--workers", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(PORT_ADMIN, proc)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        paths = {
            c["livenessProbe"]["httpGet"]["path"]: {200},
            c["readinessProbe"]["httpGet"]["path"]: {200, 503},
            annotations["prometheus.io/path"]: {200},
        }
        for path, expected in paths.items():
            status = http_status(f"http://127.0.0.1:{PORT_ADMIN}{path}")
            # Without a reachable cluster /readyz may say "not ready" (503), never "no such page".
            assert status in expected, f"GET {path} -> {status}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
