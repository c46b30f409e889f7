#!/usr/bin/env python3
"""The trustworthy study (issue 13), end to end on a synthetic dataset:

1. grid --seeds 3 --validation 0.2 --patience 1: results.csv (the six columns first, each the mean over
   seeds, then SD, CI95 and n recomputed here from runs.csv), runs.csv, history.csv,
   classification_report.csv (against the best run's confusion matrix), the figures, the records
   (validation split, early stopping, the model file holding the best epoch), the summary's table and
   legend.
2. A killed and an interrupted --seeds grid resumes and ends equal to the uninterrupted one.
3. --shard 1/2 and 2/2, run at the same time into one folder, merged by `report`: equal to the
   unsharded grid; the folder locks keep a whole grid out while shards run, and the reverse.
4. tune: the sweep, tuned_lr.csv (each cell's best mean validation accuracy), lr_sensitivity.png, then
   grid --lr tuned trains at those rates; tune --batch-sizes --scale-lr scales them.
5. --activations all trains every activation libnn has; refusals of bad protocol options.

Usage: test_study.py NN_MNIST_BINARY"""
import csv
import fcntl
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = gf.Checker()
OPTS, ACTS, SEEDS = ["sgd", "adam"], ["relu", "tanh"], [42, 43, 44]
RUNS = [f"{o}_{a}_s{s}" for o in OPTS for a in ACTS for s in SEEDS]
# t_{0.975, 2}: scipy.stats.t.ppf(0.975, 2)
T975_2 = 4.302652729911275


def study_args(data, out, models, *extra):
    return ["grid", "--data-dir", data, "--no-download", "--epochs", "4", "--jobs", "2", "--optimizers",
            ",".join(OPTS), "--activations", ",".join(ACTS), "--seeds", "3", "--validation", "0.2", "--patience", "1",
            "--out", out, "--models", models] + list(extra)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def summary_rows(stdout):
    lines = stdout.splitlines()
    if "Final Results Summary:" not in lines:
        return [], []
    rest = lines[lines.index("Final Results Summary:") + 1:]
    blank = rest.index("") if "" in rest else len(rest)
    return rest[1:blank], rest[blank + 1:]


