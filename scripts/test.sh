#!/usr/bin/env bash
# Build build/ (scripts/build.sh) and run every test, printing meson's summary. Exits non-zero when
# the build or any test fails.
#   ./scripts/test.sh [MESON_TEST_ARG...]    e.g. ./scripts/test.sh --suite unit, or a test's name
# Environment: as scripts/build.sh (NN_BUILD_DIR, NN_WERROR=1, NN_JOBS); NN_DATA_DIR enables the
# tests that need the real MNIST files.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
builddir=${NN_BUILD_DIR:-build}

build_rc=0
./scripts/build.sh || build_rc=$?
if [ ! -f "$builddir/build.ninja" ]; then
  echo "test.sh: meson setup failed; no tests run" >&2
  exit 1
fi
[ $build_rc -eq 0 ] || echo "test.sh: the build failed (above); running the tests that were built" >&2

# --no-rebuild: the build just ran; a second ninja run would only repeat its errors and stop the tests.
test_rc=0
if [ $build_rc -eq 0 ] || [ $# -gt 0 ]; then
  meson test -C "$builddir" --no-rebuild --print-errorlogs "$@" || test_rc=$?
else
  # meson test refuses to start when any test program is missing, so after a failed build run the
  # tests whose programs exist, and report the others as not built.
  lists=$(meson introspect --tests "$builddir" | python3 -c '
import json, os, sys
tests = json.load(sys.stdin)
print(" ".join(t["name"] for t in tests if os.path.exists(t["cmd"][0])))
print(" ".join(t["name"] for t in tests if not os.path.exists(t["cmd"][0])))')
  built=$(sed -n 1p <<< "$lists")
  unbuilt=$(sed -n 2p <<< "$lists")
  if [ -n "$built" ]; then
    # shellcheck disable=SC2086  # one test name per word
    meson test -C "$builddir" --no-rebuild --print-errorlogs $built || test_rc=$?
  fi
  for t in $unbuilt; do echo "NOT BUILT: $t"; done
  echo "Not built:          $(wc -w <<< "$unbuilt")"
fi

[ $build_rc -eq 0 ] && [ $test_rc -eq 0 ]
