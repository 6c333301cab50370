#!/usr/bin/env bash
# g++ 12 miscompiles a braced temporary built inside a co_await expression
# (its strings end up pointing into a stale copy; see docs/DEVELOPING.md).
# This guard finds the pattern `co_await f(T{...})` / `co_await f({...})`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if grep -rnE 'co_await[^;]*\(([A-Za-z_:<>]+)?\{' "$repo/src" "$repo/tests" "$repo/include" \
  --include='*.cpp' --include='*.hpp'; then
  echo "build the argument in a named variable first (g++ 12 coroutine bug)"
  exit 1
fi
echo "no braced temporaries in co_await expressions"
