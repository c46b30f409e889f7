#!/usr/bin/env python3
"""bench-digits (bench/digits/, issue 14), on a handful of images with a tiny model.

1. Clean strings rendered from fonts (black on white, upright, apart) are segmented perfectly in
   every format: each true digit found alone, nothing missed, split, merged, cut wrong or spurious.
   This checks the composer's truth boxes, the PNG and JPEG round trip through nn-mnist's decoder,
   and the matching together.
2. The full distortions run, and every figure is there and in range; --write-samples writes valid
   PNG and JPEG files and a truth.tsv whose boxes lie in the images; --errors lists as many digits
   of each kind as the figures count; the speed lines are positive.
3. The same seed gives the same figures and the same sample bytes; another seed other images.
4. With MNIST's test set in $NN_DATA_DIR/mnist, clean MNIST strings are segmented (nearly) perfectly;
   --without and --rules draw the same strings, paired image by image.
5. A missing model, a missing MNIST folder, an --errors file that cannot be written and bad options
   are refused with a message.

Usage: test_bench_digits.py BENCH_DIGITS NN_MNIST"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idxgen  # noqa: E402

BENCH, NN_MNIST = (os.path.abspath(p) for p in sys.argv[1:3])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def figures(out):
    """name -> float, from the 'name value unit' lines."""
    d = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                d[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return d


def png_size(data):
    return struct.unpack(">II", data[16:24]) if data[:8] == b"\x89PNG\r\n\x1a\n" else None


def main():
    tmp = tempfile.mkdtemp(prefix="bench-digits-")
    # A tiny MLP trained for one epoch on synthetic data: its guesses do not matter, only that the
    # bench loads a real model file and runs it.
    data = os.path.join(tmp, "data")
    idxgen.write_dataset(data, n_train=300, n_test=100)
    p = subprocess.run([NN_MNIST, "grid", "--data-dir", data, "--no-download", "--quiet", "--epochs", "1",
                        "--hidden", "16", "--activations", "relu", "--optimizers", "adam", "--jobs", "1",
                        "--out", os.path.join(tmp, "out"), "--models", os.path.join(tmp, "models")],
                       capture_output=True, text=True, timeout=300)
    model = os.path.join(tmp, "models", "adam_relu.nnm")
    if p.returncode != 0 or not os.path.exists(model):
        print(p.stdout, p.stderr)
        print("FAIL: could not train the tiny model")
        return 1
    base = ["--model", model, "--sources", "fonts", "--jpeg-qualities", "90,40"]
    formats = ["raw", "png", "jpeg90", "jpeg40"]

    # 1. Clean font strings: perfect segmentation in every format. Not femkeklaver's: an outline
    # font's holes are drawn by contours of their own, found as glyphs of their own.
    rc, out, err = run(*base, "--clean", "--count", "6", "--lengths", "2-4", "--speed-images", "0", "--seed", "3",
                       "--fonts", "DejaVu Sans;DejaVu Serif;Comic Neue;Humor Sans;DkgHandwriting;Breip")
    f = figures(out)
    check(rc == 0, f"clean run exits 0 (got {rc}: {err.strip()})")
    for fmt in formats:
        p = f"fonts_{fmt}_"
        check(f.get(p + "images") == 6, f"{p}images is 6")
        check(f.get(p + "segmented_alone") == 100.0, f"{p}segmented_alone is 100 (got {f.get(p + 'segmented_alone')})")
        for e in ("missed", "split", "merged", "cut_wrong", "spurious"):
            check(f.get(p + e) == 0, f"{p}{e} is 0 (got {f.get(p + e)})")
        check(0 <= f.get(p + "digit_accuracy", -1) <= 100, f"{p}digit_accuracy in 0..100")

    # 2. The distortions, samples and speed.
    samples = os.path.join(tmp, "samples")
    errors_path = os.path.join(tmp, "errors.tsv")
    args = [*base, "--count", "5", "--speed-images", "2", "--repeats", "1", "--write-samples", samples,
            "--samples", "2", "--seed", "7", "--errors", errors_path]
    rc, out, err = run(*args)
    f = figures(out)
    check(rc == 0, f"distorted run exits 0 (got {rc}: {err.strip()})")
    # --errors: one line per digit not read right and per spurious box, as the figures count them.
    listed = [line.split("\t") for line in open(errors_path).read().splitlines()]
    check(all(len(c) == 5 for c in listed), "--errors lines have 5 tab-separated fields")
    for fmt in formats:
        p = f"fonts_{fmt}_"
        mine = [c for c in listed if c[0].endswith("-" + fmt)]
        wrong = round(f.get(p + "digits", 0) * (1 - f.get(p + "digit_accuracy", 0) / 100))
        check(len([c for c in mine if c[1] != "-"]) == wrong,
              f"--errors lists the {wrong} {fmt} digits not read right (got {len([c for c in mine if c[1] != '-'])})")
        for kind, figure in (("missed", "missed"), ("split", "split"), ("merged", "merged"),
                             ("cut wrong", "cut_wrong")):
            n = len([c for c in mine if c[4] == kind])
            check(n == f.get(p + figure), f"--errors lists {f.get(p + figure)} {fmt} digits {kind} (got {n})")
        n = len([c for c in mine if c[1] == "-" and c[4].startswith("spurious at ")])
        check(n == f.get(p + "spurious"), f"--errors lists {f.get(p + 'spurious')} {fmt} spurious boxes (got {n})")
    for fmt in formats:
        p = f"fonts_{fmt}_"
        n = f.get(p + "digits", 0)
        check(n >= 5, f"{p}digits counts the true digits (got {n})")
        errors = sum(f.get(p + e, -1) for e in ("missed", "split", "merged", "cut_wrong"))
        check(0 <= errors <= n, f"{p} segmentation errors between 0 and the digits")
        check(0 <= f.get(p + "string_accuracy", -1) <= 100, f"{p}string_accuracy in 0..100")
        # Each font's share: its digits and those read right add up to the format's.
        mine = {k[len(p + "digit_accuracy_"):]: v for k, v in f.items() if k.startswith(p + "digit_accuracy_")}
        counts = {}
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0].startswith(p + "digit_accuracy_") and len(parts) >= 4:
                counts[parts[0][len(p + "digit_accuracy_"):]] = int(parts[3].lstrip("("))
        check(mine and set(mine) == set(counts) and sum(counts.values()) == n,
              f"{p}: the fonts' digits add up to {n} (got {counts})")
        right = sum(round(mine[k] * counts[k] / 100) for k in counts)
        check(right == round(n * f.get(p + "digit_accuracy", 0) / 100),
              f"{p}: the fonts' digits read right add up to the format's (got {right})")
    for name in ("speed_decode_png", "speed_segment", "speed_model", "speed_total_png"):
        check(f.get(name, 0) > 0, f"{name} is positive")
    # With nn_digits_read() the digits are classified during the segmentation, so what is left to
    # time after it can round to 0.000 ms on a fast machine.
    check(f.get("speed_predict", -1) >= 0, "speed_predict is present and not negative")
    rows = open(os.path.join(samples, "truth.tsv")).read().splitlines()
    check(len(rows) == 2 * 3, f"truth.tsv has 2 images x 3 files (got {len(rows)})")
    for row in rows:
        cols = row.split("\t")
        blob = open(os.path.join(samples, cols[0]), "rb").read()
        if cols[0].endswith(".png"):
            size = png_size(blob)
            check(size is not None, f"{cols[0]} is a PNG")
            w, h = size or (0, 0)
            check(len(cols) == 2 + len(cols[1]), f"{cols[0]}: one box per digit")
            for box in cols[2:]:
                x, y, bw, bh = map(int, box.split(","))
                check(0 <= x and 0 <= y and bw > 0 and bh > 0 and x + bw <= w and y + bh <= h,
                      f"{cols[0]}: box {box} inside {w}x{h}")
        else:
            check(blob[:3] == b"\xff\xd8\xff", f"{cols[0]} is a JPEG")

    # 3. Determinism.
    again = os.path.join(tmp, "again")
    args2 = [a if a != samples else again for a in args]
    args2[args2.index("--speed-images") + 1] = "0"
    rc2, out2, _ = run(*args2)
    keep = lambda text: [l for l in text.splitlines() if l.startswith("fonts_")]  # noqa: E731
    check(rc2 == 0 and keep(out2) == keep(out), "the same seed gives the same figures")
    same = all(open(os.path.join(samples, n), "rb").read() == open(os.path.join(again, n), "rb").read()
               for n in os.listdir(samples))
    check(same and sorted(os.listdir(samples)) == sorted(os.listdir(again)), "the same seed gives the same files")
    other = os.path.join(tmp, "other")
    args3 = [a if a != again else other for a in args2]
    args3[args3.index("--seed") + 1] = "8"
    run(*args3)
    name = "fonts-000-png.png"
    check(open(os.path.join(other, name), "rb").read() != open(os.path.join(samples, name), "rb").read(),
          "another seed gives other images")

    # 4. MNIST's test digits, when they are here.
    mnist = os.path.join(os.environ.get("NN_DATA_DIR", ""), "mnist")
    if os.path.exists(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")):
        rc, out, err = run("--model", model, "--sources", "mnist", "--data-dir", mnist, "--clean", "--count", "6",
                           "--lengths", "3", "--speed-images", "0", "--seed", "2")
        f = figures(out)
        check(rc == 0 and f.get("mnist_png_digits") == 18, f"mnist run: 18 digits (rc {rc}: {err.strip()})")
        check(f.get("mnist_png_segmented_alone", 0) >= 80, "clean MNIST strings are segmented")
        # Each source draws from a stream of its own: the fonts' images do not depend on MNIST's.
        one = ["--model", model, "--count", "3", "--speed-images", "0", "--seed", "4", "--jpeg-qualities", "90"]
        rc1, out1, _ = run(*one, "--sources", "fonts")
        rc2, out2, _ = run(*one, "--sources", "mnist,fonts", "--data-dir", mnist)
        check(rc1 == 0 and rc2 == 0 and keep(out1) == keep(out2) and keep(out1),
              "the fonts' figures are the same with and without MNIST's strings")
    else:
        print("no MNIST in $NN_DATA_DIR/mnist: the MNIST part is skipped")

    # 4a. Trusting only sure digits: with --min-confidence 0 every digit found is sure and the sure
    # ones read right are the digits read right; a higher threshold keeps no more, and of what it
    # keeps no more is right than is kept.
    one = ["--model", model, "--sources", "fonts", "--count", "5", "--speed-images", "0", "--seed", "6",
           "--jpeg-qualities", "90"]

    def counts(out):
        """name -> the first number in brackets."""
        d = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[3].startswith("("):
                d[parts[0]] = int(parts[3].lstrip("("))
        return d

    runs = {}
    for conf in ("0", "0.5", "1"):
        rc, out, err = run(*one, "--min-confidence", conf)
        check(rc == 0, f"--min-confidence {conf} runs ({err.strip()[-200:]})")
        runs[conf] = (figures(out), counts(out))
    for fmt in ("raw", "png", "jpeg90"):
        p = f"fonts_{fmt}_"
        f0, c0 = runs["0"]
        right = round(f0.get(p + "digits", 0) * f0.get(p + "digit_accuracy", 0) / 100)
        check(f0.get(p + "sure_digits") == 100.0 and c0.get(p + "sure_digit_accuracy") == right,
              f"{p}: with --min-confidence 0 every found digit is sure, and the sure right are the {right} right")
        kept = [runs[k][1].get(p + "sure_digits", -1) for k in ("0", "0.5", "1")]
        check(kept[0] >= kept[1] >= kept[2] >= 0,
              f"{p}: a higher --min-confidence keeps no more digits ({kept})")
        for conf in ("0", "0.5", "1"):
            f, c = runs[conf]
            sure, sure_right = c.get(p + "sure_digits", -1), c.get(p + "sure_digit_accuracy", -1)
            strings = c.get(p + "sure_strings_len5", -1)
            strings_right = c.get(p + "sure_string_accuracy_len5", -1)
            fives = c.get(p + "string_accuracy_len5", -1)
            check(0 <= sure_right <= sure and 0 <= strings_right <= strings <= fives,
                  f"{p} at {conf}: sure right {sure_right} <= sure {sure}, strings {strings_right} <= {strings}")

    # 4b. The same model given twice reads together as it alone: the same figures.
    one = ["--sources", "fonts", "--count", "4", "--speed-images", "0", "--seed", "5", "--jpeg-qualities", "90"]
    rc1, out1, _ = run("--model", model, *one)
    rc2, out2, err2 = run("--model", model, "--model", model, *one)
    f1, f2 = figures(out1), figures(out2)
    check(rc1 == 0 and rc2 == 0 and f1 == f2 and "read together with the first" in out2,
          f"--model twice: the models read together, the same figures as one ({err2.strip()[-200:]})")
    rc, out, err = run("--model", model, "--model", model, "--geometric", *one)
    check(rc != 0 and "--geometric" in err, f"--geometric with two models is refused ({err.strip()})")

    # 4c. --without: the images pair. Leaving out what only paints (light, noise, blur...) keeps every
    # string and box and changes the pixels; leaving out the rotation keeps the strings only.
    def sample_run(name, without):
        d = os.path.join(tmp, name)
        rc, out, err = run("--sources", "fonts", "--count", "6", "--speed-images", "0", "--seed", "9",
                           "--jpeg-qualities", "90", "--write-samples", d, "--samples", "6", "--without", without)
        check(rc == 0, f"--without {without} runs ({err.strip()[-200:]})")
        rows = [r.split("\t") for r in open(os.path.join(d, "truth.tsv")).read().splitlines()
                if r.split("\t")[0].endswith(".png")]
        pixels = [open(os.path.join(d, r[0]), "rb").read() for r in rows]
        return rows, pixels

    full_rows, full_px = sample_run("w-none", "none")
    painted = "colour,paper,grain,gradient,shadow,specks,blur,noise"
    rows, px = sample_run("w-paint", painted)
    check(rows == full_rows and len(rows) == 6, "--without " + painted + ": the same strings and boxes")
    check(sum(a != b for a, b in zip(px, full_px)) >= 5, "--without " + painted + ": other pixels")
    rows, _ = sample_run("w-rot", "rotation")
    check([r[1] for r in rows] == [r[1] for r in full_rows] and rows != full_rows,
          "--without rotation: the same strings, other boxes")

    # 4d. --rules: the same strings and boxes as without, on ruled paper (other pixels); each paper's
    # figures add up to the format's digits; without --rules, none. --keep-lines reads them as well.
    def ruled_run(name, *extra):
        d = os.path.join(tmp, name)
        rc, out, err = run("--model", model, "--sources", "fonts", "--count", "8", "--speed-images", "0",
                           "--seed", "11", "--jpeg-qualities", "90", "--write-samples", d, "--samples", "8", *extra)
        check(rc == 0, f"{name} runs ({err.strip()[-200:]})")
        rows = [r.split("\t") for r in open(os.path.join(d, "truth.tsv")).read().splitlines()
                if r.split("\t")[0].endswith(".png")]
        return rows, [open(os.path.join(d, r[0]), "rb").read() for r in rows], figures(out)

    plain_rows, plain_px, plain_f = ruled_run("r-0")
    rows, px, f = ruled_run("r-1", "--rules", "1")
    check(rows == plain_rows and len(rows) == 8, "--rules 1: the same strings and boxes as --rules 0")
    check(all(a != b for a, b in zip(px, plain_px)), "--rules 1: every image on ruled paper, other pixels")
    papers = ("plain", "underlined", "ruled", "squared")
    kinds = [k for k in papers if f"fonts_png_digit_accuracy_{k}" in f]
    counts = {}
    for line in run("--model", model, "--sources", "fonts", "--count", "8", "--speed-images", "0", "--seed", "11",
                    "--jpeg-qualities", "90", "--rules", "1")[1].splitlines():
        for k in papers:
            if line.startswith(f"fonts_png_digit_accuracy_{k} "):
                counts[k] = int(line.split("(")[1].split()[0])
    check("plain" not in kinds and len(kinds) >= 2 and sum(counts.values()) == f.get("fonts_png_digits"),
          f"--rules 1: the papers' digits add up to the format's ({counts}, {f.get('fonts_png_digits')})")
    check(not any(k.endswith(papers[1:]) for k in plain_f), "--rules 0: no paper's figures")
    rows, _, kf = ruled_run("r-keep", "--rules", "1", "--keep-lines")
    check(rows == plain_rows and "fonts_png_digit_accuracy" in kf, "--keep-lines reads the same images")

    # 5. Refusals.
    rc, out, err = run("--model", os.path.join(tmp, "nope.nnm"), "--sources", "fonts", "--count", "1")
    check(rc != 0 and "nope.nnm" in err, f"a missing model is refused, naming it ({err.strip()})")
    rc, out, err = run("--sources", "mnist", "--data-dir", os.path.join(tmp, "nowhere"), "--count", "1")
    check(rc != 0 and "MNIST" in err, f"a missing MNIST folder is refused ({err.strip()})")
    rc, out, err = run("--sources", "fonts", "--count", "1", "--speed-images", "0",
                       "--errors", os.path.join(tmp, "no", "such", "errors.tsv"))
    check(rc != 0 and "errors.tsv" in err, f"an --errors file that cannot be written is refused ({err.strip()})")
    for bad in (["--lengths", "9"], ["--lengths", "0-3"], ["--heights", "5-10"], ["--touch", "2"],
                ["--sources", "paint"], ["--jpeg-qualities", "0"], ["--count", "x"], ["extra"],
                ["--min-confidence", "2"], ["--without", "blur,paint"], ["--rules", "1.5"]):
        rc, out, err = run("--sources", "fonts", *bad)
        check(rc == 2 and err.strip() != "", f"{' '.join(bad)} is refused with a message (rc {rc})")

    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
