#!/bin/sh
# MGET/MSET of 10 and 100 keys spread over all masters: redis-benchmark and a Python
# client through slotgate (7710) vs. redis-py's cluster client directly on a private
# 3x2 Redis Cluster (ports 7700-7705). Prints a markdown table; see bench/README.md.
# Not part of .ci/run. Extra arguments go to bench/run_multikey.py (--sizes 10,100,
# --procs 4, --duration 5, --workers 2, --binary PATH, ...).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 has python3-redis; the first python3 on PATH may not.
exec /usr/bin/python3 "$here/run_multikey.py" "$@"
