#!/usr/bin/env python3
"""`nn-mnist grid` deletes only the temporary files it (or libnn's nn_model_save) made (issue 10, item 1).

A rerun sweeps --out, --out/runs and --models of what a killed grid left half-written. Those folders
may hold the user's own files, and names that merely look temporary (holiday.png.backup,
thesis.tmp-final.docx, .nn-mnist-probe-mine) were once deleted. Here user files of such names, and
near misses of the exact temporary shape (.NAME.nntmp-XXXXXX), sit in all three folders through a
grid, a SIGKILLed grid and its resumption: every one must still be there byte for byte, while real
leftovers of that exact shape are removed.

Usage: test_sweep.py NN_MNIST_BINARY"""
import os
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = gf.Checker()
TMP_RE = re.compile(r"^\..+\.nntmp-[A-Za-z0-9]{6}$")  # the shape docs/model-format.md documents

# The five names the audit saw deleted, then near misses of the temporary shape, and names earlier
# versions of nn-mnist gave their temporaries (now indistinguishable from a user's files).
USER_NAMES = [
    "holiday.png.backup", "diagram.png.v2_old", "thesis.tmp-final.docx", "notes.tmp-2024", ".nn-mnist-probe-mine",
    ".notes.nntmp-2024", ".a.nntmp-abc12", ".a.nntmp-abc1234", "a.nntmp-abc123", ".a.nntmp-abc12!",
    ".nntmp-abc123", "..nntmp-abc123", ".a.nntmp-abc123.bak", ".a.NNTMP-abc123", ".a.nntmp_abc123",
    "adam_relu.nnm.tmp-Ab12Cd", "curves.png.Zx78Cv", ".nn-mnist-probe-Po90Iu", ".sgd_relu.json.part-Qw56Er",
]


def grid_args(data, out, models, jobs=2):
    return ["grid", "--data-dir", data, "--no-download", "--epochs", "2", "--jobs", str(jobs),
            "--out", out, "--models", models]


def plant_user_files(folders, seed):
    """Each name in each folder, with content unique to it; plus an entry of the exact temporary
    shape that is not a regular file (a folder, a symbolic link), which mkstemp never makes."""
    planted = {}
    for k, folder in enumerate(folders):
        os.makedirs(folder, exist_ok=True)
        for i, name in enumerate(USER_NAMES):
            p = os.path.join(folder, name)
            data = f"{name} in folder {k}, seed {seed}\n".encode() + bytes(range(256)) * (i + 1)
            with open(p, "wb") as f:
                f.write(data)
            planted[p] = data
        d = os.path.join(folder, ".album.nntmp-Dir123")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "photo.png"), "wb") as f:
            f.write(b"a photo")
        planted[os.path.join(d, "photo.png")] = b"a photo"
        link = os.path.join(folder, ".link.nntmp-Lnk123")
        if not os.path.lexists(link):
            os.symlink(USER_NAMES[0], link)
    return planted


def plant_leftovers(out, models):
    """Files of the exact shape the writers give their temporaries, as a SIGKILL leaves them."""
    names = [os.path.join(models, ".adam_relu.nnm.nntmp-Ab12Cd"), os.path.join(models, ".sgd_tanh.ckpt.nnm.nntmp-x9Y8z7"),
             os.path.join(out, "runs", ".sgd_relu.json.nntmp-Xy34Zw"), os.path.join(out, ".results.csv.nntmp-Qw56Er"),
             os.path.join(out, ".curves.png.nntmp-Zx78Cv"), os.path.join(models, ".nn-mnist-probe.nntmp-Po90Iu")]
    for p in names:
        with open(p, "wb") as f:
            f.write(b"half a file")
    return names


def check_user_files(planted, folders, label):
    changed = []
    for p, data in planted.items():
        try:
            if gf.read_bytes(p) != data:
                changed.append(p)
        except OSError:
            changed.append(p + " (gone)")
    check(not changed, f"{label}: every user file is still there, byte for byte ({len(planted)} files; "
                       f"changed or gone: {changed})")
    links = [os.path.join(f, ".link.nntmp-Lnk123") for f in folders]
    check(all(os.path.islink(p) for p in links), f"{label}: symbolic links of the temporary shape are left alone")


def stray_temporaries(folders):
    """Regular files of the temporary shape left in the folders."""
    return sorted(os.path.join(f, n) for f in folders if os.path.isdir(f) for n in os.listdir(f)
                  if TMP_RE.match(n) and os.path.isfile(os.path.join(f, n)) and not os.path.islink(os.path.join(f, n)))


def main():
    base = tempfile.mkdtemp(prefix="nn-mnist-sweep-")
    try:
        data = os.path.join(base, "data")
        idxgen.write_dataset(data, n_train=1500, n_test=300)

        # 1. A whole grid over folders that hold user files and leftovers of a killed grid.
        out, models = os.path.join(base, "A"), os.path.join(base, "A-models")
        folders = [out, os.path.join(out, "runs"), models]
        planted = plant_user_files(folders, 1)
        leftovers = plant_leftovers(out, models)
        rc, so, se = gf.run(BIN, grid_args(data, out, models))
        check(rc == 0, f"grid over user files completes (rc {rc}; {se.strip()[-200:]})")
        check_user_files(planted, folders, "grid")
        left = [os.path.basename(p) for p in leftovers if os.path.exists(p)]
        check(not left, f"grid: leftovers of the exact temporary shape are removed (left: {left})")
        check(not stray_temporaries(folders), f"grid: no temporary file remains ({stray_temporaries(folders)})")
        rc, so, se = gf.run(BIN, grid_args(data, out, models))
        check(rc == 0 and "(0 to train)" in se, f"rerun of the finished grid trains nothing (rc {rc})")
        check_user_files(planted, folders, "rerun")

        # 2. The same, killed mid-training (models inside --out, as by default), then resumed.
        out, models = os.path.join(base, "B"), os.path.join(base, "B", "models")
        folders = [out, os.path.join(out, "runs"), models]
        planted = plant_user_files(folders, 2)
        killed = 0
        for k in range(3):
            w = gf.Watched([BIN] + grid_args(data, out, models))
            if w.wait_for(r": epoch \d+/\d+") and w.p.poll() is None:
                w.p.send_signal(signal.SIGKILL)
                killed += 1
            rc, se = w.finish()
            check_user_files(planted, folders, f"SIGKILL {k + 1}")
        check(killed > 0, f"at least one SIGKILL landed mid-training ({killed})")
        leftovers = plant_leftovers(out, models)
        rc, so, se = gf.run(BIN, grid_args(data, out, models))
        check(rc == 0, f"the resumed grid completes (rc {rc}; {se.strip()[-200:]})")
        check_user_files(planted, folders, "resumed grid")
        left = [os.path.basename(p) for p in leftovers if os.path.exists(p)]
        check(not left, f"resumed grid: leftovers of the exact temporary shape are removed (left: {left})")
        check(not stray_temporaries(folders), f"resumed grid: no temporary file remains ({stray_temporaries(folders)})")
        ckpts = [n for n in os.listdir(models) if n.endswith(".ckpt.nnm")]
        check(not ckpts, f"resumed grid: no checkpoint remains ({ckpts})")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{len(check.failures)} failure(s)")
    for f in check.failures:
        print("  FAILED:", f)
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
