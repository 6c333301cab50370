#!/usr/bin/env bash
# What of docker/ and deploy/k8s/ can be tested without a Docker engine or a
# cluster (usage: packaging_test.sh BUILT_BINARY):
# - the final image stage installs packages that hold every library `ldd`
#   lists for the binary, and dropping one of them is caught;
# - the Dockerfile keeps its hygiene (pinned bases, no recommends, cleaned
#   apt lists, non-root USER, a HEALTHCHECK it can run);
# - docker/entrypoint.sh is POSIX sh and execs the binary with the arguments;
# - the service starts with the Kubernetes ConfigMap + Secret environment,
#   through the entrypoint, answers the image's HEALTHCHECK and drains on
#   SIGTERM sent to the entrypoint's pid;
# - compose and the manifests parse and agree (probe paths, non-root user,
#   image name, env names the service knows, grace periods).
set -euo pipefail
bin=$(realpath "${1:?usage: packaging_test.sh BUILT_BINARY}")
repo=$(cd "$(dirname "$0")/../.." && pwd)
check="python3 $repo/tests/scripts/packaging_check.py"
entrypoint=$repo/docker/entrypoint.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/packaging-test.XXXXXX")
server=
cleanup() {
  if [ -n "$server" ]; then kill -KILL "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

echo "== runtime packages"
$check dockerfile "$repo" || failed=1
$check packages "$repo/docker/Dockerfile" "$bin" || failed=1
# The check must notice a missing runtime library. (Not libcurl4: curl
# depends on it, so apt would install it anyway.)
sed 's/ libhiredis0\.14 / /' "$repo/docker/Dockerfile" >"$work/Dockerfile.without-hiredis"
if out=$($check packages "$work/Dockerfile.without-hiredis" "$bin"); then
  fail "dropping libhiredis0.14 from the final stage went unnoticed"
elif ! grep -q 'libhiredis.so.0.14.*libhiredis0.14' <<<"$out"; then
  fail "dropping libhiredis0.14 failed without naming the library and package: $out"
fi

echo "== entrypoint"
sh -n "$entrypoint" || fail "entrypoint.sh: sh -n"
if command -v dash >/dev/null; then dash -n "$entrypoint" || fail "entrypoint.sh: dash -n"; fi
# A stand-in binary that records its pid and arguments, one a line.
cat >"$work/fake-bin" <<'EOF'
#!/bin/sh
out=$FAKE_OUT
echo "$$" >"$out"
for a in "$@"; do echo "arg:$a" >>"$out"; done
EOF
chmod +x "$work/fake-bin"
# expect_exec "ARGS AS EXPECTED, |-separated" ENTRYPOINT ARGS...
expect_exec() {
  local want=$1
  shift
  rm -f "$work/out"
  CHRYSOPEDIA_BIN=$work/fake-bin FAKE_OUT=$work/out sh "$entrypoint" "$@" &
  local pid=$!
  wait "$pid" || fail "entrypoint $* exited $?"
  if [ ! -f "$work/out" ]; then
    fail "entrypoint $*: the binary never ran"
    return
  fi
  local got_pid got
  got_pid=$(head -1 "$work/out")
  got=$(tail -n +2 "$work/out" | sed 's/^arg://' | paste -sd'|')
  [ "$got_pid" = "$pid" ] || fail "entrypoint $*: the binary ran as pid $got_pid, not by exec as $pid"
  [ "$got" = "$want" ] || fail "entrypoint $*: the binary got '$got', wanted '$want'"
}
expect_exec "serve"
expect_exec "serve|--config|/etc/c.json" serve --config /etc/c.json
expect_exec "migrate" migrate
expect_exec "import|data/sample-corpus.jsonl" import data/sample-corpus.jsonl
expect_exec "search|how do I sidechain?|--creator|Kara Lindqvist" search "how do I sidechain?" --creator "Kara Lindqvist"
expect_exec "--help" --help
# Anything else runs as a command of its own.
got=$(CHRYSOPEDIA_BIN=$work/fake-bin FAKE_OUT=$work/out sh "$entrypoint" echo "a  b")
[ "$got" = "a  b" ] || fail "entrypoint echo 'a  b' printed '$got'"
# The subcommands it hands to the binary are the CLI's.
cli=$(grep -o 'command == "[a-z]*"' "$repo/src/app/cli.cpp" | sed 's/.*"\(.*\)"/\1/' | sort -u | paste -sd' ')
ours=$(sed -n 's/^ *\([a-z |]*\)| -\*)$/\1/p' "$entrypoint" | tr -d '|' | xargs -n1 | sort -u | paste -sd' ')
[ "$cli" = "$ours" ] || fail "entrypoint.sh hands '$ours' to the binary; src/app/cli.cpp knows '$cli'"
# The real binary, through the entrypoint.
CHRYSOPEDIA_BIN=$bin sh "$entrypoint" --help | grep -q '^usage: chrysopedia-chat' ||
  fail "entrypoint --help did not print the binary's usage"

echo "== serving with the Kubernetes configuration, through the entrypoint"
# Config accepted as shipped: a bad value exits 2 before any connection.
for flavour in k8s compose; do
  mapfile -t env < <($check env "$repo" "$flavour")
  status=0
  env -i PATH="$PATH" "${env[@]}" "$bin" migrate >/dev/null 2>"$work/migrate.err" || status=$?
  if [ "$status" = 2 ] || grep -q 'invalid configuration' "$work/migrate.err"; then
    fail "the $flavour environment is rejected: $(cat "$work/migrate.err")"
  fi
done
mapfile -t env < <($check env "$repo" k8s)
# /healthz needs no database; the shared test Postgres is left alone.
database=postgresql://127.0.0.1:1/unreachable
: >"$work/serve.log"
env -i PATH="$PATH" "${env[@]}" PORT=0 WORKERS=1 DATABASE_URL="$database" REDIS_URL= \
  CHRYSOPEDIA_BIN="$bin" sh "$entrypoint" >>"$work/serve.log" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening host=[^ ]* port=\([0-9]*\).*/\1/p' "$work/serve.log" | head -1) || true
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  fail "the server did not start: $(cat "$work/serve.log")"
else
  healthcheck=$($check healthcheck "$repo")
  PORT=$port sh -c "$healthcheck" || fail "the image's HEALTHCHECK ($healthcheck) failed against a serving binary"
  grep -q '"event":"listening"' "$work/serve.log" || fail "LOG_FORMAT=json from the ConfigMap did not give JSON logs"
  kill -TERM "$server"
  status=0
  wait "$server" || status=$?
  server=
  [ "$status" = 0 ] || fail "SIGTERM to the entrypoint's pid: exit $status, wanted 0 (drain)"
  if PORT=$port sh -c "$healthcheck" 2>/dev/null; then fail "the HEALTHCHECK passed with no server"; fi
fi

echo "== compose and Kubernetes manifests"
$check manifests "$repo" || failed=1
if command -v kubectl >/dev/null; then
  kubectl kustomize "$repo/deploy/k8s" >"$work/k8s.yaml" || fail "kubectl kustomize deploy/k8s"
fi
grep -qF 'docker compose -f docker/docker-compose.yml up --build' "$repo/README.md" ||
  fail "README.md does not give the compose command"
# Postgres as deployed runs with the malloc settings the tests and benchmarks
# use (scripts/lib/services.sh): the same string in both places.
pg_malloc=$(sed -n 's/^CHRYSOPEDIA_PG_MALLOC="GLIBC_TUNABLES=\(.*\)"$/\1/p' "$repo/scripts/lib/services.sh")
[ -n "$pg_malloc" ] && grep -qF "GLIBC_TUNABLES: $pg_malloc" "$repo/docker/docker-compose.yml" ||
  fail "docker-compose.yml's postgres lacks GLIBC_TUNABLES: $pg_malloc (scripts/lib/services.sh)"
for f in "$repo"/docker/*.sh "$0"; do bash -n "$f" || fail "bash -n $f"; done

[ "$failed" = 0 ] && echo "packaging: all checks passed"
exit "$failed"
