#!/bin/sh
# cluster-init.sh - run once by the redis-cluster-init Job: waits until every pod of
# the StatefulSet answers PING under its DNS name, then joins them into one cluster
# (1 replica per master). Safe to run again: it stops when the first node already
# knows other nodes. The password comes from REDISCLI_AUTH (never on a command line).
# Environment: STATEFULSET, HEADLESS_SERVICE, CLUSTER_SIZE, REDIS_PORT, REDISCLI_AUTH.
set -eu

nodes=""
i=0
while [ "$i" -lt "$CLUSTER_SIZE" ]; do
  host="$STATEFULSET-$i.$HEADLESS_SERVICE"
  until [ "$(redis-cli -h "$host" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; do
    echo "waiting for $host:$REDIS_PORT"
    sleep 2
  done
  nodes="$nodes $host:$REDIS_PORT"
  i=$((i + 1))
done

first="$STATEFULSET-0.$HEADLESS_SERVICE"
known=$(redis-cli -h "$first" -p "$REDIS_PORT" cluster info | tr -d '\r' |
  sed -n 's/^cluster_known_nodes://p')
if [ "${known:-1}" -gt 1 ]; then
  echo "$first already knows $known nodes: the cluster exists, nothing to do"
  exit 0
fi

echo "creating the cluster from:$nodes"
# $nodes is unquoted on purpose: one argument per node.
# shellcheck disable=SC2086
redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes
