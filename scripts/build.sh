#!/usr/bin/env bash
# Builds cowlab.
#
#   scripts/build.sh native   engine, lab app, tests, tools       -> build/native
#   scripts/build.sh web      engine and lab for the browser      -> build/wasm/web
#   scripts/build.sh all      both (the default)
#
# Installs what is missing first (scripts/setup.sh; a no-op once done).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what="${1:-all}"
case "$what" in native|web|all) ;; *) echo "usage: scripts/build.sh [native|web|all]" >&2; exit 2 ;; esac

scripts/setup.sh
export NODE_PATH=/usr/share/nodejs

if [ "$what" = native ] || [ "$what" = all ]; then
  cmake --preset native >/dev/null
  cmake --build --preset native
fi
if [ "$what" = web ] || [ "$what" = all ]; then
  cmake --preset wasm >/dev/null
  cmake --build --preset wasm
  echo "web lab: build/wasm/web"
fi
