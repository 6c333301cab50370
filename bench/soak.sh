#!/usr/bin/env bash
# Soak and leak check (issue 9). Two parts, each skipped when its length is 0:
#
# 1. Soak, SOAK_SECONDS (1800): SOAK_STREAMS (200) clients chatting back to
#    back, answers of TOKENS (64) tokens GAP_MS (20) apart from the fake
#    upstream, plus one client walking conversations (two turns with a
#    conversation_id, GET, DELETE, GET again) and sending bad requests (bad
#    JSON, an unknown path, a bad conversation id). The service's VmRSS goes
#    into a CSV every SAMPLE_SECONDS (5). Verdict: the median RSS of the last
#    third may exceed the median of the second third (the first is warm-up)
#    by at most GROWTH_PCT (5) % + GROWTH_MIB (2) MiB, and no chat or
#    conversation request may fail.
# 2. Leak check, LEAK_SECONDS (60): the same load (LEAK_STREAMS, 50 clients)
#    against the AddressSanitizer build of the service (build-asan/, built),
#    stopped with SIGTERM; fails when LeakSanitizer (or ASan/UBSan) reports
#    anything or the exit status is not 0.
#
# The summary is printed; it is appended to REPORT when set, and to
# docs/PERFORMANCE.md when the soak ran its full documented length.
#   bench/soak.sh                                  the documented run (30 min + 1 min)
#   SOAK_SECONDS=600 REPORT=docs/PERFORMANCE.md bench/soak.sh
#   SOAK_SECONDS=0 LEAK_SECONDS=30 bench/soak.sh   the leak check alone
# CHAT_BIN / FAKE_LLM / LOADGEN (and LEAK_BIN) use given binaries instead of
# building (tests/scripts/soak_test.sh does); the CSV is kept in SOAK_CSV
# when set.
set -euo pipefail
cd "$(dirname "$0")/.."
soak_seconds=${SOAK_SECONDS:-1800}
leak_seconds=${LEAK_SECONDS:-60}
streams=${SOAK_STREAMS:-200}
leak_streams=${LEAK_STREAMS:-50}
answer_tokens=${TOKENS:-64}
gap=${GAP_MS:-20}
interval=${SAMPLE_SECONDS:-5}
growth_pct=${GROWTH_PCT:-5}
growth_mib=${GROWTH_MIB:-2}

if [ -z "${CHAT_BIN:-}" ]; then
  scripts/build >/dev/null
  CHAT_BIN=build/chrysopedia-chat FAKE_LLM=build/tests/fake-llm LOADGEN=build/bench/chat-loadgen
fi
loadgen=${LOADGEN:-build/bench/chat-loadgen}
if [ "$leak_seconds" != 0 ] && [ -z "${LEAK_BIN:-}" ]; then
  # The service alone: the load generator and the fake upstream need no
  # sanitizer, and the asan test binaries take long to build.
  cmake --preset asan >/dev/null
  cmake --build --preset asan --target chrysopedia-chat >/dev/null
  LEAK_BIN=build-asan/chrysopedia-chat
fi
export CHAT_BIN FAKE_LLM

. bench/lib/stack.sh
stack_start --tokens "$answer_tokens" --gap-ms "$gap"
failed=0

# One client exercising memory and the error paths; counts what went wrong
# in $work/conv.failures (one line per failure) and what it did in
# $work/conv.count.
conversation_client() {
  local base="http://127.0.0.1:$port" i=0 cid out code
  while :; do
    i=$((i + 1))
    cid="soak-$BASHPID-$i"
    for q in "how do I sidechain a bass?" "and what release time?"; do
      out=$(curl -sN --max-time 60 "$base/api/v1/chat" -H 'Content-Type: application/json' \
        -d "{\"query\": \"$q\", \"conversation_id\": \"$cid\"}" || true)
      case "$out" in *"event: done"*) ;; *) echo "chat $cid: ${out: -200}" >>"$work/conv.failures" ;; esac
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/conversations/$cid" || true)
    [ "$code" = 200 ] || echo "GET $cid: $code" >>"$work/conv.failures"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/api/v1/conversations/$cid" || true)
    [ "$code" = 204 ] || echo "DELETE $cid: $code" >>"$work/conv.failures"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/conversations/$cid" || true)
    [ "$code" = 404 ] || echo "GET deleted $cid: $code" >>"$work/conv.failures"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/chat" \
      -H 'Content-Type: application/json' -d '{"query": ' || true)
    [ "$code" = 400 ] || echo "bad JSON: $code" >>"$work/conv.failures"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/no/such/path" || true)
    [ "$code" = 404 ] || echo "unknown path: $code" >>"$work/conv.failures"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/conversations/bad%20id" || true)
    [ "$code" = 400 ] || echo "bad id: $code" >>"$work/conv.failures"
    echo "$i" >"$work/conv.count"
    sleep 0.2
  done
}

# Runs the load for $1 seconds with $2 chat clients; sets $chats_done,
# $chats_failed, $conv_cycles, $conv_failed and the loadgen's summary vars.
run_load() {
  local seconds=$1 clients=$2 conv
  : >"$work/conv.failures"
  echo 0 >"$work/conv.count"
  conversation_client &
  conv=$!
  _stack_pids+=("$conv")
  "$loadgen" --url "http://127.0.0.1:$port/api/v1/chat" --queries-file data/retrieval-eval.jsonl \
    --concurrency "$clients" --seconds "$seconds" --ramp-seconds "$(((seconds + 9) / 10))" \
    --label soak --summary "$work/summary.txt" >/dev/null || true
  kill "$conv" 2>/dev/null || true
  wait "$conv" 2>/dev/null || true
  # shellcheck disable=SC1091
  . "$work/summary.txt"
  chats_done=$completed
  chats_failed=$errors
  conv_cycles=$(cat "$work/conv.count")
  conv_failed=$(wc -l <"$work/conv.failures")
}

