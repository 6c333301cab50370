#!/usr/bin/env bash
# What the kernel alone charges a paced relay here, by the two ways Linux
# offers (issue 20): bench/relay_floor relays STREAMS streams of
# FLOOR_TOKENS (64) tokens GAP ms apart in C with nothing but the calls a
# token needs, once on epoll (a wake-up, a read, a write) and once on
# io_uring (one io_uring_enter a wake-up for every stream it finds, no call
# of a token's own). Its process's CPU a token, the median of three runs.
#   GAPS="10 20 50" STREAMS="1 50 200 1000" bench/floor.sh
# Prints the table and appends it, with the machine, to REPORT
# (docs/PERFORMANCE.md; REPORT=0: print only).
set -euo pipefail
cd "$(dirname "$0")/.."
gaps=${GAPS:-10 20 50}
stream_counts=${STREAMS:-1 50 200 1000}
target=${TARGET_US:-12}
[ -x build/bench/relay_floor ] || scripts/build >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
. bench/lib/floor.sh
. bench/lib/machine.sh

table="| gap ms | streams | epoll µs a token | io_uring µs a token | io_uring / epoll | io_uring / ${target} µs |
|---|---|---|---|---|---|"
for g in $gaps; do
  for c in $stream_counts; do
    e=$(floor_us "$g" "$c" epoll)
    u=$(floor_us "$g" "$c" io_uring)
    table+=$'\n'"$(awk -v g="$g" -v c="$c" -v e="$e" -v u="$u" -v t="$target" 'BEGIN {
      printf "| %d | %d | %.1f | %s | %s | %s |", g, c, e, (u > 0) ? sprintf("%.1f", u) : "(no io_uring)",
        (u > 0 && e > 0) ? sprintf("%.2f", u / e) : "", (u > 0) ? sprintf("%.2f", u / t) : "" }')"
  done
done

report=$(cat <<MD

### The kernel's floor on epoll and on io_uring, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

\`bench/floor.sh\`: \`bench/relay_floor\` relaying that many streams of ${FLOOR_TOKENS:-64} tokens, each
GAP ms after the last, TCP loopback both sides, a C writer and reader in their own processes;
the relay's own CPU (user + system) a token, the median of three runs. epoll: per token a
wake-up, a \`recvmsg\` (\`TCP_INQ\`) and a \`send\`; io_uring (\`DEFER_TASKRUN\`): one
\`io_uring_enter\` a wake-up, which submits the sends and next receives and waits.
Machine: $(machine_line).

$table
MD
)
echo "$report"
[ "${REPORT:-}" = 0 ] || echo "$report" >>"${REPORT:-docs/PERFORMANCE.md}"
