#!/usr/bin/env bash
# Load test: builds and starts the example server on a free loopback port,
# logs in, then drives the public GET /public and GET /protected with a
# valid token through wrk, in alternating rounds, and prints requests/s for
# both and their ratio. The server is stopped on exit. The example checks
# every access token against its store (WithAccessRevocation).
#   STORE     memory (default), redis or redis-cluster: where sessions live;
#             the Redis ones need GINFRESH_TEST_REDIS_ADDR or _CLUSTER, which
#             `make load STORE=redis` provides through scripts/with-redis.sh
#   DURATION  seconds per wrk run (default 10)
#   ROUNDS    rounds of public, public with a same-size header, protected (default 3)
#   THREADS, CONNECTIONS  wrk settings (default 2 and 50)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-10}
rounds=${ROUNDS:-3}
threads=${THREADS:-2}
connections=${CONNECTIONS:-50}

if ! command -v wrk >/dev/null; then
	echo "wrk is missing; installing it with apt-get" >&2
	if [[ $(id -u) -ne 0 ]]; then
		echo "run as root, or install the Debian package wrk" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

mkdir -p bin
(cd example && go build -o ../bin/example .)

# A free port: one nothing answers on.
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
[[ -n $port ]] || { echo "no free port found" >&2; exit 1; }
base=http://127.0.0.1:$port

store=${STORE:-memory}
storeenv=()
case $store in
memory) ;;
redis) storeenv=("REDIS_URL=redis://${GINFRESH_TEST_REDIS_ADDR:?STORE=redis needs GINFRESH_TEST_REDIS_ADDR (make load STORE=redis)}/0") ;;
redis-cluster) storeenv=("REDIS_CLUSTER=${GINFRESH_TEST_REDIS_CLUSTER:?STORE=redis-cluster needs GINFRESH_TEST_REDIS_CLUSTER (make load STORE=redis-cluster)}") ;;
*) echo "STORE=$store: want memory, redis or redis-cluster" >&2; exit 2 ;;
esac

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
env "${storeenv[@]}" GINFRESH_SECRET="$secret" HOST=127.0.0.1 PORT="$port" GIN_MODE=release bin/example >bin/load-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
	curl -sf "$base/public" >/dev/null && break
	kill -0 "$server" 2>/dev/null || { cat bin/load-server.log >&2; exit 1; }
	sleep 0.1
done

token=$(curl -sf "$base/login" -H 'Content-Type: application/json' -d '{"username":"test","password":"test"}' |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n $token ]] || { echo "login failed" >&2; exit 1; }

# The protected route must really accept the token and refuse a bad one,
# or wrk would time a refusal.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(code "$base/protected" -H "Authorization: Bearer $token") == 200 ]] || { echo "the token is refused" >&2; exit 1; }
[[ $(code "$base/protected" -H "Authorization: Bearer ${token}x") == 401 ]] || { echo "a bad token is accepted" >&2; exit 1; }

# drive NAME PATH [wrk args…]: one wrk run; prints its requests/s.
drive() {
	local name=$1 path=$2 out
	shift 2
	out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@" "$base$path")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "$name: wrk saw error responses:" >&2
		echo "$out" >&2
		exit 1
	fi
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	printf '  %-11s %10.0f req/s   p50 %-8s p99 %s\n' "$name" "$rps" "$p50" "$p99" >&3
	echo "$rps"
}

exec 3>&1 # drive reports here while its output is captured
echo "# $(go version); $(nproc) CPUs; store $store; wrk -t$threads -c$connections -d${duration}s, $rounds rounds, server, store and wrk on one machine"
wrk -t"$threads" -c"$connections" -d2s "$base/public" >/dev/null # warm-up

# The protected request carries a 300-byte Authorization header, which
# net/http parses before any middleware runs. So each round drives the
# public route twice: bare, and with a header of the same size that no
# middleware reads; the second isolates what the token check costs. The
# runs of a round go back to back, so they see about the same load from
# whatever else the machine is doing, and ratios are taken per round.
auth="Bearer $token"
pad="X-Token-Bytes: $(printf '%*s' "${#auth}" '' | tr ' ' a)" # as long as "Authorization: $auth"
results=()
for r in $(seq "$rounds"); do
	echo "round $r"
	plain=$(drive public /public)
	padded=$(drive public+hdr /public -H "$pad")
	prot=$(drive protected /protected -H "Authorization: $auth")
	results+=("$plain $padded $prot")
done
printf '%s\n' "${results[@]}" | awk -v n="$rounds" '
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	{ plain[NR] = $1; padded[NR] = $2; prot[NR] = $3; rp[NR] = $3 / $1; rh[NR] = $3 / $2 }
	END {
		printf "medians over %d rounds: GET /public %.0f req/s, with a same-size header %.0f req/s, GET /protected %.0f req/s\n", n, median(plain, n), median(padded, n), median(prot, n)
		printf "protected / public, same header bytes: %.3f  (median of per-round ratios)\n", median(rh, n)
		printf "protected / public, no header:         %.3f  [target >= 0.85]  (includes net/http parsing the token header)\n", median(rp, n)
	}'
