#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a throwaway PostgreSQL cluster (initdb in a temporary
# directory, trust authentication, a free 127.0.0.1 port), and stops it
# however CMD ends:
#   GINFRESH_TEST_POSTGRES_URL  postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   GINFRESH_TEST_POSTGRES_BIN  the directory of initdb and postgres, for
#                               tests that start servers of their own
# PostgreSQL refuses to run as root: under root (as in CI) the cluster runs
# as an unprivileged user, $GINFRESH_POSTGRES_USER or nobody. The binaries
# are looked up in $GINFRESH_TEST_POSTGRES_BIN, on the PATH, then in
# /usr/lib/postgresql/*/bin (Debian's postgresql package). Without them,
# CMD runs without a server and the PostgreSQL tests skip; under CI=true
# that is an error instead. A URL already set in the environment is used
# as it is.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [[ -n "${GINFRESH_TEST_POSTGRES_URL:-}" ]]; then
	exec "$@"
fi

candidates=("${GINFRESH_TEST_POSTGRES_BIN:-}")
if command -v initdb >/dev/null 2>&1; then
	candidates+=("$(dirname "$(command -v initdb)")")
fi
# The newest version first.
candidates+=($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r))
bin=
for d in "${candidates[@]}"; do
	if [[ -n $d && -x $d/initdb && -x $d/postgres && -x $d/pg_isready ]]; then
		bin=$d
		break
	fi
done
if [[ -z $bin ]]; then
	# CI is on for the values Go's strconv.ParseBool reads as true, as in the tests.
	case "${CI:-}" in 1 | t | T | TRUE | true | True) ci=1 ;; *) ci= ;; esac
	if [[ -n $ci ]]; then
		echo "with-postgres: initdb and postgres are not installed; CI needs them (apt-get install -y postgresql)" >&2
		exit 1
	fi
	echo "with-postgres: PostgreSQL is not installed: the PostgreSQL tests will be SKIPPED" >&2
	exec "$@"
fi

# as prefixes a command to run it as the cluster's owner: this user, or an
# unprivileged one under root. setpriv execs in place, so $! of a server
# started in the background is the server itself.
as=()
if [[ $(id -u) -eq 0 ]]; then
	owner=${GINFRESH_POSTGRES_USER:-nobody}
	uid=$(id -u "$owner")
	gid=$(id -g "$owner")
	as=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --)
	# Under /tmp, which the owner can reach, whatever TMPDIR says.
	dir=$(mktemp -d /tmp/ginfresh-postgres.XXXXXX)
	chown "$uid:$gid" "$dir"
else
	dir=$(mktemp -d -t ginfresh-postgres.XXXXXX)
fi

pid=
stop() {
	if [[ -n $pid ]]; then
		# SIGQUIT: immediate shutdown; the cluster is thrown away anyway.
		kill -QUIT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

# The server's working directory must be one its owner may enter.
cd "$dir"
if ! "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
	echo "with-postgres: initdb failed:" >&2
	cat "$dir/initdb.log" >&2
	exit 1
fi
cd - >/dev/null

# free answers whether nothing listens on port.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 30000))
	if free "$p"; then
		port=$p
		break
	fi
done
[[ -n $port ]] || { echo "with-postgres: no free port" >&2; exit 1; }

cd "$dir"
"${as[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
	-c max_connections=300 >"$dir/postgres.log" 2>&1 &
pid=$!
cd - >/dev/null
for _ in $(seq 1 200); do
	if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	sleep 0.05
done
if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
	echo "with-postgres: postgres did not start; its log:" >&2
	cat "$dir/postgres.log" >&2 || true
	exit 1
fi

export GINFRESH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export GINFRESH_TEST_POSTGRES_BIN=$bin
echo "with-postgres: $("$bin/postgres" --version) on 127.0.0.1:$port" >&2
"$@"
