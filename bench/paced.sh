#!/usr/bin/env bash
# The relay's cost at a real model's pace (issue 20): the fake upstream
# writes each token GAP ms after the last (one token a read, as a model
# does), and the service's own CPU (user + system, from /proc) is counted
# per chat and per relayed token, so the figure holds while the load
# generator, the fake, Postgres and Redis share the machine.
#   TOKENS="64 512" GAPS="10 20 50" STREAMS="1 50 200 1000" bench/paced.sh
# Each row: STREAMS clients, each asking CHATS_PER_CLIENT (2; 10 at one
# stream) chats back to back, starting spread over one answer's length.
# Then, with nothing open, the service's CPU over IDLE_SECONDS (10); and,
# unless SYSCALLS=0, system calls per relayed token: `strace -c -f` on the
# service for a run of SYSCALL_STREAMS (50) streams of 64 tokens 20 ms apart
# and one of 512 (strace slows the process; the count, not the time, is the
# figure): the second's extra calls over its extra tokens are a token's.
# Beside each row, the floor: bench/relay_floor relaying the same streams at
# the same pace with nothing but the three calls a token (FLOOR_TOKENS, 64).
# The Python reference's figures are those measured side by side in issue
# 20 (same machine kind, same fake): it is not run here.
# Prints the tables and appends them, with the machine, to REPORT
# (docs/PERFORMANCE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
token_counts=${TOKENS:-64 512}
gaps=${GAPS:-10 20 50}
stream_counts=${STREAMS:-1 50 200 1000}
per_client=${CHATS_PER_CLIENT:-2}
idle_seconds=${IDLE_SECONDS:-10}
[ -n "${CHAT_BIN:-}" ] || scripts/build >/dev/null
. bench/lib/stack.sh

stack_start --tokens 64 --gap-ms 20

# The kernel's own price of the same relay (bench/relay_floor.cpp: wake-up,
# read, write a token in C), once for each pace and stream count.
. bench/lib/floor.sh

table="| tokens | gap ms | streams | chats done / errors | tokens relayed | service CPU s | CPU per chat ms | CPU per token µs | floor µs a token | ours / floor | chats per CPU-second | token gap p50 / p99 ms |
|---|---|---|---|---|---|---|---|---|---|---|---|"
for t in $token_counts; do
  for g in $gaps; do
    stack_fake --tokens "$t" --gap-ms "$g"
    stack_restart_service
    build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 2 \
      --requests 4 --queries-file data/retrieval-eval.jsonl >/dev/null  # warm-up
    for c in $stream_counts; do
      n=$(( c == 1 ? 10 : per_client * c ))
      ramp=$(awk -v t="$t" -v g="$g" -v c="$c" 'BEGIN { printf "%.2f", (c == 1) ? 0 : t * g / 1000 }')
      c0=$(stack_cpu_seconds "$service_pid")
      row=$(build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" \
        --queries-file data/retrieval-eval.jsonl --concurrency "$c" --requests "$n" \
        --ramp-seconds "$ramp" --label paced --summary "$work/summary.txt" || true)
      c1=$(stack_cpu_seconds "$service_pid")
      . "$work/summary.txt"
      gap=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $8); print $8 }' | sed 's|/| / |')
      fl=$(floor_us "$g" "$c")
      table+=$'\n'"$(awk -v t="$t" -v g="$g" -v c="$c" -v done="$completed" -v err="$errors" \
        -v tok="$tokens" -v a="$c0" -v b="$c1" -v gap="$gap" -v fl="$fl" 'BEGIN {
          cpu = b - a
          per = (tok > 0) ? 1e6 * cpu / tok : 0
          printf "| %d | %d | %d | %d / %d | %d | %.2f | %.2f | %.1f | %.1f | %.2f | %.0f | %s |", t, g, c,
            done, err, tok, cpu, (done > 0) ? 1000 * cpu / done : 0, per, fl,
            (fl > 0) ? per / fl : 0, (cpu > 0) ? done / cpu : 0, gap }')"
    done
  done
done

# Nothing open: what the process does on its own (timers, periodic checks).
sleep 1
i0=$(stack_cpu_ns "$service_pid")
sleep "$idle_seconds"
i1=$(stack_cpu_ns "$service_pid")
idle=$(awk -v a="$i0" -v b="$i1" -v s="$idle_seconds" 'BEGIN { printf "%.4f", 100 * (b - a) / 1e9 / s }')

