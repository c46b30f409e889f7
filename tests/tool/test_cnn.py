#!/usr/bin/env python3
"""`nn-mnist grid --arch`, `--augment` and `--lr-schedule` (issue 12), end to end on a synthetic dataset.

1. `--arch cnn` trains Keras' MNIST convnet on (28, 28, 1) inputs: every output file, the settings
   line, the records, the model metadata and the CSV name the network; 12 epochs (Keras' example's)
   of batch 32 (the study's) unless given; `info` lists each layer with its output shape, parameters and the conv layers' activation;
   --jobs 1 and 2 give the same bytes; `report` rebuilds the same CSV.
2. A list with every kind of item builds what it says (bn after a conv defers its activation); two
   spellings of one network are one setting; --arch mlp is the original study's MLP, unchanged.
3. Bad lists are refused with the item named, before any data are read or folder made; --hidden,
   --dropout, --batchnorm with a CNN, and an unknown schedule, are refused; a folder of MLP runs
   refuses a CNN grid and the reverse.
4. --augment and --lr-schedule cosine: the same seed gives the same CSV and models, each option
   changes the results, both are recorded, and the recorded rate is the optimizer's own.
5. SIGKILLs and a SIGINT mid-epoch of a CNN grid with dropout, augmentation and the cosine schedule,
   each followed by a rerun, end byte for byte equal to an uninterrupted grid.
6. Under mpirun (when built with MPI), the same CNN grid equals the single-process one.

Usage: test_cnn.py NN_MNIST_BINARY [NN_MNIST_MPI_BINARY|no-mpi]   (NN_TEST_SEED=N picks other kill moments [12])"""
import csv
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
# nn-mnist-mpi, the MPI build of the grid (nn-mnist itself does not link libmpi), or "no-mpi".
MPI_BIN = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "no-mpi" else None
CNN = "conv32x3,pool2,conv64x3,pool2,flatten,dropout0.5"
SMALL = ["--optimizers", "sgd,adam", "--activations", "relu,tanh"]
SMALL_RUNS = [f"{o}_{a}" for o in ("sgd", "adam") for a in ("relu", "tanh")]
LIMITS = ["--train-limit", "300", "--test-limit", "100"]
check = gf.Checker()


def grid(data, out, models, *extra, jobs=2):
    return gf.run(BIN, ["grid", "--data-dir", data, "--no-download", "--jobs", str(jobs), "--out", out,
                        "--models", models, *extra])


def tail(text, lines=2):
    return " | ".join(text.strip().splitlines()[-lines:])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def info_layers(path):
    """info's layer rows as (kind, activation, in, out, output shape, params, non-trainable)."""
    rc, so, se = gf.run(BIN, ["info", path])
    rows = re.findall(r"^\s+\d+\s+(\w+)\s+(\S+)\s+(\d+) -> (\d+)\s+(\(None(?:, \d+)+\))\s+(\d+)\s+(\d+)$", so, re.M)
    return rc, so, [tuple(r) for r in rows]


def same_files(a, b, runs):
    if gf.read_bytes(os.path.join(a[0], "results.csv")) != gf.read_bytes(os.path.join(b[0], "results.csv")):
        return False
    return all(gf.read_bytes(os.path.join(a[1], r + ".nnm")) == gf.read_bytes(os.path.join(b[1], r + ".nnm"))
               for r in runs)


def folder(base, name):
    return os.path.join(base, name), os.path.join(base, name, "m")


