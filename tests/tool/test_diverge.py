#!/usr/bin/env python3
"""A grid run that diverges (issue 10, item 5), end to end on the synthetic dataset.

SGD at a learning rate of 100 on a linear network blows up within its first epoch; Adam's steps are
bounded by the rate, so its runs stay finite beside it. The diverged run must stop at its first
non-finite loss, count as finished, and say so everywhere: results.csv keeps its columns with "nan"
metrics, the summary lists it last and marked, the figures are drawn, its model loads, no
checkpoint is left, a rerun trains nothing and `report` rebuilds the same. Interrupted before it
diverges, it resumes from a finite checkpoint and reaches the same record.

Usage: test_diverge.py NN_MNIST_BINARY"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
HEADER = ["Optimizer", "Activation", "Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss"]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    env = dict(os.environ)
    env.pop("NN_MNIST_MIRROR", None)
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def summary_table(stdout):
    lines = stdout.splitlines()
    if "Final Results Summary:" not in lines:
        return []
    table = lines[lines.index("Final Results Summary:") + 2:]
    # the table ends at the blank line before its legend
    return table[:table.index("")] if "" in table else table


def record_path(out, run_id):
    return os.path.join(out, "runs", run_id + ".json")


def record(out, run_id):
    """The record's JSON object; its "diverged" as diverged_epoch and diverged_step ({} when null)."""
    rec = json.loads(read(record_path(out, run_id)))
    rec.update({"diverged_" + k: v for k, v in (rec.get("diverged") or {}).items()})
    return rec


def check_diverged_grid(data, tmp):
    out, models = os.path.join(tmp, "r"), os.path.join(tmp, "m")
    args = ["grid", "--data-dir", data, "--no-download", "--epochs", "2", "--lr", "100", "--optimizers", "sgd,adam",
            "--activations", "linear,relu", "--jobs", "2", "--out", out, "--models", models]
    rc, so, se = run(*args)
    check(rc == 0, f"a grid with a diverging run exits 0 ({se.strip()[-300:]})")
    check("sgd_linear: the loss became non-finite at epoch 1" in se and "recorded as diverged" in se,
          "stderr says where sgd_linear diverged")
    check("1 of 4 runs diverged" in se, "the closing lines count the diverged runs")

    rows = list(csv.reader(read(os.path.join(out, "results.csv")).splitlines()))
    check(rows and rows[0][:6] == HEADER and len(rows) == 5, "results.csv: the six columns first, 4 rows")
    by_run = {f"{r[0]}_{r[1]}": r for r in rows[1:]}
    sgd_linear = by_run.get("sgd_linear", [])
    check(sgd_linear[2:6] == ["nan"] * 4, f"results.csv: the diverged run's metrics are nan ({sgd_linear})")
    check(all(len(r) == len(rows[0]) for r in rows), "results.csv: every row has the header's columns")
    for name in ("adam_linear", "adam_relu"):
        vals = by_run.get(name, ["", ""] + ["nan"] * 4)[2:6]
        check(all(v != "nan" and 0 <= float(v) for v in vals), f"results.csv: {name} has finite metrics ({vals})")

    table = summary_table(so)
    check(len(table) == 4, f"summary has 4 rows ({table})")
    if table:
        last = table[-1].split()
        check(last[:2] == ["sgd", "linear"] and last[2:6] == ["nan"] * 4 and "diverged (epoch 1, step" in table[-1],
              f"summary: the diverged run last, marked ({table[-1]})")
        check(all("diverged" not in t for t in table if not t.startswith("sgd ")),
              "summary: Adam's runs are not marked")

    rec = record(out, "sgd_linear")
    check(rec.get("diverged_epoch") == 1 and rec.get("diverged_step", 0) >= 1
          and all(v is None for v in rec["metrics"].values()) and rec["test_correct"] is None,
          f"the record says epoch 1 and the step, null metrics, no test predictions ({rec.get('diverged_epoch')}, "
          f"{rec.get('diverged_step')})")
    check(record(out, "adam_relu")["diverged"] is None, "a finished run's record says it did not diverge (null)")
    for name in ("results.png", "results_heatmap.png", "confusion_matrix.png", "curves.png"):
        p = os.path.join(out, name)
        check(os.path.exists(p) and read(p, "rb")[:8] == b"\x89PNG\r\n\x1a\n", f"{name} drawn")
    check(not os.path.exists(os.path.join(models, "sgd_linear.ckpt.nnm")), "no checkpoint left for the diverged run")
    rc, so2, se2 = run("info", os.path.join(models, "sgd_linear.nnm"))
    check(rc == 0 and "diverged" in so2, f"its model (the last finite weights) loads and says diverged ({se2.strip()[:200]})")

    # Finished means finished: a rerun trains nothing and writes the same CSV.
    csv_before = read(os.path.join(out, "results.csv"), "rb")
    rc, so3, se3 = run(*args)
    check(rc == 0 and "(0 to train)" in se3, f"rerun trains nothing ({se3.strip()[:200]})")
    check(read(os.path.join(out, "results.csv"), "rb") == csv_before, "rerun: the same CSV")
    check(summary_table(so3) == table, "rerun: the same summary")

    os.remove(os.path.join(out, "results.csv"))
    rc, so4, se4 = run("report", "--out", out)
    check(rc == 0 and summary_table(so4) == table, f"report prints the same summary ({se4.strip()[:200]})")
    check(read(os.path.join(out, "results.csv"), "rb") == csv_before, "report rebuilds the same CSV")


