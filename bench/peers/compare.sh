#!/bin/sh
# compare.sh NN_MNIST_BINARY [EPOCHS]: the reference study (9 MLPs x EPOCHS, default 10) run by nn-mnist
# and by its PyTorch peer on this machine, one after the other, with their wall times, peak memory,
# the ratios peer / nn-mnist, and every model's test accuracy from both.
#
#   nn-mnist grid               --jobs = number of cores (its default), 1 BLAS thread per model
#   pytorch_grid.py --threads 1 one model at a time, one thread
#   pytorch_grid.py --threads C one model at a time, C = number of cores (skipped on one core)
#
# MNIST is read from $MNIST_DIR, else $NN_DATA_DIR/mnist, else data/mnist; nothing is downloaded.
# The Python used is $PYTHON, else the first of python3, /usr/bin/python3 that imports torch and numpy.
# Every run writes into its own fresh temporary folder, removed at the end.
# Exit status: 0, also when PyTorch is missing ("skip: ..."); 1 when a run fails; 2 on bad usage.
set -eu

usage() {
    echo "usage: $0 NN_MNIST_BINARY [EPOCHS]" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
NN=$1
EPOCHS=${2:-10}
case $EPOCHS in '' | *[!0-9]* | 0) usage ;; esac
[ -x "$NN" ] || { echo "compare.sh: $NN is not an executable" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time is missing (Debian package 'time')" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${MNIST_DIR:-${NN_DATA_DIR:-data}/mnist}
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    [ -f "$DATA/$f" ] || { echo "compare.sh: $DATA/$f is missing (set MNIST_DIR)" >&2; exit 1; }
done

PY=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch, numpy' 2>/dev/null; then
        PY=$p
        break
    fi
done
[ -n "$PY" ] || { echo "skip: python3-torch not installed"; exit 0; }

CORES=$(nproc)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# run NAME COMMAND...: COMMAND under /usr/bin/time -v; its output goes to $TMP/NAME.log.
run() {
    name=$1
    shift
    echo "running $name: $*"
    if ! /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.log" 2>&1; then
        echo "compare.sh: $name failed; the end of its output:" >&2
        tail -n 20 "$TMP/$name.log" >&2
        exit 1
    fi
}
# GNU time writes the wall time as m:ss.cc or h:mm:ss.
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$TMP/$1.time"; }
rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/$1.time"; }

echo "machine: $CORES cores, $(uname -m), $("$PY" -c 'import torch; print("torch", torch.__version__)')"
echo "load before: $(uptime)"

mkdir -p "$TMP/nn"
run nn-mnist "$NN" grid --data-dir "$DATA" --epochs "$EPOCHS" --no-download --quiet \
    --out "$TMP/nn/out" --models "$TMP/nn/models"
PEERS="1"
[ "$CORES" -gt 1 ] && PEERS="1 $CORES"
for t in $PEERS; do
    # OpenBLAS, which Debian's torch multiplies with, ignores torch.set_num_threads: pin it as well.
    run "pytorch-t$t" env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
        "$PY" "$HERE/pytorch_grid.py" --threads "$t" --epochs "$EPOCHS" --data-dir "$DATA" --out "$TMP/pt$t"
done

echo "load after:  $(uptime)"
echo
NN_WALL=$(wall_s nn-mnist)
printf '%-34s %10s %14s %18s\n' "run ($EPOCHS epochs, 9 models)" "wall s" "peak RSS MiB" "wall / nn-mnist"
printf '%-34s %10s %14s %18s\n' "nn-mnist grid (jobs=$CORES, threads=1)" "$NN_WALL" "$(rss_mib nn-mnist)" "1.00"
for t in $PEERS; do
    w=$(wall_s "pytorch-t$t")
    printf '%-34s %10s %14s %18s\n' "pytorch (threads=$t)" "$w" "$(rss_mib "pytorch-t$t")" \
        "$(awk -v a="$w" -v b="$NN_WALL" 'BEGIN { printf "%.2f", a / b }')"
done

echo
echo "test accuracy per model (train accuracy in brackets):"
set -- "$TMP/nn/out/results.csv"
HEAD="model nn-mnist"
for t in $PEERS; do
    set -- "$@" "$TMP/pt$t/results.csv"
    HEAD="$HEAD pytorch-t$t"
done
# Columns 1-4 of both CSVs: Optimizer, Activation, Train Accuracy, Test Accuracy.
awk -F, -v head="$HEAD" '
    FNR == 1 { file++; next }
    { key = $1 "_" $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      cell[key, file] = sprintf("%.4f (%.4f)", $4, $3) }
    END { printf "%-16s", "model"; m = split(head, h, " "); for (i = 2; i <= m; i++) printf " %18s", h[i]; printf "\n"
          for (k = 1; k <= n; k++) { printf "%-16s", order[k]
              for (f = 1; f <= file; f++) printf " %18s", ((order[k], f) in cell) ? cell[order[k], f] : "-"
              printf "\n" } }' "$@"

echo
echo "PyTorch seconds per epoch (training + test evaluation, as nn-mnist counts them):"
for t in $PEERS; do
    echo "threads=$t:"
    grep ': test accuracy' "$TMP/pytorch-t$t.log" | sed 's/^/  /'
done
