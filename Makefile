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

.PHONY: all build run run-ingest run-reconcile run-agent flip-claim test test-long bench lint redis-server promtool chromium gnu-time test-deps kube-apiserver

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

## run-agent: the agent against a local kube-apiserver + etcd (hack/kube-up)
## with the sample claim CRD and claims of examples/claims, reporting to
## COLLECTOR_URL (default: make run's http://localhost:8095) as CLUSTER_NAME
run-agent: kube-apiserver
	$(GO) run ./hack/kube-up -apply examples/claims -- env CLUSTER_NAME=$${CLUSTER_NAME:-local} \
		COLLECTOR_URL=$${COLLECTOR_URL:-http://localhost:8095} LOG_FORMAT=$${LOG_FORMAT:-text} \
		$(GO) run -ldflags "$(LDFLAGS)" ./agent/cmd

## flip-claim: flip the Ready condition of CLAIM (namespace/name) in make run-agent's cluster
flip-claim:
	$(GO) run ./hack/kube-up -flip $(CLAIM)

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

## test-long: the same tests with the long fault windows (MSC_TEST_LONG=1):
## a 30 s collector outage, a longer fleet churn
test-long: test-deps
	MSC_TEST_LONG=1 $(GO) test $(TESTFLAGS) ./...

## bench: benchmarks against baselines measured in the same run, as one
## markdown report on stdout and in .cache/bench/report.md (hack/benchreport)
bench: redis-server kube-apiserver gnu-time
	@$(GO) run ./hack/benchreport -out $(CACHE)/bench/report.md

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-deps: redis-server promtool chromium kube-apiserver

## redis-server: install Debian's redis-server (and redis-benchmark) when missing
redis-server:
	@command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || \
		{ echo "installing redis-server"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

## chromium: install Debian's chromium when missing, for the status page's browser test
chromium:
	@command -v chromium >/dev/null || \
		{ echo "installing chromium"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## gnu-time: install GNU time (/usr/bin/time), which measures the reconcile process's peak RSS in make bench
gnu-time:
	@test -x /usr/bin/time || { echo "installing time"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

## promtool: install Debian's prometheus package (it ships promtool) when missing, for the alert rules' tests
promtool:
	@command -v promtool >/dev/null || \
		{ echo "installing promtool (Debian package prometheus)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

## kube-apiserver: build kube-apiserver into .cache/bin once (~10-20 min cold) and install etcd, for the agent's end-to-end tests
kube-apiserver:
	@bash hack/kube-apiserver.sh
