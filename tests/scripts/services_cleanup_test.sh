#!/usr/bin/env bash
# The throwaway servers of scripts/lib/services.sh answer once started and
# are gone after the script that started them is interrupted.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/chrysopedia-svc.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

bash -c '
  . "$1/scripts/lib/services.sh"
  trap services_stop EXIT
  trap "exit 130" INT
  services_start_postgres "$2/pg"
  services_start_redis "$2/redis"
  psql "$DATABASE_URL" -tAc "SELECT 41 + 1" > "$2/pg.answer"
  redis-cli -u "$REDIS_URL" ping > "$2/redis.answer"
  head -n 1 "$2/pg/postmaster.pid" > "$2/pg.pid"
  cp "$2/redis/redis.pid" "$2/redis.pid.copy"
  kill -INT $$
  sleep 30
' services-test "$repo" "$work" || true

[ "$(cat "$work/pg.answer")" = 42 ] || { echo "postgres did not answer"; exit 1; }
[ "$(cat "$work/redis.answer")" = PONG ] || { echo "redis did not answer"; exit 1; }
for i in $(seq 1 50); do
  alive=0
  kill -0 "$(cat "$work/pg.pid")" 2>/dev/null && alive=1
  kill -0 "$(cat "$work/redis.pid.copy")" 2>/dev/null && alive=1
  [ $alive -eq 0 ] && break
  sleep 0.1
done
if [ $alive -ne 0 ]; then
  echo "a server outlived the interrupted script"
  exit 1
fi
echo "services started, answered, and stopped on interrupt"