def outputs_test(data, base):
    out, models = folder(base, "cnn")
    rc, so, se = grid(data, out, models, "--arch", "cnn", "--epochs", "2", *SMALL, *LIMITS)
    if not check(rc == 0, f"grid --arch cnn trains (rc {rc}; {tail(se)})"):
        return None
    check(all(os.path.exists(os.path.join(out, f)) for f in gf.REPORT_FILES), "every report file is written")
    check(f"(network: {CNN})" in so, "the summary names the network")
    rows = read_csv(os.path.join(out, "results.csv"))
    check(rows[0][-3:] == ["Architecture", "Augment", "LR Schedule"] and len(rows) == 1 + len(SMALL_RUNS)
          and all(r[-3:] == [CNN, "0", "constant"] for r in rows[1:]),
          f"results.csv has the network's columns ({rows[0][-3:]}, {rows[1][-3:]})")
    params = 320 + 18496 + 16010
    col = rows[0].index("Parameters")
    check(all(r[col] == str(params) for r in rows[1:]), f"Parameters is Keras' convnet's {params} ({rows[1][col]})")
    rec = gf.parse_record(os.path.join(out, "runs", "adam_relu.json"))
    check(rec.get("arch") == CNN and f" arch={CNN} epochs=2 batch=32 " in rec["settings"]
          and "hidden=" not in rec["settings"],
          f"the record and its settings line name the network, batch 32 by default ({rec['settings']})")

    rc, so, layers = info_layers(os.path.join(models, "adam_relu.nnm"))
    want = [("conv2d", "relu", "784", "21632", "(None, 26, 26, 32)", "320", "0"),
            ("maxpool2d", "-", "21632", "5408", "(None, 13, 13, 32)", "0", "0"),
            ("conv2d", "relu", "5408", "7744", "(None, 11, 11, 64)", "18496", "0"),
            ("maxpool2d", "-", "7744", "1600", "(None, 5, 5, 64)", "0", "0"),
            ("flatten", "-", "1600", "1600", "(None, 1600)", "0", "0"),
            ("dropout", "-", "1600", "1600", "(None, 1600)", "0", "0"),
            ("dense", "linear", "1600", "10", "(None, 10)", "16010", "0")]
    if not check(rc == 0 and layers == want, "info lists Keras' convnet with output shapes, activations, counts"):
        print(so)
    check("Input shape:   (None, 28, 28, 1)" in so, "info shows the image input shape")
    check(re.search(rf"^  arch +{re.escape(CNN)}$", so, re.M) is not None, "the model's metadata holds the network")

    # Keras' example's 12 epochs, the study's batch of 32, unless given.
    d_out, d_models = folder(base, "defaults")
    rc, so, se = grid(data, d_out, d_models, "--arch", "cnn", "--optimizers", "adam", "--activations", "relu",
                      "--train-limit", "256", "--test-limit", "50")
    rec = gf.parse_record(os.path.join(d_out, "runs", "adam_relu.json")) if rc == 0 else {}
    check(rec.get("epochs") == 12 and rec.get("batch_size") == 32,
          f"--arch cnn defaults to 12 epochs of batch 32 (rc {rc}; {rec.get('epochs')}, {rec.get('batch_size')})")

    before = gf.read_bytes(os.path.join(out, "results.csv"))
    os.remove(os.path.join(out, "results.csv"))
    rc, so, se = gf.run(BIN, ["report", "--out", out])
    check(rc == 0 and gf.read_bytes(os.path.join(out, "results.csv")) == before, "report rebuilds the same CSV")

    out1, models1 = folder(base, "cnn1")
    rc, so, se = grid(data, out1, models1, "--arch", "cnn", "--epochs", "2", *SMALL, *LIMITS, jobs=1)
    check(rc == 0 and same_files((out, models), (out1, models1), SMALL_RUNS),
          "--jobs 1 and --jobs 2 give the same CSV and model files")
    return out, models


