#!/usr/bin/env bash
# g++ 12 miscompiles a class-type temporary built inside a co_await
# expression (it is copied bitwise within the coroutine frame, so strings
# and closures end up pointing into a stale copy; see docs/DEVELOPING.md).
# This guard reads every co_await expression up to its ';' and refuses
# braced temporaries (`f(T{...})`, `f({...})`) and lambdas (`f([...]...)`)
# among its arguments.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
found=$(find "$repo/src" "$repo/tests" "$repo/include" "$repo/bench" -name '*.cpp' -o -name '*.hpp' |
  xargs perl -0777 -ne '
    while (/co_await\b([^;]*);/g) {
      my $expr = $1;
      if ($expr =~ /\((?:[A-Za-z_:<>]+)?\s*\{|\(\s*\[/) {
        my $line = substr($_, 0, pos($_)) =~ tr/\n//;
        $expr =~ s/\s+/ /g;
        print "$ARGV:", $line + 1, ": co_await$expr\n";
      }
    }')
if [ -n "$found" ]; then
  echo "$found"
  echo "build the argument in a named variable first (g++ 12 coroutine bug)"
  exit 1
fi
echo "no temporaries of class type in co_await expressions"
