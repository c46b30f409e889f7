#!/usr/bin/env python3
"""The nn-mnist reference study, written in PyTorch: the peer of the performance comparison.

Nine MLPs 784-128-10 (hidden activation relu|sigmoid|tanh x optimizer sgd|adam|rmsprop), batch 32,
10 epochs, Glorot-uniform weights and zero biases, softmax cross-entropy, shuffled every epoch,
inputs uint8 / 255, Keras 3's default hyperparameters. After every epoch the test set is evaluated
(nn-mnist does so for its learning curves); after training, the whole training and test sets.

Written as a PyTorch user would write it: nn.Sequential, torch.optim, batches sliced from tensors
held in memory (no DataLoader, whose worker processes would only add overhead here).

Where torch.optim's rules differ from Keras 3 (and so from libnn), the PyTorch rule is kept:
  - RMSprop: PyTorch divides by sqrt(s) + eps, Keras by sqrt(s + eps). With eps = 1e-7 Keras'
    denominator never falls below sqrt(1e-7) ~ 3.2e-4, PyTorch's below 1e-7, so a parameter whose
    gradients are near zero can take larger steps in PyTorch.
  - Adam: PyTorch adds eps to sqrt(v / (1 - b2^t)), Keras to sqrt(v) with the bias correction
    folded into the step size; Keras' eps is thus larger by 1 / sqrt(1 - b2^t) (about 32x at
    step 1, 1.09x after the first epoch's 1,875 steps, 1.00x at the end). Next to sqrt(v), 1e-7
    matters little either way.
  - Cross-entropy: Keras clips probabilities to [1e-7, 1 - 1e-7]; PyTorch computes log-softmax
    exactly. This changes reported losses only for confidently wrong examples.

Usage: pytorch_grid.py [--epochs N] [--threads N] [--data-dir DIR] [--activations LIST]
                       [--optimizers LIST] [--seed N] [--out DIR] [--quiet]
Exit status: 0 on success, also when PyTorch or NumPy is not installed ("skip: ..." is printed);
1 on a missing or malformed data file or an unwritable --out; 2 on a bad argument.
"""
import argparse
import gzip
import os
import struct
import sys
import time

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
BATCH = 32
HIDDEN = 128
EVAL_CHUNK = 1000  # nn-mnist evaluates in chunks of 1,000 images too


def parse_args(argv):
    p = argparse.ArgumentParser(description="The nn-mnist reference study in PyTorch (the peer for bench/).")
    p.add_argument("--epochs", type=int, default=10, help="epochs per model [10]")
    p.add_argument("--threads", type=int, default=None,
                   help="intra-op threads (torch.set_num_threads) and BLAS threads [torch's default]")
    p.add_argument("--data-dir", default=os.path.join(os.environ.get("NN_DATA_DIR", "data"), "mnist"),
                   help="folder holding the four MNIST IDX .gz files [$NN_DATA_DIR/mnist or data/mnist]")
    p.add_argument("--activations", default=",".join(ACTIVATIONS), help="hidden activations [relu,sigmoid,tanh]")
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS), help="optimizers [sgd,adam,rmsprop]")
    p.add_argument("--seed", type=int, default=42, help="seed of weights and shuffling [42]")
    p.add_argument("--out", default="results-pytorch", help="folder for results.csv [results-pytorch]")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    a = p.parse_args(argv)
    if a.epochs < 1:
        p.error("--epochs must be positive")
    if a.threads is not None and a.threads < 1:
        p.error("--threads must be positive")
    a.activations = [s for s in a.activations.split(",") if s]
    a.optimizers = [s for s in a.optimizers.split(",") if s]
    for name, allowed, given in (("activation", ACTIVATIONS, a.activations), ("optimizer", OPTIMIZERS, a.optimizers)):
        bad = [s for s in given if s not in allowed]
        if bad or not given:
            p.error("unknown or missing %s %s (accepted: %s)" % (name, ",".join(bad), ",".join(allowed)))
    return a