def spec_test(data, base):
    spec = "conv8x3same,bn,pool2,conv8x3x5/2,avgpool2same,dropout0.25,conv4x1,gap,dense16,bn,dropout0.2"
    out, models = folder(base, "spec")
    rc, so, se = grid(data, out, models, "--arch", spec, "--epochs", "1", "--optimizers", "adam",
                      "--activations", "elu", *LIMITS)
    if not check(rc == 0, f"a list of every kind of item trains (rc {rc}; {tail(se)})"):
        return
    rc, so, layers = info_layers(os.path.join(models, "adam_elu.nnm"))
    kinds = [(x[0], x[1], x[4]) for x in layers]
    want = [("conv2d", "linear", "(None, 28, 28, 8)"), ("batchnorm", "-", "(None, 28, 28, 8)"),
            ("activation", "elu", "(None, 28, 28, 8)"), ("maxpool2d", "-", "(None, 14, 14, 8)"),
            ("conv2d", "elu", "(None, 6, 5, 8)"), ("avgpool2d", "-", "(None, 3, 3, 8)"),
            ("dropout", "-", "(None, 3, 3, 8)"), ("conv2d", "elu", "(None, 3, 3, 4)"),
            ("global_avgpool2d", "-", "(None, 4)"), ("dense", "linear", "(None, 16)"),
            ("batchnorm", "-", "(None, 16)"), ("activation", "elu", "(None, 16)"), ("dropout", "-", "(None, 16)"),
            ("dense", "linear", "(None, 10)")]
    if not check(kinds == want, "the list builds its layers, bn taking the activation after it"):
        print(so)
    # Another spelling of the same network is the same setting: the finished runs are recognised.
    alias = ("conv8x3x3/1same, batchnorm,maxpool2/2,conv8x3x5/2valid,avgpool2/2same,dropout0.250,conv4x1x1,gap,"
             "dense16,bn,dropout.2")
    rc, so, se = grid(data, out, models, "--arch", alias, "--epochs", "1", "--optimizers", "adam",
                      "--activations", "elu", *LIMITS)
    check(rc == 0 and "(0 to train)" in se, f"another spelling of the list is the same setting (rc {rc}; {tail(se)})")
    # --arch mlp is the original study's network, with its settings line.
    m_out, m_models = folder(base, "mlp")
    rc, so, se = grid(data, m_out, m_models, "--arch", "mlp", "--epochs", "1", "--optimizers", "adam",
                      "--activations", "relu", *LIMITS)
    rec = gf.parse_record(os.path.join(m_out, "runs", "adam_relu.json")) if rc == 0 else {"settings": ""}
    rows = read_csv(os.path.join(m_out, "results.csv")) if rc == 0 else [[]]
    check(rec.get("arch") == "" and " hidden=128 epochs=1 batch=32 " in rec["settings"] and rows[0][-1] == "BLAS Threads",
          f"--arch mlp: the MLP's record, settings and CSV ({rec['settings']})")
    return m_out, m_models


def refusal_test(data, base, cnn, mlp):
    never = os.path.join(base, "never")
    missing = os.path.join(base, "no-data")
    cases = [("conv32x", "'conv32x' at item 1: expected a kernel size"),
             ("conv32x3,,pool2", "item 2 is empty"),
             ("conv32x3,pool2,conv64x3,pool2", "the output layer (dense 10) needs flat inputs"),
             ("conv32x3,bogus7,flatten", "'bogus7' at item 2: unknown layer"),
             ("dense128", "'dense128' at item 1:"),
             ("conv32x3,pool9,pool9,flatten", "'pool9' at item 3:"),
             ("flatten,dropout1", "'dropout1' at item 2: expected a rate above 0 and below 1"),
             ("conv32x3/0,flatten", "'conv32x3/0' at item 1: expected a stride"),
             ("conv5000x3,flatten", "expected a number of filters from 1 to 4096"),
             ("conv32x3same3", "'conv32x3same3' at item 1: unexpected 'same3'"),
             ("cnn,flatten", "'cnn' at item 1: unknown layer"),
             ("", "--arch is empty"),
             (",".join(["flatten"] * 33), "at most 32 items"),
             ("flatten,dense65536,dense65536", "parameters, more than the")]
    for spec, want in cases:
        rc, so, se = gf.run(BIN, ["grid", "--arch", spec, "--data-dir", missing, "--no-download", "--out", never,
                                  "--models", never])
        check(rc == 2 and want in se and "IDX" not in se and "Usage" not in se,
              f"--arch '{spec[:40]}' refused before the data: {se.strip()[:150]}")
    for args, want in ((["--arch", "cnn", "--hidden", "64"], "--hidden shapes the mlp"),
                       (["--arch", "cnn", "--dropout", "0.2"], "--dropout shapes the mlp"),
                       (["--batchnorm", "--arch", "cnn"], "--batchnorm shapes the mlp"),
                       (["--lr-schedule", "step"], "--lr-schedule: unknown schedule 'step'"),
                       (["--augment=1"], "--augment=1: unknown kind (accepted: light, handwriting, scan)")):
        rc, so, se = gf.run(BIN, ["grid", *args, "--data-dir", missing, "--no-download", "--out", never])
        check(rc == 2 and want in se, f"{' '.join(args)} refused: {se.strip()[:150]}")
    check(not os.path.exists(never), "refused grids made no folder")
    rc, so, se = gf.run(BIN, ["grid", "--help"])
    check(rc == 0 and "--arch ARCH" in so and "convFxK[xK2][/S][same]" in so and re.search(r"--augment\[=KIND\] .*\[off\]", so)
          and re.search(r"--lr-schedule NAME", so) and "[mlp]" in so, "grid --help documents --arch, --augment, --lr-schedule")
    # Other settings in a folder are refused: MLP runs refuse a CNN grid, and the reverse.
    if cnn and mlp:
        rc, so, se = grid(data, mlp[0], mlp[1], "--arch", "cnn", "--epochs", "1", "--optimizers", "adam",
                          "--activations", "relu", *LIMITS)
        check(rc == 2 and "other settings" in se and "arch=" in se, f"an MLP folder refuses a CNN grid ({tail(se, 3)})")
        rc, so, se = grid(data, cnn[0], cnn[1], "--epochs", "2", *SMALL, *LIMITS)
        check(rc == 2 and "other settings" in se, f"a CNN folder refuses an MLP grid ({tail(se, 3)})")


