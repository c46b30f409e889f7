#!/usr/bin/env python3
"""`nn-mnist-mpi grid` under mpirun (issue 6), on a synthetic dataset, 3 ranks on this one host.

0. MPI is a program of its own (issue 15): nn-mnist does not link libmpi (so it starts where no MPI
   is installed) and, started by mpirun as several processes, refuses and names nn-mnist-mpi, which
   does link libmpi. Checked in every build, with MPI or without.

1. A shared output folder: results.csv, every model and every record equal a single-process grid.
2. Folders that are not shared, simulated with a working folder per rank (MPMD, relative paths):
   rank 0's folder receives every model and record, equal to the single-process grid; the workers'
   copies of their models equal what rank 0 wrote; workers write no records. Once with the workers'
   models folder present, once with nothing at all on the workers' side.
3. SIGTERM to every process of the job (a scheduler's cancel), and SIGINT to mpirun alone (Ctrl-C):
   the ranks checkpoint, the hint to resume is printed, and a rerun resumes from every checkpoint and
   gives the same bytes as the single-process grid.
4. SIGKILL of every process of the job at random moments (a crashed node), reruns, then the same
   bytes as the single-process grid.

Items 1-4 are skipped when mpirun is missing or the build has no MPI (no nn-mnist-mpi).
Usage: test_mpi.py NN_MNIST NN_MNIST_MPI|no-mpi   (NN_TEST_SEED=N picks other kill moments [6])
The single-process reference grids are nn-mnist's, the distributed ones nn-mnist-mpi's."""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
MPI_BIN = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "no-mpi" else None
RANKS = 3
EPOCHS = 3
RUNS = gf.DEFAULT_RUNS
check = gf.Checker()


def mpi_env():
    e = gf.tool_env(leaks=False)
    e["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    e["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return e


MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def grid_args(data, out, models, epochs=EPOCHS):
    return ["grid", "--data-dir", data, "--no-download", "--epochs", str(epochs), "--out", out, "--models", models]


def tail(text, lines=2):
    return " | ".join(text.strip().splitlines()[-lines:])


def needed_libraries(binary):
    """The shared libraries a program names (its DT_NEEDED entries), or None when readelf is missing."""
    if not shutil.which("readelf"):
        return None
    p = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)


def program_test(data, base):
    """nn-mnist without libmpi; under mpirun it refuses and names nn-mnist-mpi, which has libmpi."""
    needed = needed_libraries(BIN)
    if needed is None:
        check.note("readelf not found: the libraries of nn-mnist not checked")
    else:
        check(needed and not any(n.startswith("libmpi") for n in needed),
              f"nn-mnist does not link libmpi (needs {', '.join(needed)})")
    if MPI_BIN:
        check(os.path.basename(MPI_BIN) == "nn-mnist-mpi", f"the MPI program is nn-mnist-mpi ({MPI_BIN})")
        mneeded = needed_libraries(MPI_BIN)
        if mneeded is not None:
            check(any(n.startswith("libmpi") for n in mneeded), "nn-mnist-mpi links libmpi")
    if not shutil.which("mpirun"):
        check.note("mpirun not found: nn-mnist under mpirun not tried")
        return
    out = os.path.join(base, "plain-under-mpirun")
    rc, so, se = mpirun(["-np", "2", BIN] + grid_args(data, out, os.path.join(out, "models")), timeout=60)
    check(rc != 0, f"nn-mnist under mpirun -np 2 fails (rc {rc})")
    check("nn-mnist-mpi" in se, f"nn-mnist under mpirun names nn-mnist-mpi ({tail(se, 1)})")
    check(se.count("does not use MPI") == 1, "the message comes once, from the first process")
    check(not os.path.exists(out), "nn-mnist under mpirun trains nothing and creates no folder")


