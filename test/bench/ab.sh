#!/usr/bin/env bash
# ab.sh BEFORE_BIN AFTER_BIN [ROUNDS] — the load test on two gateway
# binaries, interleaved on the same machine (before, after, before, …) with
# the built-in guards off and on, so drift on a shared machine lands on both
# sides. Prints each cell's table row prefixed with the binary's label.
# `make bench-ab BEFORE=<rev>` builds BEFORE at a revision and calls this.
# LOADTEST_FLAGS are passed to every run (e.g. "-unique -result -size 1024").
set -euo pipefail
before=$1 after=$2 rounds=${3:-3}
duration=${DURATION:-5s}
read -ra extra <<<"${LOADTEST_FLAGS:-}"
echo_bin=${ECHOSERVER_BIN:-bin/echoserver}
lt=$(mktemp -d)/loadtest
go build -o "$lt" ./test/bench/loadtest
for r in $(seq 1 "$rounds"); do
  for mode in off on; do
    flags=()
    [ "$mode" = on ] && flags=(-guards)
    for side in before after; do
      bin=$before; [ "$side" = after ] && bin=$after
      "$lt" -gateway-bin "$bin" -echoserver-bin "$echo_bin" -duration "$duration" "${flags[@]}" "${extra[@]}" |
        grep '^| gateway' | sed "s/^/round $r guards-$mode $side /"
    done
  done
done