def options_test(data, base):
    one = ["--arch", "conv8x3,pool2,flatten,dropout0.3", "--epochs", "2", "--batch-size", "32", "--optimizers", "adam",
           "--activations", "relu", *LIMITS]
    runs = ["adam_relu"]
    got = {}
    for label, extra in (("plain", []), ("augment", ["--augment"]), ("cosine", ["--lr-schedule", "cosine"]),
                         ("both", ["--augment", "--lr-schedule", "cosine"])):
        a, b = folder(base, label + "-a"), folder(base, label + "-b")
        rc1, so, se = grid(data, *a, *one, *extra, jobs=1)
        rc2, so, se2 = grid(data, *b, *one, *extra, "--seed", "42", jobs=1)
        if not check(rc1 == 0 and rc2 == 0, f"{label}: trains (rc {rc1}, {rc2}; {tail(se)})"):
            continue
        check(same_files(a, b, runs), f"{label}: the same seed gives the same CSV and model")
        got[label] = a
    if len(got) < 4:
        return
    csvs = {k: gf.read_bytes(os.path.join(v[0], "results.csv")) for k, v in got.items()}
    check(len(set(csvs.values())) == 4, "--augment and --lr-schedule cosine each change the results")
    c, s = folder(base, "augment-seed7")
    rc, so, se = grid(data, c, s, *one, "--augment", "--seed", "7", jobs=1)
    check(rc == 0 and not same_files(got["augment"], (c, s), runs), "--augment: another seed gives other results")
    rec = gf.parse_record(os.path.join(got["both"][0], "runs", "adam_relu.json"))
    check(rec.get("augment") == 1 and rec.get("lr_schedule") == "cosine"
          and rec["settings"].endswith(" augment=1 lr_schedule=cosine"),
          f"the record and settings line hold both options ({rec['settings']})")
    check(float(rec["lr"]) == float(gf.parse_record(os.path.join(got["plain"][0], "runs", "adam_relu.json"))["lr"]),
          f"the recorded rate is Adam's own, not the schedule's last ({rec['lr']})")
    rows = read_csv(os.path.join(got["both"][0], "results.csv"))
    check(rows[1][-2:] == ["1", "cosine"], f"results.csv: Augment 1, LR Schedule cosine ({rows[1][-3:]})")
    rc, so, se = gf.run(BIN, ["info", os.path.join(got["both"][1], "adam_relu.nnm")])
    check(re.search(r"^  augment +1$", so, re.M) and re.search(r"^  lr_schedule +cosine$", so, re.M),
          "the model's metadata holds both options")
    # The cosine schedule's rate at the last step of epoch e (of E, S steps each) is
    # lr (1 + cos(pi (e S - 1) / (E S))) / 2, from the global step, not the epoch's.
    c_out, c_models = folder(base, "cosine-rates")
    rc, so, se = grid(data, c_out, c_models, *one[:one.index("--epochs")], "--epochs", "3", "--batch-size", "100",
                      "--optimizers", "adam", "--activations", "relu", *LIMITS, "--lr-schedule", "cosine", jobs=1)
    rates = [float(x) for x in re.findall(r"adam_relu: epoch \d/3 ended at learning rate (\S+)", se)]
    lr, steps = struct.unpack("f", struct.pack("f", 0.001))[0], 3  # Adam's rate, a float32
    want = [lr * (1 + math.cos(math.pi * (e * steps - 1) / (3 * steps))) / 2 for e in (1, 2, 3)]
    check(rc == 0 and len(rates) == 3 and all(abs(a - b) <= 1e-6 * b for a, b in zip(rates, want)),
          f"cosine: the rate at each epoch's end follows the global step ({rates}, expected {want})")
    # Both work on the MLP too.
    m, mm = folder(base, "mlp-both")
    rc, so, se = grid(data, m, mm, "--augment", "--lr-schedule", "cosine", "--epochs", "1", "--optimizers", "adam",
                      "--activations", "relu", *LIMITS, jobs=1)
    rows = read_csv(os.path.join(m, "results.csv")) if rc == 0 else [[]]
    check(rc == 0 and rows[1][-3:] == ["mlp", "1", "cosine"], f"the MLP with both options ({rows[-1][-3:]})")


