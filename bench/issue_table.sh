#!/bin/sh
# Issue 14's performance table for the current build, in one command: slotgate vs. the
# cluster used directly vs. a plain redis-server (CPU anchor), workers 1 and auto,
# memory per idle client, MGET/MSET 10/100 keys. Starts its own cluster on
# 127.0.0.1:11300-11305 (bus 21300-21305), redis-server on 11320, slotgate on
# 11310/11311 and 11330/11331. Builds nothing: run cmake --build build first.
#   bench/issue_table.sh [--readme README.md] [--binary PATH] [--skip idle,multikey]
# See bench/README.md. Not part of .ci/run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 has python3-redis; the first python3 on PATH may not.
exec /usr/bin/python3 "$here/issue_table.py" "$@"
