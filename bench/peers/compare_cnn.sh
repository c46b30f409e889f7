#!/bin/sh
# compare_cnn.sh BUILD_DIR [GRID_EPOCHS]: libnn's default CNN (Keras' MNIST convnet) against the same
# network in PyTorch (pytorch_cnn.py), batch $BATCH [128], runs alternating, median of $REPEATS (3):
#
#   single  one model (relu, adam), one epoch, one thread each:
#             libnn:   nn-mnist grid --arch cnn --activations relu --optimizers adam --epochs 1 --jobs 1
#                      (examples/mnist_cnn MNIST_DIR 1, the same network, while nn-mnist has no --arch)
#             PyTorch: pytorch_cnn.py --threads 1 --epochs 1
#   grid    the nine models {relu, sigmoid, tanh} x {sgd, adam, rmsprop} on $JOBS cores (default: all):
#             libnn:   nn-mnist grid --arch cnn --jobs $JOBS            (threads in one process)
#             PyTorch: pytorch_cnn.py --grid --jobs $JOBS --threads 1   ($JOBS worker processes)
#           with GRID_EPOCHS epochs, default 1, NOT the study's 12: PyTorch takes about 40 s per epoch
#           per model on one core, so its full grid would take over an hour on 2 cores and the three
#           repeats most of a working day. Per-epoch cost is what is compared; accuracies after one
#           epoch only show that both learn. Skipped while nn-mnist has no --arch.
#
# Printed per side: median wall seconds (whole process: start, data loading, training, evaluation),
# the epoch seconds each side reports itself (training + test-set evaluation; examples/mnist_cnn
# reports none, so its wall time stands in, which counts its start and load against libnn), peak RSS
# (GNU time's; for PyTorch's worker processes the sum of their peaks, which pytorch_cnn.py prints),
# test accuracy, and the ratios PyTorch / libnn (above 1: libnn is faster): of the medians, and of each
# repeat's pair with their median. `uptime` before and after: on a shared machine read the paired
# ratios, each measured under about the same load, rather than the seconds.
#
# Environment: MNIST_DIR (else $NN_DATA_DIR/mnist, else data/mnist; nothing is downloaded), PYTHON,
# REPEATS [3], GRID_REPEATS [$REPEATS], JOBS [nproc], PARTS ["single grid"], BATCH [128: Keras' convnet
# example's; the study's grids train 32], TRAIN_LIMIT [all; a quick check of this script, passed to both sides].
# Exit status: 0, also when PyTorch is missing ("skip: ..."); 1 when a run fails; 2 on bad usage.
set -eu

usage() {
    echo "usage: $0 BUILD_DIR [GRID_EPOCHS]" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
[ -d "$1" ] || { echo "compare_cnn.sh: $1 is not a folder" >&2; exit 1; }
BUILD=$(cd "$1" && pwd) # the runs start in temporary folders
GRID_EPOCHS=${2:-1}
REPEATS=${REPEATS:-3}
GRID_REPEATS=${GRID_REPEATS:-$REPEATS}
JOBS=${JOBS:-$(nproc)}
BATCH=${BATCH:-128}
PARTS=${PARTS:-single grid}
TRAIN_LIMIT=${TRAIN_LIMIT:-}
for v in "$GRID_EPOCHS" "$REPEATS" "$GRID_REPEATS" "$JOBS" "$BATCH" ${TRAIN_LIMIT:+"$TRAIN_LIMIT"}; do
    case $v in '' | *[!0-9]* | 0) usage ;; esac
