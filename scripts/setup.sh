#!/usr/bin/env bash
# Installs everything cowlab builds and tests with, on Debian 12, idempotently.
#
#   scripts/setup.sh           apt packages, Debian source packages (imgui, libsdl2),
#                              SDL2 built for wasm (cached), npm packages
#
# Third-party code lands in .deps/ (ignored by git). A second run only checks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
SDL_VERSION=2.26.5
IMGUI_VERSION=1.86
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*"; }

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  emscripten libsdl2-dev libgl-dev
  doctest-dev nlohmann-json3-dev libstb-dev
  chromium fonts-dejavu-core
  xvfb xauth libgl1-mesa-dri
  python3 redis-server libhiredis-dev
  fonttools
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  mkdir -p "$DEPS"
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$DEPS/apt.log" 2>&1 || { tail -40 "$DEPS/apt.log" >&2; echo "setup: apt-get failed (log: $DEPS/apt.log)" >&2; exit 1; }
else
  log "apt: all packages present"
fi

# Debian source packages: Dear ImGui (the wasm build compiles its sources) and SDL2.
mkdir -p "$DEPS/src"
imgui_dir="$DEPS/src/imgui-$IMGUI_VERSION+ds"
sdl_dir="$DEPS/src/libsdl2-$SDL_VERSION+dfsg"
if [ ! -f "$imgui_dir/imgui.cpp" ] || [ ! -f "$sdl_dir/CMakeLists.txt" ]; then
  if ! apt-get source --print-uris imgui >/dev/null 2>&1; then
    # No deb-src entry yet: derive one from the system's own sources file.
    src_file=/etc/apt/sources.list.d/debian.sources
    [ -f "$src_file" ] || { echo "setup: $src_file not found; add a deb-src entry for bookworm by hand" >&2; exit 1; }
    log "apt: adding deb-src entries derived from $src_file"
    sed -e 's/^Types: deb$/Types: deb-src/' "$src_file" | $SUDO tee /etc/apt/sources.list.d/cowlab-deb-src.sources >/dev/null
    $SUDO apt-get update -qq
  fi
  (
    cd "$DEPS/src"
    rm -rf imgui-* libsdl2-* imgui_* libsdl2_*
    log "apt: fetching source packages imgui libsdl2"
    apt-get source -qq imgui libsdl2 >"$DEPS/apt-source.log" 2>&1 \
      || { tail -20 "$DEPS/apt-source.log" >&2; exit 1; }
  )
fi
[ -f "$imgui_dir/imgui.cpp" ] || { echo "setup: Dear ImGui $IMGUI_VERSION sources missing in $imgui_dir" >&2; ls "$DEPS/src" >&2; exit 1; }
[ -f "$sdl_dir/CMakeLists.txt" ] || { echo "setup: SDL2 $SDL_VERSION sources missing in $sdl_dir" >&2; ls "$DEPS/src" >&2; exit 1; }

# SDL2 for wasm, built once per version (configure alone takes minutes).
export NODE_PATH=/usr/share/nodejs
sdl_prefix="$DEPS/sdl2-wasm-$SDL_VERSION"
if [ ! -f "$sdl_prefix/lib/cmake/SDL2/SDL2Config.cmake" ]; then
  log "SDL2 $SDL_VERSION for wasm: building (first time only, several minutes)"
  rm -rf "$DEPS/build-sdl2-wasm"
  emcmake cmake -S "$sdl_dir" -B "$DEPS/build-sdl2-wasm" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$sdl_prefix.partial" -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY \
    -DSDL_SHARED=OFF -DSDL_STATIC=ON -DSDL_TEST=OFF -DSDL_AUDIO=OFF -DSDL_HAPTIC=OFF -DSDL_SENSOR=OFF \
    -DSDL_POWER=OFF -DSDL_HIDAPI=OFF -DSDL_FILESYSTEM=OFF -DSDL_LOCALE=OFF -DSDL_MISC=OFF \
    -DSDL_RENDER=OFF -DSDL_THREADS=OFF -DSDL_PTHREADS=OFF >"$DEPS/build-sdl2-wasm.log" 2>&1 \
    || { tail -40 "$DEPS/build-sdl2-wasm.log" >&2; exit 1; }
  ninja -C "$DEPS/build-sdl2-wasm" install >>"$DEPS/build-sdl2-wasm.log" 2>&1 \
    || { tail -40 "$DEPS/build-sdl2-wasm.log" >&2; exit 1; }
  rm -rf "$sdl_prefix"
  mv "$sdl_prefix.partial" "$sdl_prefix"
  rm -rf "$DEPS/build-sdl2-wasm"
else
  log "SDL2 $SDL_VERSION for wasm: cached in $sdl_prefix"
fi

# Headers that em++ may see: emcc does not search /usr/include, so expose only these.
inc="$DEPS/wasm-include"
mkdir -p "$inc"
ln -sfn /usr/include/doctest "$inc/doctest"
ln -sfn /usr/include/nlohmann "$inc/nlohmann"
ln -sfn /usr/include/stb "$inc/stb"

# npm: playwright-core drives Debian's chromium; never a downloaded browser.
if [ ! -d "$ROOT/node_modules/playwright-core" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "npm: installing from package-lock.json"
  (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
else
  log "npm: node_modules up to date"
fi
log "done"
