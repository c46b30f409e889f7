#!/usr/bin/env python3
"""Fails when libnn calls a C library (or zlib) function that can fail for want of memory or of the
file system and that test_faults does not wrap: its loops would then skip those failure points
without a word. Run by meson with: NM LIBNN_A WRAPPED_NAME...
"""
import subprocess
import sys

# Functions that allocate or touch the file system and can fail doing so.
FALLIBLE = set("""
malloc calloc realloc reallocarray posix_memalign aligned_alloc memalign valloc strdup strndup
asprintf vasprintf getline getdelim open open64 openat openat64 creat creat64 mkstemp mkstemp64
mkostemp mkostemp64 mkdtemp tmpfile tmpfile64 write pwrite pwrite64 writev read pread pread64 readv
fsync fdatasync syncfs close fchmod chmod rename renameat renameat2 link linkat symlink unlink
unlinkat remove mkdir rmdir lstat lstat64 stat stat64 fstat fstat64 fstatat fstatat64 statx fopen
fopen64 fdopen freopen freopen64 fread fwrite fputs fputc fprintf fflush fclose fseek fseeko
fseeko64 ftell ftello ftello64 fcntl fcntl64 ftruncate ftruncate64 truncate truncate64 mmap mmap64
opendir fdopendir readdir readdir64 realpath dup dup2 dup3 gzopen gzdopen gzread gzwrite
inflateInit_ inflateInit2_ inflate deflateInit_ deflateInit2_ deflate
""".split())

# Called by libnn, deliberately not wrapped, and why.
NOT_WRAPPED = {
    "unlink": "called only to clean up after another failure",
    "remove": "called only to clean up after another failure",
    "fclose": "closes streams that were only read; the result does not matter",
}


def main():
    nm, lib, wrapped = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    out = subprocess.run([nm, "-u", "--format=posix", lib], check=True, capture_output=True, text=True).stdout
    imported = {line.split()[0] for line in out.splitlines() if line.strip() and not line.endswith(":")}
    missing = sorted((imported & FALLIBLE) - wrapped - set(NOT_WRAPPED))
    covered = sorted(imported & FALLIBLE & wrapped)
    print("libnn calls, wrapped for fault injection:", " ".join(covered))
    print("libnn calls, not wrapped on purpose:", " ".join(sorted(imported & set(NOT_WRAPPED))))
    if missing:
        print("libnn calls these, which can fail, but tests/meson.build does not wrap them for "
              "test_faults (add them to fault_wraps and a __wrap_ function to test_faults.c):",
              " ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
