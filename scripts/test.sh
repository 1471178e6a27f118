#!/usr/bin/env bash
# Runs every test: installs what is missing, builds native and wasm, runs the
# doctest suite and serve.py's tests (ctest), then the browser test in
# headless Chromium. Screenshots land in artifacts/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

scripts/build.sh all
ctest --preset native
node tests/browser/smoke.mjs --root build/wasm/web --artifacts artifacts
node tests/browser/lesson.mjs --root build/wasm/web --artifacts artifacts
node tests/browser/mapping.mjs --root build/wasm/web --artifacts artifacts
node tests/browser/predict.mjs --root build/wasm/web --artifacts artifacts
node tests/browser/replay.mjs --root build/wasm/web --artifacts artifacts
node tests/browser/responsive.mjs --root build/wasm/web --artifacts artifacts
# Figures, not a pass/fail timing: it fails only if the engine misbehaves.
build/native/cowlab-bench-engine --kernel-mib 256 --wasm build/wasm/cowlab-bench-engine.js
build/native/cowlab-bench-lessons
node tools/bench_web.mjs --root build/wasm/web
echo "all tests passed"
