#!/bin/sh
# Container entrypoint. With no arguments, or with a chrysopedia-chat
# subcommand or option first (serve, migrate, import FILE, embed, search QUERY,
# --config F, --help), it execs the service binary with those arguments, so
# the binary is PID 1 and receives SIGTERM itself. Anything else is run as a
# command (e.g. `docker run --rm -it IMAGE sh`).
# CHRYSOPEDIA_BIN names the binary (default /usr/local/bin/chrysopedia-chat).
set -eu

bin=${CHRYSOPEDIA_BIN:-/usr/local/bin/chrysopedia-chat}

if [ "$#" -eq 0 ]; then
  set -- serve
fi

case "$1" in
  serve | migrate | import | embed | search | -*)
    exec "$bin" "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
