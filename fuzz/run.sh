#!/bin/sh
# Run every fuzz target for a bounded time: fuzz/run.sh BUILD_DIR SECONDS
#
# The targets are fuzz/fuzz_*.c, each a libFuzzer target built as BUILD_DIR/fuzz/fuzz_NAME
# (fuzz/meson.build registers them); SECONDS is split evenly between them (at least 1 s each).
# BUILD_DIR is created with the configuration libFuzzer needs if it does not exist yet (clang,
# ASan + UBSan that stop at the first report, coverage instrumentation on the whole library;
# NN_NO_CLONES because clang 14 cannot link libnn's target_clones kernels in this configuration).
# Target fuzz_NAME starts from the seed corpus fuzz/corpus-NAME (fuzz/corpus for fuzz_model_load,
# the first target), copied into BUILD_DIR/fuzz-corpus-NAME, which grows as the fuzzer finds new
# paths; crashes land in BUILD_DIR/fuzz-artifacts-NAME. Every target runs even when an earlier one
# found a crash; the exit status is non-zero when any did.
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

# Every target the build defines: one for an optional part (fuzz_onnx without ONNX) is left out.
names=
count=0
for f in "$src"/fuzz/fuzz_*.c; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .c)
    if ! ninja -C "$build" -t query "fuzz/$n" > /dev/null 2>&1; then
        echo "fuzz/run.sh: $n is not part of this build (an optional part is off); skipped"
        continue
    fi
    names="$names ${n#fuzz_}"
    count=$((count + 1))
done
if [ -z "$names" ]; then
    echo "fuzz/run.sh: no fuzz target in $build" >&2
    exit 1
fi
each=$((seconds / count))
[ "$each" -ge 1 ] || each=1

targets=
for n in $names; do targets="$targets fuzz/fuzz_$n"; done
# shellcheck disable=SC2086 # one word per target
ninja -C "$build" $targets

failed=
for n in $names; do
    seeds="$src/fuzz/corpus-$n"
    [ -d "$seeds" ] || { [ "$n" = model_load ] && seeds="$src/fuzz/corpus"; }
    corpus="$build/fuzz-corpus-$n"
    artifacts="$build/fuzz-artifacts-$n"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$seeds" ]; then cp -n "$seeds"/* "$corpus/" 2>/dev/null || true; fi
    echo "fuzz/run.sh: fuzz_$n for $each s (seeds: $seeds)"
    # Memory caps: a hostile input must not be able to make a reader allocate beyond these.
    status=0
    "$build/fuzz/fuzz_$n" "$corpus" \
        -max_total_time="$each" -rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "fuzz/run.sh: fuzz_$n stopped with status $status; see $artifacts/" >&2
        failed="$failed fuzz_$n"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz/run.sh: crashes in:$failed" >&2
    exit 1
fi
echo "fuzz/run.sh: no crash in $count targets ($names ), $each seconds each"
