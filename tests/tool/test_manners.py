#!/usr/bin/env python3
"""nn-mnist's names, `report` and `eval` as a new user meets them (issue 15), on a synthetic dataset.

1. Names in one spelling: `--optimizers Adam --activations ReLU` trains adam_relu (model, record, CSV
   row), and a rerun spelt `adam,relu` is the same run, not a second one; a parameter is kept as its
   shortest float (leaky_relu:.50 is leaky_relu:0.5). A name listed twice is refused, in any spelling
   ("adam,Adam"), and so are two names of one activation (swish,silu; leaky_relu,leaky_relu:0.2).
2. `report` shows the runs of the last grid in the folder, not every record there; `--all` every
   record; the grid's options the runs those describe (records of other settings left out).
3. `eval` takes the model's recorded dataset by default, refuses another unless --force, and needs
   only the two test files.

Usage: test_manners.py NN_MNIST_BINARY"""
import csv
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = gf.Checker()


def grid(data, out, *extra):
    return gf.run(BIN, ["grid", "--data-dir", data, "--no-download", "--epochs", "1", "--hidden", "16", "--jobs", "1",
                        "--quiet", "--out", out, "--models", os.path.join(out, "models")] + list(extra))


def csv_rows(out):
    with open(os.path.join(out, "results.csv"), newline="") as f:
        return sorted((r["Optimizer"], r["Activation"]) for r in csv.DictReader(f))


def listing(folder, suffix):
    return sorted(n for n in os.listdir(folder) if n.endswith(suffix)) if os.path.isdir(folder) else []


