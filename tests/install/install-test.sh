#!/usr/bin/env bash
# Install the build into a temporary DESTDIR and use it as an outside project would, through
# pkg-config, with the shared and with the static library. Also checks the ABI surface: SONAME
# libnn.so.1 and no exported symbol outside the nn_ namespace.
#   install-test.sh MESON BUILD_ROOT SOURCE_ROOT VERSION "CC..." SANITIZE
set -euo pipefail
meson=$1 build=$2 src=$3 version=$4 cc=$5 sanitize=$6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nn-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

dest=$tmp/dest
"$meson" install -C "$build" --no-rebuild --destdir "$dest" > "$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "meson install"; }

mapfile -t pcs < <(find "$dest" -path '*/pkgconfig/nn.pc')
[ "${#pcs[@]}" -eq 1 ] || fail "expected one installed nn.pc, found ${#pcs[@]}"
pcdir=$(dirname "${pcs[0]}")
libdir=$(dirname "$pcdir")
# Only the DESTDIR's nn.pc is visible; the sysroot makes its /usr/local/... paths point into DESTDIR.
# (pkgconf applies the sysroot to openblas.pc and zlib.pc too; their -L dirs then do not exist and
# the linker finds those libraries in its default path, as it would on a real install.)
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
unset PKG_CONFIG_LIBDIR

modversion=$(pkg-config --modversion nn)
[ "$modversion" = "$version" ] || fail "pkg-config --modversion nn says $modversion, the project is $version"

# No made-up URL (issue 15): libnn has no public home yet, so nn.pc has no URL line rather than a fake one.
url=$(sed -n 's/^URL: *//p' "${pcs[0]}")
case $url in *example.* | *.invalid | *.invalid/*) fail "nn.pc has a made-up URL: $url" ;; esac

# nn-mnist's man page (when help2man was there to make it) and bash completion, where man and
# bash-completion look for them under the prefix.
if [ -n "$(find "$dest" -path '*/bin/nn-mnist')" ]; then
  [ -n "$(find "$dest" -path '*/bash-completion/completions/nn-mnist')" ] || fail "nn-mnist's bash completion not installed"
  man1=$(find "$dest" -path '*/man/man1/nn-mnist.1' -printf '%h\n')
  if command -v help2man > /dev/null; then
    [ -n "$man1" ] || fail "help2man is installed but nn-mnist.1 was not"
    if command -v man > /dev/null; then
      page=$(MANPATH=$(dirname "$man1") MANWIDTH=100 man nn-mnist 2> "$tmp/man.err") ||
        fail "man nn-mnist: $(cat "$tmp/man.err")"
      grep -q '^NN-MNIST GRID' <<< "$page" || fail "man nn-mnist has no section for grid"
    fi
  fi
fi

# Headers: every public one installed, the private one not.
# pkgconf puts the sysroot in front of variables, freedesktop pkg-config does not.
incdir=$(pkg-config --variable=includedir nn)
case $incdir in "$dest"/*) ;; *) incdir=$dest$incdir ;; esac
for h in "$src"/include/nn/*.h; do
  [ -f "$incdir/nn/$(basename "$h")" ] || fail "header nn/$(basename "$h") not installed"
done
[ -f "$incdir/nn/version.h" ] || fail "generated nn/version.h not installed"
[ -z "$(find "$dest" -name internal.h)" ] || fail "the private libnn/internal.h was installed"

# ABI: the SONAME carries the ABI major; libnn.so -> libnn.so.1 -> libnn.so.<project version>.
so=$libdir/libnn.so
for f in "$so" "$libdir/libnn.so.1" "$libdir/libnn.a"; do [ -e "$f" ] || fail "$f not installed"; done
[ -L "$so" ] || fail "libnn.so is not a symbolic link to the versioned library"
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libnn.so.1 ] || fail "SONAME is '$soname', expected libnn.so.1"
# Every defined dynamic symbol is public API: nn_ prefix, and not an internal nn__x or nn_module__x
# helper (those must stay hidden by -fvisibility=hidden). Outputs are captured before grep -q reads
# them: with pipefail, grep -q quitting early would kill the writer with SIGPIPE and fail at random.
exported=$(nm -D --defined-only "$so" | awk '{print $NF}')
stray=$(grep -v '^nn_' <<< "$exported" || true)
[ -z "$stray" ] || fail "libnn.so exports symbols outside nn_: $(head -20 <<< "$stray" | tr '\n' ' ')"
internal=$(grep '__' <<< "$exported" || true)
[ -z "$internal" ] || fail "libnn.so exports internal helpers: $(head -20 <<< "$internal" | tr '\n' ' ')"
grep -qx 'nn_version' <<< "$exported" || fail "nn_version is not exported"

cp "$here/prog.c" "$tmp/prog.c"
cd "$tmp"
read -r -a ccv <<< "$cc"
flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror "-DEXPECTED_VERSION=\"$version\"")
# A sanitized libnn needs the sanitizer runtime in the program too.
[ "$sanitize" = none ] || flags+=("-fsanitize=$sanitize" -fno-sanitize-recover=all)

# Shared: links libnn.so.1, found through LD_LIBRARY_PATH in the DESTDIR.
read -r -a shared <<< "$(pkg-config --cflags --libs nn)"
"${ccv[@]}" "${flags[@]}" prog.c -o prog-shared "${shared[@]}" || fail "shared link: ${ccv[*]} prog.c ${shared[*]}"
grep -q 'NEEDED.*\[libnn\.so\.1\]' <<< "$(readelf -d prog-shared)" || fail "prog-shared does not need libnn.so.1"
grep -q "libnn.so.1 => $libdir/" <<< "$(LD_LIBRARY_PATH=$libdir ldd prog-shared)" || fail "prog-shared resolves libnn elsewhere"
LD_LIBRARY_PATH=$libdir ./prog-shared || fail "prog-shared failed"

# Static: --static adds Requires.private and Libs.private (openblas, zlib, libm); -l:libnn.a makes
# the linker take the archive although libnn.so sits beside it.
read -r -a static <<< "$(pkg-config --static --cflags --libs nn)"
for i in "${!static[@]}"; do [ "${static[$i]}" = -lnn ] && static[i]=-l:libnn.a; done
"${ccv[@]}" "${flags[@]}" prog.c -o prog-static "${static[@]}" || fail "static link: ${ccv[*]} prog.c ${static[*]}"
if grep -q 'NEEDED.*libnn' <<< "$(readelf -d prog-static)"; then fail "prog-static still needs libnn.so"; fi
env -u LD_LIBRARY_PATH ./prog-static || fail "prog-static failed"

echo "install test passed: nn $modversion, SONAME $soname, $(wc -l <<< "$exported") exported symbols"
