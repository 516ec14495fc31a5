"""`workers: auto` runs one event loop on a machine (or cpuset) of up to 2 CPUs: on 2
cores a second loop competes with the backends and the kernel for the same cores and
costs more CPU per request (bench/issue_table.sh measures it). Above 2 CPUs auto is one
loop per CPU."""

from __future__ import annotations

import os
import re

import pytest

from test_config_cli import info_workers, wrapper


def cpus_available() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def test_workers_auto_is_one_worker_on_two_cpus(make_slotgate, tmp_path):
    cpus = cpus_available()
    if len(cpus) < 2:
        pytest.skip("needs 2 CPUs in the affinity mask")
    pin = ",".join(str(c) for c in cpus[:2])
    gate = make_slotgate(workers="auto", binary=wrapper(tmp_path, prefix=f"taskset -c {pin}"))
    assert info_workers(gate) == 1
    assert re.search(r"with 1 worker\(s\) = auto: 1 \(affinity 2 CPUs, .*1 worker on 2 CPUs\)", gate.log_tail(40)), \
        gate.log_tail(40)


def test_workers_auto_is_one_per_cpu_above_two(make_slotgate, tmp_path):
    cpus = cpus_available()
    if len(cpus) < 3:
        pytest.skip("needs 3 CPUs in the affinity mask")
    pin = ",".join(str(c) for c in cpus[:3])
    gate = make_slotgate(workers="auto", binary=wrapper(tmp_path, prefix=f"taskset -c {pin}"))
    assert info_workers(gate) == 3