# One traced run of SYSCALL_STREAMS streams of $1 tokens 20 ms apart: sets
# calls, tokens and completed, and leaves strace's table in $work/strace-$1.txt.
trace_run() {
  local ss=${SYSCALL_STREAMS:-50}
  stack_fake --tokens "$1" --gap-ms 20
  stack_restart_service
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 2 \
    --requests 4 --queries-file data/retrieval-eval.jsonl >/dev/null
  strace -c -f -U calls,name -S calls -p "$service_pid" -o "$work/strace-$1.txt" &
  tracer=$!
  sleep 1
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" \
    --queries-file data/retrieval-eval.jsonl --concurrency "$ss" --requests "$ss" \
    --ramp-seconds 1.28 --label traced --summary "$work/summary.txt" >/dev/null || true
  kill -INT "$tracer" 2>/dev/null || true
  wait "$tracer" 2>/dev/null || true
  . "$work/summary.txt"
  calls=$(awk '$2 == "total" { print $1 }' "$work/strace-$1.txt")
}

syscalls="(not measured: SYSCALLS=0)"
if [ "${SYSCALLS:-1}" != 0 ] && command -v strace >/dev/null; then
  # The same chats at 64 and at 512 tokens: what the longer answers add,
  # over the tokens they add, is what one relayed token costs (a chat's
  # search, memory and set-up cancel out).
  trace_run 64
  calls64=${calls:-0} tokens64=$tokens done64=$completed
  trace_run 512
  calls512=${calls:-0} tokens512=$tokens done512=$completed
  top=$(awk '$1 ~ /^[0-9]+$/ && $2 != "total" { printf "%s %s, ", $2, $1 }' "$work/strace-64.txt" | head -c 400)
  extra=$(awk 'FNR == NR { if ($1 ~ /^[0-9]+$/ && $2 != "total") a[$2] = $1; next }
    $1 ~ /^[0-9]+$/ && $2 != "total" { d = $1 - a[$2]; if (d > 0) printf "%s %d, ", $2, d }' \
    "$work/strace-64.txt" "$work/strace-512.txt" | head -c 400)
  syscalls=$(awk -v c="$calls64" -v t="$tokens64" -v n="$done64" -v c2="$calls512" -v t2="$tokens512" \
    -v n2="$done512" 'BEGIN {
    printf "64 tokens: %d system calls for %d chats and %d tokens, %.2f a token (a chat'"'"'s search, memory and set-up included, over its tokens). 512 tokens: %d calls for %d chats and %d tokens, %.2f a token. **Each relayed token: %.2f calls** (the 512-token run'"'"'s calls beyond the 64-token run'"'"'s, over the tokens beyond)",
      c, n, t, (t > 0) ? c / t : 0, c2, n2, t2, (t2 > 0) ? c2 / t2 : 0, (t2 > t) ? (c2 - c) / (t2 - t) : 0 }')
  syscalls+=$'\n\n'"By call at 64 tokens (name, count): ${top%, }"
  syscalls+=$'\n\n'"What 512 tokens add (name, count): ${extra%, }"
fi

report=$(cat <<MD

### Paced relay, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

\`bench/paced.sh\`: the fake upstream writes each token GAP ms after the last; the
service's own CPU (user + system) per chat and per relayed token. Each row: that many
clients, ${per_client} chats each (10 at one stream), starting spread over one answer.
The floor: \`bench/relay_floor\` relaying the same streams at the same pace in C with
nothing but an epoll wake-up, a read and a write a token (${FLOOR_TOKENS:-64} tokens,
its process's CPU, the median of three runs) — what this machine's kernel charges for those three calls alone.
Machine: $(machine_line); the load generator, the fake, Postgres and Redis share it.

$table

With no stream open, over ${idle_seconds} s: **${idle} %** of a core.

System calls (\`strace -c -f\`, ${SYSCALL_STREAMS:-50} streams, tokens 20 ms apart): $syscalls
MD
)
echo "$report"
# REPORT=0: print only (as in the other bench scripts), REPORT=path: there.
[ "${REPORT:-}" = 0 ] || echo "$report" >>"${REPORT:-docs/PERFORMANCE.md}"
