#!/usr/bin/env bash
# ctest's short soak (label soak): bench/soak.sh at CI length with the
# binaries of the build under test. The release pass runs a 2-minute soak
# (RSS must not grow, no chat may fail); the sanitizer pass, where RSS says
# nothing, runs the 30-second LeakSanitizer check instead.
#   soak_test.sh CHAT_BIN FAKE_LLM LOADGEN SANITIZED(ON|OFF)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
export CHAT_BIN=$1 FAKE_LLM=$2 LOADGEN=$3
sanitized=$4
# The servers scripts/test started are not ours to use: the stack brings its own.
unset DATABASE_URL REDIS_URL
case "$sanitized" in
  ON | on | 1 | TRUE | true)
    SOAK_SECONDS=0 LEAK_SECONDS=${LEAK_SECONDS:-30} LEAK_STREAMS=${LEAK_STREAMS:-20} \
      LEAK_BIN=$CHAT_BIN exec "$repo/bench/soak.sh"
    ;;
  *)
    SOAK_SECONDS=${SOAK_SECONDS:-120} SOAK_STREAMS=${SOAK_STREAMS:-50} SAMPLE_SECONDS=2 \
      LEAK_SECONDS=0 exec "$repo/bench/soak.sh"
    ;;
esac
