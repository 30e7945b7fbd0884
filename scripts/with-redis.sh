#!/usr/bin/env bash
# Usage: scripts/with-redis.sh CMD [ARGS...]
#
# Runs CMD with a throwaway redis-server on a free 127.0.0.1 port (no
# persistence, its own temporary directory) and GINFRESH_TEST_REDIS_ADDR
# pointing at it; the server is stopped however CMD ends. Without
# redis-server on the PATH, CMD runs without it and the Redis tests skip;
# under CI=true that is an error instead. An address already set in
# GINFRESH_TEST_REDIS_ADDR is used as it is.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [[ -n "${GINFRESH_TEST_REDIS_ADDR:-}" ]]; then
	exec "$@"
fi

if ! command -v redis-server >/dev/null 2>&1; then
	# CI is on for the values Go's strconv.ParseBool reads as true, as in the tests.
	case "${CI:-}" in 1 | t | T | TRUE | true | True) ci=1 ;; *) ci= ;; esac
	if [[ -n $ci ]]; then
		echo "with-redis: redis-server is not on the PATH; CI needs it (apt-get install -y redis-server)" >&2
		exit 1
	fi
	echo "with-redis: redis-server is not on the PATH: the Redis store tests will be SKIPPED" >&2
	exec "$@"
fi

dir=$(mktemp -d)
pid=""
stop() {
	if [[ -n "$pid" ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# ping answers whether a Redis listens on port, without needing redis-cli.
ping() {
	local reply=""
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'PING\r\n' >&3
	read -r -t 1 reply <&3 || true
	exec 3>&-
	[[ "$reply" == +PONG* ]]
}

# Pick a random high port; a taken one makes redis-server exit, so try again.
for _ in $(seq 1 20); do
	port=$((20000 + RANDOM % 40000))
	if ping "$port" 2>/dev/null; then
		continue
	fi
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
		--protected-mode yes --daemonize no --logfile "$dir/redis.log" &
	pid=$!
	for _ in $(seq 1 50); do
		if ping "$port" 2>/dev/null; then
			break 2
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
done
if [[ -z "$pid" ]]; then
	echo "with-redis: could not start redis-server; its last log:" >&2
	cat "$dir/redis.log" >&2 || true
	exit 1
fi

export GINFRESH_TEST_REDIS_ADDR="127.0.0.1:$port"
echo "with-redis: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $GINFRESH_TEST_REDIS_ADDR" >&2
"$@"
