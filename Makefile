# Gatehouse — build, run and test. `make run` and `make test` are the only
# set-up commands a fresh machine needs (Go and npm on PATH).

GO       ?= go
BIN      := bin/gatehouse
GOFLAGS  ?=
# The version `gatehouse version`, /healthz and /readyz report.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
.DEFAULT_GOAL := build

include test/tools/tools.mk

.PHONY: bench-ab proto plugins build guards guard-eval guard-eval-new guard-eval-confounds guard-train guard-model-bench guard-compare compare-npm corpora-npm corpora-extract corpora-secrets run test unit e2e e2e-race conformance conformance-upstream-auth bench vet fmt clean config-doc image fuzz

build: guards plugins
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatehouse

# Generated gRPC code of the plugin interfaces (plugins/proto), checked in so
# that builds and tests need no protoc. protoc comes from Debian
# (protobuf-compiler, installed when missing and running as root); the Go
# generators are pinned and installed into $(TOOLS_BIN).
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
PROTO_FILES := $(shell find plugins/proto -name '*.proto')
proto:
	@command -v protoc >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y protobuf-compiler; } || { echo "protoc missing: apt-get install protobuf-compiler"; exit 1; }
	GOBIN=$(TOOLS_BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS_BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH="$(TOOLS_BIN):$$PATH" protoc -I plugins/proto --go_out=plugins/proto --go_opt=paths=source_relative \
		--go-grpc_out=plugins/proto --go-grpc_opt=paths=source_relative $(PROTO_FILES)

# The example plugins (plugins/examples), built into bin/plugins.
PLUGIN_EXAMPLES := websocket hmacauth
plugins:
	@mkdir -p bin/plugins
	$(foreach p,$(PLUGIN_EXAMPLES),$(GO) build -o bin/plugins/gatehouse-plugin-$(p) ./plugins/examples/$(p)/cmd/gatehouse-plugin-$(p) &&) true

# The built-in guards, compiled to WebAssembly and embedded by the build.
GUARDS      := tool-list-guard tool-call-guard tool-intent-guard
GUARD_SRCS  := $(shell find guards/builtin sdk/guard -name '*.go' -not -path '*/testdata/*' 2>/dev/null)
guards: $(GUARDS:%=guards/builtin/wasm/%.wasm)

guards/builtin/wasm/%.wasm: $(GUARD_SRCS) $(wildcard guards/builtin/model/weights/*.bin)
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags=-s -o $@ ./guards/builtin/cmd/$*

# Precision, recall and false-positive rate of the built-in guards (the
# embedded WebAssembly modules) on ../shared/corpora, dev and test splits
# reported separately.
guard-eval: guards
	$(GO) run ./guards/eval/cmd/guard-eval -split all

# The project's own benign sets (guards/eval/testdata: npm-tools, npm-docs,
# intent, exfil) alone — the new, confound-free FPR figures.
guard-eval-new: guards
	$(GO) run ./guards/eval/cmd/guard-eval -split all -corpora=

# Re-extracts guards/eval/testdata/npm-{tools,docs} from the MCP servers pinned
# in test/corpora/npm/package.json (installed with --ignore-scripts into
# test/corpora/npm/node_modules, git-ignored). Slow (npm ~2 min, extraction
# ~15 s); not part of make test. See test/corpora/README.md.
corpora-npm: tools-npm
	cd test/corpora/npm && PATH="$(NODE22_BIN):$$PATH" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

corpora-extract: corpora-npm
	$(NODE22) test/corpora/extract-tools.mjs

# Re-extracts guards/eval/testdata/secrets-real: credential look-alikes in the
# READMEs of the same npm packages, the same windows with a generated
# credential planted, and lockfile / go.sum chunks (test/corpora/README.md).
corpora-secrets: corpora-npm
	$(GO) run ./test/corpora/secretset

# Fits the learned detectors (guards/builtin/model) on the dev splits and
# writes their weights (checked in; reproducible: fixed seed, sorted rows),
# then rebuilds the guards that embed them (docs/guard-eval.md).
guard-train:
	$(GO) run ./guards/train/cmd/guard-train
	$(MAKE) guards

# Cost per KiB of the learned models, natively and as wasip1 under wazero
# (the runtime the guards run in), docs/guard-eval.md.
guard-model-bench:
	$(GO) test -run '^$$' -bench Score ./guards/builtin/model/
	GOOS=wasip1 GOARCH=wasm $(GO) test -c -o bin/model-bench.wasm ./guards/builtin/model/
	$(GO) run github.com/tetratelabs/wazero/cmd/wazero run bin/model-bench.wasm -test.run '^$$' -test.bench Score

# A public detector from npm (@andersmyrmel/vard, pinned in
# test/compare/npm/package-lock.json, git-ignored node_modules) on the rows
# guard-eval judges; figures beside guard-eval's in docs/guard-eval.md.
compare-npm: tools-npm
	cd test/compare/npm && PATH="$(NODE22_BIN):$$PATH" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

guard-compare: compare-npm
	$(NODE22) test/compare/compare.mjs

# The AUC of trivial features on the corpora (docs/guard-eval.md).
guard-eval-confounds:
	$(GO) run ./guards/eval/cmd/guard-eval -confounds

# Starts the gateway with the demo configuration: Badger in ./data, the
# reference "everything" server as a STDIO connector at /mcp/everything.
run: build tools-npm
	./$(BIN) serve --config cmd/gatehouse/demo.yaml

# Everything CI runs: static checks, unit tests, end-to-end tests against
# real MCP peers, and the MCP conformance suite through the gateway.
test: tools vet unit e2e conformance

vet: guards
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: guards
	$(GO) test -count=1 -timeout 20m ./...

e2e: build
	GATEHOUSE_BIN=$(abspath $(BIN)) $(GO) test -count=1 -tags e2e -timeout 10m ./test/e2e/...

# The end-to-end suite against a gateway built with the race detector,
# which stops at the first data race (its output is kept per test in
# $(E2E_LOG_DIR)); not part of `make test` (it doubles the e2e time).
E2E_LOG_DIR ?= $(CURDIR)/.tools/e2e-logs
e2e-race: guards plugins tools
	$(GO) build -race -o bin/gatehouse-race ./cmd/gatehouse
	mkdir -p $(E2E_LOG_DIR)
	GORACE=halt_on_error=1 GATEHOUSE_E2E_LOG_DIR=$(E2E_LOG_DIR) GATEHOUSE_BIN=$(abspath bin/gatehouse-race) $(GO) test -count=1 -tags e2e -timeout 15m ./test/e2e/...

conformance: build
	CONFORMANCE_ALPHA_STRICT=1 GATEHOUSE_BIN=$(abspath $(BIN)) bash test/conformance/run.sh
	bash test/conformance/upstream-auth.sh

# The client --suite auth scenarios against Gatehouse's upstream OAuth
# client alone (a few seconds; also part of conformance).
conformance-upstream-auth:
	bash test/conformance/upstream-auth.sh

# Go benchmarks of the hot path, then a load test of tools/call through the
# running gateway vs directly to the same upstream (loopback only).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./core/... ./guards/... ./admin/... ./plugins/...
	$(GO) build -o bin/echoserver ./test/fixtures/echoserver
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -compare -unique
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -compare -unique -size 65536 -offload=false
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -compare -unique -result -size 1024
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -compare -unique -result -size 65536 -offload=false
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -auth token
	$(GO) run ./test/bench/loadtest -gateway-bin $(BIN) -echoserver-bin bin/echoserver -duration 5s -auth oauth

# The load test on the gateway built at BEFORE (a git revision; default:
# main just before the request chain of issue 10) and on this tree's,
# interleaved round by round with the guards off and on; LOADTEST_FLAGS
# (e.g. "-unique -result -size 1024") go to every run.
BEFORE ?= 7c5996e
bench-ab: build
	rm -rf .bench/before && mkdir -p .bench/before
	git archive $(BEFORE) | tar -x -C .bench/before
	ln -s $(abspath .tools) .bench/before/.tools
	$(MAKE) -C .bench/before build VERSION=$(BEFORE)
	$(GO) build -o bin/echoserver ./test/fixtures/echoserver
	test/bench/ab.sh .bench/before/bin/gatehouse $(BIN) 3

# The fuzz targets, FUZZTIME each (their seed corpora run in `make unit`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./core/mcp
	$(GO) test -run '^$$' -fuzz '^FuzzFoldedDuplicate$$' -fuzztime $(FUZZTIME) ./core/mcp
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./core/config
	$(GO) test -run '^$$' -fuzz '^FuzzMetaCalls$$' -fuzztime $(FUZZTIME) ./core/toolsearch
	$(GO) test -run '^$$' -fuzz '^FuzzHeaderChecks$$' -fuzztime $(FUZZTIME) ./core/era
	$(GO) test -run '^$$' -fuzz '^FuzzParamHeaders$$' -fuzztime $(FUZZTIME) ./core/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzDowngradeRequest$$' -fuzztime $(FUZZTIME) ./core/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzDowngradeResult$$' -fuzztime $(FUZZTIME) ./core/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzTranslateRequest$$' -fuzztime $(FUZZTIME) ./core/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzTranslateResult$$' -fuzztime $(FUZZTIME) ./core/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./core/auth/redirect

# docs/config.md, generated from core/config (the unit tests fail when it
# is stale).
# The container image (Dockerfile; needs a Docker engine, which CI here
# does not have: see docs/decisions.md).
image:
	docker build --build-arg VERSION=$(VERSION) -t gatehouse:$(VERSION) .

config-doc:
	GATEHOUSE_UPDATE_DOCS=1 $(GO) test -count=1 -run TestReferenceIsCurrent ./core/config

clean:
	rm -rf bin data