def tail(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def names_test(data, base):
    out = os.path.join(base, "names")
    rc, so, se = grid(data, out, "--optimizers", "Adam", "--activations", "ReLU")
    check(rc == 0, f"--optimizers Adam --activations ReLU trains ({tail(se)})")
    check(listing(os.path.join(out, "models"), ".nnm") == ["adam_relu.nnm"],
          f"the model is adam_relu.nnm ({listing(os.path.join(out, 'models'), '.nnm')})")
    check(listing(os.path.join(out, "runs"), ".json") == ["adam_relu.json"],
          f"the record is adam_relu.json ({listing(os.path.join(out, 'runs'), '.json')})")
    rec = gf.parse_record(os.path.join(out, "runs", "adam_relu.json")) if rc == 0 else {}
    check(rec.get("optimizer") == "adam" and rec.get("activation") == "relu",
          f"the record names adam and relu ({rec.get('optimizer')}, {rec.get('activation')})")
    check(rc == 0 and csv_rows(out) == [("adam", "relu")], "results.csv has one row, adam,relu")
    before = gf.read_bytes(os.path.join(out, "runs", "adam_relu.json")) if rc == 0 else b""
    time.sleep(0.05)
    rc, so, se = grid(data, out, "--optimizers", "adam", "--activations", "relu")
    check(rc == 0, f"the rerun spelt adam,relu succeeds ({tail(se)})")
    check(listing(os.path.join(out, "models"), ".nnm") == ["adam_relu.nnm"], "the rerun adds no model")
    check(gf.read_bytes(os.path.join(out, "runs", "adam_relu.json")) == before,
          "the rerun is the same run: its record is kept, not trained again")
    check(csv_rows(out) == [("adam", "relu")], "results.csv still has one row")

    for names, what, want in ((["--optimizers", "adam,Adam"], "adam,Adam", "'adam' and 'Adam'"),
                              (["--optimizers", "sgd,sgd"], "sgd,sgd", "listed twice"),
                              (["--activations", "relu,RELU"], "relu,RELU", "'relu' and 'RELU'"),
                              (["--activations", "swish,silu"], "swish,silu", "same activation"),
                              (["--activations", "leaky_relu,leaky_relu:0.2"], "leaky_relu,leaky_relu:0.2",
                               "same activation")):
        o = os.path.join(base, "dup")
        rc, so, se = grid(data, o, *names)
        check(rc == 2 and want in se, f"{what} is refused, naming the repeat (rc {rc}: {tail(se)})")
        check(not os.path.exists(o), f"{what}: nothing is created")

    rc, so, se = grid(data, os.path.join(base, "alpha"), "--optimizers", "sgd", "--activations", "Leaky_ReLU:.50")
    check(rc == 0 and listing(os.path.join(base, "alpha", "runs"), ".json") == ["sgd_leaky_relu:0.5.json"],
          f"Leaky_ReLU:.50 is kept as leaky_relu:0.5 ({listing(os.path.join(base, 'alpha', 'runs'), '.json')}; "
          f"{tail(se)})")


def report_test(data, base):
    out = os.path.join(base, "report")
    first = ["--optimizers", "adam", "--activations", "relu,tanh"]
    rc1, _, se1 = grid(data, out, *first)
    rc2, _, se2 = grid(data, out, "--optimizers", "adam", "--activations", "sigmoid")
    if not check(rc1 == 0 and rc2 == 0, f"two grids in one folder ({tail(se1)} {tail(se2)})"):
        return
    check(csv_rows(out) == [("adam", "sigmoid")], f"the second grid's results.csv is its own run ({csv_rows(out)})")

    rc, so, se = gf.run(BIN, ["report", "--out", out])
    check(rc == 0, f"report exits 0 ({tail(se)})")
    check(csv_rows(out) == [("adam", "sigmoid")],
          f"report shows the last grid's run, not the folder's three records ({csv_rows(out)})")
    table = [ln for ln in so.splitlines() if ln.startswith("adam")]
    check(len(table) == 1, f"the printed table has one row ({len(table)})")

    rc, so, se = gf.run(BIN, ["report", "--out", out, "--all"])
    check(rc == 0 and csv_rows(out) == [("adam", "relu"), ("adam", "sigmoid"), ("adam", "tanh")],
          f"report --all shows every record ({csv_rows(out)}; {tail(se)})")

    # A folder of an older nn-mnist: a run's record in the version-1 text form (runs/<run>.rec)
    # reads as its JSON did, through --all and (below) through the grid's options.
    json_path = os.path.join(out, "runs", "adam_tanh.json")
    all_csv = gf.read_bytes(os.path.join(out, "results.csv"))
    with open(json_path[:-len(".json")] + ".rec", "w") as f:
        f.write(gf.legacy_text(gf.parse_record(json_path)))
    os.remove(json_path)
    rc, so, se = gf.run(BIN, ["report", "--out", out, "--all"])
    check(rc == 0 and "skipping" not in se and gf.read_bytes(os.path.join(out, "results.csv")) == all_csv,
          f"report --all reads a legacy adam_tanh.rec: the same results.csv ({csv_rows(out)}; {tail(se)})")

    plan = ["--epochs", "1", "--hidden", "16"] + first
    # A rerun of that grid skips the run the legacy record holds, rather than training it again.
    legacy_model = os.path.join(out, "models", "adam_tanh.nnm")
    if os.path.exists(legacy_model):
        before = os.stat(legacy_model).st_mtime_ns
        rc, so, se = grid(data, out, *first)
        check(rc == 0 and os.stat(legacy_model).st_mtime_ns == before and
              os.path.exists(os.path.join(out, "runs", "adam_tanh.rec")),
              f"a rerun keeps the run of a legacy record, untrained ({tail(se)})")
    rc, so, se = gf.run(BIN, ["report", "--out", out] + plan)
    check(rc == 0 and csv_rows(out) == [("adam", "relu"), ("adam", "tanh")],
          f"report with the first grid's options shows its two runs ({csv_rows(out)}; {tail(se)})")

    rc, so, se = gf.run(BIN, ["report", "--out", out, "--epochs", "2", "--hidden", "16"] + first)
    check(rc == 1 and "other settings" in se,
          f"report with options of other settings shows no run and says why (rc {rc}: {tail(se)})")

    rc, so, se = gf.run(BIN, ["report", "--out", out, "--all", "--epochs", "1"])
    check(rc == 2 and "--all" in se, f"--all with grid options is refused (rc {rc}: {tail(se)})")


def eval_test(data, base):
    out = os.path.join(base, "eval")
    rc, _, se = grid(data, out, "--optimizers", "sgd", "--activations", "relu")
    rcf, _, sef = grid(data, os.path.join(base, "eval-f"), "--optimizers", "sgd", "--activations", "relu",
                       "--dataset", "fashion-mnist")
    if not check(rc == 0 and rcf == 0, f"grids on mnist and on fashion-mnist ({tail(se)} {tail(sef)})"):
        return
    model = os.path.join(out, "models", "sgd_relu.nnm")
    fmodel = os.path.join(base, "eval-f", "models", "sgd_relu.nnm")

    rc, so, se = gf.run(BIN, ["eval", "--data-dir", data, "--no-download", "--dataset", "fashion-mnist", model])
    check(rc == 2 and "trained on mnist" in se and "--force" in se,
          f"an mnist model on fashion-mnist is refused, pointing to --force (rc {rc}: {tail(se)})")
    check("Test accuracy" not in so, "the refusal prints no figures")
    rc, so, se = gf.run(BIN, ["eval", "--data-dir", data, "--no-download", "--dataset", "fashion-mnist", "--force",
                              model])
    check(rc == 0 and "(fashion-mnist)" in so and "--force" in se,
          f"--force evaluates it anyway, and says so (rc {rc}: {tail(se)})")
    rc, so, se = gf.run(BIN, ["eval", "--data-dir", data, "--no-download", fmodel])
    check(rc == 0 and "(fashion-mnist)" in so,
          f"without --dataset, eval takes the model's own (fashion-mnist) ({tail(so)}; {tail(se)})")
    rc, so, se = gf.run(BIN, ["eval", "--data-dir", data, "--no-download", "--dataset", "mnist", fmodel])
    check(rc == 2 and "trained on fashion-mnist" in se, f"a fashion-mnist model on mnist is refused ({tail(se)})")

    # Only the test set: a folder with the two t10k files is enough, and no training file is asked for.
    only = os.path.join(base, "test-files-only")
    os.makedirs(only)
    for name in os.listdir(data):
        if name.startswith("t10k"):
            shutil.copy(os.path.join(data, name), only)
    rc, so, se = gf.run(BIN, ["eval", "--data-dir", only, "--no-download", model])
    check(rc == 0 and "Test accuracy" in so, f"eval runs with only the test files ({tail(se)})")
    empty = os.path.join(base, "no-files")
    os.makedirs(empty)
    rc, so, se = gf.run(BIN, ["eval", "--data-dir", empty, "--no-download", model])
    check(rc == 1 and "t10k-images" in se and "train-images" not in se,
          f"with no files, eval asks for the test files only (rc {rc}: {tail(se)})")


def main():
    base = tempfile.mkdtemp(prefix="nn-mnist-manners-")
    t0 = time.monotonic()
    try:
        data = os.path.join(base, "data")
        idxgen.write_dataset(data, n_train=300, n_test=100)
        names_test(data, base)
        report_test(data, base)
        eval_test(data, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{len(check.failures)} failure(s) in {time.monotonic() - t0:.1f}s")
    for f in check.failures:
        print("  FAILED:", f)
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
