#!/usr/bin/env bash
# Usage: scripts/with-redis.sh CMD [ARGS...]
#
# Runs CMD with throwaway Redis servers on free 127.0.0.1 ports (no
# persistence, a temporary directory of their own), and stops them however
# CMD ends:
#   GINFRESH_TEST_REDIS_ADDR     one redis-server
#   GINFRESH_TEST_REDIS_CLUSTER  a Redis Cluster of three masters (host:port,…)
# Without redis-server on the PATH, CMD runs without them and the Redis
# tests skip; under CI=true that is an error instead. Addresses already set
# in the environment are used as they are.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [[ -n "${GINFRESH_TEST_REDIS_ADDR:-}" && -n "${GINFRESH_TEST_REDIS_CLUSTER:-}" ]]; then
	exec "$@"
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	# CI is on for the values Go's strconv.ParseBool reads as true, as in the tests.
	case "${CI:-}" in 1 | t | T | TRUE | true | True) ci=1 ;; *) ci= ;; esac
	if [[ -n $ci ]]; then
		echo "with-redis: redis-server and redis-cli are not on the PATH; CI needs them (apt-get install -y redis-server)" >&2
		exit 1
	fi
	echo "with-redis: redis-server is not on the PATH: the Redis tests will be SKIPPED" >&2
	exec "$@"
fi

dir=$(mktemp -d)
pids=()
stop() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# free answers whether nothing listens on port.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# serve NAME PORT [ARGS…] starts one server in $dir/NAME and waits for it.
serve() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$dir/$name"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$name" --save '' --appendonly no \
		--protected-mode yes --daemonize no --logfile "$dir/$name/redis.log" "$@" &
	pids+=($!)
	for _ in $(seq 1 100); do
		if redis-cli -p "$port" ping >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "with-redis: redis-server $name did not start; its log:" >&2
	cat "$dir/$name/redis.log" >&2 || true
	exit 1
}

# A base port with four free ports after it: the single server and three
# cluster masters (each also uses port+10000 for the cluster bus).
base=
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 30000))
	if free "$p" && free $((p + 1)) && free $((p + 2)) && free $((p + 3)) &&
		free $((p + 10001)) && free $((p + 10002)) && free $((p + 10003)); then
		base=$p
		break
	fi
done
[[ -n $base ]] || { echo "with-redis: no free ports" >&2; exit 1; }

if [[ -z "${GINFRESH_TEST_REDIS_ADDR:-}" ]]; then
	serve single "$base"
	export GINFRESH_TEST_REDIS_ADDR="127.0.0.1:$base"
fi
if [[ -z "${GINFRESH_TEST_REDIS_CLUSTER:-}" ]]; then
	nodes=()
	for i in 1 2 3; do
		serve "node$i" $((base + i)) --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
		nodes+=("127.0.0.1:$((base + i))")
	done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
		{ cat "$dir/cluster-create.log" >&2; exit 1; }
	for _ in $(seq 1 100); do
		ok=1
		for n in "${nodes[@]}"; do
			redis-cli -p "${n##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=
		done
		[[ -n $ok ]] && break
		sleep 0.1
	done
	[[ -n $ok ]] || { echo "with-redis: the cluster did not come up" >&2; exit 1; }
	GINFRESH_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
	export GINFRESH_TEST_REDIS_CLUSTER
fi

echo "with-redis: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $GINFRESH_TEST_REDIS_ADDR, cluster on $GINFRESH_TEST_REDIS_CLUSTER" >&2
"$@"
