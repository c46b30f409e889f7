#!/bin/sh
# Run the model-reader fuzzer for a bounded time: fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR is created with the configuration libFuzzer needs if it does not exist yet (clang,
# ASan + UBSan that stop at the first report, coverage instrumentation on the whole library;
# NN_NO_CLONES because clang 14 cannot link libnn's target_clones kernels in this configuration).
# The seed corpus fuzz/corpus is copied into BUILD_DIR/fuzz-corpus, which grows as the fuzzer finds
# new paths; crashes land in BUILD_DIR/fuzz-artifacts. Exits non-zero when the fuzzer found one.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
src=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -d "$build" ]; then
    CC=clang meson setup "$build" "$src" -Dfuzz=enabled -Dtools=false \
        -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -DNN_NO_CLONES' \
        -Dc_link_args='-fno-sanitize-recover=all'
fi
ninja -C "$build" fuzz/fuzz_model_load

mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts"
cp -n "$src"/fuzz/corpus/* "$build/fuzz-corpus/" 2>/dev/null || true

# Memory caps: a hostile header must not be able to make the reader allocate beyond these.
status=0
"$build/fuzz/fuzz_model_load" "$build/fuzz-corpus" \
    -max_total_time="$seconds" -rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10 \
    -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 || status=$?
if [ "$status" -ne 0 ]; then
    echo "fuzz/run.sh: the fuzzer stopped with status $status; see $build/fuzz-artifacts/" >&2
    exit "$status"
fi
echo "fuzz/run.sh: no crash in $seconds seconds"
