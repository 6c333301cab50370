#!/usr/bin/env bash
# Throughput benchmark (issue 7): what the service's own process spends,
# counted in CPU seconds (user + system, from /proc) rather than wall time,
# so the figure holds while the load generator, the fake upstream, Postgres
# and Redis share the machine.
#   - tokens relayed per CPU-second: answers of LONG_TOKENS tokens (1,024)
#     with no gap between them;
#   - chats per CPU-second: answers of 16 tokens, no gap (search, memory,
#     the upstream request and the stream's set-up dominate).
# CONCURRENCY clients (32) for CHATS chats (LONG_CHATS for the long ones);
# each scenario runs REPEATS times (5) and the median run is the figure,
# because a single run moves by ±15 % on this shared machine. ENDPOINTS
# ("chat openai"): through /api/v1/chat and /v1/chat/completions (streaming).
# Prints the table and appends it, with the machine, to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${CONCURRENCY:-32}
long_tokens=${LONG_TOKENS:-1024}
long_chats=${LONG_CHATS:-640}
chats=${CHATS:-6000}
repeats=${REPEATS:-5}
endpoints=${ENDPOINTS:-chat openai}
scripts/build >/dev/null
. bench/lib/stack.sh

# The load generator's arguments for endpoint $1.
target() {
  if [ "$1" = openai ]; then
    echo --url "http://127.0.0.1:$port/v1/chat/completions" --mode openai --model chrysopedia
  else
    echo --url "http://127.0.0.1:$port/api/v1/chat"
  fi
}

# One scenario: fake answers of $1 tokens, $2 chats, through endpoint $3.
# Sets cpu, rows, summary vars.
scenario() {
  stack_fake --tokens "$1" --gap-ms 0
  stack_restart_service
  # shellcheck disable=SC2046  # target's words are separate arguments
  build/bench/chat-loadgen $(target "$3") --concurrency 4 \
    --requests 8 --queries-file data/retrieval-eval.jsonl >/dev/null  # warm-up
  local c0 c1
  c0=$(stack_cpu_seconds "$service_pid")
  # shellcheck disable=SC2046
  row=$(build/bench/chat-loadgen $(target "$3") \
    --queries-file data/retrieval-eval.jsonl --concurrency "$concurrency" --requests "$2" \
    --label "service, $3, $1-token answers" --summary "$work/summary.txt" || true)
  c1=$(stack_cpu_seconds "$service_pid")
  cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  . "$work/summary.txt"
}

per() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.0f", (c > 0) ? n / c : 0 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs a scenario $repeats times: fake answers of $1 tokens, $2 chats, $3
# "tokens" or "chats" per CPU-second, through endpoint $4. Sets figures (one
# per run), and appends to lines (one table row per run) and rows (the load
# generator's rows).
lines="" rows=""
repeat_scenario() {
  figures=()
  local i n
  for i in $(seq 1 "$repeats"); do
    scenario "$1" "$2" "$4"
    if [ "$3" = tokens ]; then n=$tokens; else n=$completed; fi
    figures+=("$(per "$n" "$cpu")")
    lines+="| $4, $1 tokens, run $i | $completed / $errors | $tokens | $cpu s | $elapsed_s s | ${figures[-1]} $3 |"$'\n'
    rows+="$row"$'\n'
  done
}

stack_start --tokens 16 --gap-ms 0
figure_rows=""
for endpoint in $endpoints; do
  repeat_scenario "$long_tokens" "$long_chats" tokens "$endpoint"
  figure_rows+="| tokens per CPU-second, $long_tokens-token answers, $endpoint | **$(median "${figures[@]}")** | ≥ 300,000 |"$'\n'
  repeat_scenario 16 "$chats" chats "$endpoint"
  figure_rows+="| chats per CPU-second, 16-token answers, $endpoint | **$(median "${figures[@]}")** | |"$'\n'
done

report=$(cat <<MD

### Throughput, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

$concurrency clients; the fake upstream sends its tokens with no gap; sample corpus, Redis memory
on. CPU is the service process's own (user + system). Machine: $(machine_line); the load
generator, fake upstream, Postgres and Redis share it.

| figure (median of $repeats runs) | measured | target |
|---|---|---|
${figure_rows}
| run | chats done / failed | tokens relayed | service CPU | wall | per CPU-second |
|---|---|---|---|---|---|
${lines}
| run | streams | done | errors | sources p50/p99 ms | first token p50/p90/p99/max ms | token gap p50/p99 ms | stream p50/p99 ms | chats/s | tokens/s |
|---|---|---|---|---|---|---|---|---|---|
${rows}
MD
)
echo "$report"
# REPORT=0: print only (as in the other bench scripts), REPORT=path: there.
[ "${REPORT:-}" = 0 ] || echo "$report" >>"${REPORT:-docs/PERFORMANCE.md}"
