#!/usr/bin/env bash
# The test suite: every *.test.ts, listed by shell glob (Node 20's --test does not expand globs itself). Package tests
# run two files at a time (each has its own database or data dir and free ports); the end-to-end ones, which time real
# processes against each other (outages, fail-over, leases), one at a time. Both groups always run; the exit status
# is the first failure's. --test-force-exit: a file whose tests have all ended exits even if some handle (a socket, a
# timer of a helper) is still open; one such leak once held a run of test/cluster.test.ts for minutes after it passed.
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
packages=(shared/test/*.test.ts proto/test/*.test.ts agent/test/*.test.ts collector/test/*.test.ts)
e2e=(test/*.test.ts test/hostile/*.test.ts)
status=0
node --import tsx --test --test-force-exit --test-concurrency=2 "${packages[@]}" || status=$?
node --import tsx --test --test-force-exit --test-concurrency=1 "${e2e[@]}" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
exit "$status"
