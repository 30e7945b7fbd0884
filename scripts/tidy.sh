#!/usr/bin/env bash
# go mod tidy for every module. The modules require each other at the
# version they are released under, which no proxy serves before the
# release, so each is tidied with its siblings replaced by their
# directories for the moment of the tidy, and the replacements dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mods=$(find . -name go.mod -not -path './bin/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' -exec dirname {} \; | sort)
for m in $mods; do
	echo "== $m"
	(
		cd "$m"
		edits=()
		for s in $mods; do
			path=$(cd "$root/$s" && go mod edit -json | sed -n 's/^\t\t"Path": "\(.*\)"$/\1/p' | head -1)
			[ "$s" = "$m" ] || edits+=("-replace=$path=./$(realpath --relative-to=. "$root/$s")")
		done
		go mod edit "${edits[@]}"
		trap 'go mod edit $(printf -- "%s\n" "${edits[@]}" | sed "s/^-replace=\([^=]*\)=.*/-dropreplace=\1/")' EXIT
		GOWORK=off GOFLAGS=-mod=mod go mod tidy
	)
done
