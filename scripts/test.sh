#!/usr/bin/env bash
# The test suite: every *.test.ts, listed by shell glob (Node 20's --test does not expand globs itself). Package tests
# run two files at a time (each has its own database or data dir and free ports); the end-to-end ones, which time real
# processes against each other (outages, fail-over, leases), one at a time, except the outage test: its three 30 s
# outages are mostly waiting on an idle agent and collector (and a private Postgres), so it runs beside the others,
# its output shown when it ends. All groups always run; the exit status is the first failure's. --test-force-exit: a
# file whose tests have all ended exits even if some handle (a socket, a helper's timer) is still open; one such leak
# once held a run of test/cluster.test.ts for minutes after it had passed.
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
packages=(shared/test/*.test.ts proto/test/*.test.ts agent/test/*.test.ts collector/test/*.test.ts)
beside=test/outage.test.ts
e2e=()
for f in test/*.test.ts test/hostile/*.test.ts; do [ "$f" = "$beside" ] || e2e+=("$f"); done
run() { node --import tsx --test --test-force-exit "$@"; }

status=0
run --test-concurrency=2 "${packages[@]}" || status=$?
beside_out=$(mktemp)
trap 'rm -f "$beside_out"' EXIT
run "$beside" > "$beside_out" 2>&1 &
beside_pid=$!
run --test-concurrency=1 "${e2e[@]}" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
wait "$beside_pid" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
cat "$beside_out"
exit "$status"
