#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_idx (fuzz/corpus-idx/): small valid and damaged IDX pairs, raw and
gzipped, in the input layout fuzz_idx.c describes. Run from anywhere: fuzz/make_corpus_idx.py [DIR].
The corpus also keeps found-* files: inputs the fuzzer reached new paths with (libFuzzer -merge=1),
so that the replay test covers them too."""
import gzip
import os
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-idx")

GZ_IMAGES, GZ_LABELS, EXPECT = 1, 2, 4


def images(n=3, rows=3, cols=3, extra=b""):
    body = bytes((i * 37 + 11) & 255 for i in range(n * rows * cols))
    return struct.pack(">IIII", 0x803, n, rows, cols) + body + extra


def labels(values=(3, 0, 7), extra=b""):
    return struct.pack(">II", 0x801, len(values)) + bytes(values) + extra


def gz(data, mtime=0):
    return gzip.compress(data, mtime=mtime)


def entry(mode, im, lb, classes=0, rows=0, cols=0):
    return bytes([mode, classes, rows, cols]) + struct.pack(">H", len(im)) + im + lb


def main():
    os.makedirs(OUT, exist_ok=True)
    im, lb = images(), labels()
    zim, zlb = gz(im), gz(lb)
    fextra = bytearray(zlb)
    fextra[3] |= 0x04  # a false FEXTRA flag
    fname = bytearray(gz(lb))
    fname[3] |= 0x08   # a false FNAME flag
    two_members = gz(lb[:5]) + gz(lb[5:])
    big = labels(tuple(i % 10 for i in range(300)))
    seeds = {
        "raw-pair": entry(0, im, lb),
        "compress-both": entry(GZ_IMAGES | GZ_LABELS | (9 << 3), im, lb),
        "compress-images-stored": entry(GZ_IMAGES, im, lb),
        "gzip-files": entry(0, zim, zlb),
        "expect-ok": entry(EXPECT, im, lb, classes=10, rows=3, cols=3),
        "expect-label-out-of-range": entry(EXPECT, im, labels((3, 10, 7)), classes=10, rows=3, cols=3),
        "expect-wrong-shape": entry(EXPECT | GZ_IMAGES, images(3, 1, 9), lb, classes=10, rows=3, cols=3),
        "label-255": entry(0, im, labels((3, 255, 7))),
        "truncated-images": entry(0, im[:-4], lb),
        "truncated-gzip": entry(0, zim[: len(zim) // 2], zlb),
        "no-gzip-trailer": entry(0, zim, zlb[:-8]),
        "extra-bytes": entry(GZ_LABELS, im, labels(extra=b"\x01\x02")),
        "garbage-after-gzip": entry(0, zim, zlb + b"JUNK"),
        "false-fextra": entry(0, im, bytes(fextra)),
        "false-fname": entry(0, im, bytes(fname)),
        "two-members": entry(0, im, two_members),
        "member-cut-in-header": entry(0, im, gz(lb[:8]) + gz(lb[8:])[:5]),
        "labels-as-images": entry(0, lb, lb),
        "count-mismatch": entry(0, im, labels((1, 2))),
        "zero-dimension": entry(0, images(3, 0, 3), lb),
        "big-labels-gz": entry(GZ_LABELS | GZ_IMAGES, images(300, 2, 2), big),
        "bad-crc": entry(0, im, zlb[:-8] + bytes([zlb[-8] ^ 0xFF]) + zlb[-7:]),
        "raw-deflate-not-gzip": entry(0, im, zlib.compress(lb)),
        "empty": entry(0, b"", b""),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
