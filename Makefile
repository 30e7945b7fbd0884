# Every module of the repository: the library and its nested modules.
MODULES := $(shell find . -name go.mod -not -path './bin/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' -exec dirname {} \; | sort)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-9s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the example server on PORT (default 8000)
	cd example && go run .

.PHONY: test
test: ## Vet and test every module with -race (with throwaway Redis and PostgreSQL servers)
	@scripts/with-redis.sh scripts/with-postgres.sh sh -ec 'for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && go test -race -count=1 ./...); \
	done'

# staticcheck, pinned; installed into ./bin by the first `make lint`.
STATICCHECK_VERSION := v0.7.0
STATICCHECK := $(CURDIR)/bin/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: lint
lint: $(STATICCHECK) ## Run gofmt, go vet and staticcheck on every module
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	@set -e; for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && $(STATICCHECK) ./...); \
	done

# One fuzz target per run: go test -fuzz takes a single target. Every
# package of every module is searched for them.
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Fuzz each parser of untrusted input, in every package of every module, for FUZZTIME (default 30s)
	@set -e; for m in $(MODULES); do \
		for d in $$(cd $$m && go list -f '{{.Dir}}' ./...); do \
			for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$d/*_test.go 2>/dev/null | cut -c6- | sort); do \
				echo "== $$d $$t"; \
				(cd $$d && go test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) .); \
			done; \
		done; \
	done

.PHONY: api
api: ## Record every exported name of the published modules in api/
	cd tools && go run ./cmd/apidump -root ..

.PHONY: api-check
api-check: ## Fail when the exported API differs from api/ (make api records a change)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd tools && go run ./cmd/apidump -root .. -o $$tmp) && \
	diff -ru api $$tmp || { echo "the API changed: review it, then run make api and commit api/"; exit 1; }

.PHONY: modcheck
modcheck: ## Build each nested module as a user would fetch it (GOWORK=off, siblings from a proxy)
	cd tools && go run ./cmd/modcheck -root ..

.PHONY: tidy
tidy: ## go mod tidy every module (siblings replaced by their directories for the moment of the tidy)
	scripts/tidy.sh

.PHONY: bench
bench: ## Benchmark against gin-jwt and golang-jwt, then the library (benchstat medians; COUNT=8)
	scripts/bench.sh

.PHONY: bench-stores
bench-stores: ## Rotation and revocation lookups in every store side by side (throwaway Redis and PostgreSQL; COUNT=8)
	scripts/with-redis.sh scripts/with-postgres.sh scripts/bench.sh stores

.PHONY: load
load: ## Drive the example's public and protected routes with wrk (STORE=memory|redis|redis-cluster DURATION=10 ROUNDS=3)
	@if [ "$${STORE:-memory}" = memory ]; then scripts/load.sh; else scripts/with-redis.sh scripts/load.sh; fi
