# Every module of the repository: the library and its nested modules.
MODULES := $(shell find . -name go.mod -not -path './bin/*' -not -path '*/testdata/*' -exec dirname {} \; | sort)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the example server on PORT (default 8000)
	cd example && go run .

.PHONY: test
test: ## Vet and test every module with the race detector
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test -race -count=1 ./...); \
	done

.PHONY: bench
bench: ## Benchmark against gin-jwt and golang-jwt, then the library (benchstat medians; COUNT=8)
	scripts/bench.sh

.PHONY: load
load: ## Drive the example's public and protected routes with wrk (DURATION=10 ROUNDS=3)
	scripts/load.sh
