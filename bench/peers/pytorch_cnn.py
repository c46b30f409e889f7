#!/usr/bin/env python3
"""libnn's default CNN (Keras' MNIST convnet), written in PyTorch: the peer of the CNN comparison.

28x28x1 -> conv 32 3x3 -> max-pool 2 -> conv 64 3x3 -> max-pool 2 -> flatten -> dropout 0.5 -> dense 10,
the activation (relu by default) in the two conv layers, Glorot-uniform kernels and zero biases as
Keras, softmax cross-entropy, batch 128, shuffled every epoch, inputs uint8 / 255, Keras 3's default
hyperparameters (sgd lr 0.01; adam lr 1e-3, betas 0.9/0.999, eps 1e-7; rmsprop lr 1e-3, rho 0.9,
eps 1e-7). After every epoch the test set is evaluated (nn-mnist does so for its learning curves);
after training, the whole training set too unless --no-train-eval (examples/mnist_cnn does not).

By default one model is trained: relu with adam, what examples/mnist_cnn and
`nn-mnist grid --arch cnn --activations relu --optimizers adam` train. --grid trains the study's nine
({relu, sigmoid, tanh} x {sgd, adam, rmsprop}), one after the other, or --jobs N at a time in N
worker processes (PyTorch's own way to use several cores for independent models; each worker loads
the data once and uses --threads threads).

Written as a PyTorch user would write it: nn.Sequential, torch.optim, batches sliced from tensors
held in memory (no DataLoader), NCHW tensors (PyTorch's native layout; libnn is channels last, which
only permutes the flattened features the dense layer sees). Where torch.optim's rules differ from
Keras 3 (RMSprop's and Adam's eps, Keras' clipped cross-entropy) the PyTorch rule is kept; see
pytorch_grid.py's docstring.

Printed: each epoch's seconds (training + test evaluation), each model's test accuracy, and at the end
the wall time and the peak resident memory (resource.getrusage's ru_maxrss): of this process, and with
--jobs > 1 of each worker and their sum, the memory the N processes held at most together (an upper
bound: their shared library pages are counted once per worker).

Usage: pytorch_cnn.py [--epochs N] [--batch-size N] [--threads N] [--data-dir DIR] [--train-limit N]
                      [--test-limit N] [--grid | --activations LIST --optimizers LIST] [--jobs N]
                      [--seed N] [--out DIR] [--no-train-eval] [--quiet]
Exit status: 0 on success, also when PyTorch or NumPy is not installed ("skip: ..." is printed);
1 on a missing or malformed data file or an unwritable --out; 2 on a bad argument.
"""
import argparse
import importlib.util
import os
import resource
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the import below
from pytorch_grid import evaluate, load_split, write_csv  # noqa: E402

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam", "rmsprop")


def parse_args(argv):
    p = argparse.ArgumentParser(description="libnn's default CNN in PyTorch (the peer for bench/).")
    p.add_argument("--epochs", type=int, default=12, help="epochs per model [12]")
    p.add_argument("--batch-size", type=int, default=128, help="examples per step [128]")
    p.add_argument("--threads", type=int, default=1,
                   help="intra-op threads (torch.set_num_threads) and BLAS threads, per process [1]")
    p.add_argument("--data-dir", default=os.path.join(os.environ.get("NN_DATA_DIR", "data"), "mnist"),
                   help="folder holding the four MNIST IDX .gz files [$NN_DATA_DIR/mnist or data/mnist]")
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images [all]")
    p.add_argument("--test-limit", type=int, default=0, help="use only the first N test images [all]")
    p.add_argument("--grid", action="store_true", help="all nine activation x optimizer pairs")
    p.add_argument("--activations", default=None, help="conv activations [relu; with --grid relu,sigmoid,tanh]")
    p.add_argument("--optimizers", default=None, help="optimizers [adam; with --grid sgd,adam,rmsprop]")
    p.add_argument("--jobs", type=int, default=1, help="models trained at once, one worker process each [1]")
    p.add_argument("--seed", type=int, default=42, help="seed of weights, dropout and shuffling [42]")
    p.add_argument("--out", default=None, help="folder for results.csv [none written]")
    p.add_argument("--no-train-eval", action="store_true",
                   help="skip the final evaluation of the whole training set")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    a = p.parse_args(argv)
    for name in ("epochs", "batch_size", "threads", "jobs"):
        if getattr(a, name) < 1:
            p.error("--%s must be positive" % name.replace("_", "-"))
    if a.train_limit < 0 or a.test_limit < 0:
        p.error("--train-limit and --test-limit must not be negative")
    if a.activations is None:
        a.activations = ",".join(ACTIVATIONS) if a.grid else "relu"
    if a.optimizers is None:
        a.optimizers = ",".join(OPTIMIZERS) if a.grid else "adam"
    a.activations = [s for s in a.activations.split(",") if s]
    a.optimizers = [s for s in a.optimizers.split(",") if s]
    for name, allowed, given in (("activation", ACTIVATIONS, a.activations), ("optimizer", OPTIMIZERS, a.optimizers)):
        bad = [s for s in given if s not in allowed]
        if bad or not given:
            p.error("unknown or missing %s %s (accepted: %s)" % (name, ",".join(bad), ",".join(allowed)))
    return a


