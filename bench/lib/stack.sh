# The stack a chat benchmark runs against, all on this machine: a throwaway
# Postgres with the sample corpus, Redis, the fake upstream and the service.
# Source this file from a bench/*.sh script (in the repository root); then:
#   stack_start FAKE_ARGS...   starts everything; sets $work, $upstream (the
#                              fake's base URL), $port, $service_pid
#   stack_fake FAKE_ARGS...    another fake upstream; sets $upstream
#   stack_restart_service      a fresh service process (fresh peak memory)
#                              aimed at $upstream
#   stack_cpu_seconds PID      user+system CPU time the process has used
#   stack_cpu_ns PID           the same in ns, from the scheduler (live threads)
#   stack_status_kib PID FIELD VmRSS or VmHWM of the process, in KiB
#   machine_line               one line naming the machine (bench/lib/machine.sh)
# SERVICE_LOG_LEVEL sets the service's LOG_LEVEL; KEEP_SERVICE_LOG=file keeps
# its log. SERVICE_PREFIX (e.g. "valgrind --tool=callgrind ...") wraps the service.
# CHAT_BIN and FAKE_LLM name other builds of the service and the fake
# upstream (default: build/'s).
. scripts/lib/services.sh
. bench/lib/machine.sh

_stack_pids=()
stack_cleanup() {
  local p
  for p in "${_stack_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_stack_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  services_stop
  # KEEP_SERVICE_LOG=file: the service's log outlives the run (with
  # SERVICE_LOG_LEVEL=debug, its per-stage timings).
  [ -n "${KEEP_SERVICE_LOG:-}" ] && [ -n "${work:-}" ] && cp "$work/service.log" "$KEEP_SERVICE_LOG"
  [ -n "${work:-}" ] && rm -rf "$work"
}

stack_start() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/chrysopedia-bench.XXXXXX")
  chmod 755 "$work"
  trap stack_cleanup EXIT
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  CHRYSOPEDIA_PG_OPTIONS="-c shared_buffers=256MB -c max_connections=200" \
    services_start_postgres "$work/pg"
  services_start_redis "$work/redis"
  # CORPUS: another corpus (bench/search_shapes.sh's, say) instead of the sample.
  "${CHAT_BIN:-build/chrysopedia-chat}" import "${CORPUS:-data/sample-corpus.jsonl}" >/dev/null
  stack_fake "$@"
  stack_restart_service
}

stack_fake() {
  local out="$work/fake.$RANDOM.url" i
  "${FAKE_LLM:-build/tests/fake-llm}" "$@" >"$out" &
  _stack_pids+=($!)
  for i in $(seq 1 50); do [ -s "$out" ] && break; sleep 0.1; done
  upstream=$(cat "$out")
}

stack_restart_service() {
  if [ -n "${service_pid:-}" ]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  local attempt i
  # A port nobody listens on may still be a client's ephemeral port (a
  # load of thousands of connections takes many): on a failed bind, another.
  for attempt in 1 2 3 4 5; do
    port=$(services_free_port)
    # Every benchmark client comes from 127.0.0.1: the abuse limits are off
    # unless the caller sets them.
    # shellcheck disable=SC2086
    CHAT_RATE_LIMIT_PER_MINUTE=${CHAT_RATE_LIMIT_PER_MINUTE:-0} CHAT_MAX_STREAMS=${CHAT_MAX_STREAMS:-0} \
    HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT=${HTTP_MAX_IDLE_CONNECTIONS_PER_CLIENT:-0} \
    LLM_API_URL=$upstream PORT=$port HOST=127.0.0.1 LOG_LEVEL=${SERVICE_LOG_LEVEL:-warn} \
      ${SERVICE_PREFIX:-} "${CHAT_BIN:-build/chrysopedia-chat}" serve >"$work/service.log" 2>&1 &
    service_pid=$!
    _stack_pids+=("$service_pid")
    for i in $(seq 1 600); do
      curl -sf "localhost:$port/healthz" >/dev/null && return 0
      kill -0 "$service_pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "bench: the service did not start (attempt $attempt); its log:" >&2
    cat "$work/service.log" >&2
  done
  return 1
}

stack_cpu_seconds() {
  # Fields 14 and 15 of /proc/PID/stat (after the parenthesised name).
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
    "/proc/$1/stat"
}

# The same to the nanosecond, summed over the process's live threads
# (/proc/PID/task/*/schedstat): fine enough for an idle process, where
# /proc/PID/stat's 10 ms ticks read 0 or 0.1 % of a core over 10 s.
stack_cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

stack_status_kib() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

