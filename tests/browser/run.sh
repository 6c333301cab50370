#!/usr/bin/env bash
# The chat page in headless Chromium (playwright-core), against the real
# server binary with the fake upstream and the sample corpus.
#   run.sh BINARY FAKE_LLM
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || { echo "run.sh: chromium is missing (scripts/deps installs it)" >&2; exit 1; }
CHROMIUM=$(command -v chromium) exec "$here/../support/run_node_suite.sh" "$here" chat_page.test.mjs \
  "${1:?usage: run.sh BINARY FAKE_LLM}" "${2:?usage: run.sh BINARY FAKE_LLM}"
