"""Shared helpers of the crash, resume and MPI tests of `nn-mnist grid`: running the tool, reading run
records the way the tool writes them, and comparing two grid folders file by file."""
import json
import math
import os
import re
import subprocess
import threading
import time

# Files a finished grid leaves in its --out folder, besides runs/.
REPORT_FILES = {"results.csv", "results.png", "results_heatmap.png", "confusion_matrix.png", "curves.png",
                "runs.csv", "history.csv", "history.png", "classification_report.csv",
                "confusion_matrix_normalized.png"}
DEFAULT_RUNS = [f"{o}_{a}" for o in ("sgd", "adam", "rmsprop") for a in ("relu", "sigmoid", "tanh")]
# Record keys that legitimately differ between two grids of the same settings: wall time, and the
# model's path (which names the folder).
VOLATILE_KEYS = {"seconds", "model"}


class Checker:
    """Collects failures instead of stopping at the first, so one run of the test reports them all."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok:   " if cond else "FAIL: ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def note(self, what):
        print("note: " + what, flush=True)


SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp")


def tool_env(leaks=True):
    """The environment for nn-mnist: no download mirror; in a sanitizer build, fontconfig's lifelong
    cache is not reported as a leak; leaks=False turns leak checking off (Open MPI's libraries leak
    thousands of blocks at exit, through plug-ins LeakSanitizer cannot name)."""
    e = dict(os.environ)
    e.pop("NN_MNIST_MIRROR", None)
    lsan = e.get("LSAN_OPTIONS", "")
    e["LSAN_OPTIONS"] = (lsan + ":" if lsan else "") + "suppressions=" + SUPPRESSIONS
    if not leaks:
        asan = e.get("ASAN_OPTIONS", "")
        e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
    return e


def run(binary, args, timeout=300, cwd=None):
    p = subprocess.run([binary] + list(args), capture_output=True, text=True, env=tool_env(), timeout=timeout,
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


RECORD_KEYS = ["format", "version", "run", "optimizer", "activation", "settings", "model", "lr", "seed", "epochs",
               "batch_size", "params", "blas_threads", "dropout", "batchnorm", "arch", "augment", "lr_schedule",
               "validation", "split_seed", "patience", "best_epoch", "metrics", "seconds", "diverged", "confusion",
               "history", "test_correct"]
METRICS = ["train_accuracy", "test_accuracy", "train_loss", "test_loss", "val_accuracy", "val_loss"]
CURVES = ["train_loss", "train_accuracy", "heldout_loss", "heldout_accuracy"]


def parse_record(path):
    """Returns the record (runs/<run>.json) as the dict of its JSON object, or raises ValueError when
    the record is torn or malformed. The structure checked is the one record_json.c writes: every key,
    a confusion matrix of classes x classes counts, four curves of one length (every epoch's unless the
    run stopped early or diverged), NaN metrics as null, and the test bitset's hex of (n + 7) / 8 bytes."""
    with open(path, "r") as f:
        text = f.read()
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as ex:
        raise ValueError(f"{path}: not JSON ({ex})")
    if not isinstance(rec, dict) or rec.get("format") != "nn-mnist-record" or rec.get("version") != 2:
        raise ValueError(f"{path}: not an nn-mnist record of version 2")
    missing = [k for k in RECORD_KEYS if k not in rec] + [f"metrics.{k}" for k in METRICS
                                                           if k not in (rec.get("metrics") or {})]
    if missing:
        raise ValueError(f"{path}: missing {missing}")
    classes, counts = rec["confusion"]["classes"], rec["confusion"]["counts"]
    if len(counts) != classes or any(len(row) != classes or any(not isinstance(c, int) or c < 0 for c in row)
                                     for row in counts):
        raise ValueError(f"{path}: the confusion matrix is not {classes} x {classes} counts")
    epochs, h = rec["epochs"], rec["history"]
    n = len(h["train_loss"])
    if any(len(h[k]) != n for k in CURVES) or n > epochs or (n != epochs and not rec["patience"] and not rec["diverged"]):
        raise ValueError(f"{path}: curves of {[len(h[k]) for k in CURVES]} values for {epochs} epochs")
    if h["heldout"] != ("validation" if rec["validation"] > 0 else "test"):
        raise ValueError(f"{path}: held-out set {h['heldout']} with validation {rec['validation']}")
    for k in METRICS:
        v = rec["metrics"][k]
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise ValueError(f"{path}: metric {k} is {v!r}")
    tc = rec["test_correct"]
    if tc is not None and len(tc["hex"]) != 2 * ((tc["n"] + 7) // 8):
        raise ValueError(f"{path}: {len(tc['hex'])} hex digits for {tc['n']} test examples")
    if rec["run"] != os.path.basename(path)[:-len(".json")]:
        raise ValueError(f"{path}: names run {rec['run']}")
    return rec


def legacy_text(rec):
    """The record in the version-1 text form an older nn-mnist wrote (runs/<run>.rec), which nn-mnist
    still reads: the keys it had, doubles as Python's repr (which reads back exactly)."""
    m, h = rec["metrics"], rec["history"]
    lines = ["nn-mnist-record 1", f"run {rec['run']}", f"optimizer {rec['optimizer']}",
             f"activation {rec['activation']}", f"settings {rec['settings']}", f"model {rec['model']}",
             f"lr {rec['lr']!r}", f"seed {rec['seed']}", f"epochs {rec['epochs']}", f"batch_size {rec['batch_size']}",
             f"params {rec['params']}", f"blas_threads {rec['blas_threads']}"]
    if rec["dropout"]:
        lines.append(f"dropout {rec['dropout']!r}")
    for k in ("batchnorm", "arch", "augment", "lr_schedule"):
        if rec[k]:
            lines.append(f"{k} {rec[k]}")
    nan = float("nan")
    for k in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        lines.append(f"{k} {nan if m[k] is None else m[k]!r}")
    lines.append(f"seconds {rec['seconds']:.3f}")
    if rec["diverged"]:
        lines += [f"diverged_epoch {rec['diverged']['epoch']}", f"diverged_step {rec['diverged']['step']}"]
    counts = [c for row in rec["confusion"]["counts"] for c in row]
    lines.append(" ".join(["confusion", str(rec["confusion"]["classes"])] + [str(c) for c in counts]))
    for key, curve in (("curve_loss", "train_loss"), ("curve_accuracy", "train_accuracy"),
                       ("curve_test_accuracy", "heldout_accuracy")):
        lines.append(" ".join([key, str(len(h[curve]))] + [repr(nan if v is None else v) for v in h[curve]]))
    return "\n".join(lines + ["end"]) + "\n"


def stable(rec):
    return {k: v for k, v in rec.items() if k not in VOLATILE_KEYS}


def listing(folder):
    """Every file under folder, as paths relative to it."""
    out = set()
    for root, _, files in os.walk(folder):
        for f in files:
            out.add(os.path.relpath(os.path.join(root, f), folder))
    return out


def compare_grids(check, ref_out, ref_models, out, models, label, runs=DEFAULT_RUNS, exact_listing=True,
                  models_arg=None):
    """A finished grid in out/models against a reference: results.csv byte for byte, every model file
    byte for byte, every record complete and equal but for wall time and path; and (exact_listing) no
    other file left behind: no temporary, checkpoint or probe file. models_arg: the --models argument
    as given, where it is not `models` (a path relative to another working folder)."""
    try:
        same_csv = read_bytes(os.path.join(ref_out, "results.csv")) == read_bytes(os.path.join(out, "results.csv"))
    except OSError as ex:
        same_csv = False
        print("     ", ex)
    check(same_csv, f"{label}: results.csv equals the reference byte for byte")
    bad_models = [r for r in runs if not os.path.exists(os.path.join(models, r + ".nnm")) or
                  read_bytes(os.path.join(ref_models, r + ".nnm")) != read_bytes(os.path.join(models, r + ".nnm"))]
    check(not bad_models, f"{label}: every model file equals the reference byte for byte (differ: {bad_models})")
    bad_recs = []
    for r in runs:
        try:
            a = parse_record(os.path.join(ref_out, "runs", r + ".json"))
            b = parse_record(os.path.join(out, "runs", r + ".json"))
            if stable(a) != stable(b):
                bad_recs.append(f"{r} (differs)")
            elif b["model"] != f"{models_arg or models}/{r}.nnm":
                bad_recs.append(f"{r} (model path {b['model']})")
        except (OSError, ValueError) as ex:
            bad_recs.append(f"{r} ({ex})")
    check(not bad_recs, f"{label}: every record complete and equal to the reference (bad: {bad_recs})")
    if exact_listing:
        # The folder lock stays (empty) between runs by design: removing it would race with a waiter.
        want_models = {r + ".nnm" for r in runs} | {".nn-mnist.lock"}
        got_models = listing(models)
        extra_models = sorted(got_models - want_models)
        check(not extra_models, f"{label}: nothing else in the models folder (extra: {extra_models})")
        # plan.txt: the grid's runs, which `report` shows (issue 15).
        want_out = REPORT_FILES | {os.path.join("runs", r + ".json") for r in runs} | {".nn-mnist.lock", "plan.txt"}
        got_out = {p for p in listing(out)
                   if not os.path.abspath(os.path.join(out, p)).startswith(os.path.abspath(models) + os.sep)}
        extra_out = sorted(got_out - want_out)
        check(not extra_out and want_out <= got_out,
              f"{label}: the results folder holds exactly the report and the records (extra: {extra_out}, "
              f"missing: {sorted(want_out - got_out)})")


def check_partial(check, ref_out, ref_models, out, models, label):
    """Invariants of an interrupted grid: every record there is complete and equal to the reference's,
    and its model is there, equal to the reference's. Returns the runs with a record."""
    done, bad = [], []
    runs_dir = os.path.join(out, "runs")
    for name in sorted(os.listdir(runs_dir)) if os.path.isdir(runs_dir) else []:
        if not name.endswith(".json"):
            continue
        r = name[:-len(".json")]
        try:
            rec = parse_record(os.path.join(runs_dir, name))
            ref = parse_record(os.path.join(ref_out, "runs", name))
            if stable(rec) != stable(ref):
                bad.append(f"{r}: record differs from the reference")
            elif read_bytes(os.path.join(models, r + ".nnm")) != read_bytes(os.path.join(ref_models, r + ".nnm")):
                bad.append(f"{r}: model differs from the reference")
            else:
                done.append(r)
        except (OSError, ValueError) as ex:
            bad.append(f"{r}: {ex}")
    check(not bad, f"{label}: {len(done)} records, each complete with its model, equal to the reference {bad}")
    return done


class Watched:
    """A grid process whose stderr lines are collected as they come, so that a test can wait for a
    given stage of training before signalling it."""

    def __init__(self, cmd, env=None, new_session=False):
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env=env or tool_env(), start_new_session=new_session)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=60):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                if any(rx.search(line) for line in self.lines):
                    return True
                if self.p.poll() is not None and not self.reader.is_alive():
                    return False
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))

    def finish(self, timeout=120):
        rc = self.p.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return rc, "\n".join(self.lines)
