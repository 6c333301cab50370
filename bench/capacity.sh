#!/usr/bin/env bash
# Capacity benchmark (issue 7): STREAMS concurrent chats (default 5,000) of
# TOKENS tokens (64) at GAP_MS between tokens (100), clients started over
# RAMP_SECONDS (10) and chatting back to back for DURATION seconds (40), so
# that after the ramp every client holds an open stream. Reports the gap
# between tokens as the clients see it, failures, and the service's peak
# memory above its idle size, per open stream. Prints the table and appends
# it, with the machine it ran on, to docs/PERFORMANCE.md.
#   STREAMS=5000 GAP_MS=100 bench/capacity.sh
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-5000}
answer_tokens=${TOKENS:-64}
gap=${GAP_MS:-100}
ramp=${RAMP_SECONDS:-10}
duration=${DURATION:-40}
scripts/build >/dev/null
. bench/lib/stack.sh
stack_start --tokens "$answer_tokens" --gap-ms "$gap"

# The same load straight at the fake upstream first: what the load
# generator and the fake alone make of the gap on this machine, so the
# service's own share shows (UPSTREAM_BASELINE=0 skips it).
upstream_row=""
if [ "${UPSTREAM_BASELINE:-1}" != 0 ]; then
  upstream_row=$(build/bench/chat-loadgen --url "$upstream/chat/completions" --mode openai \
    --concurrency "$streams" --seconds "$duration" --ramp-seconds "$ramp" --label upstream \
    --summary "$work/upstream.txt" || true)
  # shellcheck disable=SC1091
  up_gap=$(. "$work/upstream.txt"; echo "$gap_p50_ms / $gap_p99_ms / $gap_p100_ms")
fi

# Idle: after a few chats, so what is allocated once (connections to
# Postgres and Redis, first-use caches) counts as the idle process.
build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 4 \
  --requests 8 --queries-file data/retrieval-eval.jsonl >/dev/null
sleep 1
idle_kib=$(stack_status_kib "$service_pid" VmRSS)
cpu0=$(stack_cpu_seconds "$service_pid")

# Sample the service's resident size while the load runs.
(while kill -0 "$service_pid" 2>/dev/null; do
   stack_status_kib "$service_pid" VmRSS; sleep 0.5
 done) >"$work/rss.txt" &
sampler=$!
row=$(build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" \
  --queries-file data/retrieval-eval.jsonl --concurrency "$streams" --seconds "$duration" \
  --ramp-seconds "$ramp" --label service --header --summary "$work/summary.txt" || true)
cpu1=$(stack_cpu_seconds "$service_pid")
peak_kib=$(stack_status_kib "$service_pid" VmHWM)
kill "$sampler" 2>/dev/null || true
. "$work/summary.txt"
per_stream=$(awk -v p="$peak_kib" -v i="$idle_kib" -v n="$streams" 'BEGIN { printf "%.1f", (p - i) / n }')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "NOT met" }'; }

report=$(cat <<MD

### Capacity, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

$streams clients, each chatting back to back for ${duration} s (started over ${ramp} s), every
answer $answer_tokens tokens ${gap} ms apart from the fake upstream; sample corpus, Redis memory on.
Machine: $(stack_machine); the load generator, fake upstream, Postgres and Redis share it.

| | measured | target |
|---|---|---|
| token gap seen by clients p50 / p99 / max | ${gap_p50_ms} / ${gap_p99_ms} / ${gap_p100_ms} ms | p99 ≤ 150 ms: $(verdict "$gap_p99_ms" 150) |
| the same load straight from the fake upstream: gap p50 / p99 / max | ${up_gap:-not run} ms | |
| chats completed / failed | ${completed} / ${errors} | none failed: $([ "$errors" = 0 ] && echo met || echo "NOT met") |
| first token p50 / p99 | ${first_token_p50_ms} / ${first_token_p99_ms} ms | |
| service memory idle → peak | $((idle_kib / 1024)) → $((peak_kib / 1024)) MiB | |
| peak memory per open stream | ${per_stream} KiB | < 64 KiB: $(verdict "$per_stream" 64) |
| service CPU | $(awk -v a="$cpu0" -v b="$cpu1" -v d="$elapsed_s" 'BEGIN { printf "%.1f s in %.1f s (%.0f%% of one core)", b - a, d, 100 * (b - a) / d }') | |

$row
$upstream_row
MD
)
echo "$report"
echo "$report" >> "${REPORT:-docs/PERFORMANCE.md}"
