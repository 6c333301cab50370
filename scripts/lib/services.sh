# Throwaway (or persistent) Postgres and Redis for tests and scripts/run.
# Source this file; then:
#   services_start_postgres DIR   initdb DIR if needed, start on a free port,
#                                 create database "chrysopedia", export DATABASE_URL
#   services_start_redis DIR [persist]
#                                 start on a free port, export REDIS_URL
#   services_start_standby DIR    a hot standby of the Postgres started above
#                                 (pg_basebackup, streaming replication) on
#                                 a free port; export STANDBY_URL, STANDBY_PID
#   services_stop                 stop whatever was started (idempotent)
# Postgres refuses to run as root, so as root it runs as the "postgres" user.
# CHRYSOPEDIA_PG_ENV: environment for the Postgres server (default: the
# malloc tunables below; empty: none).

# glibc hands the memory a search's executor freed back to the kernel after
# every statement (the heap top passes the 128 KiB trim threshold), and the
# next search faults it in again: about 130 page faults per search, half of
# a backend's time under load. Kept, a backend reuses its heap. (The same
# setting is in docker/docker-compose.yml; see docs/OPERATIONS.md.)
CHRYSOPEDIA_PG_MALLOC="GLIBC_TUNABLES=glibc.malloc.trim_threshold=16777216:glibc.malloc.mmap_threshold=4194304"

_svc_pg_dir=""
_svc_standby_dir=""
_svc_redis_dir=""
_svc_redis_port=""

_svc_pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "services: no PostgreSQL server installed (scripts/deps)" >&2; return 1; }
  echo "$d"
}

_svc_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nobody listens on now. Another process may still take it before we
# bind, so the callers retry on a failed start.
services_free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
      echo "$p"
      return 0
    fi
  done
  echo "services: no free port found" >&2
  return 1
}

# Whether the postgres user can reach DIR (every ancestor must be searchable).
services_pg_can_use() {
  [ "$(id -u)" -ne 0 ] && return 0
  runuser -u postgres -- test -x "$(dirname "$1")" 2>/dev/null
}

# Starts the cluster in DIR on a free port, another one if that was taken
# meanwhile; sets _svc_port. $2 names it in messages.
_svc_pg_start() {
  local dir=$1 what=$2 bin attempt pg_env=${CHRYSOPEDIA_PG_ENV-$CHRYSOPEDIA_PG_MALLOC}
  bin=$(_svc_pg_bin)
  for attempt in 1 2 3 4 5; do
    _svc_port=$(services_free_port)
    # shellcheck disable=SC2086
    if _svc_as_pg env $pg_env "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $_svc_port -k $dir -c listen_addresses=127.0.0.1 ${CHRYSOPEDIA_PG_OPTIONS:-}" \
      start >/dev/null; then
      return 0
    fi
    echo "services: $what did not start on port $_svc_port (attempt $attempt)" >&2
    tail -n 5 "$dir/server.log" >&2 || true
  done
  return 1
}

services_start_postgres() {
  local dir=$1 bin port pg_env=${CHRYSOPEDIA_PG_ENV-$CHRYSOPEDIA_PG_MALLOC}
  bin=$(_svc_pg_bin)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    _svc_as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
      { cat "$dir.initdb.log" >&2; return 1; }
  fi
  _svc_pg_start "$dir" postgres || return 1
  _svc_pg_dir=$dir
  port=$_svc_port
  local i
  for i in $(seq 1 100); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='chrysopedia'" | grep -q 1; then
    psql -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE chrysopedia" >/dev/null
  fi
  export PGPORT_CHRYSOPEDIA=$port
  # How a test stops and starts this server again (same port, same data).
  if [ "$(id -u)" -eq 0 ]; then
    export CHRYSOPEDIA_PG_CTL="runuser -u postgres -- env $pg_env $bin/pg_ctl -D $dir"
  else
    export CHRYSOPEDIA_PG_CTL="env $pg_env $bin/pg_ctl -D $dir"
  fi
  export CHRYSOPEDIA_PG_START="$CHRYSOPEDIA_PG_CTL -l $dir/server.log -w -t 60 start -o '-p $port -k $dir -c listen_addresses=127.0.0.1 ${CHRYSOPEDIA_PG_OPTIONS:-}'"

  export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/chrysopedia"
}

services_start_standby() {
  local dir=$1 bin port
  [ -n "$_svc_pg_dir" ] || { echo "services: a standby needs services_start_postgres first" >&2; return 1; }
  bin=$(_svc_pg_bin)
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  # -R: standby.signal and primary_conninfo, so it streams from the primary.
  _svc_as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$PGPORT_CHRYSOPEDIA" -U postgres -D "$dir" \
    -R -X stream -c fast >"$dir.basebackup.log" 2>&1 ||
    { cat "$dir.basebackup.log" >&2; return 1; }
  rm -f "$dir/server.log" "$dir/postmaster.pid"
  _svc_pg_start "$dir" "the standby" || return 1
  _svc_standby_dir=$dir
  port=$_svc_port
  export STANDBY_PID
  STANDBY_PID=$(head -n 1 "$dir/postmaster.pid")
  export STANDBY_URL="postgresql://postgres@127.0.0.1:$port/chrysopedia"
  # Accepting connections is not yet streaming: until its WAL receiver has
  # reached the primary, the service takes it for down and asks again only
  # seconds later. Ready means streaming.
  local i
  for i in $(seq 1 300); do
    [ "$(psql -h 127.0.0.1 -p "$port" -U postgres -d chrysopedia -tAc \
      "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ] && return 0
    sleep 0.1
  done
  echo "services: the standby on port $port did not stream from the primary in 30 s" >&2
  tail -n 5 "$dir/server.log" >&2 || true
  return 1
}

# Stops the cluster in DIR (if any) with shutdown mode $2.
_svc_pg_stop() {
  [ -n "$1" ] || return 0
  _svc_as_pg "$(_svc_pg_bin)/pg_ctl" -D "$1" -m "$2" -w -t 30 stop >/dev/null 2>&1 || true
}

services_stop_standby() {
  _svc_pg_stop "$_svc_standby_dir" immediate
  _svc_standby_dir=""
}

services_stop_postgres() {
  _svc_pg_stop "$_svc_pg_dir" fast
  _svc_pg_dir=""
}

services_start_redis() {
  local dir=$1 persist=${2:-} port attempt
  local save_args=(--save "" --appendonly no)
  [ -n "$persist" ] && save_args=(--save "60 1" --appendonly no)
  mkdir -p "$dir"
  for attempt in 1 2 3 4 5; do
    port=$(services_free_port)
    redis-server --port "$port" --bind 127.0.0.1 "${save_args[@]}" --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null || true
    local i
    for i in $(seq 1 50); do
      if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
        _svc_redis_dir=$dir
        _svc_redis_port=$port
        export REDIS_URL="redis://127.0.0.1:$port/0"
        return 0
      fi
      sleep 0.1
    done
    echo "services: redis did not start on port $port (attempt $attempt)" >&2
    tail -n 5 "$dir/redis.log" >&2 || true
  done
  return 1
}

services_stop_redis() {
  [ -n "$_svc_redis_port" ] || return 0
  redis-cli -p "$_svc_redis_port" shutdown nosave >/dev/null 2>&1 || true
  if [ -f "$_svc_redis_dir/redis.pid" ]; then
    kill "$(cat "$_svc_redis_dir/redis.pid")" 2>/dev/null || true
  fi
  _svc_redis_port=""
}

services_stop() {
  services_stop_standby
  services_stop_redis
  services_stop_postgres
}