def check_outputs(out, models, so):
    """Part 1: what a --seeds --validation grid writes."""
    runs = {r[0]: r for r in read_csv(os.path.join(out, "runs.csv"))[1:]}
    head = read_csv(os.path.join(out, "runs.csv"))[0]
    check(sorted(runs) == sorted(RUNS), f"runs.csv: a row per run ({len(runs)})")
    col = {name: i for i, name in enumerate(head)}
    res = read_csv(os.path.join(out, "results.csv"))
    check(res[0][:6] == ["Optimizer", "Activation", "Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss"],
          f"results.csv: the original six columns first ({res[0][:6]})")
    for name in ["Test Accuracy SD", "Test Accuracy CI95", "Validation Accuracy", "N", "Seeds"]:
        check(name in res[0], f"results.csv: a '{name}' column")
    rcol = {name: i for i, name in enumerate(res[0])}
    check(len(res) == 1 + len(OPTS) * len(ACTS), f"results.csv: a row per cell ({len(res) - 1})")
    bad = []
    for row in res[1:]:
        cell = [runs[f"{row[0]}_{row[1]}_s{s}"] for s in SEEDS]
        for metric in ["Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss", "Validation Accuracy"]:
            vals = [float(r[col[metric]]) for r in cell]
            mean, sd = statistics.mean(vals), statistics.stdev(vals)
            got_mean, got_sd = float(row[rcol[metric]]), float(row[rcol[metric + " SD"]])
            got_ci = float(row[rcol[metric + " CI95"]])
            if abs(got_mean - mean) > 2e-6 or abs(got_sd - sd) > 2e-6 or abs(got_ci - T975_2 * sd / math.sqrt(3)) > 1e-5:
                bad.append(f"{row[0]}/{row[1]} {metric}: {got_mean} {got_sd} {got_ci} vs {mean} {sd}")
        if row[rcol["N"]] != "3" or row[rcol["Seeds"]] != "42 43 44":
            bad.append(f"{row[0]}/{row[1]}: n {row[rcol['N']]}, seeds {row[rcol['Seeds']]}")
    check(not bad, f"results.csv: means, SDs and 95% CIs are those of the runs ({bad[:3]})")

    # Records: the split, early stopping, the held-out curves.
    recs = {r: json.load(open(os.path.join(out, "runs", r + ".json"))) for r in RUNS}
    check(all(r["validation"] == 0.20000000298023224 and r["split_seed"] == 42 for r in recs.values()),
          "records: validation 0.2, the split drawn from --seed 42 for every seed")
    check(all(r["metrics"]["val_accuracy"] is not None for r in recs.values()), "records: validation metrics")
    check(all(r["history"]["heldout"] == "validation" for r in recs.values()), "records: curves on the validation split")
    check(all(1 <= r["best_epoch"] <= len(r["history"]["train_loss"]) for r in recs.values()),
          "records: the best epoch lies within the epochs trained")
    hist = read_csv(os.path.join(out, "history.csv"))
    want = sum(len(r["history"]["train_loss"]) for r in recs.values())
    check(len(hist) - 1 == want and hist[0][7] == "Held-out Set" and {h[7] for h in hist[1:]} == {"validation"},
          f"history.csv: a row per run and epoch ({len(hist) - 1} of {want})")

    # The classification report is the best run's: recomputed from its confusion matrix.
    rep = read_csv(os.path.join(out, "classification_report.csv"))
    best_cell = max(res[1:], key=lambda row: float(row[rcol["Validation Accuracy"]]))
    cands = [recs[f"{best_cell[0]}_{best_cell[1]}_s{s}"] for s in SEEDS]
    best = max(cands, key=lambda r: r["metrics"]["val_accuracy"])
    conf = best["confusion"]["counts"]
    k = len(conf)
    ok = len(rep) == 1 + k + 3
    for i in range(k):
        tp, col_sum, row_sum = conf[i][i], sum(conf[j][i] for j in range(k)), sum(conf[i])
        p = tp / col_sum if col_sum else 0.0
        r = tp / row_sum if row_sum else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        ok = ok and abs(float(rep[1 + i][1]) - p) < 1e-6 and abs(float(rep[1 + i][2]) - r) < 1e-6 and \
            abs(float(rep[1 + i][3]) - f1) < 1e-6 and int(rep[1 + i][4]) == row_sum
    check(ok, "classification_report.csv: precision, recall, F1 and support of the best run's classes")

    sizes = {"results.png": (1000, 600), "results_heatmap.png": (800, 600), "confusion_matrix.png": (800, 700),
             "confusion_matrix_normalized.png": (800, 700), "curves.png": (1000, 600), "history.png": (1400, 600)}
    for name, size in sizes.items():
        p = os.path.join(out, name)
        check(os.path.exists(p) and png_size(p) == size, f"{name}: drawn at {size}")

    rows, legend = summary_rows(so)
    check(len(rows) == len(OPTS) * len(ACTS), f"summary: a row per cell ({len(rows)})")
    check(all("\u00b1" in r for r in rows) and all(r.split()[-2 if r.endswith(" =") else -1] for r in rows),
          "summary: mean \u00b1 CI in every row")
    check(rows and rows[0].rstrip().endswith("best"), "summary: the best cell first")
    check(any("validation split" in line for line in legend) and any("paired t-test" in line for line in legend),
          f"summary: the legend names the selection and the test ({legend})")


def early_stopping(data, base):
    """--patience 1 at a rate high enough for the validation loss to rise: a run stops one epoch after its
    lowest validation loss and keeps that epoch's weights, which its final validation loss shows (the
    same figure, computed again from the restored model)."""
    out = os.path.join(base, "E")
    rc, so, se = gf.run(BIN, ["grid", "--data-dir", data, "--no-download", "--optimizers", "adam", "--activations",
                              "relu,tanh", "--seeds", "3", "--validation", "0.2", "--patience", "1", "--epochs", "8",
                              "--train-limit", "150", "--lr", "0.05", "--out", out, "--models", out + "/m", "-q"])
    check(rc == 0, f"grid --patience 1 (rc {rc}; {se.strip()[-200:]})")
    recs = {n[:-5]: json.load(open(os.path.join(out, "runs", n))) for n in os.listdir(os.path.join(out, "runs"))}
    stopped = sorted(n for n, r in recs.items() if len(r["history"]["train_loss"]) < 8)
    check(len(stopped) >= 2, f"runs stopped early: {stopped}")
    for n in stopped:
        r = recs[n]
        vl, b = r["history"]["heldout_loss"], r["best_epoch"]
        check(min(vl) == vl[b - 1] and len(vl) == b + 1, f"{n}: stopped one epoch after its lowest validation loss")
        check(r["metrics"]["val_loss"] == vl[b - 1], f"{n}: the model holds epoch {b}'s weights "
                                                      f"({r['metrics']['val_loss']} == {vl[b - 1]})")
        rc, info, _ = gf.run(BIN, ["info", os.path.join(out, "m", n + ".nnm")])
        check(rc == 0 and re.search(rf"best_epoch\W+{b}\b", info) is not None, f"{n}: the model file says epoch {b}")
    left = [f for f in os.listdir(os.path.join(out, "m")) if ".best." in f or ".ckpt." in f]
    check(not left, f"no best-epoch or checkpoint file left behind ({left})")


