#!/usr/bin/env bash
# Overhead benchmark (issue 7): time to first token through the service
# minus time to first token straight from the fake upstream, measured in
# the same run, at 1, 100 and 1,000 concurrent streams, with search over
# the sample corpus and Redis memory on. Prints the table and appends it,
# with the machine it ran on, to docs/PERFORMANCE.md.
#   STREAMS="1 100 1000" TOKENS=64 GAP_MS=20 [CHATS=30] bench/overhead.sh
# CORPUS=pages.jsonl and QUESTIONS=questions.jsonl ("question" or "query"
# per line; "turn1" and "turn2" for follow-ups, ENDPOINTS=openai) run it on another corpus shape. WARMUP_QUESTIONS=file: asked
# once each through the service before anything is measured, as a service
# that has been answering other questions for a while (the words it has
# met have their champion lists in memory); otherwise every word of the
# first chats is new to it. ENDPOINTS ("chat openai") names
# the faces measured: /api/v1/chat and /v1/chat/completions (streaming).
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${STREAMS:-1 100 1000}
endpoints=${ENDPOINTS:-chat openai}
tokens=${TOKENS:-64}
gap=${GAP_MS:-20}
[ -n "${CHAT_BIN:-}" ] || scripts/build >/dev/null

. bench/lib/stack.sh
stack_start --tokens "$tokens" --gap-ms "$gap"

table="| run | streams | done | errors | sources p50/p99 ms | first token p50/p90/p99/max ms | token gap p50/p99 ms | stream p50/p99 ms | chats/s | tokens/s |
|---|---|---|---|---|---|---|---|---|---|"
overhead="| streams | endpoint | first token, upstream p50 / p99 ms | through the service p50 / p99 ms | added p50 / p99 ms |
|---|---|---|---|---|"
ttft() { echo "$1" | awk -F'|' '{print $7}' | awk -F'/' '{gsub(/ /,""); print $1, $3}'; }
# Clients start spread over one stream's length (steady state, not one
# synchronized burst) and ask the evaluation's 48 questions in turn.
warmup="none (a fresh service)"
if [ -n "${WARMUP_QUESTIONS:-}" ]; then
  w=$(grep -c . "$WARMUP_QUESTIONS")
  build/bench/chat-loadgen --url "http://127.0.0.1:$port/api/v1/chat" --queries-file "$WARMUP_QUESTIONS" \
    --concurrency 1 --requests "$w" --label warmup >/dev/null
  warmup="the $w questions of $WARMUP_QUESTIONS, once each"
fi
ramp=$(awk -v t="$tokens" -v g="$gap" 'BEGIN { printf "%.2f", t * g / 1000 }')
for c in $streams; do
  n=$(( c == 1 ? ${CHATS:-30} : 3 * c ))
  r=$([ "$c" -eq 1 ] && echo 0 || echo "$ramp")
  up=$(build/bench/chat-loadgen --url "$upstream/chat/completions" --mode openai \
         --concurrency "$c" --requests "$n" --ramp-seconds "$r" --label "upstream" || true)
  table+=$'\n'"$up"
  read -r u50 u99 <<<"$(ttft "$up")"
  for endpoint in $endpoints; do
    if [ "$endpoint" = openai ]; then
      target=(--url "http://127.0.0.1:$port/v1/chat/completions" --mode openai --model chrysopedia)
    else
      target=(--url "http://127.0.0.1:$port/api/v1/chat")
    fi
    sv=$(build/bench/chat-loadgen "${target[@]}" \
           --queries-file "${QUESTIONS:-data/retrieval-eval.jsonl}" \
           --concurrency "$c" --requests "$n" --ramp-seconds "$r" --label "service, $endpoint" || true)
    table+=$'\n'"$sv"
    read -r s50 s99 <<<"$(ttft "$sv")"
    overhead+=$'\n'"$(awk -v c="$c" -v e="$endpoint" -v u50="$u50" -v u99="$u99" -v s50="$s50" -v s99="$s99" \
      'BEGIN { printf "| %d | %s | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f |", c, e, u50, u99, s50, s99, s50-u50, s99-u99 }')"
  done
done

# The machine's own part: a Postgres round trip (SELECT 1, timed by psql)
# back to back, and after the idle one user leaves between two searches
# (a stream's length). On a machine where a process that slept is slow to
# run again, the second is what each chat's search statement pays on top
# of its own work.
round_trip_ms() {  # idle seconds (0: none) -> median ms of 15 round trips
  local script='\timing on' i
  for i in $(seq 15); do
    [ "$1" = 0 ] || script+=$'\n'"\\! sleep $1"
    script+=$'\n''SELECT 1;'
  done
  echo "$script" | psql -qAt "$DATABASE_URL" 2>&1 | awk '/^Time:/ { print $2 }' | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
machine="a Postgres round trip (SELECT 1, psql, median of 15): $(round_trip_ms 0) ms back to back, $(round_trip_ms "$ramp") ms after ${ramp} s idle"

report=$(cat <<MD

### Overhead, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

Fake upstream: $tokens tokens, $gap ms apart. Service: ${CORPUS:-the sample corpus}, Redis memory on.
Machine: $(machine_line); the load generator, fake upstream, Postgres and Redis share it. Each client runs its chats back to back
(${CHATS:-30} chats at 1 stream, 3 per stream otherwise), starting spread over ${ramp} s, asking the
questions of ${QUESTIONS:-data/retrieval-eval.jsonl} in turn. Asked before the measured chats: $warmup.
The machine, in the same run: $machine.

$overhead

$table
MD
)
echo "$report"
# REPORT=0: print only (as in the other bench scripts), REPORT=path: there.
[ "${REPORT:-}" = 0 ] || echo "$report" >>"${REPORT:-docs/PERFORMANCE.md}"
