#!/usr/bin/env bash
# Semantic search at scale (issue 16, point 4): on the flat corpus
# (bench/flat_corpus, 3 sections a page: 4 documents a page) at SIZES pages
# (default "1000 100000"), with DIM-dimension vectors (default 768, as
# nomic-embed-text): the time to store them, to build the index once and
# store it (the embedding pass's end), the time a replica takes to load it
# and the memory it holds, and the search with and without
# the fused neighbours, for long flat questions. Prints one table and
# appends it, with the machine, to docs/PERFORMANCE.md (REPORT=0: print only).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-1000 100000}
dim=${DIM:-768}
queries=${QUERIES:-1000}
scripts/build >/dev/null

. bench/lib/search_db.sh
. bench/lib/machine.sh
search_db_start semantic "-c fsync=off"
build/bench/flat_corpus questions 2000 11 >"$work/flat-long.jsonl"

rows=""
for pages in $sizes; do
  db="$base/semantic_$pages"
  psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS semantic_$pages" -c "CREATE DATABASE semantic_$pages" >/dev/null 2>&1
  corpus="build/bench-flat-$pages.jsonl"
  [ -f "$corpus" ] || build/bench/flat_corpus pages "$pages" 3 >"$corpus"
  DATABASE_URL="$db" build/chrysopedia-chat import "$corpus" >/dev/null
  r=$(DATABASE_URL="$db" DIM="$dim" build/bench/semantic_bench "$work/flat-long.jsonl" "$queries")
  echo "$r"
  rows+="$r"$'\n'
  psql -q "$base/postgres" -c "DROP DATABASE semantic_$pages" >/dev/null
done

report=$(cat <<MD

### Semantic search at scale, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

bench/semantic.sh: the flat corpus (4 documents a page), $dim-dimension vectors of the fake's
bag-of-words model stored in Postgres, the HNSW index (M 16, ef 64; 8-bit vectors, 4-bit beyond
512 MiB) built and stored by the embedding pass and loaded from there as a replica loads it, $queries long flat questions, each searched twice (the first pass warms).
Time columns p50 / p95 ms; "fused" is the nearest-neighbour lookup plus the search statement with
the 20 neighbours fused in. Machine: $(machine_line).

| documents | dimension | questions | storing vectors | index build + store (embed pass) | replica load (stored index) | index memory (RSS growth) | nearest 20 | full text only | fused |
|---|---|---|---|---|---|---|---|---|---|
$rows
MD
)
echo "$report"
[ "${REPORT:-1}" = 0 ] || echo "$report" >>docs/PERFORMANCE.md
