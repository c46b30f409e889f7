#!/usr/bin/env python3
"""nn-mnist's command line as the tools people know it (issue 15), on a synthetic dataset.

1. getopt's own messages in every command ("option '--epochs' requires an argument", "unrecognized
   option"), prefixed "nn-mnist COMMAND:" and followed by "Try 'nn-mnist COMMAND --help'.", exit 2.
2. -q (= --quiet), -V (= --version), `help COMMAND` (= COMMAND --help), one prefix style.
3. Write errors on stdout and stderr end in a non-zero exit, with a message when stderr works.
4. "1 model", no blank first line on stdout, `info` shows the effective learning rate rather than
   "lr=0", and `grid --help` lists exactly names the parser accepts.
5. The man page renders without warnings and covers every command and every grid option.
6. The bash completion completes commands, options and option values.

Usage: test_cli.py NN_MNIST_BINARY COMPLETION_FILE [MAN_PAGE]"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
COMPLETION = os.path.abspath(sys.argv[2])
MAN = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None
check = gf.Checker()


def tool_env():
    # In a sanitizer build LeakSanitizer would list the suppressions it used on stderr, which the
    # checks of an empty stderr must not see.
    env = gf.tool_env()
    env["LSAN_OPTIONS"] += ":print_suppressions=0"
    return env


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, env=tool_env(), timeout=300)
    return p.returncode, p.stdout, p.stderr


def shell(cmd):
    """Runs cmd in sh with BIN as $BIN: for redirections python cannot express directly."""
    env = tool_env()
    env["BIN"] = BIN
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def quoted(args):
    return " ".join(shlex.quote(a) for a in args)


def commands():
    """The commands `nn-mnist --help` lists (the source of the man page and the completion)."""
    rc, so, _ = run("--help")
    block = so.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.startswith("  ") and line.split()[0] != "help"]


def long_options(help_text):
    return re.findall(r"^ {1,6}(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)", help_text, re.M)


def getopt_messages(cmds):
    # An option of each command that takes a value, to be given without one.
    needs_value = {"grid": "--epochs", "train": "--epochs", "report": "--out", "eval": "--data-dir",
                   "predict": "--model"}
    for cmd in cmds:
        rc, so, se = run(cmd, "--frobnicate")
        lines = se.splitlines()
        check(rc == 2 and lines == [f"nn-mnist {cmd}: unrecognized option '--frobnicate'",
                                    f"Try 'nn-mnist {cmd} --help'."] and so == "",
              f"{cmd} --frobnicate: getopt's message and the hint, exit 2: {se.strip()!r}")
        if cmd in needs_value:
            opt = needs_value[cmd]
            rc, so, se = run(cmd, opt)
            check(rc == 2 and se.splitlines() == [f"nn-mnist {cmd}: option '{opt}' requires an argument",
                                                   f"Try 'nn-mnist {cmd} --help'."],
                  f"{cmd} {opt} (no value): {se.strip()!r}")
    check(set(needs_value) - {"predict", "train"} <= set(cmds), "the commands with values are all there")
    rc, so, se = run("grid", "--fresh=1")
    check(rc == 2 and "nn-mnist grid: option '--fresh' doesn't allow an argument" in se, f"grid --fresh=1: {se.strip()!r}")
    rc, so, se = run("grid", "--d", "x")
    check(rc == 2 and "nn-mnist grid: option '--d' is ambiguous" in se, f"grid --d: {se.strip()!r}")
    for args, want in ((["--frobnicate"], "nn-mnist: unrecognized option '--frobnicate'"),
                       (["-x"], "nn-mnist: invalid option -- 'x'"),
                       (["frobnicate"], "nn-mnist: unknown command 'frobnicate'"),
                       (["help", "frobnicate"], "nn-mnist help: unknown command 'frobnicate'")):
        rc, so, se = run(*args)
        check(rc == 2 and se.splitlines() == [want, "Try 'nn-mnist --help'."], f"{' '.join(args)}: {se.strip()!r}")


def help_and_version(cmds):
    rc1, v1, _ = run("--version")
    rc2, v2, _ = run("-V")
    check(rc1 == rc2 == 0 and v1 == v2 and v1.startswith("nn-mnist (libnn) "), f"-V is --version: {v2.strip()!r}")
    rc1, h1, _ = run("--help")
    rc2, h2, _ = run("help")
    rc3, h3, _ = run("-h")
    check(rc1 == rc2 == rc3 == 0 and h1 == h2 == h3, "help and -h are --help")
    check(len(cmds) >= 7 and all(c in cmds for c in ("grid", "report", "info", "eval", "export", "import")),
          f"--help lists the commands: {cmds}")
    summaries = re.findall(r"^  ([a-z]+) +(\S.*)$", h1.split("Commands:\n", 1)[1].split("\n\n", 1)[0], re.M)
    check(len(summaries) == len(cmds) + 1, "each command has a one-line description")
    rc, all_help, _ = run("--help-all")
    check(rc == 0 and all_help.startswith(h1), "--help-all starts with --help")
    for cmd in cmds:
        rc1, a, _ = run(cmd, "--help")
        rc2, b, _ = run("help", cmd)
        check(rc1 == rc2 == 0 and a == b and a.startswith(f"Usage: nn-mnist {cmd}"), f"help {cmd} is {cmd} --help")
        check(f"*nn-mnist {cmd}*\n{a}" in all_help, f"--help-all has {cmd}'s help")
    rc, so, se = run("help", "grid", "report")
    check(rc == 2 and se.startswith("nn-mnist help: "), f"help with two commands refused: {se.strip()!r}")
    rc, so, se = run("grid", "--help")
    check(re.search(r"^  -q, --quiet ", so, re.M) and re.search(r"^  -h, --help ", so, re.M),
          "grid --help shows -q and -h")
    # Usage errors of every command carry its prefix.
    for args in (["info"], ["eval"], ["export", "a"], ["import", "a"], ["report", "x"], ["grid", "x"]):
        rc, so, se = run(*args)
        check(rc == 2 and se.startswith(f"nn-mnist {args[0]}: "), f"{' '.join(args)}: prefix: {se.strip()[:100]!r}")


def accepted_names(tmp):
    rc, so, _ = run("grid", "--help")

    def listed(option):
        block = so.split(f"  {option} ", 1)[1].split("\n  --", 1)[0].split("\n", 1)[1]
        return [re.match(r"\s*([a-z][a-z0-9_]*)", item).group(1) for item in block.split(",") if item.strip()]

    acts, opts = listed("--activations"), listed("--optimizers")
    for name in ("linear", "relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus", "selu",
                 "gelu_tanh"):
        check(name in acts, f"grid --help lists activation {name}")
    check("leaky_relu[:ALPHA]" in so and "elu[:ALPHA]" in so and "swish" in so, "grid --help shows :ALPHA and swish")
    check(sorted(opts) == sorted(["sgd", "adam", "adamw", "rmsprop", "adagrad"]), f"grid --help lists the optimizers: {opts}")
    # Every listed name is one the parser takes: the grid gets as far as looking for the data.
    missing = os.path.join(tmp, "no-data")
    for flag, names in (("--activations", acts + ["swish", "leaky_relu:0.1", "elu:0.5"]), ("--optimizers", opts)):
        for name in names:
            rc, so2, se = run("grid", flag, name, "--data-dir", missing, "--no-download", "--out",
                              os.path.join(tmp, "never"))
            check(rc == 1 and "no-data" in se, f"grid {flag} {name} accepted: {se.strip()[:100]!r}")


def one_model_grid(tmp):
    data, out = os.path.join(tmp, "data"), os.path.join(tmp, "out")
    idxgen.write_dataset(data, n_train=200, n_test=100)
    common = ["grid", "--data-dir", data, "--no-download", "--epochs", "1", "--hidden", "8", "--jobs", "1",
              "--activations", "relu", "--optimizers", "adam", "--out", out, "--models", out]
    rc, so, se = run(*common)
    check(rc == 0, f"a one-model grid runs: {se.strip()[-200:]!r}")
    # ("1/1 models done" reads "1 of 1 models".)
    check(re.search(r"\b1 model \(1 to train\)", se) and re.search(r"^1 model in ", se, re.M)
          and not re.search(r"(?<![/\d])1 models", se),
          f"'1 model', not '1 models': {se.strip()[-300:]!r}")
    check(so.startswith("Final Results Summary:\n"), f"stdout starts with the summary: {so[:40]!r}")
    rc, so, se = run(*common, "-q")
    check(rc == 0 and se == "" and so.startswith("Final Results Summary:\n"),
          f"-q: nothing on stderr, no blank first line on stdout: {so[:40]!r} {se[:100]!r}")
    rc, so2, se = run(*common, "--quiet")
    check(rc == 0 and se == "" and so2 == so, "-q is --quiet")
    rc, rep, se = run("report", "--out", out)
    check(rc == 0 and rep.startswith("Final Results Summary:\n"), f"report: no blank first line: {rep[:40]!r}")

    # info: the rate the optimizer trained with, where the settings say lr=0 (the default).
    model = os.path.join(out, "adam_relu.nnm")
    rc, info, se = run("info", model)
    check(rc == 0 and re.search(r"^Optimizer: +adam, learning rate 0\.001$", info, re.M),
          f"info shows adam's default rate: {info[:400]!r}")
    check(" lr=0 " not in info and " lr=0.001 (default) " in info, "info's settings show lr=0.001 (default)")
    with open(os.path.join(out, "results.csv")) as f:
        csv_text = f.read()
    check("0.001" in csv_text, "results.csv has the same 0.001")

    # Write errors: stdout full, stdout closed, stderr full.
    for what, cmd in (("--help > /dev/full", '"$BIN" --help > /dev/full'),
                      ("report > /dev/full", f'"$BIN" report --out "{out}" > /dev/full'),
                      ("info > /dev/full", f'"$BIN" info "{model}" > /dev/full'),
                      ("--version >&-", '"$BIN" --version >&-'),
                      ("grid -q > /dev/full", f'"$BIN" {quoted(common)} -q > /dev/full')):
        rc, so, se = shell(cmd)
        check(rc != 0 and "write error on standard output" in se, f"{what}: exit {rc}, {se.strip()[-120:]!r}")
    rc, so, se = shell(f'"$BIN" {quoted(common)} 2> /dev/full')
    check(rc != 0 and so.startswith("Final Results Summary:"), f"grid 2> /dev/full: exit {rc}")
    rc, so, se = shell('"$BIN" info 2> /dev/full')
    check(rc == 2, f"a usage error with stderr full keeps its status 2: {rc}")
    rc, so, se = shell('"$BIN" --help 2> /dev/full')
    check(rc == 0, "nothing written to a full stderr: exit 0")


def man_page(cmds):
    if not MAN:
        check.note("skip: no man page built (help2man missing)")
        return
    env = dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True, text=True)
        check(p.returncode == 0 and p.stderr == "", f"groff renders the page without warnings: {p.stderr[:300]!r}")
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", MAN], capture_output=True, text=True, env=env)
    else:
        check.note("skip: no man program")
        return
    text = p.stdout
    check(p.returncode == 0 and "NN-MNIST(1)" in text, f"man -l renders the page: {p.stderr[:200]!r}")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"):
        check(re.search(rf"^{section}$", text, re.M), f"man page has {section}")
    check("NN_DATA_DIR" in text and "NN_MNIST_MIRROR" in text, "man page names the environment variables")
    for cmd in cmds:
        check(re.search(rf"^NN-MNIST {cmd.upper()}$", text, re.M), f"man page has a section for {cmd}")
        rc, so, _ = run(cmd, "--help")
        # man may hyphenate or reflow a long option's line, never its tag.
        missing = [o for o in long_options(so) if not re.search(rf"^ +(-[A-Za-z], )?{re.escape(o)}\b", text, re.M)]
        check(not missing, f"man page lists every option of {cmd}: missing {missing}")
    rc, so, _ = run("grid", "--help")
    check(len(long_options(so)) >= 25, f"grid has its options: {len(long_options(so))}")


def completion(tmp):
    os.makedirs(os.path.join(tmp, "cdir", "models-here"), exist_ok=True)

    def complete(*words):
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _nn_mnist; printf "%s\\n" "${COMPREPLY[@]}"')
        p = subprocess.run(["bash", "--norc", "-c", script, "bash", COMPLETION, BIN, *words], capture_output=True,
                           text=True, cwd=os.path.join(tmp, "cdir"), env=tool_env(), timeout=60)
        return sorted(x for x in p.stdout.splitlines() if x), p.stderr

    got, err = complete("")
    check(got == sorted(commands() + ["help"]), f"completes every command: {got} {err[:100]!r}")
    check(complete("gr")[0] == ["grid"], "'gr' completes to grid")
    check(complete("ex")[0] == ["export"], "'ex' completes to export")
    check(complete("help", "re")[0] == ["report"], "'help re' completes to report")
    check(complete("-")[0] == sorted(["--help", "--help-all", "--version", "-h", "-V"]), f"top-level options: {complete('-')[0]}")
    check(complete("grid", "--ep")[0] == ["--epochs"], "grid --ep completes to --epochs")
    got = complete("grid", "--")[0]
    rc, so, _ = run("grid", "--help")
    check(got == sorted(set(long_options(so)) | {"--help"}), f"grid -- offers grid's options: {len(got)}")
    check(complete("info", "--")[0] == ["--help"], "info -- offers --help")
    check(complete("grid", "--dataset", "f")[0] == ["fashion-mnist"], "--dataset f completes to fashion-mnist")
    check(complete("grid", "--lr-schedule", "")[0] == ["constant", "cosine"], "--lr-schedule values")
    check(complete("grid", "--optimizers", "ad")[0] == ["adagrad", "adam", "adamw"], "--optimizers ad")
    check(complete("grid", "--activations", "relu,si")[0] == ["relu,sigmoid", "relu,silu"],
          f"--activations relu,si completes the list's last name: {complete('grid', '--activations', 'relu,si')[0]}")
    check(complete("grid", "--out", "mod")[0] == ["models-here"], "--out completes folders")
    check(complete("grid", "--epochs", "")[0] == [], "--epochs N: nothing to offer")
    check(complete("info", "mod")[0] == ["models-here"], "info's operand completes files")


def main():
    cmds = commands()
    getopt_messages(cmds)
    help_and_version(cmds)
    tmp = tempfile.mkdtemp(prefix="nn-cli-")
    try:
        accepted_names(tmp)
        one_model_grid(tmp)
        man_page(cmds)
        completion(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if check.failures:
        print(f"{len(check.failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
