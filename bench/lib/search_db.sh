# A throwaway Postgres for the search benchmarks, sized for 100,000 pages.
# Source from a bench/*.sh script (in the repository root); then
#   search_db_start NAME [EXTRA_OPTIONS]   sets $work (a temp directory,
#       removed at exit with the server) and $base (the server's URL
#       without a database name)
. scripts/lib/services.sh

search_db_start() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/chrysopedia-$1.XXXXXX")
  chmod 755 "$work"  # the postgres user must reach its data directory
  trap 'services_stop; rm -rf "$work"' EXIT
  CHRYSOPEDIA_PG_OPTIONS="-c shared_buffers=1GB -c maintenance_work_mem=512MB -c max_wal_size=4GB ${2:-}" \
    services_start_postgres "$work/pg"
  base=${DATABASE_URL%/*}
}
