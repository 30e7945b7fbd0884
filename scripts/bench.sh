#!/usr/bin/env bash
# Runs the benchmarks and summarises them with benchstat (medians of COUNT
# runs, default 8), then prints ginfresh's per-request overhead against its
# peers. Usage: scripts/bench.sh [peers|root|stores|all|compare REF]   (default: all)
#   peers        the bench module: bare route, ginfresh, gin-jwt, golang-jwt,
#                and refresh with rotation against gin-jwt's
#   root         the library's own benchmarks
#   stores       a refresh's rotation and an access check's revocation lookup
#                in every store, side by side: memory, Redis, PostgreSQL and
#                SQLite (run it under scripts/with-redis.sh and
#                scripts/with-postgres.sh, as make bench-stores does)
#   compare REF  the bench module's route benchmarks of git revision REF and
#                of the working tree, run in turns COUNT times, side by side
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
count=${COUNT:-8}
benchtime=${BENCHTIME:-1s}
if (( count < 6 )); then
	echo "COUNT must be at least 6 for benchstat's confidence intervals" >&2
	exit 2
fi

# benchstat, pinned, built into ./bin (ignored by git).
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da
benchstat=bin/benchstat
if [[ ! -x $benchstat || $(cat bin/.benchstat-version 2>/dev/null) != "$BENCHSTAT_VERSION" ]]; then
	GOBIN=$PWD/bin go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION"
	echo "$BENCHSTAT_VERSION" > bin/.benchstat-version
fi

echo "# $(go version); $(nproc) CPUs; count $count, benchtime $benchtime"

run_peers() {
	(cd bench && go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" .) > bin/bench-peers.txt
	"$benchstat" peers=bin/bench-peers.txt
	echo
	# Overheads from the medians: each middleware's row minus the bare route.
	"$benchstat" -format csv peers=bin/bench-peers.txt 2>/dev/null | awk -F, '
		/^,peers/ { getline; unit = $2; next }
		NF >= 2 && $1 != "" && $1 != "geomean" { name = $1; sub(/-[0-9]+$/, "", name); v[unit, name] = $2 }
		END {
			t = "sec/op"; a = "allocs/op"
			bare = v[t, "Route/bare"]; parse = v[t, "Parse/golang-jwt-ParseWithClaims"]
			first = v[t, "Route/ginfresh-first-sight"] - bare
			repeat = v[t, "Route/ginfresh-repeat-sight"] - bare
			ginjwt = v[t, "Route/gin-jwt"] - bare
			printf "per-request overhead (median minus bare route, %.0f ns):\n", bare * 1e9
			printf "  ginfresh first sight   %7.0f ns  %3d allocs\n", first * 1e9, v[a, "Route/ginfresh-first-sight"] - v[a, "Route/bare"]
			printf "  ginfresh repeat sight  %7.0f ns  %3d allocs\n", repeat * 1e9, v[a, "Route/ginfresh-repeat-sight"] - v[a, "Route/bare"]
			printf "  gin-jwt v3.5.1         %7.0f ns  %3d allocs\n", ginjwt * 1e9, v[a, "Route/gin-jwt"] - v[a, "Route/bare"]
			printf "  golang-jwt ParseWithClaims alone %7.0f ns  %3d allocs\n", parse * 1e9, v[a, "Parse/golang-jwt-ParseWithClaims"]
			printf "ratios (targets in brackets):\n"
			printf "  first sight / ParseWithClaims  %.2f  [<= 1]\n", first / parse
			printf "  first sight / gin-jwt          %.2f  [< 1]\n", first / ginjwt
			printf "  repeat sight / gin-jwt         %.3f [<= 0.1]\n", repeat / ginjwt
			printf "  refresh: ginfresh / gin-jwt    %.2f  [<= 1]  (%.0f ns vs %.0f ns, %d vs %d allocs)\n", v[t, "Refresh/ginfresh"] / v[t, "Refresh/gin-jwt"], v[t, "Refresh/ginfresh"] * 1e9, v[t, "Refresh/gin-jwt"] * 1e9, v[a, "Refresh/ginfresh"], v[a, "Refresh/gin-jwt"]
		}'
}

# compare REF: the route benchmarks of REF and of the working tree, in
# turns, so both see the same machine load; benchstat compares them.
run_compare() {
	local ref=$1 old
	old=$(mktemp -d)
	trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"' RETURN
	git worktree add --detach "$old" "$ref" >/dev/null
	: >bin/bench-old.txt
	: >bin/bench-new.txt
	for i in $(seq "$count"); do
		echo "round $i of $count" >&2
		(cd "$old/bench" && go test -run '^$' -bench 'Route' -benchmem -count 1 -benchtime "$benchtime" .) >>bin/bench-old.txt
		(cd bench && go test -run '^$' -bench 'Route' -benchmem -count 1 -benchtime "$benchtime" .) >>bin/bench-new.txt
	done
	"$benchstat" "$ref"=bin/bench-old.txt working-tree=bin/bench-new.txt
}

run_root() {
	go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" . > bin/bench-root.txt
	"$benchstat" root=bin/bench-root.txt
}

# stores: each store's Rotate and Revoked benchmarks, renamed to one
# scheme (Rotate/STORE, Revoked/STORE) so that benchstat lists them together.
run_stores() {
	local bench=(-run '^$' -benchmem -count "$count" -benchtime "$benchtime")
	{
		go test "${bench[@]}" -bench '^BenchmarkMemoryStore(Rotate|Revoked)$' . |
			sed -E 's/^BenchmarkMemoryStore(Rotate|Revoked)-/Benchmark\1\/memory-/'
		(cd redisstore && go test "${bench[@]}" -bench '^Benchmark(Rotate|Revoked)$' .) |
			sed -E 's/^BenchmarkRotate-/BenchmarkRotate\/redis-/; s/^BenchmarkRevoked\//BenchmarkRevoked\/redis-/'
		(cd sqlstore && go test "${bench[@]}" -bench '^Benchmark(Rotate|Revoked)$' .)
	} | grep -v '^pkg:' > bin/bench-stores.txt # one table, not one per module
	"$benchstat" stores=bin/bench-stores.txt
}

mkdir -p bin
case $what in
peers) run_peers ;;
root) run_root ;;
stores) run_stores ;;
all) run_peers; echo; run_root ;;
compare) run_compare "${2:?usage: $0 compare REF}" ;;
*) echo "usage: $0 [peers|root|stores|all|compare REF]" >&2; exit 2 ;;
esac
