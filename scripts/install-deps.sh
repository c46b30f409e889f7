#!/usr/bin/env bash
# Install everything libnn needs to build, test and run, on Debian 12 (bookworm), including a bare
# minbase system with no compiler, no sudo and no CA certificates. Run as root (or as a user with
# sudo). Safe to run again: when every package is already installed it touches nothing, so it also
# works offline on a machine set up before.
#   ./scripts/install-deps.sh            # install what is missing
#   NN_DEPS_FORCE=1 ./scripts/install-deps.sh   # apt-get update and install even if all is present
set -euo pipefail

packages=(
  # compilers and build tools (g++ is needed by the C++ header test)
  build-essential gcc g++ pkg-config meson ninja-build binutils
  # libraries libnn and nn-mnist link
  libopenblas-dev zlib1g-dev libcurl4-openssl-dev ca-certificates libssl-dev
  # `pkg-config --static --libs nn` names -lgfortran (from openblas.pc), whose .so lives here
  libgfortran-12-dev
  libcairo2-dev fonts-dejavu-core fontconfig
  # nn-mnist predict: PNG, JPEG, their EXIF orientation, and JSON
  libpng-dev libjpeg62-turbo-dev libexif-dev libjson-c-dev
  # bench/digits renders digits of other "writers" than MNIST's: handwriting-like fonts
  fonts-comic-neue fonts-humor-sans fonts-dkg-handwriting fonts-breip fonts-femkeklaver
  # nn-mnist train --fonts: the digits of other fonts than bench/digits' beside MNIST's (fonts.c)
  fonts-bwht fonts-cabinsketch fonts-dancingscript fonts-ecolier-court fonts-isabella fonts-joscelyn
  fonts-kaushanscript fonts-seto fonts-kiloji fonts-tomsontalks fonts-yanone-kaffeesatz fonts-urw-base35
  fonts-liberation fonts-freefont-ttf fonts-roboto-unhinted fonts-open-sans fonts-lato fonts-cantarell
  fonts-linuxlibertine fonts-go fonts-hack fonts-gnutypewriter fonts-jura fonts-crosextra-carlito
  libfontconfig-dev
  # tests: cmocka, and python3 to serve files over HTTP in the download tests
  libcmocka-dev python3
  # nn-mnist(1): help2man makes the man page from nn-mnist's --help at build time (skipped without
  # it); man-db (with groff) reads it, and the tests render it
  help2man man-db
  # tests: nn-mnist's progress in a terminal of 40, 80 and 200 columns (tests/tool/test_progress_pty.py)
  tmux
  # optional: MPI grids in nn-mnist (openmpi-bin brings mpirun and its ssh client)
  libopenmpi-dev openmpi-bin
  # optional: libFuzzer targets need clang and its sanitizer runtimes
  clang libclang-rt-14-dev
  # optional: ONNX export and import (protobuf-c, its code generator, ONNX's onnx.proto), and the
  # runtimes its tests compare with (Debian's python3: onnx.checker, OpenCV's dnn module, PyTorch)
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  python3-numpy python3-onnx python3-opencv python3-torch
)

die() { echo "install-deps: $*" >&2; exit 1; }

[ -r /etc/debian_version ] || die "this script is for Debian 12 (bookworm); see docs/building.md for the package list"
command -v apt-get > /dev/null || die "apt-get not found; see docs/building.md for the package list"

# The packages whose dpkg status is not "installed".
missing() {
  local p
  for p in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || echo "$p"
  done
}

todo=$(missing)
if [ -z "$todo" ] && [ -z "${NN_DEPS_FORCE:-}" ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || die "run as root (no sudo here)"
  as_root=(sudo)
fi

# apt's own output goes to a log, shown only when something fails, so a success stays quiet.
log=$(mktemp "${TMPDIR:-/tmp}/install-deps.XXXXXX.log")
trap 'rm -f "$log"' EXIT
run() {
  if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "$@" > "$log" 2>&1; then
    cat "$log" >&2
    die "failed: $*"
  fi
}

echo "install-deps: installing: $(tr "\n" " " <<< "$todo")"
run apt-get update -q
# No recommends: the list above is complete, and recommends would add hundreds of MB (llvm-14-dev, ...).
run apt-get install -y -q --no-install-recommends "${packages[@]}"

todo=$(missing)
[ -z "$todo" ] || die "still missing after apt-get install: $(tr "\n" " " <<< "$todo")"
echo "install-deps: done ($(gcc -dumpfullversion 2>/dev/null | sed 's/^/gcc /'), meson $(meson --version))"
