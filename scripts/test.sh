#!/usr/bin/env bash
# The test suite: every *.test.ts, listed by shell glob (Node 20's --test does not expand globs itself).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(shared/test/*.test.ts proto/test/*.test.ts agent/test/*.test.ts collector/test/*.test.ts test/*.test.ts test/hostile/*.test.ts)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
