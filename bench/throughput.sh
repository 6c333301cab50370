#!/usr/bin/env bash
# Throughput benchmark (issue 7): what the service's own process spends,
# counted in CPU seconds (user + system, from /proc) rather than wall time,
# so the figure holds while the load generator, the fake upstream, Postgres
# and Redis share the machine.
#   - tokens relayed per CPU-second: answers of LONG_TOKENS tokens (1,024)
#     with no gap between them;
#   - chats per CPU-second: answers of 16 tokens, no gap (search, memory,
#     the upstream request and the stream's set-up dominate).
# CONCURRENCY clients (32) for CHATS chats (LONG_CHATS for the long ones).
# Prints the table and appends it, with the machine, to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${CONCURRENCY:-32}
long_tokens=${LONG_TOKENS:-1024}
long_chats=${LONG_CHATS:-640}
chats=${CHATS:-6000}
scripts/build >/dev/null
. bench/lib/stack.sh

# One scenario: fake answers of $1 tokens, $2 chats. Sets cpu, rows, summary vars.
scenario() {
  stack_fake --tokens "$1" --gap-ms 0
  stack_restart_service
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 4 \
    --requests 8 --queries-file data/retrieval-eval.jsonl >/dev/null  # warm-up
  local c0 c1
  c0=$(stack_cpu_seconds "$service_pid")
  row=$(build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" \
    --queries-file data/retrieval-eval.jsonl --concurrency "$concurrency" --requests "$2" \
    --label "service, $1-token answers" --summary "$work/summary.txt" || true)
  c1=$(stack_cpu_seconds "$service_pid")
  cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  . "$work/summary.txt"
}

stack_start --tokens 16 --gap-ms 0
scenario "$long_tokens" "$long_chats"
long_cpu=$cpu long_tokens_done=$tokens long_completed=$completed long_errors=$errors
long_elapsed=$elapsed_s long_row=$row
scenario 16 "$chats"
per() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.0f", (c > 0) ? n / c : 0 }'; }
tokens_per_cpu=$(per "$long_tokens_done" "$long_cpu")
chats_per_cpu=$(per "$completed" "$cpu")

report=$(cat <<MD

### Throughput, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

$concurrency clients; the fake upstream sends its tokens with no gap; sample corpus, Redis memory
on. CPU is the service process's own (user + system). Machine: $(stack_machine); the load
generator, fake upstream, Postgres and Redis share it.

| answers | chats done / failed | tokens relayed | service CPU | wall | per CPU-second | target |
|---|---|---|---|---|---|---|
| $long_tokens tokens | $long_completed / $long_errors | $long_tokens_done | $long_cpu s | $long_elapsed s | **$tokens_per_cpu tokens** | ≥ 300,000 tokens |
| 16 tokens | $completed / $errors | $tokens | $cpu s | $elapsed_s s | **$chats_per_cpu chats** | |

| run | streams | done | errors | sources p50/p99 ms | first token p50/p90/p99/max ms | token gap p50/p99 ms | stream p50/p99 ms | chats/s | tokens/s |
|---|---|---|---|---|---|---|---|---|---|
$long_row
$row
MD
)
echo "$report"
echo "$report" >> "${REPORT:-docs/PERFORMANCE.md}"
