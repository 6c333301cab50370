#!/usr/bin/env bash
# What resumable streams cost Redis (issue 20): STREAMS (3,000) clients
# chatting back to back for DURATION seconds (30, started over RAMP_SECONDS, 5),
# answers of 64 tokens GAP_MS (100) apart, and the CPU Redis and the
# service used meanwhile (from /proc), per relayed token. Run it with
# CHAT_STREAM_RESUME=false for the service without the journal. Prints one
# table row; CHAT_BIN names an already built service (else scripts/build).
#   STREAMS=3000 bench/journal_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-3000}
seconds=${DURATION:-30}
ramp=${RAMP_SECONDS:-5}
[ -n "${CHAT_BIN:-}" ] || scripts/build >/dev/null
. bench/lib/stack.sh
stack_start --tokens 64 --gap-ms "${GAP_MS:-100}"
redis_pid=$(cat "$work/redis/redis.pid" 2>/dev/null || pgrep -n redis-server)
build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 4 \
  --requests 8 --queries-file data/retrieval-eval.jsonl >/dev/null
r0=$(stack_cpu_seconds "$redis_pid")
s0=$(stack_cpu_seconds "$service_pid")
row=$(build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" \
  --queries-file data/retrieval-eval.jsonl --concurrency "$streams" --seconds "$seconds" \
  --ramp-seconds "$ramp" --label journal --summary "$work/summary.txt" || true)
r1=$(stack_cpu_seconds "$redis_pid")
s1=$(stack_cpu_seconds "$service_pid")
. "$work/summary.txt"
gap=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $8); print $8 }' | sed 's|/| / |')
echo "| resume | streams | tokens relayed | errors | Redis CPU s | Redis µs a token | service CPU s | service µs a token | gap p50 / p99 ms |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -v res="${CHAT_STREAM_RESUME:-true}" -v c="$streams" -v tok="$tokens" -v err="$errors" \
  -v r0="$r0" -v r1="$r1" -v s0="$s0" -v s1="$s1" -v gap="$gap" 'BEGIN {
    r = r1 - r0; s = s1 - s0
    printf "| %s | %d | %d | %d | %.2f | %.1f | %.2f | %.1f | %s |\n", res, c, tok, err, r,
      (tok > 0) ? 1e6 * r / tok : 0, s, (tok > 0) ? 1e6 * s / tok : 0, gap }'
