#!/usr/bin/env bash
# The load generator against the fake upstream, whose answers are known: it
# counts every chat and token, measures the gap the fake puts between
# tokens, and counts (and exits 1 on) failed requests.
#   loadgen_test.sh FAKE_LLM LOADGEN
set -euo pipefail
fake=$1 loadgen=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/chrysopedia-loadgen-test.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$fake" --tokens 5 --gap-ms 20 --fail-on boom >"$work/url" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/url" ] && break; sleep 0.1; done
url="$(cat "$work/url")/chat/completions"

"$loadgen" --url "$url" --mode openai --concurrency 4 --requests 20 --summary "$work/ok.txt" \
  >"$work/ok.out" || fail "a clean run exited non-zero: $(cat "$work/ok.out")"
# shellcheck disable=SC1091
. "$work/ok.txt"
[ "$completed" = 20 ] || fail "completed=$completed, want 20"
[ "$errors" = 0 ] || fail "errors=$errors, want 0"
[ "$tokens" = 100 ] || fail "tokens=$tokens, want 5 per chat"
# shellcheck disable=SC2154
awk -v g="$gap_p50_ms" 'BEGIN { exit !(g >= 15 && g < 1000) }' ||
  fail "gap p50 $gap_p50_ms ms for a 20 ms gap"
awk -v t="$total_p50_ms" -v g="$gap_p50_ms" 'BEGIN { exit !(t >= 4 * g) }' ||
  fail "stream p50 $total_p50_ms ms shorter than its 4 gaps"
grep -q '| 4 | 20 | 0 |' "$work/ok.out" || fail "no table row: $(cat "$work/ok.out")"

if "$loadgen" --url "$url" --mode openai --query "boom" --concurrency 2 --requests 6 \
  --summary "$work/bad.txt" >/dev/null; then
  fail "failed requests, yet exit status 0"
fi
# shellcheck disable=SC1091
. "$work/bad.txt"
[ "$errors" = 6 ] || fail "errors=$errors for 6 failing requests"
[ "$completed" = 0 ] || fail "completed=$completed for 6 failing requests"
echo "loadgen: all checks passed"
