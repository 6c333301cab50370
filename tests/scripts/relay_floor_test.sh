#!/usr/bin/env bash
# bench/relay_floor, which issue 20's floor tables are read against: each
# way it relays (epoll; io_uring where it was built with liburing) passes
# every token of every stream, with the writer's pace, and reports its CPU.
#   relay_floor_test.sh RELAY_FLOOR
set -euo pipefail
floor=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

check() {
  local out
  out=$("$floor" 4 8 5 "$1") || fail "$1: exited non-zero"
  echo "$1: $out"
  grep -q 'relayed=32 ' <<<"$out" || fail "$1: not every token relayed: $out"
  # The clients see the writer's 5 ms between a stream's tokens, not a burst.
  awk -F'client_gap_p50_ms=' 'NF > 1 { split($2, a, " "); exit !(a[1] >= 3 && a[1] <= 20) }' \
    <<<"$out" || fail "$1: the relayed tokens lost their pace: $out"
  grep -Eq 'us_per_token=[0-9.]+ wakeups=[1-9]' <<<"$out" || fail "$1: no CPU or wake-ups: $out"
}

check epoll
if "$floor" 1 1 1 io_uring >/dev/null 2>&1; then
  check io_uring
elif grep -q liburing <<<"$("$floor" 1 1 1 io_uring 2>&1)"; then
  echo "io_uring: not built (no liburing-dev)"
else
  fail "io_uring: $("$floor" 1 1 1 io_uring 2>&1)"
fi
# A way it does not know is refused.
if "$floor" 1 1 1 kqueue 2>/dev/null; then fail "an unknown way was accepted"; fi
echo "PASS"