def read_idx(path, magic, dims):
    """The uint8 array of one IDX file, after checking its magic, rank and size."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    head = 4 + 4 * dims
    if len(raw) < head:
        raise ValueError("%s: truncated header" % path)
    if struct.unpack(">I", raw[:4])[0] != magic:
        raise ValueError("%s: not an IDX file of rank %d (magic %08x)" % (path, dims, struct.unpack(">I", raw[:4])[0]))
    shape = struct.unpack(">%dI" % dims, raw[4:head])
    count = 1
    for d in shape:
        count *= d
    if len(raw) - head != count:
        raise ValueError("%s: %d bytes of data, header says %d" % (path, len(raw) - head, count))
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(shape)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"), 0x803, 3)
    labels = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"), 0x801, 1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError("%s: %d images but %d labels" % (prefix, images.shape[0], labels.shape[0]))
    return images, labels


def build(torch, activation, optimizer):
    nn = torch.nn
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    model = nn.Sequential(nn.Linear(784, HIDDEN), act(), nn.Linear(HIDDEN, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)  # Keras' glorot_uniform
            nn.init.zeros_(layer.bias)
    params = model.parameters()
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=0.01)
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    else:
        opt = torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)
    return model, opt


def evaluate(torch, model, x, y):
    """Mean cross-entropy and accuracy over a whole set, without gradients."""
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, x.shape[0], EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            logits = model(xb)
            loss_sum += torch.nn.functional.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    return loss_sum / x.shape[0], correct / x.shape[0]


def train_one(torch, args, activation, optimizer, data):
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(args.seed)  # each model starts from the same seed, as in nn-mnist
    model, opt = build(torch, activation, optimizer)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_train.shape[0]
    epoch_seconds = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            # The running loss and accuracy nn-mnist's progress line shows, so both do the same work.
            loss_sum += loss.item() * yb.shape[0]
            correct += (logits.argmax(1) == yb).sum().item()
        model.eval()
        test_loss, test_acc = evaluate(torch, model, x_test, y_test)
        epoch_seconds.append(time.perf_counter() - t0)
        if not args.quiet:
            print("%s_%s epoch %d/%d: loss %.4f acc %.4f test_acc %.4f (%.2f s)"
                  % (optimizer, activation, epoch + 1, args.epochs, loss_sum / n, correct / n, test_acc,
                     epoch_seconds[-1]), flush=True)
    train_loss, train_acc = evaluate(torch, model, x_train, y_train)
    test_loss, test_acc = evaluate(torch, model, x_test, y_test)
    return {"optimizer": optimizer, "activation": activation, "train_acc": train_acc, "test_acc": test_acc,
            "train_loss": train_loss, "test_loss": test_loss, "epoch_seconds": epoch_seconds}


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("Optimizer,Activation,Train Accuracy,Test Accuracy,Train Loss,Test Loss\n")
        for r in rows:
            f.write("%s,%s,%.6f,%.6f,%.6f,%.6f\n" % (r["optimizer"], r["activation"], r["train_acc"],
                                                     r["test_acc"], r["train_loss"], r["test_loss"]))
    os.replace(tmp, path)


def main(argv):
    args = parse_args(argv)
    if args.threads is not None:
        # torch.set_num_threads does not reach OpenBLAS, which Debian's torch uses for its matrix
        # products and which starts one thread per core unless told otherwise before it is loaded.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    try:
        import numpy  # noqa: F401  (read_idx needs it)
    except ImportError:
        print("skip: python3-numpy not installed")
        return 0
    try:
        import torch
    except ImportError:
        print("skip: python3-torch not installed")
        return 0
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    t_start = time.perf_counter()
    try:
        train_images, train_labels = load_split(args.data_dir, "train")
        test_images, test_labels = load_split(args.data_dir, "t10k")
    except (OSError, ValueError, EOFError) as e:
        print("pytorch_grid: %s" % e, file=sys.stderr)
        return 1
    # Converted to float once, as a PyTorch user does: 188 MB for the training images, not 47 MB.
    data = (torch.from_numpy(train_images.reshape(len(train_images), -1).astype("float32") / 255.0),
            torch.from_numpy(train_labels.astype("int64")),
            torch.from_numpy(test_images.reshape(len(test_images), -1).astype("float32") / 255.0),
            torch.from_numpy(test_labels.astype("int64")))

    print("pytorch_grid: torch %s, %d thread(s), %d train / %d test images, %d epochs, batch %d"
          % (torch.__version__, torch.get_num_threads(), data[0].shape[0], data[2].shape[0], args.epochs, BATCH),
          flush=True)
    rows = []
    for optimizer in args.optimizers:
        for activation in args.activations:
            r = train_one(torch, args, activation, optimizer, data)
            rows.append(r)
            secs = r["epoch_seconds"]
            print("%s_%s: test accuracy %.4f, train accuracy %.4f, mean epoch %.2f s (epochs: %s)"
                  % (optimizer, activation, r["test_acc"], r["train_acc"], sum(secs) / len(secs),
                     " ".join("%.2f" % s for s in secs)), flush=True)
    try:
        os.makedirs(args.out, exist_ok=True)
        write_csv(os.path.join(args.out, "results.csv"), rows)
    except OSError as e:
        print("pytorch_grid: %s" % e, file=sys.stderr)
        return 1
    print("pytorch_grid: %d models, wall %.1f s" % (len(rows), time.perf_counter() - t_start))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
