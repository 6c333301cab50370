#!/usr/bin/env bash
# Search benchmark (issue 3): imports a synthetic corpus of PAGES pages
# (default 100,000) into a throwaway Postgres, then runs QUERIES searches
# (default 2,000) through the service's search client with CONCURRENCY
# connections (default 2). Prints the tables and appends them, with the
# machine they ran on, to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${PAGES:-100000}
queries=${QUERIES:-2000}
concurrency=${CONCURRENCY:-2}
scripts/build >/dev/null

. bench/lib/search_db.sh
. bench/lib/machine.sh
search_db_start bench

corpus="build/bench-corpus-$pages.jsonl"
[ -f "$corpus" ] || build/bench/corpus_generator "$pages" > "$corpus"
start=$(date +%s%N)
build/chrysopedia-chat import "$corpus" >/dev/null
import_s=$(( ($(date +%s%N) - start) / 1000000000 ))
size=$(psql "$DATABASE_URL" -tAc "SELECT pg_size_pretty(pg_database_size(current_database()))")
docs=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM search_documents")
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE" >/dev/null

tables=$(build/bench/search_bench "$queries" "$concurrency")
report=$(cat <<MD

### Search, $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD)

$pages pages ($docs search documents, database $size), imported in ${import_s} s.
Machine: $(machine_line),
Postgres $(psql "$DATABASE_URL" -tAc "SHOW server_version") with shared_buffers=1GB.
$queries queries of 1-4 words (common words more often, a tenth with a creator), $concurrency at a time.

$tables
MD
)
echo "$report"
echo "$report" >> docs/PERFORMANCE.md
