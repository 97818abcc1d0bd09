# machinery-status-collector: build, run, test and benchmark.
# `make run` and `make test` install what they need on a Debian machine.

GO        ?= go
CACHE     := $(CURDIR)/.cache
BIN       := $(CURDIR)/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit, with -dirty for local changes; empty outside git, where the
# binary falls back to the toolchain's VCS stamp (shared/buildinfo).
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git rev-parse HEAD >/dev/null 2>&1 && ! git diff --quiet HEAD 2>/dev/null && echo -dirty)
LDFLAGS   := -X github.com/stuttgart-things/machinery-status-collector/shared/buildinfo.Version=$(VERSION) -X github.com/stuttgart-things/machinery-status-collector/shared/buildinfo.Revision=$(COMMIT)
# Every test runs with the race detector; -count=1 so results are never cached.
TESTFLAGS ?= -race -count=1 -timeout 45m

COMMANDS := collector:./functions/collector/cmd ingest:./functions/ingest/cmd reconcile:./functions/reconcile/cmd agent:./agent/cmd

.PHONY: all build run run-ingest run-reconcile test bench lint redis-server test-deps kube-apiserver

all: lint test

## build: compile every command into ./bin
build:
	@mkdir -p $(BIN)
	@for c in $(COMMANDS); do \
		name=$${c%%:*}; pkg=$${c#*:}; \
		if [ -d "$$pkg" ]; then echo "go build $$name"; $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/$$name $$pkg || exit 1; fi; \
	done

## run: start the collector locally on 127.0.0.1 (COLLECTOR_ADDR), port COLLECTOR_PORT (default 8095)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./functions/collector/cmd

## run-ingest: the ingest function alone under functions-framework on PORT
## (default 8080); without REDIS_URL a throw-away redis-server on 127.0.0.1:6390
run-ingest: redis-server
	@LDFLAGS="$(LDFLAGS)" bash hack/run-function.sh ingest

## run-reconcile: the reconcile function alone on PORT (default 8080; set
## another beside run-ingest), triggered by CloudEvents; same Redis rule
run-reconcile: redis-server
	@LDFLAGS="$(LDFLAGS)" bash hack/run-function.sh reconcile

## test: install test dependencies, then run every test with -race
test: test-deps
	$(GO) test $(TESTFLAGS) ./...

## bench: benchmarks against baselines measured in the same run, as one
## markdown report on stdout and in .cache/bench/report.md (hack/benchreport)
bench: redis-server kube-apiserver
	@$(GO) run ./hack/benchreport -out $(CACHE)/bench/report.md

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-deps: redis-server kube-apiserver

## redis-server: install Debian's redis-server (and redis-benchmark) when missing
redis-server:
	@command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || \
		{ echo "installing redis-server"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

## kube-apiserver: build kube-apiserver into .cache/bin once (~10-20 min cold) and install etcd, for the agent's end-to-end tests
kube-apiserver:
	@bash hack/kube-apiserver.sh