def peak_rss_mib(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def pin_threads(threads):
    # torch.set_num_threads does not reach OpenBLAS (Debian's torch multiplies dense products
    # through it), which starts one thread per core unless told before it is loaded.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def load_data(torch, args):
    train_images, train_labels = load_split(args.data_dir, "train")
    test_images, test_labels = load_split(args.data_dir, "t10k")
    if args.train_limit:
        train_images, train_labels = train_images[:args.train_limit], train_labels[:args.train_limit]
    if args.test_limit:
        test_images, test_labels = test_images[:args.test_limit], test_labels[:args.test_limit]

    def images(a):
        # Converted to float once, as a PyTorch user does: 188 MB for the training images.
        return torch.from_numpy(a.reshape(len(a), 1, 28, 28).astype("float32") / 255.0)

    return (images(train_images), torch.from_numpy(train_labels.astype("int64")),
            images(test_images), torch.from_numpy(test_labels.astype("int64")))


def build(torch, activation, optimizer):
    nn = torch.nn
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), act(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), act(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, 10))
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            # Keras' glorot_uniform: for a conv kernel both PyTorch and Keras take fan_in = kh*kw*in,
            # fan_out = kh*kw*out.
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    params = model.parameters()
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=0.01)
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    else:
        opt = torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)
    return model, opt


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
        for start in range(0, n, args.batch_size):
            idx = order[start:start + args.batch_size]
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
    train_loss, train_acc = float("nan"), float("nan")
    if not args.no_train_eval:
        train_loss, train_acc = evaluate(torch, model, x_train, y_train)
    return {"optimizer": optimizer, "activation": activation, "train_acc": train_acc, "test_acc": test_acc,
            "train_loss": train_loss, "test_loss": test_loss, "epoch_seconds": epoch_seconds,
            "pid": os.getpid(), "rss_mib": peak_rss_mib()}


# With --jobs > 1: the state of one worker process, set once by worker_init.
_worker = {}


def worker_init(args):
    pin_threads(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    _worker["torch"] = torch
    _worker["args"] = args
    _worker["data"] = load_data(torch, args)


def worker_run(task):
    activation, optimizer = task
    w = _worker
    return train_one(w["torch"], w["args"], activation, optimizer, w["data"])


def report(r):
    secs = r["epoch_seconds"]
    print("%s_%s: test accuracy %.4f, train accuracy %.4f, mean epoch %.2f s (epochs: %s), peak RSS %.0f MiB"
          % (r["optimizer"], r["activation"], r["test_acc"], r["train_acc"], sum(secs) / len(secs),
             " ".join("%.2f" % s for s in secs), r["rss_mib"]), flush=True)


def main(argv):
    args = parse_args(argv)
    pin_threads(args.threads)
    for module, package in (("numpy", "python3-numpy"), ("torch", "python3-torch")):
        if importlib.util.find_spec(module) is None:
            print("skip: %s not installed" % package)
            return 0
    tasks = [(act, opt) for opt in args.optimizers for act in args.activations]
    jobs = min(args.jobs, len(tasks))
    t_start = time.perf_counter()
    rows = []
    try:
        if jobs == 1:
            import torch
            torch.set_num_threads(args.threads)
            data = load_data(torch, args)
            print("pytorch_cnn: torch %s, %d thread(s), %d train / %d test images, %d epochs, batch %d, 1 process"
                  % (torch.__version__, torch.get_num_threads(), data[0].shape[0], data[2].shape[0], args.epochs,
                     args.batch_size), flush=True)
            for act, opt in tasks:
                rows.append(train_one(torch, args, act, opt, data))
                report(rows[-1])
        else:
            import multiprocessing
            # spawn, not fork: each worker starts its own OpenMP/OpenBLAS runtime with the thread
            # count pinned above, rather than inheriting a forked copy of one.
            ctx = multiprocessing.get_context("spawn")
            print("pytorch_cnn: %d worker processes x %d thread(s), %d epochs, batch %d"
                  % (jobs, args.threads, args.epochs, args.batch_size), flush=True)
            with ctx.Pool(jobs, initializer=worker_init, initargs=(args,)) as pool:
                # chunksize 1, in order: the next model goes to whichever worker finishes first.
                for r in pool.imap(worker_run, tasks, chunksize=1):
                    rows.append(r)
                    report(r)
    except (OSError, ValueError, EOFError) as e:
        print("pytorch_cnn: %s" % e, file=sys.stderr)
        return 1
    if args.out:
        try:
            os.makedirs(args.out, exist_ok=True)
            write_csv(os.path.join(args.out, "results.csv"), rows)
        except OSError as e:
            print("pytorch_cnn: %s" % e, file=sys.stderr)
            return 1
    wall = time.perf_counter() - t_start
    if jobs == 1:
        print("pytorch_cnn: %d models, wall %.1f s, peak RSS %.0f MiB" % (len(rows), wall, peak_rss_mib()))
    else:
        workers = {}
        for r in rows:
            workers[r["pid"]] = max(workers.get(r["pid"], 0.0), r["rss_mib"])
        total = peak_rss_mib() + sum(workers.values())
        print("pytorch_cnn: %d models, wall %.1f s, peak RSS %.0f MiB (parent %.0f + workers %s)"
              % (len(rows), wall, total, peak_rss_mib(), " + ".join("%.0f" % v for v in workers.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
