#!/usr/bin/env python3
"""nn-mnist's progress on a real terminal (issue 15, item 1).

A 4-run grid (2 epochs, --jobs 2, synthetic data) runs in tmux, a terminal emulator of its own, at
40, 80 and 200 columns, and once with a resize from 200 to 50 columns mid-grid. The screen is read
with `capture-pane` many times during the grid and, with its scrollback, at the end. Checked:
- no line is wider than the width less one column, and tmux joined none (nothing wrapped);
- while training, one top line for the whole study ("N/4 models"), with at most one bar per job
  under it: a redraw that left stale lines would show more;
- at the end, no bar and no top line anywhere in the scrollback (nothing stale or partial), every
  line is one of the kept kinds, and one kept line per run and epoch is there (above the summary
  table: the table and the closing line are the report's, printed after the progress has ended);
- after a resize to fewer columns, the rows drawn since fit the new width and the screen holds no
  stale line (tmux pushes what its reflow makes of the old bars into its scrollback, where no
  cursor movement reaches: rows drawn before the resize are not checked);
- the raw bytes: each redraw moves the cursor up exactly as many rows as the last one drew;
- on screens of 3 and 2 rows, the live lines shrink to fit, and nothing stale is left either;
- with TERM=dumb or unset, on a pseudo-terminal: no escape byte and no block character at all.

Usage: test_progress_pty.py NN_MNIST_BINARY"""
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = gf.Checker()
RUNS = ["sgd_relu", "sgd_tanh", "adam_relu", "adam_tanh"]
JOBS = 2
BLOCKS = "\u2588\u2591"
TOP_RE = re.compile(r"^(study: )?\d/4 models\b")
BAR_RE = re.compile(r"[\u2588\u2591]|\bsteps/s\b|\d/s\b")


def grid_args(data, out, epochs=2):
    # Big enough hidden layers that a grid lasts a few seconds: the screen is read while it trains.
    return ["grid", "--data-dir", data, "--no-download", "--epochs", str(epochs), "--jobs", str(JOBS),
            "--optimizers", "sgd,adam", "--activations", "relu,tanh", "--batch-size", "16",
            "--hidden", "512,256", "--train-limit", "2000", "--test-limit", "300",
            "--out", out, "--models", os.path.join(out, "models")]