def kill_resume(data, ref_out, ref_models, base):
    """Part 2: a SIGKILL and a SIGINT on the way; the grid then equals the uninterrupted one."""
    out, models = os.path.join(base, "R"), os.path.join(base, "R", "models")
    args = study_args(data, out, models)
    p = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=gf.tool_env())
    time.sleep(0.5)
    p.kill()
    p.wait()
    # On a fast machine the grid can finish every run between its first epoch line and the signal
    # (exit 130 with only the report left): start over, without the SIGKILL, until the signal lands
    # inside a run.
    for attempt in range(5):
        w = gf.Watched([BIN] + args)
        if w.wait_for(r": epoch \d+/\d+"):
            w.p.send_signal(signal.SIGINT)
        rc, se = w.finish()
        done = len([n for n in os.listdir(os.path.join(out, "runs")) if n.endswith(".json")])
        if rc != 130 or done < len(RUNS) or attempt == 4:
            break
        shutil.rmtree(out)
    check(rc in (0, 130), f"SIGINT: exit {rc}")
    check(rc == 0 or done < len(RUNS), f"the grid was interrupted with {done} of {len(RUNS)} runs done")
    rc, so, se = gf.run(BIN, args)
    check(rc == 0, f"the rerun completes the grid (rc {rc}; {se.strip()[-200:]})")
    gf.compare_grids(check, ref_out, ref_models, out, models, "killed --seeds grid, resumed", runs=RUNS,
                     exact_listing=False)
    check(read_csv(os.path.join(out, "runs.csv"))[1:] and
          [r[:-1] for r in read_csv(os.path.join(out, "runs.csv"))] ==
          [r[:-1] for r in read_csv(os.path.join(ref_out, "runs.csv"))],
          "runs.csv equals the uninterrupted grid's but for the seconds")


