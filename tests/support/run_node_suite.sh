#!/usr/bin/env bash
# Runs one Node suite (tests/browser, tests/clients) against the real server
# binary with the fake upstream and the sample corpus in a fresh database on
# the Postgres that scripts/test started. The suite's lock file pins its
# packages; `npm ci --prefer-offline` reuses npm's cache.
#   run_node_suite.sh SUITE_DIR TEST_FILE BINARY FAKE_LLM
set -euo pipefail
suite=$(cd "${1:?usage: run_node_suite.sh SUITE_DIR TEST_FILE BINARY FAKE_LLM}" && pwd)
test_file=${2:?}
binary=${3:?}
fake=${4:?}
repo=$(cd "$(dirname "$0")/../.." && pwd)
: "${CHRYSOPEDIA_TEST_DATABASE_URL:?run the tests with scripts/test}"
: "${CHRYSOPEDIA_TEST_REDIS_URL:?run the tests with scripts/test}"

db="chrysopedia_node_$$_$RANDOM"
admin=$CHRYSOPEDIA_TEST_DATABASE_URL
cleanup() {
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
database_url="${admin%/*}/$db"
DATABASE_URL=$database_url LOG_LEVEL=warn "$binary" import "$repo/data/sample-corpus.jsonl" >/dev/null

cd "$suite"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
CHAT_BINARY=$binary FAKE_LLM=$fake TEST_DATABASE_URL=$database_url \
  TEST_REDIS_URL=$CHRYSOPEDIA_TEST_REDIS_URL \
  node --test --test-reporter=spec "$test_file"
