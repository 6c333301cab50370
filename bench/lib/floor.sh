# The kernel's own price of a paced relay (bench/relay_floor.cpp): µs of
# the relay's CPU a token for STREAMS streams of FLOOR_TOKENS (64) tokens
# GAP ms apart, the median of three runs (on a shared VM one run can be off
# by half). Memoised per gap, count and kind, so a table asks once.
#   floor_us GAP STREAMS [epoll|io_uring]   (prints 0 when it cannot run)
declare -A floor_memo
floor_us() {
  local key="$1/$2/${3:-epoll}"
  if [ -z "${floor_memo[$key]:-}" ]; then
    floor_memo[$key]=$(for _ in 1 2 3; do
      build/bench/relay_floor "$2" "${FLOOR_TOKENS:-64}" "$1" "${3:-epoll}" 2>/dev/null |
        sed -n 's/.*us_per_token=\([0-9.]*\).*/\1/p'
    done | sort -g | sed -n 2p)
  fi
  echo "${floor_memo[$key]:-0}"
}
