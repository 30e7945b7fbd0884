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
stop_servers() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}
stop() {
	stop_servers
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# free answers whether nothing listens on port.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# serve NAME PORT [ARGS…] starts one server in $dir/NAME and waits for it;
# it fails (and stops the server) when the server does not come up, as when
# a port turns out to be taken.
serve() {
	local name=$1 port=$2
	shift 2
	rm -rf "${dir:?}/$name"
	mkdir -p "$dir/$name"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$name" --save '' --appendonly no \
		--protected-mode yes --daemonize no --logfile "$dir/$name/redis.log" "$@" &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 1 100); do
		if redis-cli -p "$port" ping >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	return 1
}

# start_all starts what is missing on ports from base: the single server on
# base and three cluster masters on base+1…3 (each also uses port+10000 for
# the cluster bus).
start_all() {
	local base=$1
	if [[ -z "${GINFRESH_TEST_REDIS_ADDR:-}" ]]; then
		serve single "$base" || return 1
		single="127.0.0.1:$base"
	fi
	if [[ -z "${GINFRESH_TEST_REDIS_CLUSTER:-}" ]]; then
		nodes=()
		for i in 1 2 3; do
			serve "node$i" $((base + i)) --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 || return 1
			nodes+=("127.0.0.1:$((base + i))")
		done
		redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 || return 1
		for _ in $(seq 1 100); do
			local ok=1
			for n in "${nodes[@]}"; do
				redis-cli -p "${n##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=
			done
			[[ -n $ok ]] && return 0
			sleep 0.1
		done
		return 1
	fi
}

started=
for _ in $(seq 1 10); do
	p=$((20000 + RANDOM % 30000))
	if ! free "$p" || ! free $((p + 1)) || ! free $((p + 2)) || ! free $((p + 3)) ||
		! free $((p + 10001)) || ! free $((p + 10002)) || ! free $((p + 10003)); then
		continue
	fi
	if start_all "$p"; then
		started=1
		break
	fi
	stop_servers # a port was taken after all: start over elsewhere
done
if [[ -z $started ]]; then
	echo "with-redis: could not start the Redis servers; the last logs:" >&2
	tail -n 5 "$dir"/*/redis.log "$dir/cluster-create.log" >&2 2>/dev/null || true
	exit 1
fi
if [[ -n "${single:-}" ]]; then
	export GINFRESH_TEST_REDIS_ADDR="$single"
fi
if [[ -z "${GINFRESH_TEST_REDIS_CLUSTER:-}" ]]; then
	GINFRESH_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
	export GINFRESH_TEST_REDIS_CLUSTER
fi

echo "with-redis: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $GINFRESH_TEST_REDIS_ADDR, cluster on $GINFRESH_TEST_REDIS_CLUSTER" >&2
"$@"
