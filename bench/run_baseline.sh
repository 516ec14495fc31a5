#!/bin/sh
# Baseline benchmark: redis-benchmark SET/GET at -P 1 and -P 16, directly against a
# private 3x2 Redis Cluster (ports 7600-7605) and through slotgate (7610, --workers 1
# and 2). Prints a markdown table; see bench/README.md. Not part of .ci/run.
# Extra arguments go to bench/baseline.py (--repeat 3, --workers 2, --binary PATH, ...).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 has python3-redis; the first python3 on PATH may not.
exec /usr/bin/python3 "$here/baseline.py" "$@"
