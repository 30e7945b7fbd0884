#!/usr/bin/env bash
# Load test: builds and starts the example server on a free loopback port,
# logs in, then drives the public GET /public and GET /protected with
# a valid token through wrk, alternating, and prints requests/s for both and
# their ratio. The server is stopped on exit.
#   DURATION  seconds per wrk run (default 10)
#   ROUNDS    alternating public/protected rounds (default 2)
#   THREADS, CONNECTIONS  wrk settings (default 2 and 50)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-10}
rounds=${ROUNDS:-2}
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

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
GINFRESH_SECRET=$secret HOST=127.0.0.1 PORT=$port GIN_MODE=release bin/example >bin/load-server.log 2>&1 &
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
	printf '  %-10s %10.0f req/s   p50 %-8s p99 %s\n' "$name" "$rps" "$p50" "$p99" >&3
	echo "$rps"
}

exec 3>&1 # drive reports here while its output is captured
echo "# $(go version); $(nproc) CPUs; wrk -t$threads -c$connections -d${duration}s, $rounds rounds, server and wrk on one machine"
wrk -t"$threads" -c"$connections" -d2s "$base/public" >/dev/null # warm-up
# Each round runs the two back to back, so both see about the same load
# from whatever else the machine is doing; the ratio is taken per round.
results=()
for r in $(seq "$rounds"); do
	echo "round $r"
	pub=$(drive public /public)
	prot=$(drive protected /protected -H "Authorization: Bearer $token")
	results+=("$pub $prot")
done
printf '%s\n' "${results[@]}" | sort -k1,1 | awk -v n="$rounds" '
	{ pub[NR] = $1; prot[NR] = $2; ratio[NR] = $2 / $1; sp += $1; sq += $2 }
	END {
		# median of the per-round ratios
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
		med = (n % 2) ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
		printf "mean over %d rounds: public GET /public %.0f req/s, GET /protected %.0f req/s\n", n, sp / n, sq / n
		printf "protected / public: median of the per-round ratios %.3f, ratio of the means %.3f  [target >= 0.90]\n", med, sq / sp
	}'