done
NN=$BUILD/tools/nn-mnist/nn-mnist
CNN=$BUILD/examples/mnist_cnn
[ -x /usr/bin/time ] || { echo "compare_cnn.sh: /usr/bin/time is missing (Debian package 'time')" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${MNIST_DIR:-${NN_DATA_DIR:-data}/mnist}
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    [ -f "$DATA/$f" ] || { echo "compare_cnn.sh: $DATA/$f is missing (set MNIST_DIR)" >&2; exit 1; }
done
DATA=$(cd "$DATA" && pwd) # mnist_cnn runs in a temporary folder

PY=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch, numpy' 2>/dev/null; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || { echo "skip: python3-torch not installed"; exit 0; }

ARCH=0
if [ -x "$NN" ] && "$NN" grid --help 2>&1 | grep -q -- '--arch'; then
    ARCH=1
elif [ ! -x "$CNN" ]; then
    echo "compare_cnn.sh: neither $NN with --arch nor $CNN is built" >&2
    exit 1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# run NAME COMMAND...: COMMAND under /usr/bin/time -v, one thread for BLAS and OpenMP, in a fresh
# folder $TMP/NAME (its working directory); output in $TMP/NAME.log.
run() {
    name=$1
    shift
    echo "  $name: $*"
    rm -rf "${TMP:?}/$name"
    mkdir -p "$TMP/$name"
    if ! (cd "$TMP/$name" && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
        /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.log" 2>&1); then
        echo "compare_cnn.sh: $name failed; the end of its output:" >&2
        tail -n 20 "$TMP/$name.log" >&2
        exit 1
    fi
}
# GNU time writes the wall time as m:ss.cc or h:mm:ss.
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$TMP/$1.time"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/$1.time"; }
# keep SIDE FIELD VALUE: one repeat's figure, for the medians.
keep() { echo "$3" >>"$TMP/$1.$2"; }
median() {
    [ -s "$TMP/$1.$2" ] || { echo "-"; return; }
    sort -g "$TMP/$1.$2" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
# paired SIDE_A SIDE_B FIELD: B / A of each repeat (run next to each other, so under about the same
# load), then their median; steadier than the ratio of medians when the load drifts.
paired() {
    paste -d ' ' "$TMP/$1.$3" "$TMP/$2.$3" | awk '$1 > 0 { printf "%.2f\n", $2 / $1 }' >"$TMP/$1.$3.ratio"
    echo "$(tr '\n' ' ' <"$TMP/$1.$3.ratio")(median $(median "$1" "$3.ratio"))"
}
# results.csv (nn-mnist's or pytorch_cnn.py's): "optimizer_activation test_accuracy", one per model.
accuracies() { awk -F, 'NR > 1 { printf "%s_%s %.4f\n", $1, $2, $4 }' "$1"; }

LIMIT_NN='' LIMIT_PY='' LIMIT_CNN=''
if [ -n "$TRAIN_LIMIT" ]; then
    LIMIT_NN="--train-limit $TRAIN_LIMIT" LIMIT_PY="--train-limit $TRAIN_LIMIT" LIMIT_CNN=$TRAIN_LIMIT
fi

echo "machine: $(nproc) cores, $(uname -m), $("$PY" -c 'import torch; print("torch", torch.__version__)')"
if [ "$ARCH" = 1 ]; then echo "libnn: $NN grid --arch cnn"; else echo "libnn: $CNN (nn-mnist has no --arch yet)"; fi
echo "load before: $(uptime)"

# --- single: one model, one epoch, one thread ----------------------------------------------------
single_libnn() {
    if [ "$ARCH" = 1 ]; then
        # shellcheck disable=SC2086
        run libnn "$NN" grid --arch cnn --activations relu --optimizers adam --epochs 1 --jobs 1 --threads 1 \
            --batch-size "$BATCH" --data-dir "$DATA" --no-download --out out --models models $LIMIT_NN
        # Not a terminal, so nn-mnist prints one line per epoch: "adam_relu: epoch 1/1 ... (12.3s)".
        keep libnn epoch "$(sed -n 's/.*epoch 1\/1 .*(\([0-9.]*\)s)$/\1/p' "$TMP/libnn.log" | tail -n 1)"
        keep libnn acc "$(accuracies "$TMP/libnn/out/results.csv" | awk '{ print $2 }')"
    else
        # shellcheck disable=SC2086
        run libnn "$CNN" "$DATA" 1 $LIMIT_CNN
        keep libnn epoch "$(wall_s libnn)"
        keep libnn acc "$(sed -n 's/^test accuracy \([0-9.]*\)$/\1/p' "$TMP/libnn.log")"
    fi
    keep libnn wall "$(wall_s libnn)"
    keep libnn rss "$(rss_mib libnn)"
}
single_pytorch() {
    # examples/mnist_cnn evaluates only the test set; nn-mnist grid also the training set at the end.
    TRAIN_EVAL=
    [ "$ARCH" = 1 ] || TRAIN_EVAL=--no-train-eval
    # shellcheck disable=SC2086
    run pytorch "$PY" "$HERE/pytorch_cnn.py" --threads 1 --epochs 1 --batch-size "$BATCH" --data-dir "$DATA" \
        --out out $TRAIN_EVAL $LIMIT_PY
    keep pytorch epoch "$(sed -n 's/.*epoch 1\/1: .*(\([0-9.]*\) s)$/\1/p' "$TMP/pytorch.log")"
    keep pytorch acc "$(accuracies "$TMP/pytorch/out/results.csv" | awk '{ print $2 }')"
    keep pytorch wall "$(wall_s pytorch)"
    keep pytorch rss "$(rss_mib pytorch)"
}

# --- grid: nine models on $JOBS cores ------------------------------------------------------------
grid_libnn() {
    # shellcheck disable=SC2086
    run libnn-grid "$NN" grid --arch cnn --epochs "$GRID_EPOCHS" --jobs "$JOBS" --threads 1 --batch-size "$BATCH" \
        --data-dir "$DATA" --no-download --quiet --out out --models models $LIMIT_NN
    keep libnn-grid wall "$(wall_s libnn-grid)"
    keep libnn-grid rss "$(rss_mib libnn-grid)"
}
grid_pytorch() {
    # shellcheck disable=SC2086
    run pytorch-grid "$PY" "$HERE/pytorch_cnn.py" --grid --jobs "$JOBS" --threads 1 --epochs "$GRID_EPOCHS" \
        --batch-size "$BATCH" --data-dir "$DATA" --quiet --out out $LIMIT_PY
    keep pytorch-grid wall "$(wall_s pytorch-grid)"
    # GNU time sees only the largest process; the workers ran side by side, so count them all.
    keep pytorch-grid rss "$(sed -n 's/.*peak RSS \([0-9]*\) MiB (parent.*/\1/p' "$TMP/pytorch-grid.log")"
}

# last SIDE: this repeat's figures of SIDE, printed as they come (a slow run can be read before the end).
last() {
    line="    $1:"
    for f in wall epoch rss acc; do
        [ -s "$TMP/$1.$f" ] && line="$line $f $(tail -n 1 "$TMP/$1.$f")"
    done
    echo "$line"
}
# alternate SIDE_A SIDE_B REPEATS: A B, B A, A B, ... so a drifting load falls on both sides.
alternate() {
    i=1
    while [ "$i" -le "$3" ]; do
        echo "repeat $i/$3 ($(uptime | sed 's/.*load/load/'))"
        if [ $((i % 2)) = 1 ]; then "$1"; "$2"; else "$2"; "$1"; fi
        last "$4"
        last "$5"
        i=$((i + 1))
    done
}

DID_SINGLE=0 DID_GRID=0
for part in $PARTS; do
    case $part in
    single)
        echo "single model, 1 epoch, 1 thread, batch $BATCH:"
        alternate single_libnn single_pytorch "$REPEATS" libnn pytorch
        DID_SINGLE=1
        ;;
    grid)
        if [ "$ARCH" = 0 ]; then
            echo "grid: skipped, $NN has no --arch cnn yet"
            continue
        fi
        echo "grid of 9 models, $GRID_EPOCHS epoch(s), $JOBS cores, batch $BATCH:"
        alternate grid_libnn grid_pytorch "$GRID_REPEATS" libnn-grid pytorch-grid
        DID_GRID=1
        ;;
    *) usage ;;
    esac