def resume_test(rnd, data, base):
    """SIGKILLs, then a SIGINT caught mid-epoch; each rerun continues; the end equals a clean grid.
    Dropout, augmentation and the schedule each depend on a generator or the step count a resume
    must restore."""
    args = ["--arch", "conv8x3,pool2,conv8x3,flatten,dropout0.3", "--augment", "--lr-schedule", "cosine",
            "--batch-size", "8", "--epochs", "3", *SMALL, "--train-limit", "240", "--test-limit", "100"]
    ref = folder(base, "ref")
    t0 = time.monotonic()
    rc, so, se = grid(data, *ref, *args)
    t_ref = time.monotonic() - t0
    if not check(rc == 0, f"uninterrupted reference ({t_ref:.1f}s; rc {rc}; {tail(se)})"):
        return
    out, models = folder(base, "K")
    cmd = [BIN, "grid", "--data-dir", data, "--no-download", "--jobs", "2", "--out", out, "--models", models, *args]
    hits, resumed = 0, 0
    for k in range(3):
        w = gf.Watched(cmd)
        if w.wait_for(r": epoch \d+/3"):
            time.sleep(rnd.uniform(0.0, 0.3 * t_ref))
        alive = w.p.poll() is None
        w.p.kill()
        rc, se = w.finish()
        hits += alive
        resumed += len(re.findall(r": resuming at epoch", se))
        gf.check_partial(check, *ref, out, models, f"SIGKILL {k + 1}{'' if alive else ' (had finished)'}")
    check(hits > 0, f"SIGKILL: at least one kill landed while the grid ran ({hits})")
    w = gf.Watched(cmd)
    if w.wait_for(r": epoch \d+/3") and w.p.poll() is None:
        time.sleep(rnd.uniform(0.0, 0.1 * t_ref))
        w.p.send_signal(signal.SIGINT)
    rc, se = w.finish()
    rc2, so2, se2 = gf.run(BIN, cmd[1:])
    resumed += len(re.findall(r": resuming at epoch", se2))
    mid = re.search(r": resuming at epoch \d+, step [1-9]", se2) is not None
    check(rc2 == 0, f"the rerun completes the grid (rc {rc2}; {tail(se2)})")
    for attempt in range(5):
        if resumed > 0:
            break
        # On a fast machine every kill can land between runs or before a first checkpoint: a SIGINT
        # as soon as one run's epoch ends leaves the others mid-epoch, checkpointed.
        a_out, a_models = folder(base, f"K{attempt + 2}")
        acmd = [BIN, "grid", "--data-dir", data, "--no-download", "--jobs", "2", "--out", a_out, "--models",
                a_models, *args]
        w = gf.Watched(acmd)
        if w.wait_for(r": epoch \d+/3") and w.p.poll() is None:
            w.p.send_signal(signal.SIGINT)
        w.finish()
        _, _, se3 = gf.run(BIN, acmd[1:])
        resumed += len(re.findall(r": resuming at epoch", se3))
    check(resumed > 0, f"runs resumed from checkpoints ({resumed} times)")
    if not mid:
        check.note("no resumption happened mid-epoch this time (only at epoch ends)")
    gf.compare_grids(check, *ref, out, models, "after SIGKILLs and SIGINT", runs=SMALL_RUNS)

    # A mid-epoch resume that is all but sure to happen: one run of 240 steps an epoch, a SIGINT
    # shortly after its first epoch ends.
    one = [a for a in args if a not in SMALL]
    one[one.index("--batch-size") + 1] = "1"
    one += ["--optimizers", "adam", "--activations", "tanh"]
    r_out, r_models = folder(base, "R")
    rc, so, se = grid(data, r_out, r_models, *one, jobs=1)
    check(rc == 0, f"one run: reference (rc {rc})")
    m_out, m_models = folder(base, "M")
    w = gf.Watched([BIN, "grid", "--data-dir", data, "--no-download", "--jobs", "1", "--out", m_out,
                    "--models", m_models, *one])
    if w.wait_for(r"adam_tanh: epoch 1/3"):
        time.sleep(0.1)
        if w.p.poll() is None:
            w.p.send_signal(signal.SIGINT)
    rc, se = w.finish()
    rc2, so2, se2 = grid(data, m_out, m_models, *one, jobs=1)
    m = re.search(r"adam_tanh: resuming at epoch (\d+), step (\d+)", se2)
    check(rc2 == 0, f"one run: the rerun finishes (rc {rc2}; {tail(se2)})")
    if rc == 130 and m and int(m.group(2)) > 0:
        check.note(f"one run: resumed mid-epoch (epoch {m.group(1)}, step {m.group(2)})")
    else:
        check.note(f"one run: not resumed mid-epoch this time (rc {rc}, {m.group(0) if m else 'no resume'})")
    gf.compare_grids(check, r_out, r_models, m_out, m_models, "one run after SIGINT", runs=["adam_tanh"])
    return ref, args