def cols(s):
    """Display columns, as a terminal counts them."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


class Tmux:
    """A private tmux server (its own socket, in the test's folder) whose one pane runs a command."""

    def __init__(self, tmp, name):
        self.sock = os.path.join(tmp, f"tmux-{name}")  # removed with tmp
        self.conf = os.path.join(tmp, "tmux.conf")
        with open(self.conf, "w") as f:
            f.write("set -g remain-on-exit on\nset -g history-limit 20000\nset -g status off\n")
        self.env = gf.tool_env()
        self.env.update({"LANG": "C.UTF-8", "TERM": self.env.get("TERM") or "xterm"})
        self.env.pop("LC_ALL", None)
        self.env.pop("LC_CTYPE", None)

    def __call__(self, *args):
        p = subprocess.run(["tmux", "-u", "-S", self.sock, "-f", self.conf, *args], capture_output=True, text=True,
                           env=self.env, timeout=30)
        return p.stdout

    def start(self, width, height, argv, rc_file, raw_file=None):
        cmd = " ".join(shlex.quote(a) for a in argv)
        self("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "g",
             f"{cmd}; echo $? > {shlex.quote(rc_file)}")
        if raw_file:
            self("pipe-pane", "-O", "-t", "g", "cat > " + shlex.quote(raw_file))

    def screen(self, history=False, join=False):
        args = ["capture-pane", "-p", "-t", "g"] + (["-S", "-", "-E", "-"] if history else []) + (["-J"] if join else [])
        lines = [line.rstrip() for line in self(*args).split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def dead(self):
        return self("display", "-p", "-t", "g", "#{pane_dead}").strip() == "1"

    def kill(self):
        self("kill-server")


def watch(tm, timeout=300, on_snapshot=None):
    """Reads the screen until the command ends; returns the snapshots taken while it ran."""
    snaps, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        dead = tm.dead()
        snaps.append(tm.screen())
        if on_snapshot:
            on_snapshot(snaps[-1])
        if dead:
            break
        time.sleep(0.04)
    return snaps


def check_live(label, snaps, width):
    """Every screen during the grid: lines fit; one top line above at most one bar per job."""
    live = [s[:s.index("Final Results Summary:")] if "Final Results Summary:" in s else s for s in snaps]
    too_wide = [line for s in live for line in s if cols(line) > width - 1]
    check(not too_wide, f"{label}: no line on screen wider than {width - 1} columns during the grid "
                        f"({len(snaps)} screens; {too_wide[:2]})")
    with_bars = [s for s in snaps if any(BAR_RE.search(line) for line in s)]
    check(len(with_bars) > 0, f"{label}: bars were seen while training ({len(with_bars)} of {len(snaps)} screens)")
    bad = []
    for s in with_bars:
        bars = [i for i, line in enumerate(s) if BAR_RE.search(line)]
        tops = [i for i, line in enumerate(s) if TOP_RE.match(line)]
        # Bars are the last lines, right under the one top line.
        if len(bars) > JOBS or len(tops) != 1 or bars[0] != tops[0] + 1 or bars != list(range(bars[0], len(s))):
            bad.append(s[max(0, (tops or bars)[0] - 1):])
    check(not bad, f"{label}: each screen has one top line, then at most {JOBS} bars, and nothing stale "
                   f"({len(bad)} bad; first: {bad[0] if bad else ''})")
    tops = [line for s in snaps for line in s if TOP_RE.match(line)]
    return tops


def check_final(label, tm, width, first_row=0, epochs=2):
    """The scrollback at the end, down to the summary table (the table and the closing line are the
    report's, not progress): nothing stale or wrapped; the kept lines are all there. first_row: the
    first row to check for width and staleness (rows before a resize were drawn at the old width)."""
    rows, joined = tm.screen(history=True), tm.screen(history=True, join=True)
    end = rows.index("Final Results Summary:") if "Final Results Summary:" in rows else len(rows)
    end_j = joined.index("Final Results Summary:") if "Final Results Summary:" in joined else len(joined)
    check(end < len(rows), f"{label}: the summary table was printed")
    region = rows[first_row:end]
    wide = [r for r in region if cols(r) > width - 1]
    check(not wide, f"{label}: no line above the table wider than {width - 1} columns ({wide[:2]})")
    if first_row == 0:
        check(end == end_j, f"{label}: no line above the table was wrapped ({end} rows, {end_j} lines)")
    stale = [r for r in region + tm.screen() if BAR_RE.search(r) or TOP_RE.match(r)]
    check(not stale, f"{label}: no bar or top line left on the screen or in the scrollback ({stale[:3]})")
    kept_re = re.compile(r"^(\w+): +(?:epoch )?(\d+)/%d\b" % epochs)
    kinds = [re.compile(r"^nn-mnist \S+: 4 models"), kept_re, re.compile(r"^\w+ +done\b"),
             re.compile(r"^  \S")]  # continuation of a line broken to fit
    odd = [line for line in region if line and not any(k.match(line) for k in kinds)]
    check(not odd, f"{label}: every line above the table is a header, epoch, done or continuation line ({odd[:3]})")
    kept = {(m.group(1), int(m.group(2))) for m in map(kept_re.match, region + joined[:end_j]) if m}
    if first_row > 0:
        # tmux's reflow marks the rows it made of an old line as wrapped, and joins a later line to
        # them when the cursor wrote there: such a kept line is found inside the joined one.
        any_re = re.compile(r"(" + "|".join(RUNS) + r"): +(?:epoch )?(\d+)/%d\b" % epochs)
        kept |= {(m.group(1), int(m.group(2))) for line in joined[:end_j] for m in any_re.finditer(line)}
    want = {(r, e) for r in RUNS for e in range(1, epochs + 1)}
    check(want <= kept, f"{label}: one kept line per run and epoch ({sorted(want - kept)} missing)")
    done = {m.group(1) for m in (re.match(r"^(\w+) +done\b", line) for line in region + joined[:end_j]) if m}
    check(set(RUNS) <= done, f"{label}: a done line per run ({sorted(set(RUNS) - done)} missing)")
    return rows[:end]


def check_moves(label, raw):
    """Each update moves up exactly the rows the last one drew (at a fixed width, one a line)."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")  # the terminal's own CR before each LF
    updates = text.split("\r")  # each update starts with a carriage return
    prev_live, bad, n = None, [], 0
    for u in updates[1:]:  # what came before the first may be the tail of an update
        m = re.match(r"\x1b\[(\d+)A", u)
        up = int(m.group(1)) if m else 0
        lines = re.sub(r"\x1b\[\d*[AKJ]", "", u).split("\n")[:-1]
        live = sum(1 for line in lines if BAR_RE.search(line) or TOP_RE.match(line) or line.startswith("+"))
        if prev_live is not None:
            n += 1
            if up != prev_live:
                bad.append((up, prev_live))
        prev_live = live
    check(n > 10 and not bad, f"{label}: {n} redraws each moved up as many rows as the last drew ({bad[:3]})")
    check("\x1b[K" in text, f"{label}: redrawn lines are cleared to their end (ESC[K)")


def grid_in_tmux(tmp, data, width, height=40, raw=False):
    label = f"{width} columns"
    out = os.path.join(tmp, f"out{width}")
    tm = Tmux(tmp, str(width))
    rc_file, raw_file = os.path.join(tmp, f"rc{width}"), os.path.join(tmp, f"raw{width}") if raw else None
    try:
        tm.start(width, height, [BIN] + grid_args(data, out), rc_file, raw_file)
        snaps = watch(tm)
        rc = open(rc_file).read().strip() if os.path.exists(rc_file) else "?"
        check(rc == "0", f"{label}: the grid exits 0 (rc {rc})")
        tops = check_live(label, snaps, width)
        check(len(tops) > 0, f"{label}: the top line shows models done / total ({tops[-1] if tops else 'none seen'})")
        check_final(label, tm, width)
        if raw:
            time.sleep(0.2)
            check_moves(label, open(raw_file, "rb").read())
        # A screen mid-grid and the end, for the eye (and for issue 15's closing note).
        mid = [s for s in snaps if any(TOP_RE.match(line) for line in s)]
        if mid:
            print(f"---- {label}, during the grid:\n" + "\n".join(mid[len(mid) // 2]))
        final = [line for line in tm.screen() if not line.startswith("Pane is dead")]
        print(f"---- {label}, at the end:\n" + "\n".join(final) + "\n----")
    finally:
        tm.kill()


RESIZE_EPOCHS = 20


def grid_resized(tmp, data):
    """200 columns, then 50 while it trains: what is drawn after fits 50, and no stale bar is left."""
    label = "resized 200 -> 50"
    out = os.path.join(tmp, "out-resize")
    tm = Tmux(tmp, "resize")
    rc_file = os.path.join(tmp, "rc-resize")
    mark = {"seen": 0}

    def on_snapshot(s):
        mark["seen"] += 1
        if "row" not in mark and any(TOP_RE.match(line) for line in s):
            # The screen as it was: until the program's next draw, the screen shows these lines, cut
            # by tmux at the new width; only screens after that draw show what it drew for 50.
            mark["snap"], mark["live"] = mark["seen"], [line for line in s if line][-JOBS - 1:]
            tm("resize-window", "-t", "g", "-x", "50", "-y", "40")
            time.sleep(0.4)  # a draw or two at the new width
            h, y = tm("display", "-p", "-t", "g", "#{history_size} #{cursor_y}").split()
            mark["row"] = int(h) + int(y)  # rows from here on were all written after the resize

    try:
        # 20 epochs rather than 2: on a fast, quiet machine the short grid is over within a second,
        # before there is anything to see at the new width.
        tm.start(200, 40, [BIN] + grid_args(data, out, RESIZE_EPOCHS), rc_file)
        snaps = watch(tm, on_snapshot=on_snapshot)
        rc = open(rc_file).read().strip() if os.path.exists(rc_file) else "?"
        check(rc == "0", f"{label}: the grid exits 0 (rc {rc})")
        if not check("row" in mark, f"{label}: resized while training"):
            return
        # Screens after the resize and after the program's first draw since (a loaded machine may take
        # longer than the pause above to draw again), while it trained: its live lines.
        later = [s for s in snaps[mark["snap"]:]
                 if any(TOP_RE.match(line) for line in s) and "Final Results Summary:" not in s]
        first = next((i for i, s in enumerate(later) if [line for line in s if line][-JOBS - 1:] != mark["live"]),
                     len(later))
        later = later[first:]
        wide = [line for s in later for line in s[-JOBS - 1:] if cols(line) > 49]
        check(len(later) > 0, f"{label}: live lines were seen after the resize ({len(later)} screens)")
        check(not wide, f"{label}: the live lines fit 49 columns after the resize ({wide[:2]})")
        check_final(label, tm, 50, first_row=mark["row"], epochs=RESIZE_EPOCHS)
    finally:
        tm.kill()


def grid_short(tmp, data, height):
    """A screen of 3 rows: the live lines shrink to the top line and "+N more training" (the cursor
    cannot go back above the screen). Of 2 rows: the top line alone, always on the first row, where
    clearing to the end of the screen would make tmux scroll it into the scrollback. Either way,
    nothing stale is left."""
    label = f"80 x {height}"
    out = os.path.join(tmp, f"out-short{height}")
    tm = Tmux(tmp, f"short{height}")
    rc_file = os.path.join(tmp, f"rc-short{height}")
    try:
        tm.start(80, height, [BIN] + grid_args(data, out), rc_file)
        snaps = watch(tm)
        rc = open(rc_file).read().strip() if os.path.exists(rc_file) else "?"
        check(rc == "0", f"{label}: the grid exits 0 (rc {rc})")
        more = [s for s in snaps if any(re.match(r"^\+\d+ more training$", line) for line in s)]
        if height == 3:
            check(len(more) > 0, f"{label}: the bars that do not fit are counted on one line ({len(more)} screens)")
        check_final(label, tm, 80)
    finally:
        tm.kill()


def grid_in_pty(tmp, data, term):
    """On a pseudo-terminal with TERM=dumb or no TERM: plain lines only."""
    label = f"TERM={term}" if term is not None else "TERM unset"
    out = os.path.join(tmp, f"out-{term}")
    env = gf.tool_env()
    env["LANG"] = "C.UTF-8"
    env.pop("TERM", None)
    if term is not None:
        env["TERM"] = term
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(BIN, [BIN] + grid_args(data, out), env)
        finally:
            os._exit(127)
    raw = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        raw += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    rc = os.waitstatus_to_exitcode(status)
    text = raw.decode("utf-8", "replace")
    check(rc == 0, f"{label}: the grid exits 0 (rc {rc}; {text[-200:]!r})")
    check(b"\x1b" not in raw, f"{label}: no escape byte in {len(raw)} bytes")
    check(not any(b in text for b in BLOCKS), f"{label}: no block character")
    epochs = set(re.findall(r"^(\w+): epoch (\d)/2 ", text, re.M))
    check(len(epochs) == 8, f"{label}: one plain line per run and epoch ({len(epochs)} of 8)")
    check("[4/4 models done" in text, f"{label}: the last done line counts 4/4 models")


def main():
    if not shutil.which("tmux"):
        print("FAIL: tmux is not installed (scripts/install-deps.sh installs it)")
        return 1
    tmp = tempfile.mkdtemp(prefix="nnm-progress-")
    try:
        data = os.path.join(tmp, "data")
        idxgen.write_dataset(data, n_train=2000, n_test=300)
        grid_in_tmux(tmp, data, 40)
        grid_in_tmux(tmp, data, 80, raw=True)
        grid_in_tmux(tmp, data, 200)
        grid_resized(tmp, data)
        grid_short(tmp, data, 3)
        grid_short(tmp, data, 2)
        grid_in_pty(tmp, data, "dumb")
        grid_in_pty(tmp, data, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if check.failures:
        print(f"{len(check.failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
