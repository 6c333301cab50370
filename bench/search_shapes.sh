#!/usr/bin/env bash
# Search latency on two corpus shapes and two query lengths (issue 16):
#   ours  bench/corpus_generator: a long-tailed vocabulary of music terms
#   flat  bench/flat_corpus: a flat, everyday vocabulary (hundreds of words
#         in most pages), written independently of the first
# each with short queries (1-4 words; flat: 1-2) and long ones (6-15 words
# as users type them), and the long ones again as follow-ups in a
# conversation ("long, in context": the question before as context, so the
# search in context and the follow-up's own words both run), and once more
# with the longest word of each misspelt ("long, misspelt": a word no page
# holds, which the search mends from the corpus's vocabulary), through the
# service's own search client with
# CONCURRENCY pooled connections. SIZES (default "1000 100000") pages each.
# LIST_CACHE_MIB=0: the client keeps no champion lists in memory, so every
# search reads them (as a question with a word the service has not met);
# by default the measured pass finds every word's lists there, met in the
# warm-up pass.
# Prints one table and appends it, with the machine, to docs/PERFORMANCE.md
# (REPORT=0: print only).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-1000 100000}
queries=${QUERIES:-2000}
concurrency=${CONCURRENCY:-2}
scripts/build >/dev/null

. bench/lib/search_db.sh
. bench/lib/machine.sh
search_db_start shapes "-c fsync=off"

build/bench/flat_corpus questions 2000 11 >"$work/flat-long.jsonl"
build/bench/flat_corpus questions 2000 12 --short >"$work/flat-short.jsonl"

row() {  # shape pages queries-kind -> one Markdown row
  local shape=$1 pages=$2 kind=$3 out context=0 misspell=0 label=$3
  if [ "$kind" = followup ]; then kind=long context=1 label="long, in context"; fi
  if [ "$kind" = misspelt ]; then kind=long misspell=1 label="long, misspelt"; fi
  export MISSPELL=$misspell
  if [ "$shape" = flat ]; then
    out=$(IN_CONTEXT=$context QUERIES_FILE="$work/flat-$kind.jsonl" DATABASE_URL="$db" build/bench/search_bench "$queries" "$concurrency")
  elif [ "$kind" = long ]; then
    out=$(IN_CONTEXT=$context QUERY_SHAPE=long DATABASE_URL="$db" build/bench/search_bench "$queries" "$concurrency")
  else
    out=$(DATABASE_URL="$db" build/bench/search_bench "$queries" "$concurrency")
  fi
  # The client's own log lines (the lexicon read or not kept) to stderr.
  echo "$out" | grep -v '^|' >&2 || true
  # The first table's data row: | queries | concurrency | p50 | p95 | p99 | max | q/s | errors |
  echo "$out" | grep -m1 -E '^\| *[0-9]' | awk -F'|' -v s="$shape" -v p="$pages" -v k="$label" \
    '{printf "| %s | %s | %s |%s|%s|%s|%s|%s|\n", s, p, k, $4, $5, $6, $8, $9}'
}

rows=""
for pages in $sizes; do
  for shape in ours flat; do
    db="$base/shape_${shape}_$pages"
    psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS shape_${shape}_$pages" -c "CREATE DATABASE shape_${shape}_$pages" >/dev/null 2>&1
    corpus="build/bench-$shape-$pages.jsonl"
    if [ ! -f "$corpus" ]; then
      if [ "$shape" = flat ]; then build/bench/flat_corpus pages "$pages" 3 >"$corpus"
      else build/bench/corpus_generator "$pages" >"$corpus"; fi
    fi
    DATABASE_URL="$db" build/chrysopedia-chat import "$corpus" >/dev/null
    psql -q "$db" -c "VACUUM ANALYZE" >/dev/null
    for kind in short long followup misspelt; do
      r=$(row "$shape" "$pages" "$kind")
      echo "$r"
      rows+="$r"$'\n'
    done
    psql -q "$base/postgres" -c "DROP DATABASE shape_${shape}_$pages" >/dev/null
  done
done

report=$(cat <<MD

### Search by corpus shape and question length, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

bench/search_shapes.sh: $queries searches per row through the service's search client, $concurrency pooled
connections, after a warm-up pass; champion lists kept in memory: ${LIST_CACHE_MIB:-16} MiB$([ "${LIST_CACHE_MIB:-16}" = 0 ] && echo " (every search reads them)" || echo " (every word met in the warm-up), and the whole lexicon when it takes no more than twice that"). Machine: $(machine_line),
Postgres $(psql "$base/postgres" -tAc "SHOW server_version") with shared_buffers=1GB.

| shape | pages | questions | p50 ms | p95 ms | p99 ms | queries/s | errors |
|---|---|---|---|---|---|---|---|
$rows
MD
)
echo "$report"
[ "${REPORT:-1}" = 0 ] || echo "$report" >>docs/PERFORMANCE.md
