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
test: ## Vet and test every module with the race detector (and a throwaway redis-server)
	@scripts/with-redis.sh sh -ec 'for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test -race -count=1 ./...); \
	done'

# staticcheck, pinned; installed into ./bin by the first `make lint`.
STATICCHECK_VERSION := v0.7.0
STATICCHECK := $(CURDIR)/bin/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: lint
lint: $(STATICCHECK) ## Run go vet and staticcheck on every module
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && $(STATICCHECK) ./...); \
	done

# One fuzz target per run: go test -fuzz takes a single target. Every
# module's top-level package is searched for them.
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Fuzz each parser of untrusted input, in every module, for FUZZTIME (default 30s)
	@set -e; for m in $(MODULES); do \
		for t in $$(cd $$m && grep -ho '^func Fuzz[A-Za-z0-9_]*' *_test.go 2>/dev/null | cut -c6- | sort); do \
			echo "== $$m $$t"; \
			(cd $$m && go test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) .); \
		done; \
	done

.PHONY: bench
bench: ## Benchmark against gin-jwt and golang-jwt, then the library (benchstat medians; COUNT=8)
	scripts/bench.sh

.PHONY: load
load: ## Drive the example's public and protected routes with wrk (STORE=memory|redis|redis-cluster DURATION=10 ROUNDS=3)
	@if [ "$${STORE:-memory}" = memory ]; then scripts/load.sh; else scripts/with-redis.sh scripts/load.sh; fi
