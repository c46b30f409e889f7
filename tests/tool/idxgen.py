"""Writes small synthetic MNIST-like IDX files for the tool's tests: each class draws a bright bar at
its own place on a noisy background, so a model can learn it in one epoch."""
import gzip
import os
import random
import struct


def images_bytes(images, rows=28, cols=28):
    return struct.pack(">IIII", 0x803, len(images), rows, cols) + b"".join(images)


def labels_bytes(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def make(n, seed, classes=10, rows=28, cols=28):
    rnd = random.Random(seed)
    images, labels = [], []
    for i in range(n):
        k = i % classes
        px = bytearray(rnd.randrange(0, 40) for _ in range(rows * cols))
        r0 = 2 + 2 * k
        for r in range(r0, r0 + 2):
            for c in range(4, cols - 4):
                px[r * cols + c] = 200 + rnd.randrange(0, 56)
        images.append(bytes(px))
        labels.append(k)
    return images, labels


def write_dataset(folder, n_train=600, n_test=200, seed=1):
    os.makedirs(folder, exist_ok=True)
    for prefix, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        images, labels = make(n, s)
        with gzip.open(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"), "wb") as f:
            f.write(images_bytes(images))
        with gzip.open(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(labels_bytes(labels))