done
echo "load after:  $(uptime)"
echo

if [ "$DID_SINGLE" = 1 ]; then
    echo "single model (relu, adam), 1 epoch, 1 thread, batch $BATCH, median of $REPEATS:"
    printf '%-10s %10s %10s %14s %14s\n' side "wall s" "epoch s" "peak RSS MiB" "test accuracy"
    for s in libnn pytorch; do
        printf '%-10s %10s %10s %14s %14s\n' "$s" "$(median "$s" wall)" "$(median "$s" epoch)" \
            "$(median "$s" rss)" "$(median "$s" acc)"
    done
    printf '%-10s %10s %10s %14s\n' "pytorch/libnn" "$(ratio "$(median pytorch wall)" "$(median libnn wall)")" \
        "$(ratio "$(median pytorch epoch)" "$(median libnn epoch)")" \
        "$(ratio "$(median pytorch rss)" "$(median libnn rss)")"
    [ "$ARCH" = 1 ] || echo "(libnn's epoch s is examples/mnist_cnn's whole wall time: start, loading, saving included)"
    echo "  pytorch/libnn per repeat: wall $(paired libnn pytorch wall), epoch $(paired libnn pytorch epoch)"
    for s in libnn pytorch; do
        echo "  $s each repeat: wall $(tr '\n' ' ' <"$TMP/$s.wall")| epoch $(tr '\n' ' ' <"$TMP/$s.epoch")"
    done
    echo
fi
if [ "$DID_GRID" = 1 ]; then
    echo "grid of 9 models, $GRID_EPOCHS epoch(s), $JOBS cores, batch $BATCH, median of $GRID_REPEATS:"
    printf '%-14s %10s %14s\n' side "wall s" "peak RSS MiB"
    for s in libnn-grid pytorch-grid; do
        printf '%-14s %10s %14s\n' "$s" "$(median "$s" wall)" "$(median "$s" rss)"
    done
    printf '%-14s %10s %14s\n' "pytorch/libnn" "$(ratio "$(median pytorch-grid wall)" "$(median libnn-grid wall)")" \
        "$(ratio "$(median pytorch-grid rss)" "$(median libnn-grid rss)")"
    for s in libnn-grid pytorch-grid; do
        echo "  $s each repeat: wall $(tr '\n' ' ' <"$TMP/$s.wall")"
    done
    echo "  pytorch/libnn per repeat: wall $(paired libnn-grid pytorch-grid wall)"
    echo "test accuracy per model after $GRID_EPOCHS epoch(s), last repeat (libnn, pytorch):"
    accuracies "$TMP/libnn-grid/out/results.csv" | sort >"$TMP/acc.nn"
    accuracies "$TMP/pytorch-grid/out/results.csv" | sort >"$TMP/acc.pt"
    join "$TMP/acc.nn" "$TMP/acc.pt" | awk '{ printf "  %-16s %8s %8s\n", $1, $2, $3 }'
fi