def mpirun(cmd, timeout=120):
    p = subprocess.run(MPIRUN + cmd, capture_output=True, text=True, env=mpi_env(), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def session_pids(sid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.getsid(int(d)) == sid:
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def kill_session(sid, sig):
    """Signals every process of the job's session by its id: mpirun puts each rank in a process group
    of its own, so a group kill would spare the ranks."""
    for pid in session_pids(sid):
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def reap_session(sid, timeout=10):
    """True when no process of the session is left running within the timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        alive = [p for p in session_pids(sid) if running(p)]
        if not alive:
            return True
        time.sleep(0.05)
    kill_session(sid, signal.SIGKILL)
    return False


def records_in(out):
    d = os.path.join(out, "runs")
    return sorted(n[:-len(".json")] for n in os.listdir(d) if n.endswith(".json")) if os.path.isdir(d) else []


def checkpoints_in(models):
    return sorted(n[:-len(".ckpt.nnm")] for n in os.listdir(models) if n.endswith(".ckpt.nnm")) \
        if os.path.isdir(models) else []


def shared_test(data, base, ref_out, ref_models):
    out, models = os.path.join(base, "M"), os.path.join(base, "M", "models")
    t0 = time.monotonic()
    rc, so, se = mpirun(["-np", str(RANKS), MPI_BIN] + grid_args(data, out, models))
    t = time.monotonic() - t0
    check(rc == 0, f"shared folder: mpirun -np {RANKS} exits 0 ({t:.1f}s; {tail(se)})")
    check(f"spread over {RANKS} MPI ranks" in se, "shared folder: the grid says it is spread over the ranks")
    workers = set(re.findall(r"done on rank ([1-9]\d*)", se))
    check(len(workers) >= 1, f"shared folder: worker ranks trained runs (ranks {sorted(workers)})")
    gf.compare_grids(check, ref_out, ref_models, out, models, "shared folder")
    return t


def local_folders_test(data, base, ref_out, ref_models, label, make_worker_models):
    """Rank 0 works in n0/, ranks 1.. in n1/; the paths given are relative, so no file is shared."""
    n0, n1 = os.path.join(base, label, "n0"), os.path.join(base, label, "n1")
    os.makedirs(n0)
    os.makedirs(n1)
    if make_worker_models:
        os.makedirs(os.path.join(n1, "mod"))
    args = grid_args(data, "res", "mod")
    rc, so, se = mpirun(["-np", "1", "--wdir", n0, MPI_BIN] + args + [":", "-np", str(RANKS - 1), "--wdir", n1, MPI_BIN]
                        + args)
    what = "node-local folders" + (" (workers' models folder made)" if make_worker_models else " (workers' side empty)")
    why = [line for line in se.splitlines() if line.startswith("nn-mnist")]
    if not check(rc == 0, f"{what}: mpirun exits 0 ({' | '.join(why[-2:]) if why else tail(se)})"):
        return
    gf.compare_grids(check, ref_out, ref_models, os.path.join(n0, "res"), os.path.join(n0, "mod"), what,
                     models_arg="mod")
    remote = sorted(set(re.findall(r"^(\w+)\s+done on rank [1-9]", se, re.M)))
    check(len(remote) >= 1, f"{what}: some runs trained on worker ranks ({remote})")
    worker_files = gf.listing(n1)
    check(not any(p.endswith((".json", ".rec")) for p in worker_files), f"{what}: workers write no records")
    want = {os.path.join("mod", r + ".nnm") for r in remote}
    check(worker_files == want,
          f"{what}: the workers' folder holds just the models they trained (extra: "
          f"{sorted(worker_files - want)}, missing: {sorted(want - worker_files)})")
    same = [r for r in remote if os.path.exists(os.path.join(n1, "mod", r + ".nnm")) and
            gf.read_bytes(os.path.join(n1, "mod", r + ".nnm")) == gf.read_bytes(os.path.join(n0, "mod", r + ".nnm"))]
    check(same == remote, f"{what}: each worker's model reached rank 0's folder unchanged ({len(same)} of {len(remote)})")


def kill_test(rnd, data, base, ref_out, ref_models, t_mpi):
    out, models = os.path.join(base, "K"), os.path.join(base, "K", "models")
    cmd = MPIRUN + ["-np", str(RANKS), MPI_BIN] + grid_args(data, out, models)
    hits = 0
    for k in range(4):
        left = len(RUNS) - len(records_in(out))
        if left == 0:
            break
        delay = rnd.uniform(0.2, 0.2 + 0.9 * t_mpi * (left + 1) / (len(RUNS) + 1))
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=mpi_env(),
                             start_new_session=True)
        time.sleep(delay)
        alive = p.poll() is None
        kill_session(p.pid, signal.SIGKILL)
        p.wait()
        check(reap_session(p.pid), f"MPI SIGKILL {k + 1}: no process of the job survives")
        hits += alive
        gf.check_partial(check, ref_out, ref_models, out, models,
                         f"MPI SIGKILL {k + 1} after {delay:.2f}s{'' if alive else ' (had finished)'}")
    check(hits > 0, f"MPI SIGKILL: at least one kill landed while the job ran ({hits})")

    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=mpi_env(), timeout=120)
    check(p.returncode == 0, f"MPI: the rerun completes the grid ({time.monotonic() - t0:.1f}s; {tail(p.stderr)})")
    gf.compare_grids(check, ref_out, ref_models, out, models, "MPI after kills")


def signal_test(rnd, data, base, ref_out, ref_models, to_all, epochs=EPOCHS):
    """to_all: SIGTERM to every process of the job, as a batch scheduler's cancel does; otherwise
    SIGINT to mpirun alone, as Ctrl-C in a terminal does (each rank has a process group of its own),
    which Open MPI 4.1 passes on to the ranks about 2 s later, so that grid must last longer."""
    name = "MPI SIGTERM to all" if to_all else "MPI SIGINT to mpirun"
    out, models = os.path.join(base, name.replace(" ", "_")), os.path.join(base, name.replace(" ", "_"), "models")
    cmd = MPIRUN + ["-np", str(RANKS), MPI_BIN] + grid_args(data, out, models, epochs)
    # Sent once training shows progress, when the ranks' handlers are surely installed.
    w = gf.Watched(cmd, env=mpi_env(), new_session=True)
    if w.wait_for(r": epoch \d+/\d+"):
        time.sleep(rnd.uniform(0.0, 0.2))
        if w.p.poll() is None:
            if to_all:
                kill_session(w.p.pid, signal.SIGTERM)
            else:
                os.kill(w.p.pid, signal.SIGINT)
    try:
        rc, se = w.finish(timeout=60)
    except subprocess.TimeoutExpired:
        kill_session(w.p.pid, signal.SIGKILL)
        rc, se = w.finish()
        check(False, f"{name}: the job stops within 60 s")
    check(reap_session(w.p.pid), f"{name}: no process of the job survives")
    ckpts = checkpoints_in(models)
    if len(records_in(out)) == len(RUNS):
        check.note(f"{name}: training had finished before the signal (rc {rc})")
    else:
        # mpirun's own exit status, not rank 0's 130, is what the shell sees.
        check(rc != 0, f"{name}: non-zero exit ({rc})")
        check("Run the same command again to resume" in se, f"{name}: the hint to resume is printed ({tail(se)})")
        gf.check_partial(check, ref_out, ref_models, out, models, name)
        started = set(re.findall(r"^(\w+): (?:epoch \d+/\d+|resuming at)", se, re.M))
        finished = set(re.findall(r"^(\w+)\s+done", se, re.M)) | set(records_in(out))
        caught = sorted(started - finished)
        missing = [r for r in caught if r not in ckpts]
        check(not missing, f"{name}: a checkpoint for every run caught mid-way {caught} (missing {missing})")
        if not caught:
            check.note(f"{name}: the signal caught no run mid-way this time (all were finishing)")

    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=mpi_env(), timeout=120)
    check(p.returncode == 0, f"{name}: the rerun completes the grid ({time.monotonic() - t0:.1f}s; {tail(p.stderr)})")
    resumed = [r for r in ckpts if re.search(re.escape(r) + r": resuming at epoch", p.stderr)]
    check(resumed == ckpts, f"{name}: the rerun resumes from every checkpoint ({resumed} of {ckpts})")
    gf.compare_grids(check, ref_out, ref_models, out, models, f"{name}, rerun")


def main():
    seed = int(os.environ.get("NN_TEST_SEED", "6"))
    print(f"seed {seed} (set NN_TEST_SEED to change the kill moments)")
    rnd = random.Random(seed)
    base = tempfile.mkdtemp(prefix="nn-mnist-mpi-")
    t_start = time.monotonic()
    try:
        data = os.path.join(base, "data")
        idxgen.write_dataset(data, n_train=3000, n_test=500)
        program_test(data, base)
        if not shutil.which("mpirun") or not MPI_BIN:
            check.note("the MPI grids skipped: " + ("mpirun not found" if MPI_BIN else "built without MPI"))
            return finish(t_start)
        ref_out, ref_models = os.path.join(base, "S"), os.path.join(base, "S", "models")
        rc, so, se = gf.run(BIN, grid_args(data, ref_out, ref_models) + ["--jobs", "2"])
        if not check(rc == 0, f"single-process reference grid ({tail(se)})"):
            return 1
        t_mpi = shared_test(data, base, ref_out, ref_models)
        local_folders_test(data, base, ref_out, ref_models, "L1", make_worker_models=True)
        local_folders_test(data, base, ref_out, ref_models, "L2", make_worker_models=False)
        signal_test(rnd, data, base, ref_out, ref_models, to_all=True)
        long_out, long_models = os.path.join(base, "S12"), os.path.join(base, "S12", "models")
        rc, so, se = gf.run(BIN, grid_args(data, long_out, long_models, 12) + ["--jobs", "2"])
        if check(rc == 0, f"single-process reference grid of 12 epochs ({tail(se)})"):
            signal_test(rnd, data, base, long_out, long_models, to_all=False, epochs=12)
        kill_test(rnd, data, base, ref_out, ref_models, t_mpi)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return finish(t_start)


def finish(t_start):
    print(f"{len(check.failures)} failure(s) in {time.monotonic() - t_start:.1f}s")
    for f in check.failures:
        print("  FAILED:", f)
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
