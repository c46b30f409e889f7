#!/usr/bin/env bash
# Configure (or reconfigure) build/ as a release build and compile everything.
#   ./scripts/build.sh [MESON_OPTION...]     e.g. ./scripts/build.sh -Dmpi=disabled
# Environment: NN_BUILD_DIR (default build), NN_WERROR=1 (warnings are errors, as in CI),
# NN_JOBS (parallel compile jobs; ninja's default otherwise).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

builddir=${NN_BUILD_DIR:-build}
werror=false
[ "${NN_WERROR:-0}" = 1 ] && werror=true
# Every option is given each time, so that an earlier NN_WERROR=1 does not linger in build/.
opts=(--buildtype=release "-Dwerror=$werror" "$@")

if [ -f "$builddir/meson-private/coredata.dat" ]; then
  meson setup --reconfigure "$builddir" "${opts[@]}"
else
  meson setup "$builddir" "${opts[@]}"
fi

# -k 0: build every target that can be built, so one broken file does not hide the state of the rest.
ninja -C "$builddir" -k 0 ${NN_JOBS:+-j "$NN_JOBS"}