def check_all_diverged(data, tmp):
    out, models = os.path.join(tmp, "all"), os.path.join(tmp, "all-m")
    rc, so, se = run("grid", "--data-dir", data, "--no-download", "--epochs", "1", "--lr", "100", "--optimizers",
                     "sgd", "--activations", "linear", "--out", out, "--models", models)
    check(rc == 0 and "diverged" in "".join(summary_table(so)), f"a grid where every run diverges exits 0 ({se.strip()[-200:]})")
    check(os.path.exists(os.path.join(out, "confusion_matrix.png")), "its figures are drawn, with no best run")


def check_interrupted_then_diverges(data, tmp):
    """SIGINT before the divergence: the checkpoint is finite and resumes; the run then diverges at
    the same step as without the interruption and is recorded."""
    common = ["grid", "--data-dir", data, "--no-download", "--epochs", "30", "--batch-size", "100", "--lr", "3",
              "--optimizers", "sgd", "--activations", "linear", "--jobs", "1"]
    ref, ref_m = os.path.join(tmp, "ref"), os.path.join(tmp, "ref-m")
    rc, _, se = run(*common, "--out", ref, "--models", ref_m)
    ref_rec = record(ref, "sgd_linear") if rc == 0 else {}
    if "diverged_epoch" not in ref_rec or int(ref_rec["diverged_epoch"]) < 3:
        print(f"note: sgd at lr 3 diverged at epoch {ref_rec.get('diverged_epoch')} here, too early to interrupt "
              "before it; interruption case skipped")
        return
    out, models = os.path.join(tmp, "int"), os.path.join(tmp, "int-m")
    args = common + ["--out", out, "--models", models]
    env = dict(os.environ)
    env.pop("NN_MNIST_MIRROR", None)
    p = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    err = []
    for line in p.stderr:
        err.append(line)
        if "sgd_linear: epoch 1/30" in line:
            p.send_signal(signal.SIGINT)  # the handler is installed once training shows progress
    rc = p.wait(timeout=120)
    if rc == 0:
        print("note: the run diverged before the signal landed; interruption case not exercised this time")
    else:
        check(rc == 130 and os.path.exists(os.path.join(models, "sgd_linear.ckpt.nnm")),
              f"SIGINT before divergence: exit 130 and a checkpoint ({''.join(err)[-200:]})")
        rc, so, se = run(*args)
        check(rc == 0 and "resuming at epoch" in se, f"the rerun resumes from the checkpoint ({se.strip()[-300:]})")
    rec = record(out, "sgd_linear") if os.path.exists(record_path(out, "sgd_linear")) else {}
    check((rec.get("diverged_epoch"), rec.get("diverged_step")) == (ref_rec["diverged_epoch"], ref_rec["diverged_step"]),
          f"interrupted or not, it diverges at the same step ({rec.get('diverged_epoch')}/{rec.get('diverged_step')})")
    check(read(os.path.join(out, "results.csv"), "rb") == read(os.path.join(ref, "results.csv"), "rb"),
          "and gives the same CSV")
    check(not os.path.exists(os.path.join(models, "sgd_linear.ckpt.nnm")), "no checkpoint left")


def main():
    tmp = tempfile.mkdtemp(prefix="nn-mnist-diverge-")
    try:
        data = os.path.join(tmp, "data")
        idxgen.write_dataset(data)
        check_diverged_grid(data, tmp)
        check_all_diverged(data, tmp)
        check_interrupted_then_diverges(data, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
