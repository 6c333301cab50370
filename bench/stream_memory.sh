#!/usr/bin/env bash
# Redis memory per open chat stream with resume on (issue 19, point 7): N
# streams held open (the fake upstream writes TOKENS tokens GAP_MS apart),
# Redis's used_memory sampled when every stream is about half-way, against
# before any. Also with CHAT_STREAM_RESUME=false, for what Redis holds anyway
# (the rate-limit buckets, conversations). Appends the table to
# docs/PERFORMANCE.md (REPORT=0: print only).
#   STREAMS=1000 TOKENS=64 GAP_MS=50 bench/stream_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-1000}
tokens=${TOKENS:-64}
gap=${GAP_MS:-50}
scripts/build >/dev/null
. bench/lib/stack.sh
stack_start --tokens "$tokens" --gap-ms "$gap"
redis_port=${REDIS_URL##*:}
redis_port=${redis_port%%/*}
used() { redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }'; }

rows=""
for resume in true false; do
  CHAT_STREAM_RESUME=$resume stack_restart_service
  redis-cli -p "$redis_port" flushall >/dev/null
  before=$(used)
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency "$streams" \
    --requests "$streams" --ramp-seconds 1 --label "$resume" >"$work/load.txt" 2>&1 &
  load=$!
  # Half-way through an answer of TOKENS * GAP_MS, after the ramp.
  sleep "$(awk -v t="$tokens" -v g="$gap" 'BEGIN { printf "%.2f", 1 + t * g / 2000 }')"
  during=$(used)
  keys=$(redis-cli -p "$redis_port" --scan --pattern 'chrysopedia:stream:*' | wc -l)
  wait "$load" || true
  after=$(used)
  per=$(awk -v a="$before" -v b="$during" -v n="$streams" 'BEGIN { printf "%.0f", (b - a) / n }')
  rows+="| $resume | $streams | $keys | $before | $during | $after | $per |"$'\n'
done

report=$(cat <<MD

### Redis memory per open stream, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

bench/stream_memory.sh: $streams streams open at once through /api/v1/chat, the fake upstream writing
$tokens tokens ${gap} ms apart; Redis's used_memory before, when every stream is about half-way, and
after all ended (ended streams are kept for CHAT_STREAM_RETENTION_SECONDS). Machine: $(machine_line).

| resume | streams | stream keys half-way | used before | half-way | after | bytes per open stream |
|---|---|---|---|---|---|---|
$rows
MD
)
echo "$report"
[ "${REPORT:-1}" = 0 ] || echo "$report" >>docs/PERFORMANCE.md