def shards(data, ref_out, ref_models, base):
    """Part 3: two shards at once into one folder, merged by report."""
    out, models = os.path.join(base, "S"), os.path.join(base, "S", "models")
    procs = [subprocess.Popen([BIN] + study_args(data, out, models, "--shard", f"{k}/2", "--jobs", "1"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=gf.tool_env())
             for k in (1, 2)]
    outs = [p.communicate(timeout=300) for p in procs]
    check(all(p.returncode == 0 for p in procs), f"both shards finish ({[p.returncode for p in procs]}; "
                                                  f"{[o[1].strip()[-150:] for o in outs]})")
    check(all("nn-mnist report" in o[1] for o in outs), "each shard says how to merge")
    check(not os.path.exists(os.path.join(out, "results.csv")), "a shard writes no report of its own")
    rc, so, se = gf.run(BIN, ["report", "--out", out])
    check(rc == 0, f"report merges the shards (rc {rc}; {se.strip()[-200:]})")
    gf.compare_grids(check, ref_out, ref_models, out, models, "two shards merged", runs=RUNS, exact_listing=False)
    check([r[:-1] for r in read_csv(os.path.join(out, "runs.csv"))] ==
          [r[:-1] for r in read_csv(os.path.join(ref_out, "runs.csv"))], "merged runs.csv equals the unsharded one")
    # Shards of other settings cannot share a folder: the second is refused before it trains.
    mixed = os.path.join(base, "mixed")
    rc, _, se = gf.run(BIN, study_args(data, mixed, mixed + "/m", "--shard", "2/2", "-q"))
    rc2, _, se2 = gf.run(BIN, study_args(data, mixed, mixed + "/m", "--shard", "1/2", "--epochs", "3", "-q"))
    check(rc == 0 and rc2 == 2 and "another shard" in se2, f"a shard of other settings is refused (rc {rc}, {rc2}; "
                                                           f"{se2.strip()[:160]})")
    # The locks: a shard holds the folder's lock shared, a whole grid exclusively.
    lock = os.path.join(out, ".nn-mnist.lock")
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        rc, _, se = gf.run(BIN, study_args(data, out, models))
        check(rc == 2 and "another nn-mnist" in se, f"a whole grid is refused while a shard runs (rc {rc})")
        fcntl.flock(f, fcntl.LOCK_UN)
        fcntl.flock(f, fcntl.LOCK_EX)
        rc, _, se = gf.run(BIN, study_args(data, out, models, "--shard", "1/2"))
        check(rc == 2 and "another nn-mnist" in se, f"a shard is refused while a whole grid runs (rc {rc})")


def tune(data, base):
    """Part 4: tune, then grid --lr tuned; the batch-size sweep with scaled rates."""
    out = os.path.join(base, "T")
    common = ["--data-dir", data, "--no-download", "--jobs", "2", "--optimizers", "sgd,adam", "--activations", "relu",
              "--out", out, "-q"]
    rc, so, se = gf.run(BIN, ["tune", "--lrs", "0.001,0.01,0.1", "--epochs", "2", "--seeds", "2",
                              "--validation", "0.2"] + common)
    check(rc == 0, f"tune runs (rc {rc}; {se.strip()[-200:]})")
    sweep = read_csv(os.path.join(out, "tune-lr", "sweep.csv"))
    tuned = read_csv(os.path.join(out, "tuned_lr.csv"))
    check(len(sweep) == 1 + 2 * 3 and len(tuned) == 1 + 2, f"sweep.csv has 6 points, tuned_lr.csv 2 rates")
    ok = sweep[0][:4] == ["Optimizer", "Activation", "Learning Rate", "Validation Accuracy"]
    for row in tuned[1:]:
        pts = [r for r in sweep[1:] if r[0] == row[0] and r[1] == row[1]]
        best = max(pts, key=lambda r: float(r[3]))
        ok = ok and abs(float(row[2]) - float(best[2])) < 1e-6 * float(row[2]) and \
            abs(float(row[3]) - float(best[3])) < 1e-6
    check(ok, f"tuned_lr.csv: each cell's rate of best mean validation accuracy ({tuned[1:]})")
    check(os.path.exists(os.path.join(out, "lr_sensitivity.png")), "lr_sensitivity.png drawn")
    check("Tuned learning rates" in so, "tune prints the table")
    rates = {r[0]: float(r[2]) for r in tuned[1:]}
    rc, so, se = gf.run(BIN, ["grid", "--lr", "tuned", "--epochs", "1", "--models", os.path.join(out, "m")] + common)
    check(rc == 0, f"grid --lr tuned (rc {rc}; {se.strip()[-200:]})")
    recs = [json.load(open(os.path.join(out, "runs", n))) for n in os.listdir(os.path.join(out, "runs"))]
    check(len(recs) == 2 and all(abs(r["lr"] - rates[r["optimizer"]]) <= 1e-7 * rates[r["optimizer"]] for r in recs),
          f"grid --lr tuned trains at the tuned rates ({[(r['optimizer'], r['lr']) for r in recs]}, {rates})")
    rc, _, se = gf.run(BIN, ["tune", "--lr", "0.1", "--epochs", "1"] + common)
    check(rc == 2 and "--batch-sizes" in se, f"tune --lr without --batch-sizes is refused ({se.strip()[:120]})")
    rc, so, se = gf.run(BIN, ["tune", "--batch-sizes", "16,64", "--scale-lr", "--epochs", "1"] + common)
    check(rc == 0, f"tune --batch-sizes (rc {rc}; {se.strip()[-200:]})")
    recs = [json.load(open(os.path.join(out, "tune-batch", "runs", n)))
            for n in os.listdir(os.path.join(out, "tune-batch", "runs"))]
    ok = len(recs) == 4 and all(abs(r["lr"] - rates[r["optimizer"]] * r["batch_size"] / 32) <=
                                1e-6 * r["lr"] for r in recs)
    check(ok, "tune --batch-sizes --scale-lr: the tuned rates scaled by batch / 32")
    check(os.path.exists(os.path.join(out, "tuned_batch.csv")) and
          os.path.exists(os.path.join(out, "batch_sensitivity.png")), "tuned_batch.csv and batch_sensitivity.png")
    rc, _, se = gf.run(BIN, ["grid", "--lr-from", os.path.join(out, "tuned_batch.csv"), "--epochs", "1"] + common)
    check(rc == 2 and "batch sizes" in se, f"--lr-from refuses a table of batch sizes ({se.strip()[:120]})")
    # A rates table for relu and tanh cannot stand in for sigmoid: no silent borrowing.
    two = os.path.join(out, "two.csv")
    with open(two, "w") as f:
        f.write("Optimizer,Activation,Learning Rate\nsgd,relu,0.05\nsgd,tanh,0.3\n")
    rc, _, se = gf.run(BIN, ["grid", "--lr-from", two, "--optimizers", "sgd", "--activations", "sigmoid", "--epochs",
                             "1", "--data-dir", data, "--no-download", "--out", out, "-q"])
    check(rc == 2 and "no rate for sgd with sigmoid" in se, f"--lr-from: a cell without its rate is refused ({se.strip()[:120]})")


def activations_all(data, base):
    out = os.path.join(base, "A")
    rc, so, se = gf.run(BIN, ["grid", "--data-dir", data, "--no-download", "--epochs", "1", "--train-limit", "200",
                              "--optimizers", "adam", "--activations", "all", "--out", out, "--models",
                              os.path.join(out, "m"), "-q"])
    check(rc == 0, f"--activations all (rc {rc}; {se.strip()[-200:]})")
    rc, help_text, _ = gf.run(BIN, ["grid", "--help"])
    names = re.search(r"--activations LIST.*?any of:\n(.*?)\n  --optimizers", help_text, re.S)
    listed = re.findall(r"([a-z_]+)(?:\[|,|\s|$)", names.group(1)) if names else []
    listed = [n for n in listed if n not in ("default", "or", "swish", "ALPHA")]
    rows = read_csv(os.path.join(out, "results.csv"))[1:] if os.path.exists(os.path.join(out, "results.csv")) else []
    check(len(rows) >= 10 and sorted(r[1].split(":")[0] for r in rows) == sorted(listed),
          f"--activations all: every activation libnn has ({len(rows)} rows, {listed})")


def single_seed(data, base):
    """The plain grid stays the original study: its results.csv columns, and a summary that says the best
    was picked on the test set and tests each model against it with McNemar's test."""
    out = os.path.join(base, "one")
    rc, so, se = gf.run(BIN, ["grid", "--data-dir", data, "--no-download", "--epochs", "1", "--optimizers", "sgd,adam",
                              "--activations", "relu", "--out", out, "--models", out + "/m", "-q"])
    check(rc == 0, f"a one-seed grid (rc {rc})")
    head = read_csv(os.path.join(out, "results.csv"))[0]
    check(head == ["Optimizer", "Activation", "Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss", "Epochs",
                   "Batch Size", "Learning Rate", "Seed", "Parameters", "BLAS Threads"],
          f"one seed, no split: the original results.csv columns ({head})")
    rows, legend = summary_rows(so)
    check(len(rows) == 2 and rows[0].endswith("best") and re.search(r"(p[=<][\d.]+|-)( =)?$", rows[1]) is not None,
          f"the summary marks the best and tests the other ({rows})")
    text = " ".join(legend)
    check("picked on the test set" in text and "McNemar" in text, f"the legend says how ({legend})")


def refusals(data, base):
    out = os.path.join(base, "X")
    cases = [(["grid", "--patience", "2"], "--validation"),
             (["grid", "--validation", "0.95"], "from 0 to 0.9"),
             (["grid", "--seeds", "0"], "--seeds"),
             (["grid", "--seeds", "1,2,1"], "listed twice"),
             (["grid", "--shard", "3/2"], "K/N"),
             (["grid", "--lr", "tuned"], "nn-mnist tune"),
             (["tune", "--validation", "0"], "validation"),
             (["tune", "--lrs", "0.1,0.1"], "listed twice"),
             (["tune", "--scale-lr"], "--batch-sizes"),
             (["train", "--seeds", "3"], "not an option of nn-mnist train")]
    for args, words in cases:
        rc, _, se = gf.run(BIN, args + ["--data-dir", data, "--no-download", "--out", out])
        check(rc == 2 and words in se, f"{' '.join(args)}: refused (exit {rc}): {se.strip()[:120]}")
    check(not os.path.exists(os.path.join(out, "runs")), "refusals wrote nothing")


def main():
    base = tempfile.mkdtemp(prefix="nn-study-")
    try:
        data = os.path.join(base, "data")
        idxgen.write_dataset(data, n_train=500, n_test=200)
        ref_out, ref_models = os.path.join(base, "ref"), os.path.join(base, "ref", "models")
        rc, so, se = gf.run(BIN, study_args(data, ref_out, ref_models))
        check(rc == 0, f"grid --seeds 3 --validation 0.2 --patience 1 (rc {rc}; {se.strip()[-300:]})")
        if rc == 0:
            check(re.search(r"epoch \d+/4 .*val loss .*val accuracy", se) is not None and
                  not re.search(r"epoch \d+/4 .*test accuracy", se),
                  "with a split, the epoch lines name the validation figures as such")
            check_outputs(ref_out, ref_models, so)
            kill_resume(data, ref_out, ref_models, base)
            shards(data, ref_out, ref_models, base)
        early_stopping(data, base)
        tune(data, base)
        activations_all(data, base)
        single_seed(data, base)
        refusals(data, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{len(check.failures)} failures")
    sys.exit(1 if check.failures else 0)


if __name__ == "__main__":
    main()