report=""
if [ "$soak_seconds" != 0 ]; then
  csv=${SOAK_CSV:-$work/rss.csv}
  echo "t_s,rss_kib" >"$csv"
  started=$(date +%s)
  (while kill -0 "$service_pid" 2>/dev/null; do
     echo "$(($(date +%s) - started)),$(stack_status_kib "$service_pid" VmRSS)"
     sleep "$interval"
   done) >>"$csv" &
  sampler=$!
  _stack_pids+=("$sampler")
  cpu0=$(stack_cpu_seconds "$service_pid")
  run_load "$soak_seconds" "$streams"
  cpu1=$(stack_cpu_seconds "$service_pid")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true

  # Medians of the second and last thirds of the samples.
  read -r samples mid_kib last_kib peak_kib < <(awk -F, 'NR > 1 { v[n++] = $2 }
    function median(lo, hi,   m, i, j, t, k) {
      m = 0; for (i = lo; i < hi; i++) a[m++] = v[i]
      for (i = 1; i < m; i++) { t = a[i]; for (j = i - 1; j >= 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return m % 2 ? a[int(m / 2)] : (a[m / 2 - 1] + a[m / 2]) / 2
    }
    END { p = 0; for (k = 0; k < n; k++) if (v[k] > p) p = v[k]
          print n, median(int(n / 3), int(2 * n / 3)), median(int(2 * n / 3), n), p }' "$csv")
  allowed_kib=$(awk -v m="$mid_kib" -v p="$growth_pct" -v b="$growth_mib" \
    'BEGIN { printf "%d", m * p / 100 + b * 1024 }')
  growth_kib=$(awk -v a="$mid_kib" -v b="$last_kib" 'BEGIN { printf "%d", b - a }')
  rss_verdict=met
  [ "$growth_kib" -le "$allowed_kib" ] || { rss_verdict="NOT met"; failed=1; }
  fail_verdict=met
  [ "$chats_failed" = 0 ] && [ "$conv_failed" = 0 ] || { fail_verdict="NOT met"; failed=1; }
  if [ "$conv_failed" != 0 ]; then
    echo "soak: conversation client failures (first 5):" >&2
    head -5 "$work/conv.failures" >&2
  fi
  report+=$(cat <<MD

### Soak, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

${soak_seconds} s of $streams clients chatting back to back (answers of $answer_tokens tokens ${gap} ms
apart from the fake upstream; sample corpus, Redis memory on), plus one client walking
conversations (two turns, GET, DELETE, GET) and sending bad requests. VmRSS sampled every
${interval} s ($samples samples); the first third is warm-up.
Machine: $(machine_line); the load generator, fake upstream, Postgres and Redis share it.

| | measured | target |
|---|---|---|
| RSS median, second third → last third | $((mid_kib / 1024)) → $((last_kib / 1024)) MiB (${growth_kib} KiB) | growth ≤ ${growth_pct} % + ${growth_mib} MiB (${allowed_kib} KiB): $rss_verdict |
| RSS peak | $((peak_kib / 1024)) MiB | |
| chats completed / failed | ${chats_done} / ${chats_failed} | none failed: $fail_verdict |
| conversation cycles / failed requests | ${conv_cycles} / ${conv_failed} | none failed: $fail_verdict |
| token gap p50 / p99, first token p99 | ${gap_p50_ms} / ${gap_p99_ms} ms, ${first_token_p99_ms} ms | |
| service CPU | $(awk -v a="$cpu0" -v b="$cpu1" -v d="$elapsed_s" 'BEGIN { printf "%.0f s in %.0f s (%.0f%% of one core)", b - a, d, 100 * (b - a) / d }') | |
MD
)
fi

if [ "$leak_seconds" != 0 ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  [[ $ASAN_OPTIONS == *detect_leaks* ]] || ASAN_OPTIONS+=":detect_leaks=1"
  CHAT_BIN=$LEAK_BIN stack_restart_service
  run_load "$leak_seconds" "$leak_streams"
  kill -TERM "$service_pid"
  status=0
  wait "$service_pid" || status=$?
  leak_verdict=met
  findings=$(grep -cE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$work/service.log" || true)
  if [ "$status" != 0 ] || [ "$findings" != 0 ]; then
    leak_verdict="NOT met"
    failed=1
    echo "soak: the ASan build exited $status with $findings sanitizer report(s); its log:" >&2
    # From the first report on: a leak's direct cause comes before its tail.
    grep -vE '"level":"(info|debug)"' "$work/service.log" |
      sed -n '/ERROR: \(LeakSanitizer\|AddressSanitizer\)\|runtime error:/,$p' | head -250 >&2
  fi
  [ "$chats_failed" = 0 ] && [ "$conv_failed" = 0 ] || { leak_verdict="NOT met"; failed=1; }
  report+=$(cat <<MD

Leak check: ${leak_seconds} s of the same load ($leak_streams clients) on the AddressSanitizer build,
stopped with SIGTERM: exit status $status, $findings sanitizer reports, chats ${chats_done} / failed
${chats_failed}, conversation cycles ${conv_cycles} / failed ${conv_failed}: $leak_verdict.
MD
)
fi

echo "$report"
if [ -n "${REPORT:-}" ] && [ "$REPORT" != 0 ]; then
  echo "$report" >>"$REPORT"
elif [ "$soak_seconds" -ge 1800 ]; then
  echo "$report" >>docs/PERFORMANCE.md
fi
exit "$failed"
