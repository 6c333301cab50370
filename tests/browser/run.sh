#!/usr/bin/env bash
# The chat page in headless Chromium, against the real server binary with
# the fake upstream and the sample corpus in a fresh database on the
# Postgres that scripts/test started.
#   run.sh BINARY FAKE_LLM
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=${1:?usage: run.sh BINARY FAKE_LLM}
fake=${2:?usage: run.sh BINARY FAKE_LLM}
: "${CHRYSOPEDIA_TEST_DATABASE_URL:?run the tests with scripts/test}"
: "${CHRYSOPEDIA_TEST_REDIS_URL:?run the tests with scripts/test}"
command -v chromium >/dev/null || { echo "run.sh: chromium is missing (scripts/deps installs it)" >&2; exit 1; }

db="chrysopedia_browser_$$_$RANDOM"
admin=$CHRYSOPEDIA_TEST_DATABASE_URL
cleanup() {
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
database_url="${admin%/*}/$db"
DATABASE_URL=$database_url LOG_LEVEL=warn "$binary" import "$repo/data/sample-corpus.jsonl" >/dev/null

cd "$here"
# The lock file pins playwright-core; --prefer-offline reuses npm's cache.
npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
CHAT_BINARY=$binary FAKE_LLM=$fake TEST_DATABASE_URL=$database_url \
  TEST_REDIS_URL=$CHRYSOPEDIA_TEST_REDIS_URL CHROMIUM=$(command -v chromium) \
  node --test --test-reporter=spec chat_page.test.mjs