def mpi_test(data, base, ref, args):
    if not MPI_BIN or not shutil.which("mpirun"):
        check.note("MPI: skipped (no mpirun, or built without MPI: no nn-mnist-mpi)")
        return
    env = gf.tool_env(leaks=False)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    out, models = folder(base, "mpi")
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "3", MPI_BIN, "grid", "--data-dir", data,
           "--no-download", "--out", out, "--models", models, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    check(p.returncode == 0, f"MPI: mpirun -np 3 trains the CNN grid (rc {p.returncode}; {tail(p.stderr)})")
    gf.compare_grids(check, *ref, out, models, "MPI", runs=SMALL_RUNS)


def main():
    seed = int(os.environ.get("NN_TEST_SEED", "12"))
    print(f"seed {seed} (set NN_TEST_SEED to change the kill moments)")
    rnd = random.Random(seed)
    base = tempfile.mkdtemp(prefix="nn-mnist-cnn-")
    t_start = time.monotonic()
    try:
        data = os.path.join(base, "data")
        idxgen.write_dataset(data, n_train=600, n_test=200)
        cnn = outputs_test(data, base)
        mlp = spec_test(data, base)
        refusal_test(data, base, cnn, mlp)
        options_test(data, base)
        got = resume_test(rnd, data, base)
        if got:
            mpi_test(data, base, *got)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{len(check.failures)} failure(s) in {time.monotonic() - t_start:.1f}s")
    for f in check.failures:
        print("  FAILED:", f)
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
