#!/usr/bin/env bash
# Cost benchmark (issue 7): instructions the service executes per chat of
# TOKENS tokens (64), counted by valgrind's callgrind, which counts
# instructions rather than time, so the figure repeats on a noisy machine.
# The service runs under callgrind with one event loop; after a warm-up,
# counting is switched on for CHATS chats (20) run one after another, then
# off. Prints instructions per chat and the top functions (exclusive and
# inclusive), and appends them to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
answer_tokens=${TOKENS:-64}
chats=${CHATS:-20}
scripts/build >/dev/null
command -v valgrind >/dev/null || scripts/deps
. bench/lib/stack.sh
export WORKERS=1
stack_start --tokens "$answer_tokens" --gap-ms 0
SERVICE_PREFIX="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$work/callgrind.out"
stack_restart_service
loadgen() {
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --concurrency 1 \
    --queries-file data/retrieval-eval.jsonl "$@"
}
loadgen --requests 4 >/dev/null  # warm-up: connections, first-use caches
# vgdb finds the process by the HOST it was started with (the service's own
# HOST variable, which valgrind also reads).
HOST=127.0.0.1 callgrind_control -i on "$service_pid" >/dev/null
row=$(loadgen --requests "$chats" --header --label "under callgrind")
HOST=127.0.0.1 callgrind_control -i off "$service_pid" >/dev/null
kill -INT "$service_pid"
wait "$service_pid" 2>/dev/null || true
file=$work/callgrind.out
total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t { gsub(/,/, "", $1); t = $1 } END { print t }')
per_chat=$(awk -v t="$total" -v n="$chats" 'BEGIN { printf "%.0f", t / n }')
per_token=$(awk -v t="$total" -v n="$chats" -v k="$answer_tokens" 'BEGIN { printf "%.0f", t / n / k }')
top() {
  callgrind_annotate $1 --threshold=100 "$file" 2>/dev/null |
    awk -v n="$chats" '/^-+$/ { sep++; next } sep >= 3 && NF >= 2 && $1 ~ /^[0-9,]+$/ && !/PROGRAM TOTALS/ {
        ir = $1; gsub(/,/, "", ir); $1 = ""; sub(/^ +/, ""); sub(/ \[.*\]$/, "")
        gsub(/\|/, "\\|"); if (length($0) > 110) $0 = substr($0, 1, 107) "..."
        if (++rows <= 15) printf "| %.0f | `%s` |\n", ir / n, $0 }'
}

report=$(cat <<MD

### Cost, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

Instructions counted by \`valgrind --tool=callgrind\` in the service (one event loop; search
pool threads, libpq, hiredis and libcurl included; Postgres and Redis themselves not) over $chats
chats of $answer_tokens tokens from the fake upstream with no gap, one at a time, after a warm-up.

**$per_chat instructions per chat** ($per_token per token relayed, set-up included).

Top functions, exclusive (instructions per chat, the function's own code):

| Ir per chat | function |
|---|---|
$(top "")

Top functions, inclusive (with what they call):

| Ir per chat | function |
|---|---|
$(top --inclusive=yes)
MD
)
echo "$report"
# REPORT=0: print only (as in the other bench scripts), REPORT=path: there.
[ "${REPORT:-}" = 0 ] || echo "$report" >>"${REPORT:-docs/PERFORMANCE.md}"
