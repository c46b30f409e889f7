#!/usr/bin/env python3
"""End-to-end test of `nn-mnist grid` on a small synthetic dataset (and on a few hundred real MNIST
images when NN_DATA_DIR points at them): outputs, CSV, PNG sizes, sorted summary, determinism,
resume, the report subcommand, info/eval, and refusal of bad options before any training.

Usage: test_grid.py NN_MNIST_BINARY"""
import csv
import io
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
HEADER = ["Optimizer", "Activation", "Train Accuracy", "Test Accuracy", "Train Loss", "Test Loss"]
FIGURES = {"results.png": (1000, 600), "results_heatmap.png": (800, 600), "confusion_matrix.png": (800, 700),
           "curves.png": (1000, 600)}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("NN_MNIST_MIRROR", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e, timeout=600)
    return p.returncode, p.stdout, p.stderr


def png_size(path):
    """Decodes the PNG's chunks (and inflates its image data) to prove it is a whole, valid PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, "bad chunk CRC"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    assert len(raw) > 0
    return size


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def check_outputs(out, models, stdout, label, n=9):
    rows = read_csv(os.path.join(out, "results.csv"))
    check(rows[0][:6] == HEADER, f"{label}: CSV header starts with the six columns")
    check(len(rows) == n + 1, f"{label}: CSV has {n} rows (got {len(rows) - 1})")
    for name, size in FIGURES.items():
        p = os.path.join(out, name)
        try:
            got = png_size(p)
        except Exception as ex:  # noqa: BLE001
            got = str(ex)
        check(got == size, f"{label}: {name} decodes at {size} (got {got})")
    for r in rows[1:]:
        check(os.path.exists(os.path.join(models, f"{r[0]}_{r[1]}.nnm")), f"{label}: model file for {r[0]}_{r[1]}")
    lines = stdout.splitlines()
    check("Final Results Summary:" in lines, f"{label}: summary printed")
    if "Final Results Summary:" in lines:
        table = lines[lines.index("Final Results Summary:") + 2:]
        table = table[:table.index("")] if "" in table else table  # the legend follows a blank line
        accs = [float(t.split()[3]) for t in table if t.strip()]
        check(len(accs) == n, f"{label}: summary has {n} rows")
        check(accs == sorted(accs, reverse=True), f"{label}: summary sorted by test accuracy")
        check(all(len(t.split()[3].split(".")[1]) == 4 for t in table if t.strip()), f"{label}: 4 decimals")
    return rows


def model_sections(blob):
    """[(tag, flags, payload)] of a model file, without its end section (docs/model-format.md)."""
    pos, out = 16, []
    while pos + 20 <= len(blob):
        tag, flags, length, _ = struct.unpack_from("<4sIQI", blob, pos)
        if tag == b"END!":
            break
        out.append((tag, flags, bytearray(blob[pos + 20:pos + 20 + length])))
        pos += 20 + length
    return out


def model_file(header, sections):
    """A model file with every checksum right: damage inside it is only visible to a full check."""
    out = bytearray(header)
    for tag, flags, payload in sections:
        out += struct.pack("<4sIQI", tag, flags, len(payload), zlib.crc32(payload) & 0xFFFFFFFF) + payload
    end = struct.pack("<I", zlib.crc32(out) & 0xFFFFFFFF)
    return bytes(out + struct.pack("<4sIQI", b"END!", 1, 4, zlib.crc32(end) & 0xFFFFFFFF) + end)


def check_one_validation_path(tmp, data, common, out1, mod1):
    """Checksum-consistent files with bad contents: info, eval and the grid's resume check refuse
    them alike (issue 10, item 8)."""
    model = os.path.join(mod1, "adam_relu.nnm")
    with open(model, "rb") as f:
        blob = f.read()
    secs = model_sections(blob)
    tags = [t for t, _, _ in secs]
    bad = {}
    nan = [[t, fl, bytearray(p)] for t, fl, p in secs]
    tens = nan[tags.index(b"TENS")][2]
    struct.pack_into("<I", tens, 4 + 4 + len("dense_0/kernel") + 4 + 4 + 16, 0x7FC00000)  # first kernel value
    bad["nan-weight"] = model_file(blob[:16], nan)
    lr = [[t, fl, bytearray(p)] for t, fl, p in secs]
    optm = lr[tags.index(b"OPTM")][2]
    name_len = struct.unpack_from("<I", optm, 16)[0]
    struct.pack_into("<f", optm, 20 + name_len, -1.0)  # the first hyperparameter, lr
    bad["negative-lr"] = model_file(blob[:16], lr)
    short = [[t, fl, bytearray(p)] for t, fl, p in secs]
    optm = short[tags.index(b"OPTM")][2]
    short[tags.index(b"OPTM")][2] = optm[:-4]  # the last state array one value short...
    struct.pack_into("<Q", short[tags.index(b"OPTM")][2], len(optm) - 4 * 101770 - 8, 101769)  # and saying so
    bad["short-state"] = model_file(blob[:16], short)
    check(model_file(blob[:16], secs) == blob, "the test's encoder rebuilds a saved model byte for byte")
    mention = {"nan-weight": "non-finite", "negative-lr": "lr is -1", "short-state": "values for"}
    for name, content in bad.items():
        path = os.path.join(tmp, name + ".nnm")
        with open(path, "wb") as f:
            f.write(content)
        rc_i, _, se_i = run("info", path)
        rc_e, _, se_e = run("eval", "--data-dir", data, "--no-download", path)
        msg_i = se_i.strip().replace("nn-mnist info: ", "", 1)
        msg_e = se_e.strip().replace("nn-mnist eval: ", "", 1)
        check(rc_i == 1 and rc_e == 1 and msg_i == msg_e and path in msg_i and mention[name] in msg_i,
              f"{name}: info and eval refuse it with one message ({se_i.strip()[:200]} | {se_e.strip()[:200]})")

    # A finished run whose model is checksum-consistent but invalid is redone, not trusted.
    with open(model, "wb") as f:
        f.write(bad["nan-weight"])
    rc, so, se = run("grid", *common, "--out", out1, "--models", mod1)
    check(rc == 0 and "1 to train" in se, f"grid redoes a run whose model does not load ({se.strip()[-300:]})")
    rc, so, se = run("info", model)
    check(rc == 0, f"the redone model loads ({se.strip()[:200]})")


def check_paths_that_are_not_models(tmp, data):
    """A FIFO is refused at once instead of hanging; a 3 GiB sparse file is judged by its header,
    not read into memory first (issue 10, item 10)."""
    fifo = os.path.join(tmp, "pipe.nnm")
    os.mkfifo(fifo)
    for sub in (["info"], ["eval", "--data-dir", data, "--no-download"]):
        try:
            p = subprocess.run([BIN] + sub + [fifo], capture_output=True, text=True, timeout=30)
            check(p.returncode == 1 and "FIFO" in p.stderr, f"{sub[0]} refuses a FIFO ({p.stderr.strip()[:200]})")
        except subprocess.TimeoutExpired:
            check(False, f"{sub[0]} on a FIFO still blocked after 30 s")
    sparse = os.path.join(tmp, "sparse.nnm")
    with open(sparse, "wb") as f:
        f.truncate(3 << 30)
    for sub in (["info"], ["eval", "--data-dir", data, "--no-download"]):
        t0 = time.monotonic()
        rc, so, se = run(*sub, sparse)
        took = time.monotonic() - t0
        check(rc == 1 and "wrong magic at byte 0" in se and took < 5,
              f"{sub[0]} refuses a 3 GiB file by its header in {took:.1f} s ({se.strip()[:200]})")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    check(peak < 1024, f"no child used 1 GB or more (peak {peak} MB; the 3 GiB file once took 3 GB)")
    os.remove(sparse)


def main():
    tmp = tempfile.mkdtemp(prefix="nn-mnist-e2e-")
    try:
        data = os.path.join(tmp, "data")
        idxgen.write_dataset(data)
        common = ["--data-dir", data, "--epochs", "1", "--no-download"]

        # The default grid (9 models), two jobs; progress lines go to stderr when it is not a terminal.
        out1, mod1 = os.path.join(tmp, "r1"), os.path.join(tmp, "m1")
        rc, so, se = run("grid", *common, "--out", out1, "--models", mod1, "--jobs", "2")
        check(rc == 0, f"grid exits 0 (stderr: {se[-500:]})")
        check("epoch 1/1" in se, "progress: one plain line per epoch when stderr is not a terminal")
        rows1 = check_outputs(out1, mod1, so, "jobs 2")
        sgd_last = [r[0] for r in sorted(rows1[1:], key=lambda r: float(r[3]))][:3]
        print("lowest three:", sgd_last)

        # Same seed, one job: the same CSV byte for byte.
        out2, mod2 = os.path.join(tmp, "r2"), os.path.join(tmp, "m2")
        rc, so, se = run("grid", *common, "--out", out2, "--models", mod2, "--jobs", "1")
        check(rc == 0, "grid --jobs 1 exits 0")
        with open(os.path.join(out1, "results.csv"), "rb") as a, open(os.path.join(out2, "results.csv"), "rb") as b:
            check(a.read() == b.read(), "deterministic: --jobs 1 and --jobs 2 give the same CSV")
        for r in rows1[1:]:
            name = f"{r[0]}_{r[1]}.nnm"
            with open(os.path.join(mod1, name), "rb") as a, open(os.path.join(mod2, name), "rb") as b:
                check(a.read() == b.read(), f"deterministic: identical model file {name}")

        # Rerun into the same folder: nothing retrained, same CSV.
        before = open(os.path.join(out1, "results.csv"), "rb").read()
        rc, so, se = run("grid", *common, "--out", out1, "--models", mod1)
        check(rc == 0 and "0 to train" in se, "rerun skips finished runs")
        check(open(os.path.join(out1, "results.csv"), "rb").read() == before, "rerun: same CSV")

        # Other settings into the same folder are refused; --fresh accepts them.
        rc, so, se = run("grid", *common, "--out", out1, "--models", mod1, "--seed", "7")
        check(rc == 2 and "other settings" in se, f"other settings refused ({se.strip()[:200]})")

        # report rebuilds the same CSV from the records.
        os.remove(os.path.join(out1, "results.csv"))
        os.remove(os.path.join(out1, "results.png"))
        rc, so, se = run("report", "--out", out1)
        check(rc == 0 and "Final Results Summary:" in so, "report exits 0 and prints the summary")
        check(open(os.path.join(out1, "results.csv"), "rb").read() == before, "report rebuilds the same CSV")
        check(os.path.exists(os.path.join(out1, "results.png")), "report redraws the figures")

        # Damaged records are skipped with a message, never trusted: curves longer than the epochs
        # they were sized for, values out of range, a torn record.
        good = open(os.path.join(out1, "runs", "adam_relu.json")).read()
        bad_dir = os.path.join(tmp, "bad")
        os.makedirs(os.path.join(bad_dir, "runs"))
        rec = json.loads(good)
        hostile = {
            "late_epochs": dict(rec, epochs=1, history=dict(rec["history"], **{k: [1.0] * 400 for k in (
                "train_loss", "train_accuracy", "heldout_loss", "heldout_accuracy")})),
            "huge_loss": dict(rec, metrics=dict(rec["metrics"], train_loss=1e307)),
            "torn": good[: len(good) // 2],
        }
        for name, text in hostile.items():
            with open(os.path.join(bad_dir, "runs", name + ".json"), "w") as f:
                f.write(text if isinstance(text, str) else json.dumps(text))
        with open(os.path.join(bad_dir, "runs", "fine.json"), "w") as f:
            f.write(good)
        rc, so, se = run("report", "--out", bad_dir)
        check(rc == 0 and se.count("skipping") == 3, f"report skips the 3 damaged records ({se.strip()[:300]})")
        rows = read_csv(os.path.join(bad_dir, "results.csv"))
        check(len(rows) == 2, "report keeps the one good record")

        # Long grids checkpoint every epoch: curves beyond one metadata value's size still fit.
        rc, so, se = run("grid", *common[:2], "--no-download", "--epochs", "260", "--activations", "relu",
                         "--optimizers", "sgd", "--batch-size", "300", "--train-limit", "300", "--test-limit", "50",
                         "--out", os.path.join(tmp, "long"), "--models", os.path.join(tmp, "long", "m"), "--quiet")
        check(rc == 0, f"a 260-epoch run checkpoints and finishes ({se.strip()[-200:]})")

        # info and eval on a saved model.
        model = os.path.join(mod1, "adam_relu.nnm")
        rc, so, se = run("info", model)
        check(rc == 0 and "dense" in so and "101770" in so, "info prints layers and parameter count")
        rc, so, se = run("eval", "--data-dir", data, "--no-download", model)
        check(rc == 0 and "Test accuracy:" in so, f"eval prints the test accuracy ({se.strip()[:200]})")
        rc, so, se = run("info", os.path.join(tmp, "missing.nnm"))
        check(rc != 0 and "missing.nnm" in se, "info on a missing file fails with its name")
        check_one_validation_path(tmp, data, common, out1, mod1)
        check_paths_that_are_not_models(tmp, data)

        # Bad options: refused before any training (no output folder is created), with what is accepted.
        bad_out = os.path.join(tmp, "never")
        cases = [
            (["--activations", "relu,bogus"], "relu"),
            (["--optimizers", "adamax"], "sgd"),
            (["--epochs", "0"], "--epochs"),
            (["--batch-size", "100000"], "larger than"),
            (["--hidden", "12,x"], "--hidden"),
            (["--lr", "-1"], "--lr"),
            (["--dataset", "cifar"], "fashion-mnist"),
            (["--frobnicate"], "unrecognized option '--frobnicate'"),
            # issue 10, item 9: a rate that rounds to float 0 once became the default rate silently;
            # empty folder names became "/runs"; 4.3e9 parameters got as far as loading the data.
            (["--lr", "1e-50"], "--lr"),
            (["--lr", "1e-40"], "smallest normal float"),
            (["--out", ""], "--out is empty"),
            (["--models", ""], "--models is empty"),
            (["--hidden", "65536,65535"], "4347068415 parameters"),
        ]
        for args, expect in cases:
            rc, so, se = run("grid", *common, "--out", bad_out, "--models", bad_out, *args)
            check(rc == 2 and expect in se, f"refused {' '.join(args)} -> rc {rc}: {se.strip()[:160]}")
        check(not os.path.exists(os.path.join(bad_out, "runs")) or not os.listdir(os.path.join(bad_out, "runs")),
              "refused runs trained nothing")
        rc, so, se = run("grid", "--data-dir", os.path.join(tmp, "nothing"), "--no-download", "--out", bad_out,
                         "--hidden", "65536,65535")
        check(rc == 2 and "parameters" in se and "nothing" not in se,
              f"an oversized network is refused before the data are looked for: {se.strip()[:160]}")
        rc, so, se = run("report", "--out", "")
        check(rc == 2 and "--out is empty" in se and "/runs" not in se, f"report --out '' refused: {se.strip()[:160]}")
        # Two hidden layers of one size are an ordinary network; a tiny rate is kept exactly.
        out_hh, mod_hh = os.path.join(tmp, "hh"), os.path.join(tmp, "hh-m")
        rc, so, se = run("grid", *common, "--out", out_hh, "--models", mod_hh, "--hidden", "16,16", "--lr", "1e-30",
                         "--optimizers", "sgd", "--activations", "relu", "--quiet")
        check(rc == 0, f"--hidden 16,16 --lr 1e-30 accepted ({se.strip()[:160]})")
        if rc == 0:
            rc, so, se = run("info", os.path.join(mod_hh, "sgd_relu.nnm"))
            check(rc == 0 and "784 -> 16" in so and "16 -> 16" in so and "16 -> 10" in so,
                  "the model has two hidden layers of 16")
            rows = read_csv(os.path.join(out_hh, "results.csv"))
            check(rows[1][rows[0].index("Learning Rate")] == "1e-30", f"--lr 1e-30 used as given ({rows[1]})")
        rc, so, se = run("grid", *common, "--out", "/proc/nn-mnist-results")
        check(rc == 2 and "/proc/nn-mnist-results" in se, f"unwritable output folder refused: {se.strip()[:160]}")
        rc, so, se = run("grid", "--data-dir", os.path.join(tmp, "nothing"), "--no-download", "--out", bad_out)
        check(rc != 0 and "nothing" in se, f"missing data explained: {se.strip()[:200]}")
        for sub in ("grid", "report", "info", "eval"):
            rc, so, se = run(sub, "--help")
            check(rc == 0 and "Usage: nn-mnist " + sub in so, f"{sub} --help")
        rc, so, se = run("--version")
        check(rc == 0 and "nn-mnist" in so, "--version")

        # A few hundred real images, when the real MNIST is at hand.
        real = os.environ.get("NN_DATA_DIR")
        if real and os.path.exists(os.path.join(real, "mnist", "train-labels-idx1-ubyte.gz")):
            out3 = os.path.join(tmp, "r3")
            rc, so, se = run("grid", "--data-dir", os.path.join(real, "mnist"), "--no-download", "--epochs", "1",
                             "--train-limit", "600", "--test-limit", "300", "--out", out3, "--models",
                             os.path.join(tmp, "m3"))
            check(rc == 0, f"real MNIST subset grid exits 0 ({se[-300:]})")
            if rc == 0:
                check_outputs(out3, os.path.join(tmp, "m3"), so, "real MNIST subset")
        else:
            print("skip: NN_DATA_DIR has no MNIST; real-data case not run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
