#!/usr/bin/env bash
# The OpenAI-compatible endpoint through the clients people use (the openai
# SDK, the Vercel AI SDK, curl), against the real server binary with the
# fake upstream and the sample corpus.
#   run.sh BINARY FAKE_LLM
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "run.sh: curl is missing (scripts/deps installs it)" >&2; exit 1; }
exec "$here/../support/run_node_suite.sh" "$here" clients.test.mjs \
  "${1:?usage: run.sh BINARY FAKE_LLM}" "${2:?usage: run.sh BINARY FAKE_LLM}"
