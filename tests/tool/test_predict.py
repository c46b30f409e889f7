#!/usr/bin/env python3
"""End-to-end test of `nn-mnist predict` (issue 14): images with known digits, written by this test as
PNG (grey, RGB, palette, 16-bit, RGBA, grey+alpha, interlaced), PGM and JPEG (with OpenCV, when a
python3 with cv2 is found), read through models the tool trains itself.

The digits are drawn as seven-segment glyphs and the models (an MLP, input 784, and a small CNN,
input (28, 28, 1)) are trained by `nn-mnist grid` on 28x28 images of the same glyphs, drawn as MNIST
is (fitted into 20 x 20, centred): the strings read are then known exactly, without MNIST. With
NN_DATA_DIR/mnist present, a page of real MNIST test digits is also read with an MLP trained on real
MNIST training digits.

Checks: the strings read from each format, two text lines, a photo-like JPEG (uneven light, tint,
noise, blur), JPEG and PNG stored turned with an EXIF orientation (and --ignore-orientation), a line
tilted by 30 degrees (and --no-deskew), an underlined string on a ruled page (and --keep-lines), a
white plate on a dark wall (and --whole-image),
stdin, --json fields, the '?' marks and --min-confidence, an image without digits,
per-file errors (text file, truncated PNG and JPEG, missing path, a folder) with the other files
still read and exit 1, the missing default model's message, the default model used from
models/digits.nnm, and --debug-dir's files.

Usage: test_predict.py NN_MNIST_BINARY"""
import gzip
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridfiles as gf  # noqa: E402
import idxgen  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = gf.Checker()

# ---- seven-segment glyphs ----

SEGMENTS = {0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc", 5: "afgcd", 6: "afgedc", 7: "abc",
            8: "abcdefg", 9: "abcdfg"}


def segment_rects(d, x0, y0, w, h, t):
    """The rectangles (x0, y0, x1, y1) of digit d's segments in a w x h box at (x0, y0), stroke t. A
    1 is its right-hand bar alone, so its box is one stroke wide, as a handwritten 1's is."""
    if d == 1:
        x0, w = x0 + w - t, t
    m = y0 + h / 2
    r = {"a": (x0, y0, x0 + w, y0 + t), "b": (x0 + w - t, y0, x0 + w, m + t / 2),
         "c": (x0 + w - t, m - t / 2, x0 + w, y0 + h), "d": (x0, y0 + h - t, x0 + w, y0 + h),
         "e": (x0, m - t / 2, x0 + t, y0 + h), "f": (x0, y0, x0 + t, m + t / 2), "g": (x0, m - t / 2, x0 + w, m + t / 2)}
    return [r[s] for s in SEGMENTS[d]]


def draw_digit(cov, width, height, d, x0, y0, w, h, t):
    """Ink coverage (0..1, exact area of each pixel under the glyph's rectangles) into cov."""
    for (a, b, c, e) in segment_rects(d, x0, y0, w, h, t):
        for py in range(max(0, int(math.floor(b))), min(height, int(math.ceil(e)))):
            cy = min(e, py + 1) - max(b, py)
            if cy <= 0:
                continue
            for px in range(max(0, int(math.floor(a))), min(width, int(math.ceil(c)))):
                cx = min(c, px + 1) - max(a, px)
                if cx > 0:
                    i = py * width + px
                    cov[i] = max(cov[i], cx * cy)


def training_images(n, seed):
    """28x28 glyphs as MNIST's digits are: white on black, the box fitted into 20 x 20, centred."""
    rnd = random.Random(seed)
    images, labels = [], []
    for i in range(n):
        d = i % 10
        h = rnd.uniform(18, 20)
        w = h * rnd.uniform(0.45, 0.7)
        t = rnd.uniform(2.0, 3.4)
        if d == 1:
            w = t
        # Drawn once to find its centre of mass, then again with that centre at (14, 14), as MNIST's
        # digits (and nn_digits_find's) are placed.
        cov = [0.0] * 784
        draw_digit(cov, 28, 28, d, 14 - w / 2, 14 - h / 2, w, h, t)
        mass = sum(cov)
        cx = sum(v * (k % 28 + 0.5) for k, v in enumerate(cov)) / mass
        cy = sum(v * (k // 28 + 0.5) for k, v in enumerate(cov)) / mass
        cov = [0.0] * 784
        draw_digit(cov, 28, 28, d, 28 - w / 2 - cx + rnd.uniform(-0.7, 0.7), 28 - h / 2 - cy + rnd.uniform(-0.7, 0.7),
                   w, h, t)
        ink = rnd.uniform(200, 255)
        images.append(bytes(int(ink * v + 0.5) for v in cov))
        labels.append(d)
    return images, labels


def write_idx_folder(folder, n_train, n_test):
    os.makedirs(folder, exist_ok=True)
    for prefix, n, s in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = training_images(n, s)
        with gzip.open(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"), "wb") as f:
            f.write(idxgen.images_bytes(images))
        with gzip.open(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(idxgen.labels_bytes(labels))


def page(lines, rnd, height_px=(40, 70), margin=30):
    """A page holding the digit strings in lines, one under the other: (width, height, coverage)."""
    hs = [rnd.uniform(*height_px) for _ in lines]
    placed, y, width = [], margin, 0
    for text, h in zip(lines, hs):
        x = margin
        for ch in text:
            w, t = h * rnd.uniform(0.5, 0.6), h * rnd.uniform(0.1, 0.14)
            placed.append((int(ch), x, y + rnd.uniform(-2, 2), w, h, t))
            x += w + h * rnd.uniform(0.3, 0.5)
        width = max(width, int(x + margin))
        y += h * 1.6
    height = int(y + margin)
    cov = [0.0] * (width * height)
    for (d, x, yy, w, h, t) in placed:
        draw_digit(cov, width, height, d, x, yy, w, h, t)
    return width, height, cov


def grey_of(cov, paper=235, ink=25):
    return bytes(int(paper - (paper - ink) * v + 0.5) for v in cov)


# ---- image files ----

def png_bytes(width, height, color_type, depth, rows, palette=None, trns=None, interlace=False):
    """A PNG of raw rows (each without its filter byte), filter 0; interlace=True writes Adam7."""
    chunk = png_chunk
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = max(1, channels * depth // 8)
    raw = bytearray()
    if not interlace:
        for r in rows:
            raw += b"\0" + r
    else:
        assert depth >= 8
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for (x0, y0, dx, dy) in passes:
            if x0 >= width or y0 >= height:
                continue
            for y in range(y0, height, dy):
                raw += b"\0" + b"".join(rows[y][x * bpp:(x + 1) * bpp] for x in range(x0, width, dx))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0,
                                                            1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b"")


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def exif_tiff(orientation, big):
    """TIFF's header and IFD0 holding only the Orientation tag (0x0112, SHORT), as EXIF stores it."""
    e = ">" if big else "<"
    return ((b"MM" if big else b"II") + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", 1)
            + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0))


def stored_for(grey, width, height, orientation):
    """The pixels a camera stores for an upright page shown with the given EXIF orientation (3: turned
    half way, 6: to be turned clockwise, 8: counter-clockwise): (stored width, stored height, bytes)."""
    sw, sh = (height, width) if orientation in (6, 8) else (width, height)
    out = bytearray(sw * sh)
    for y in range(height):
        for x in range(width):
            # The shown pixel (x, y) is stored at (sx, sy): EXIF's table, 0th row and column.
            sx, sy = {3: (sw - 1 - x, sh - 1 - y), 6: (y, sh - 1 - x), 8: (sw - 1 - y, x)}[orientation]
            out[sy * sw + sx] = grey[y * width + x]
    return sw, sh, bytes(out)


def turned_by(grey, width, height, degrees, paper=235):
    """The page turned by `degrees` (its lines falling to the right), on a canvas large enough to hold
    it, bilinearly, paper where nothing of it falls: (width, height, bytes)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    tw, th = int(math.ceil(width * c + height * s)), int(math.ceil(width * s + height * c))
    out = bytearray(tw * th)
    for y in range(th):
        for x in range(tw):
            qx, qy = x + 0.5 - tw / 2, y + 0.5 - th / 2
            u, v = width / 2 + c * qx + s * qy - 0.5, height / 2 - s * qx + c * qy - 0.5
            if not (0 <= u <= width - 1 and 0 <= v <= height - 1):
                out[y * tw + x] = paper
                continue
            x0, y0 = min(int(u), width - 2), min(int(v), height - 2)
            fx, fy = u - x0, v - y0
            p = [grey[(y0 + j) * width + x0 + i] for j in (0, 1) for i in (0, 1)]
            top, bottom = p[0] + (p[1] - p[0]) * fx, p[2] + (p[3] - p[2]) * fx
            out[y * tw + x] = int(top + (bottom - top) * fy + 0.5)
    return tw, th, bytes(out)


def rows_of(data, width, height, bpp):
    return [bytes(data[y * width * bpp:(y + 1) * width * bpp]) for y in range(height)]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_formats(folder, stem, width, height, cov):
    """The same page in every PNG flavour and as PGM; returns the paths."""
    paths = []
    g = grey_of(cov)
    paths.append(write(os.path.join(folder, stem + "-grey.png"), png_bytes(width, height, 0, 8, rows_of(g, width, height, 1))))
    # Blue ink on cream paper.
    paper, ink = (245, 235, 205), (25, 45, 160)
    rgb = bytearray()
    for v in cov:
        rgb += bytes(int(p - (p - k) * v + 0.5) for p, k in zip(paper, ink))
    paths.append(write(os.path.join(folder, stem + "-rgb.png"), png_bytes(width, height, 2, 8, rows_of(rgb, width, height, 3))))
    # 16 shades of dark red ink on white in a palette.
    pal = [tuple(int(255 - (255 - k) * i / 15 + 0.5) for k in (150, 10, 10)) for i in range(16)]
    idx = bytes(int(v * 15 + 0.5) for v in cov)
    paths.append(write(os.path.join(folder, stem + "-palette.png"),
                       png_bytes(width, height, 3, 8, rows_of(idx, width, height, 1), palette=pal)))
    # 16-bit grey.
    g16 = b"".join(struct.pack(">H", int((235 - 210 * v) * 257 + 0.5)) for v in cov)
    paths.append(write(os.path.join(folder, stem + "-grey16.png"), png_bytes(width, height, 0, 16, rows_of(g16, width, height, 2))))
    # Black ink in the alpha channel over transparent *black*: read without compositing on white,
    # the whole page would be black and hold no digits.
    rgba = b"".join(bytes((0, 0, 0, int(255 * v + 0.5))) for v in cov)
    paths.append(write(os.path.join(folder, stem + "-rgba.png"), png_bytes(width, height, 6, 8, rows_of(rgba, width, height, 4))))
    ga = b"".join(bytes((0, int(255 * v + 0.5))) for v in cov)
    paths.append(write(os.path.join(folder, stem + "-greyalpha.png"), png_bytes(width, height, 4, 8, rows_of(ga, width, height, 2))))
    paths.append(write(os.path.join(folder, stem + "-interlaced.png"),
                       png_bytes(width, height, 0, 8, rows_of(g, width, height, 1), interlace=True)))
    paths.append(write(os.path.join(folder, stem + ".pgm"), b"P5\n# a comment\n%d %d\n255\n" % (width, height) + g))
    return paths


def cv2_python():
    """A python3 that has OpenCV (Debian's, when the harness's own lacks it), or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run([py, "-c", "import cv2"], capture_output=True).returncode == 0:
            return py
    return None


CV2 = cv2_python()


def write_jpeg(path, width, height, data, channels, quality):
    """JPEG through OpenCV, from a PGM/PPM it reads; False when no OpenCV."""
    if not CV2:
        return False
    pnm = path + (".pgm" if channels == 1 else ".ppm")
    write(pnm, (b"P5" if channels == 1 else b"P6") + b"\n%d %d\n255\n" % (width, height) + bytes(data))
    p = subprocess.run([CV2, "-c", "import cv2, sys; im = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED); "
                        "sys.exit(0 if cv2.imwrite(sys.argv[2], im, [cv2.IMWRITE_JPEG_QUALITY, int(sys.argv[3])]) "
                        "else 1)", pnm, path, str(quality)], capture_output=True, text=True)
    os.unlink(pnm)
    return p.returncode == 0


def photo_like(width, height, cov, rnd):
    """Uneven light (a diagonal gradient and a soft shadow), a warm tint, blur and noise: RGB bytes."""
    ink = [v for v in cov]
    # 3x3 box blur of the ink.
    blurred = [0.0] * len(ink)
    for y in range(height):
        for x in range(width):
            s, n = 0.0, 0
            for yy in range(max(0, y - 1), min(height, y + 2)):
                for xx in range(max(0, x - 1), min(width, x + 2)):
                    s += ink[yy * width + xx]
                    n += 1
            blurred[y * width + x] = s / n
    out = bytearray()
    for y in range(height):
        for x in range(width):
            light = 0.65 + 0.35 * (x / width) * (1 - 0.3 * y / height)
            light *= 1 - 0.25 * math.exp(-(((x - 0.3 * width) / (0.2 * width)) ** 2))
            v = blurred[y * width + x]
            for paper, k in ((250, 40), (238, 35), (215, 30)):
                out.append(max(0, min(255, int((paper - (paper - k) * v) * light + rnd.gauss(0, 5) + 0.5))))
    return out


def png_dims(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, depth, ctype


# ---- running the tool ----

def run(args, cwd=None, stdin=None):
    p = subprocess.run([BIN, "predict"] + list(args), capture_output=True, env=gf.tool_env(), cwd=cwd, input=stdin,
                       timeout=300)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def lines_of(out):
    """{file: digits} from the plain output."""
    res = {}
    for line in out.splitlines():
        f, _, digits = line.rpartition(": ")
        res[f] = digits
    return res


def train(data, models, out, arch=None, train_limit=3000, epochs=2):
    args = ["grid", "--activations", "relu", "--optimizers", "adam", "--epochs", str(epochs), "--train-limit",
            str(train_limit), "--test-limit", "500", "--models", models, "--out", out, "--data-dir", data,
            "--no-download", "--quiet", "--jobs", "1"]
    if arch:
        args += ["--arch", arch, "--batch-size", "32"]
    rc, so, se = gf.run(BIN, args, timeout=600)
    model = os.path.join(models, "adam_relu.nnm")
    check(rc == 0 and os.path.exists(model), f"grid {'--arch ' + arch if arch else '(mlp)'} trains a model "
          f"(rc {rc}{': ' + se.strip()[-300:] if rc else ''})")
    return model


def main():
    tmp = tempfile.mkdtemp(prefix="nnm-predict-")
    try:
        run_all(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if check.failures:
        print(f"{len(check.failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


def run_all(tmp):
    rnd = random.Random(14)
    data = os.path.join(tmp, "seg7")
    write_idx_folder(data, 3000, 500)
    mlp = train(data, os.path.join(tmp, "m-mlp"), os.path.join(tmp, "r-mlp"))
    cnn = train(data, os.path.join(tmp, "m-cnn"), os.path.join(tmp, "r-cnn"), arch="conv8x3,pool2,flatten")
    imgs = os.path.join(tmp, "img")
    os.makedirs(imgs)

    # -- every format, one line
    text = "31415926"
    w, h, cov = page([text], rnd)
    paths = write_formats(imgs, "pi", w, h, cov)
    jpeg_q90 = os.path.join(imgs, "pi-grey.jpg")
    have_jpeg = write_jpeg(jpeg_q90, w, h, grey_of(cov), 1, 90)
    photo = os.path.join(imgs, "photo.jpg")
    photo_text = "75008"
    pw, ph, pcov = page([photo_text], rnd, height_px=(60, 60))
    have_photo = have_jpeg and write_jpeg(photo, pw, ph, photo_like(pw, ph, pcov, rnd), 3, 75)
    if have_jpeg:
        paths.append(jpeg_q90)
    else:
        check.note("no python3 with OpenCV (python3-opencv): JPEG files are not written, their checks skipped")
    for model, label in ((mlp, "mlp"), (cnn, "cnn")):
        rc, so, se = run(["--model", model] + paths)
        got = lines_of(so)
        check(rc == 0, f"{label}: every format reads without error (rc {rc}, stderr {se.strip()[:300]!r})")
        for p in paths:
            check(got.get(p) == text, f"{label}: {os.path.basename(p)} reads {text} (got {got.get(p)!r})")
        if have_photo:
            rc, so, se = run(["--model", model, photo])
            check(rc == 0 and so == f"{photo}: {photo_text}\n",
                  f"{label}: the photo-like JPEG (uneven light, tint, blur, noise, quality 75) reads {photo_text} "
                  f"(got {so.strip()!r})")

    # -- two lines, and stdin
    lines = ["2024", "1357"]
    w2, h2, cov2 = page(lines, rnd)
    two = write(os.path.join(imgs, "two.png"), png_bytes(w2, h2, 0, 8, rows_of(grey_of(cov2), w2, h2, 1)))
    rc, so, se = run(["--model", mlp, two])
    check(rc == 0 and so == f"{two}: 2024 1357\n", f"two text lines read top to bottom, a space between (got {so!r})")
    with open(paths[1], "rb") as f:
        rc, so, se = run(["--model", mlp, "-"], stdin=f.read())
    check(rc == 0 and so == f"-: {text}\n", f"'-' reads the image from stdin (got {so!r}, rc {rc})")
    with open(paths[1], "rb") as f:
        rc, so, se = run(["--model", mlp, "-", "-"], stdin=f.read())
    check(rc == 1 and so.startswith(f"-: {text}\n") and "-: nothing on standard input" in se
          and "earlier '-'" in se, f"a second '-' finds stdin read and says so (got {so!r}, {se!r}, rc {rc})")

    # -- --json
    rc, so, se = run(["--model", cnn, "--json", two, paths[0]])
    objs = []
    try:
        objs = [json.loads(x) for x in so.splitlines()]
    except ValueError as e:
        check(False, f"--json prints one JSON object per line ({e}: {so[:200]!r})")
    check(rc == 0 and len(objs) == 2, f"--json: one object per image (rc {rc}, {len(objs)} objects)")
    if len(objs) == 2:
        o = objs[0]
        check(o.get("file") == two and o.get("digits") == "2024 1357" and o.get("lines") == 2
              and o.get("width") == w2 and o.get("height") == h2,
              f"--json: file, digits, lines, width, height ({ {k: o.get(k) for k in ('file', 'digits', 'lines')} })")
        items = o.get("items", [])
        check(len(items) == 8, f"--json: one item per digit ({len(items)})")
        ok = True
        for i, it in enumerate(items):
            x, y, bw, bh = it["box"]
            t3 = it["top3"]
            ok &= it["digit"] == int("20241357"[i]) and it["line"] == (0 if i < 4 else 1)
            ok &= 0 <= x and 0 <= y and x + bw <= w2 and y + bh <= h2 and bw > 0 and bh > 0
            ok &= len(t3) == 3 and t3[0][0] == it["digit"] and t3[0][1] == it["probability"]
            ok &= t3[0][1] >= t3[1][1] >= t3[2][1] >= 0 and sum(p for _, p in t3) <= 1.0001
            ok &= len({d for d, _ in t3}) == 3
        check(ok, f"--json: each item's digit, line, box within the image, top3 sorted (first item {items[:1]})")
        check(objs[1].get("digits") == text, f"--json: second image's digits ({objs[1].get('digits')!r})")
        check(all("not_one_digit" not in it for it in items), "--json: a 10-class model's items have no not_one_digit")

    # -- an 11-class model, as `nn-mnist train` makes (reject.h): read, and its 11th class reported
    m11 = os.path.join(tmp, "m11.nnm")
    rc, so, se = gf.run(BIN, ["train", "--arch", "conv8x3,pool2,flatten", "--epochs", "2", "--train-limit", "3000",
                              "--test-limit", "500", "--data-dir", data, "--no-download", "--quiet", "--threads", "1",
                              "--no-letters", "--save", m11], timeout=600)
    check(rc == 0 and os.path.exists(m11), f"train makes an 11-class model (rc {rc}: {se.strip()[-300:]})")
    rc, so, se = run(["--model", m11, "--json", two])
    try:
        o = json.loads(so)
    except ValueError:
        o = {}
    items = o.get("items", [])
    ok = rc == 0 and len(items) > 0
    for it in items:
        p = it.get("not_one_digit", -1)
        ok &= 0 <= p <= 1 and sum(q for _, q in it["top3"]) + p <= 1.0001
    check(ok, f"--json with an 11-class model: each item's not_one_digit, with the digits' top3 at most 1 "
              f"(rc {rc}, first item {items[:1]}, {se.strip()[-200:]})")

    # -- a 12-class model, as `nn-mnist train` makes by default (--letters: text, fonts.h): read, its
    # text left out unless --keep-text, and not read together with an 11-class one.
    m12 = os.path.join(tmp, "m12.nnm")
    rc, so, se = gf.run(BIN, ["train", "--arch", "conv8x3,pool2,flatten", "--epochs", "1", "--train-limit", "2000",
                              "--test-limit", "200", "--data-dir", data, "--no-download", "--quiet", "--threads", "1",
                              "--save", m12], timeout=600)
    rc2, info, _ = gf.run(BIN, ["info", m12])
    if rc == 0 and "letters=" not in info:
        print("SKIP: the 12-class checks (the fonts of --letters are not installed)")
    else:
        check(rc == 0 and "(None, 12)" in info, f"train makes a 12-class model (rc {rc}: {se.strip()[-300:]})")
        rc, so, se = run(["--model", m12, "--json", two])
        rck, sok, sek = run(["--model", m12, "--keep-text", "--json", two])
        ok = rc == 0 and rck == 0
        for out in (so, sok):
            try:
                items = json.loads(out).get("items", [])
            except ValueError:
                items, ok = [], False
            for it in items:
                p = it.get("not_one_digit", -1)
                ok &= 0 <= p <= 1 and sum(q for _, q in it["top3"]) + p <= 1.0001
        check(ok, f"a 12-class model reads, with and without --keep-text (rc {rc} {rck}: {se.strip()[-200:]} "
                  f"{sek.strip()[-200:]})")
        rc, so, se = run(["--model", m11, "--model", m12, paths[0]])
        check(rc == 1 and so == "" and "must share their classes" in se,
              f"an 11-class and a 12-class model are not read together ({se.strip()!r})")

    # -- several --model read together (nn_digits_read_ensemble()): the same model twice reads as it
    # alone, byte for byte; two models give each digit the mean of their probabilities; models of 10
    # and 11 classes, or more than 16, are refused before any image.
    rc1, so1, _ = run(["--model", cnn, "--json", two, paths[0]])
    rc2, so2, se2 = run(["--model", cnn, "--model", cnn, "--json", two, paths[0]])
    check(rc1 == 0 and rc2 == 0 and so1 == so2 and so1,
          f"the same --model twice reads as it alone (rc {rc1} {rc2}: {se2.strip()[-200:]})")
    rc, so, se = run(["--model", mlp, "--model", cnn] + paths)
    got = lines_of(so)
    check(rc == 0 and all(got.get(p) == text for p in paths),
          f"two models together read every format ({so.strip()[:300]!r}, {se.strip()[-200:]!r})")
    alone = {}
    for m in (mlp, cnn):
        rc, so, se = run(["--model", m, "--json", "--scales", "1", paths[0]])
        alone[m] = {tuple(it["box"]): dict(it["top3"]) for it in json.loads(so)["items"]} if rc == 0 else {}
    rc, so, se = run(["--model", mlp, "--model", cnn, "--json", "--scales", "1", paths[0]])
    both = json.loads(so)["items"] if rc == 0 else []
    means, spread = 0, 0.0
    for it in both:
        a, b = alone[mlp].get(tuple(it["box"])), alone[cnn].get(tuple(it["box"]))
        shared = [(d, p) for d, p in it["top3"] if a and b and d in a and d in b]
        means += bool(shared) and all(abs(p - (a[d] + b[d]) / 2) < 2e-3 for d, p in shared)
        spread = max([spread] + [abs(a[d] - b[d]) for d, _ in shared])
    check(len(both) == len(text) and means == len(text) and spread > 0.01,
          f"two models together give each digit the mean of their probabilities ({means} of {len(both)} digits; "
          f"the models alone differ by up to {spread:.4f})")
    rc, so, se = run(["--model", mlp, "--model", m11, paths[0]])
    check(rc == 1 and so == "" and "must share their classes" in se,
          f"a 10-class and an 11-class model are not read together ({se.strip()!r})")
    rc, so, se = run(["--model", mlp, "--model", os.path.join(tmp, "none.nnm"), paths[0]])
    check(rc == 1 and so == "" and "none.nnm" in se,
          f"a missing second --model is an error before any image, naming it ({se.strip()!r})")
    rc, so, se = run(["--model", mlp] * 17 + [paths[0]])
    check(rc == 2 and so == "" and "at most 16" in se, f"17 --model are refused ({se.strip()!r})")

    # -- '?' marks follow --min-confidence
    marked = {}
    for mc in ("0", "0.9999", "1"):
        rc, so, se = run(["--model", mlp, "--json", "--min-confidence", mc, paths[0]])
        o = json.loads(so.splitlines()[0]) if rc == 0 and so else {}
        want = "".join(str(it["digit"]) + ("?" if it["probability"] < float(mc) else "") for it in o.get("items", []))
        marked[mc] = want
        check(rc == 0 and o.get("text") == want and o.get("digits") == text and (mc != "0" or "?" not in want),
              f"--min-confidence {mc}: '?' after exactly the digits under it ({o.get('text')!r})")
    rc, so, se = run(["--model", mlp, "--min-confidence", "0.9999", paths[0]])
    o_plain = lines_of(so).get(paths[0])
    check(rc == 0 and o_plain == marked["0.9999"],
          f"the plain output marks as --json's text does ({o_plain!r} vs {marked['0.9999']!r})")
    for bad in ("2", "-0.1", "x", ""):
        rc, so, se = run(["--model", mlp, "--min-confidence", bad, paths[0]])
        check(rc == 2 and "min-confidence" in se, f"--min-confidence {bad!r} is refused with exit 2 (rc {rc})")

    # -- more digits than --max-digits: an error for that file, named by the option, not the API
    rc, so, se = run(["--model", mlp, "--max-digits", "2", paths[0]])
    check(rc == 1 and "more than --max-digits (2)" in se and "nn_digits" not in se and "max_digits" not in se,
          f"--max-digits 2 on an image of more digits: exit 1 and a message naming the option (rc {rc}, {se!r})")
    for bad in ("0", "x", "2000000"):
        rc, so, se = run(["--model", mlp, "--max-digits", bad, paths[0]])
        check(rc == 2 and "max-digits" in se, f"--max-digits {bad!r} is refused with exit 2 (rc {rc})")

    # -- ruled lines (nn_digits_options.rules, step 3 of docs/predict.md): underlined, the line over
    # the digits' lowest rows, and a page's line above them, the digits read as without the lines;
    # --keep-lines leaves them in, and the underline joins the digits into one blob.
    text_r = "4096"
    wr, hr, covr = page([text_r], rnd, height_px=(50, 50))
    for y in list(range(79, 82)) + [12, 13]:
        for x in range(8, wr - 8):
            covr[y * wr + x] = 1.0
    ruled = write(os.path.join(imgs, "ruled.png"), png_bytes(wr, hr, 0, 8, rows_of(grey_of(covr), wr, hr, 1)))
    rc, so, se = run(["--model", mlp, ruled])
    check(rc == 0 and so == f"{ruled}: {text_r}\n", f"underlined on a ruled page, {text_r} reads as without the lines "
          f"(got {so.strip()!r})")
    rc, so, se = run(["--model", mlp, "--keep-lines", ruled])
    check(rc == 0 and so != f"{ruled}: {text_r}\n", f"--keep-lines: the underline joins the digits (got {so.strip()!r})")

    # -- EXIF orientation: a phone stores a portrait photo on its side and records how to turn it
    # (APP1 in a JPEG, eXIf in a PNG); the image is read as a viewer shows it, the boxes and sizes in
    # that image, unless --ignore-orientation.
    text_o = "2718"
    wo, ho, covo = page([text_o], rnd, height_px=(50, 50))
    go = grey_of(covo)
    for o, fmt, big in ((6, "jpg", True), (8, "png", False), (3, "png", True)):
        sw, sh, stored = stored_for(go, wo, ho, o)
        tiff = exif_tiff(o, big)
        if fmt == "png":
            data = png_bytes(sw, sh, 0, 8, rows_of(stored, sw, sh, 1))
            data = data[:33] + png_chunk(b"eXIf", tiff) + data[33:]  # after IHDR
            turned = write(os.path.join(imgs, f"turned{o}.png"), data)
        else:
            turned = os.path.join(imgs, f"turned{o}.jpg")
            if not write_jpeg(turned, sw, sh, stored, 1, 95):
                continue
            with open(turned, "rb") as f:
                j = f.read()
            app1 = b"Exif\0\0" + tiff
            write(turned, j[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + j[2:])
        rc, so, se = run(["--model", mlp, "--json", turned])
        o_ = json.loads(so) if rc == 0 and so else {}
        check(o_.get("digits") == text_o and o_.get("orientation") == o and (o_.get("width"), o_.get("height")) == (wo, ho),
              f"{fmt} stored turned, EXIF orientation {o}: read upright as {text_o}, {wo} x {ho} "
              f"(got {o_.get('digits')!r}, orientation {o_.get('orientation')}, {o_.get('width')} x {o_.get('height')}; "
              f"{se.strip()[-200:]!r})")
        rc, so, se = run(["--model", mlp, "--json", "--ignore-orientation", turned])
        o_ = json.loads(so) if rc == 0 and so else {}
        check(o_.get("orientation") == 1 and (o_.get("width"), o_.get("height")) == (sw, sh) and o_.get("digits") != text_o,
              f"--ignore-orientation: {fmt} of orientation {o} read as stored, {sw} x {sh} "
              f"(got {o_.get('digits')!r}, {o_.get('width')} x {o_.get('height')})")

    # -- a photo taken at an angle: the line of digits tilted by 30 degrees is turned level and read
    # as one line (step 10), its boxes around the digits in the image as given; --no-deskew reads it
    # as it lies, and it falls apart into several lines.
    text_t = "314159"
    wt, ht, covt = page([text_t], rnd, height_px=(50, 50))
    tw, th, tilted = turned_by(grey_of(covt), wt, ht, 30.0)
    tilted_png = write(os.path.join(imgs, "tilted.png"), png_bytes(tw, th, 0, 8, rows_of(tilted, tw, th, 1)))
    rc, so, se = run(["--model", mlp, "--json", tilted_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    boxes_in = all(0 <= it["box"][0] and it["box"][0] + it["box"][2] <= tw and 0 <= it["box"][1]
                   and it["box"][1] + it["box"][3] <= th for it in o_.get("items", []))
    falling = [it["box"][1] for it in o_.get("items", [])]
    check(o_.get("digits") == text_t and o_.get("lines") == 1 and boxes_in and falling == sorted(falling),
          f"a line tilted by 30 degrees reads {text_t} on one line, its boxes falling left to right within the "
          f"image (got {o_.get('digits')!r}, {o_.get('lines')} lines, boxes {[it['box'] for it in o_.get('items', [])]})")
    rc, so, se = run(["--model", mlp, "--json", "--no-deskew", tilted_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    check(rc == 0 and o_.get("lines", 0) >= 2, f"--no-deskew: the tilted line is read as it lies, in several lines "
          f"(got {o_.get('digits')!r}, {o_.get('lines')} lines)")

    # -- a photo that takes in the dark table beside the sheet: a strip along the image's edge with
    # more ink than the digits is no digit, and the digits are read as without it (they were dropped
    # as specks beside it, and the strip read as a 1)
    text_e = "30571"
    we, he, cove = page([text_e], rnd, height_px=(45, 45))
    ge, W, H = grey_of(cove), 600, 450
    ox, oy = (W - we) // 2, (H - he) // 2
    edge = bytearray([235] * (W * H))
    for y in range(he):
        edge[(oy + y) * W + ox:(oy + y) * W + ox + we] = ge[y * we:(y + 1) * we]
    for y in range(H):
        edge[y * W:y * W + 40] = bytes([70] * 40)
    edge_png = write(os.path.join(imgs, "table-edge.png"),
                     png_bytes(W, H, 0, 8, [bytes(edge[y * W:(y + 1) * W]) for y in range(H)]))
    rc, so, se = run(["--model", mlp, "--json", edge_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    check(o_.get("digits") == text_e and all(it["box"][0] >= ox - 2 for it in o_.get("items", [])),
          f"a dark strip along the image's edge is no digit: {text_e} read beside it "
          f"(got {o_.get('digits')!r}, boxes {[it['box'] for it in o_.get('items', [])]})")

    # -- a white plate small on a dark wall (step 0): read alone, as the plate cropped reads, its boxes
    # in the photo; --whole-image reads the whole photo, where the plate is the ink and its digits holes
    W2, H2, pad = 900, 640, 40
    px0, py0 = 300, 250
    plate = bytearray([70] * (W2 * H2))
    for y in range(he + 2 * pad):
        plate[(py0 + y) * W2 + px0:(py0 + y) * W2 + px0 + we + 2 * pad] = bytes([235] * (we + 2 * pad))
    for y in range(he):
        at = (py0 + pad + y) * W2 + px0 + pad
        plate[at:at + we] = ge[y * we:(y + 1) * we]
    plate_png = write(os.path.join(imgs, "plate.png"),
                      png_bytes(W2, H2, 0, 8, [bytes(plate[y * W2:(y + 1) * W2]) for y in range(H2)]))
    rc, so, se = run(["--model", mlp, "--json", plate_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    on_plate = all(px0 + pad - 2 <= it["box"][0] and it["box"][0] + it["box"][2] <= px0 + pad + we + 2
                   and py0 + pad - 2 <= it["box"][1] and it["box"][1] + it["box"][3] <= py0 + pad + he + 2
                   for it in o_.get("items", []))
    check(o_.get("digits") == text_e and on_plate, f"a white plate on a dark wall: {text_e} read, boxes on the plate "
          f"(got {o_.get('digits')!r}, boxes {[it['box'] for it in o_.get('items', [])]})")
    rc, so, se = run(["--model", mlp, "--json", "--whole-image", plate_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    check(rc == 0 and o_.get("digits") != text_e, f"--whole-image: the plate on the wall read with the wall "
          f"(got {o_.get('digits')!r})")

    # -- a photo of a folded sheet turned a little: a crease from edge to edge through the digits
    # (it joined them into a blob taller than a digit, dropped as a line with the digits it crossed)
    # and the table in a corner (a wedge, read as a sure 1 before the number)
    creased = bytearray([235] * (W * H))
    for y in range(he):
        creased[(oy + y) * W + ox:(oy + y) * W + ox + we] = ge[y * we:(y + 1) * we]
    mid = ox + we // 2
    for y in range(H):
        x = mid - int((y - H / 2) * 0.7)
        for x in (x, x + 1):
            if 0 <= x < W:
                creased[y * W + x] = min(creased[y * W + x], 120)
        for x in range(int(24 * (y - 300) / 150) if y > 300 else 0):
            creased[y * W + x] = 60
    creased_png = write(os.path.join(imgs, "creased.png"),
                        png_bytes(W, H, 0, 8, [bytes(creased[y * W:(y + 1) * W]) for y in range(H)]))
    rc, so, se = run(["--model", mlp, "--json", creased_png])
    o_ = json.loads(so) if rc == 0 and so else {}
    check(o_.get("digits") == text_e, f"a crease through the digits and the table in a corner: {text_e} read "
          f"(got {o_.get('digits')!r}, boxes {[it['box'] for it in o_.get('items', [])]})")

    # -- file names with bytes that are not UTF-8 (a Latin-1 name) and with a newline: --json is still
    # UTF-8 (each invalid byte as U+FFFD), and the plain output still one line per image
    odd = [os.path.join(os.fsencode(imgs), b"lat\xe9.png"), os.path.join(os.fsencode(imgs), b"new\nline.png")]
    for o in odd:
        shutil.copy(creased_png, o)
    missing = os.path.join(os.fsencode(imgs), b"gone\xe9.png")
    p = subprocess.run([BIN, "predict", "--model", mlp, "--json"] + odd + [missing], capture_output=True,
                       env=gf.tool_env(), timeout=300)
    try:
        objs = [json.loads(line.decode("utf-8")) for line in p.stdout.splitlines()]
    except (UnicodeDecodeError, ValueError) as e:
        objs = [repr(e)]
    check(p.returncode == 1 and len(objs) == 3 and objs[0].get("file", "").endswith("lat\ufffd.png")
          and objs[0].get("digits") == text_e and objs[1].get("file", "").endswith("new\nline.png")
          and objs[2].get("file", "").endswith("gone\ufffd.png") and "error" in objs[2],
          f"--json is UTF-8 whatever the file names' bytes (got {objs!r:.400})")
    p = subprocess.run([BIN, "predict", "--model", mlp] + odd, capture_output=True, env=gf.tool_env(), timeout=300)
    out = p.stdout.splitlines()
    check(p.returncode == 0 and len(out) == 2 and out[0].endswith(b"lat\xe9.png: " + text_e.encode())
          and out[1].endswith(b"new\\nline.png: " + text_e.encode()),
          f"a newline in a file name is written \\n: one line per image (got {out!r})")

    # -- an image without digits
    blank = write(os.path.join(imgs, "blank.png"), png_bytes(200, 100, 0, 8, [bytes([230] * 200)] * 100))
    rc, so, se = run(["--model", mlp, blank])
    check(rc == 0 and so == f"{blank}: \n", f"an image without digits prints 'FILE: ' and exits 0 (got {so!r}, rc {rc})")
    rc, so, se = run(["--model", mlp, "--json", blank])
    check(rc == 0 and json.loads(so) ["digits"] == "" and json.loads(so)["items"] == [],
          "--json: an image without digits has digits \"\" and no items")

    # -- per-file errors: the others are still read, exit 1
    with open(paths[0], "rb") as f:
        good = f.read()
    good_small = png_bytes(4, 4, 0, 8, rows_of(bytearray([200]) * 16, 4, 4, 1))
    bad = {
        "text": (write(os.path.join(imgs, "notes.png"), b"just some text, not an image\n"), "not a PNG, JPEG or PGM"),
        "truncated PNG": (write(os.path.join(imgs, "cut.png"), good[:len(good) * 6 // 10]), "truncated PNG"),
        "PNG without IEND": (write(os.path.join(imgs, "noend.png"), good[:-12]), "truncated PNG"),
        "corrupt PNG": (write(os.path.join(imgs, "crc.png"), good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]),
                        "corrupt PNG"),
        "missing path": (os.path.join(imgs, "nope.png"), "No such file or directory"),
        "folder": (imgs, "directory"),
        "empty": (write(os.path.join(imgs, "empty.jpg"), b""), "empty"),
        "truncated PGM": (write(os.path.join(imgs, "cut.pgm"), b"P5 100 100 255\n" + bytes(500)), "truncated PGM"),
        # 10001 x 10001 pixels in the header, refused before any pixel is decoded.
        "huge PNG": (write(os.path.join(imgs, "huge.png"), png_bytes(10001, 10001, 0, 8, [])), "more than the 100000000"),
        "huge PGM": (write(os.path.join(imgs, "huge.pgm"), b"P5 20000 20000 255\n"), "more than the 100000000"),
        # 9000 x 9000 pixels over the data of 4 x 4: refused before the image is allocated.
        "PNG claiming more than its data": (write(os.path.join(imgs, "claims.png"), claims_more(good_small)),
                                           "truncated PNG ("),
        "an empty name": ("", "an empty file name"),
    }
    if have_jpeg:
        with open(jpeg_q90, "rb") as f:
            j = f.read()
        bad["truncated JPEG"] = (write(os.path.join(imgs, "cut.jpg"), j[:len(j) // 2]), "truncated JPEG")
        bad["JPEG cut in its header"] = (write(os.path.join(imgs, "cuthead.jpg"), j[:100]), "truncated JPEG")
    args = [paths[0]] + [p for p, _ in bad.values()] + [two]
    rc, so, se = run(["--model", mlp] + args)
    got = lines_of(so)
    check(rc == 1, f"bad files make the exit status 1 (rc {rc})")
    check(got.get(paths[0]) == text and got.get(two) == "2024 1357" and len(got) == 2,
          f"the good files before and after the bad ones are still read ({so!r})")
    for what, (p, msg) in bad.items():
        check(any(p in line and msg in line for line in se.splitlines()), f"{what}: stderr says '{p}: ...{msg}'")
    rc, so, se = run(["--model", mlp, "--json"] + args)
    objs = [json.loads(x) for x in so.splitlines()]
    errs = {o["file"]: o["error"] for o in objs if "error" in o}
    check(rc == 1 and len(objs) == len(args) and set(errs) == {p for p, _ in bad.values()},
          f"--json: an {{file, error}} object for each bad file, in order with the others ({len(errs)} errors)")

    # A name longer than the message loses its middle, not the reason after it.
    deep = os.path.join(imgs, *(["d" * 200] * 5))
    os.makedirs(deep)
    longp = write(os.path.join(deep, "notes.png"), b"not an image\n")
    rc, so, se = run(["--model", mlp, "--json", longp])
    line = se.splitlines()[0] if se else ""
    check(rc == 1 and line.endswith("/notes.png: not a PNG, JPEG or PGM file") and "..." in line
          and json.loads(so)["error"] == line[len("nn-mnist predict: "):],
          f"a name of {len(longp)} bytes keeps the reason ({line[-80:]!r})")

    # -- the default model
    cwd = os.path.join(tmp, "cwd")
    os.makedirs(cwd)
    rc, so, se = run([paths[0]], cwd=cwd)
    check(rc == 1 and "models/digits.nnm" in se and "nn-mnist train --save models/digits.nnm" in se,
          f"without models/digits.nnm the error says how to make it ({se.strip()!r})")
    rc, so, se = run(["--model", os.path.join(tmp, "none.nnm"), paths[0]])
    check(rc == 1 and "none.nnm" in se and so == "", f"a missing --model is an error before any image ({se.strip()!r})")
    rc, so, se = run(["--model", paths[0], paths[0]])
    check(rc == 1 and so == "", f"an image given as --model is refused ({se.strip()!r})")
    os.makedirs(os.path.join(cwd, "models"))
    shutil.copy(cnn, os.path.join(cwd, "models", "digits.nnm"))
    rc, so, se = run([paths[0]], cwd=cwd)
    check(rc == 0 and so == f"{paths[0]}: {text}\n", f"models/digits.nnm is the default model (got {so!r})")
    rc, so, se = run(["--model", mlp], cwd=cwd)
    check(rc == 2 and "no image" in se, f"no image is a usage error ({se.strip()!r})")
    rc, so, se = run(["--help"])
    check(rc == 0 and "--debug-dir" in so and "--json" in so and "--min-confidence" in so, "--help lists the options")

    # -- --debug-dir
    dbg = os.path.join(tmp, "debug", "sub")
    other = os.path.join(imgs, "again")
    os.makedirs(other)
    same_name = write(os.path.join(other, "two.png"), open(two, "rb").read())
    with open(paths[0], "rb") as f:
        rc, so, se = run(["--model", mlp, "--debug-dir", dbg, two, "-", same_name, blank], stdin=f.read())
    check(rc == 0, f"--debug-dir: exit 0 ({se.strip()!r})")
    names = sorted(os.listdir(dbg)) if os.path.isdir(dbg) else []
    want = (["two.png-annotated.png"] + [f"two.png-digit-{i:03d}.png" for i in range(8)]
            + ["stdin-annotated.png"] + [f"stdin-digit-{i:03d}.png" for i in range(len(text))]
            + ["two.png-2-annotated.png"] + [f"two.png-2-digit-{i:03d}.png" for i in range(8)]
            + ["blank.png-annotated.png"])
    check(names == sorted(want), f"--debug-dir writes the digits and the annotated image, named after the file "
          f"(missing {sorted(set(want) - set(names))}, extra {sorted(set(names) - set(want))})")
    if names == sorted(want):
        check(png_dims(os.path.join(dbg, "two.png-digit-000.png")) == (28, 28, 8, 0), "a digit is a 28x28 8-bit grey PNG")
        aw, ah, _, _ = png_dims(os.path.join(dbg, "two.png-annotated.png"))
        check(abs(aw / ah - w2 / h2) < 0.02 and max(aw, ah) >= 512, f"the annotated copy keeps the aspect, enlarged "
              f"to be readable ({aw}x{ah} for {w2}x{h2})")
        # The digit the model saw: white ink on black, centred (MNIST's form).
        with open(os.path.join(dbg, "two.png-digit-000.png"), "rb") as f:
            raw = f.read()
        idat = b""
        pos = 8
        while pos < len(raw):
            n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
            if kind == b"IDAT":
                idat += raw[pos + 8:pos + 8 + n]
            pos += 12 + n
        px = zlib.decompress(idat)
        assert len(px) == 28 * 29
        border = sum(px[r * 29 + 1 + c] for r in range(28) for c in range(28) if min(r, c, 27 - r, 27 - c) < 3)
        centre = max(px[r * 29 + 1 + c] for r in range(8, 20) for c in range(8, 20))
        check(border == 0 and centre > 200, f"a debug digit is white on black inside the 20x20 box (border sum "
              f"{border}, centre max {centre})")
    ro = os.path.join(tmp, "file-not-dir")
    write(ro, b"x")
    rc, so, se = run(["--model", mlp, "--debug-dir", ro, two])
    check(rc == 1 and "debug-dir" in se, f"a --debug-dir that is a file is an error ({se.strip()!r})")
    # A folder that takes no files (root writes anywhere a mode allows; /proc takes nothing) is an
    # error before any image is read, not after each image's reading.
    if os.path.isdir("/proc/self"):
        rc, so, se = run(["--model", mlp, "--json", "--debug-dir", "/proc/self", two])
        check(rc == 1 and so == "" and "not writable" in se, f"a --debug-dir that takes no files is an error before "
              f"any reading ({so.strip()[:80]!r}, {se.strip()!r})")
    rc, so, se = run(["--model", mlp, "--debug-dir", "", two])
    check(rc == 1 and so == "" and "empty folder name" in se, f"an empty --debug-dir is named so ({se.strip()!r})")

    # -- real MNIST test digits, when NN_DATA_DIR has them
    real = os.path.join(os.environ.get("NN_DATA_DIR", ""), "mnist")
    if os.environ.get("NN_DATA_DIR") and os.path.exists(os.path.join(real, "t10k-images-idx3-ubyte.gz")):
        mnist_page(tmp, real)
    else:
        check.note("NN_DATA_DIR/mnist not found: the page of real MNIST digits is not read")


def claims_more(png):
    """png with its header claiming 9000 x 9000 pixels (its checksum mended), its data unchanged."""
    ihdr = bytearray(png[12:29])
    ihdr[4:12] = struct.pack(">II", 9000, 9000)
    return png[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(bytes(ihdr))) + png[33:]


def mnist_page(tmp, real):
    """40 MNIST test digits (never training digits), scaled 2x, dark on light, 4 lines of 10."""
    with gzip.open(os.path.join(real, "t10k-images-idx3-ubyte.gz")) as f:
        images = f.read()
    with gzip.open(os.path.join(real, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = f.read()[8:]
    model = train(real, os.path.join(tmp, "m-real"), os.path.join(tmp, "r-real"), train_limit=20000, epochs=1)
    n_lines, per, s, cell = 4, 10, 2, 60
    w, h = per * cell + 40, n_lines * (cell + 20) + 40
    g = bytearray([230]) * (w * h)
    want = []
    for li in range(n_lines):
        row = ""
        for k in range(per):
            i = li * per + k
            img = images[16 + i * 784:16 + (i + 1) * 784]
            row += str(labels[i])
            ox, oy = 20 + k * cell, 20 + li * (cell + 20)
            for y in range(28 * s):
                for x in range(28 * s):
                    v = img[(y // s) * 28 + x // s]
                    g[(oy + y) * w + ox + x] = int(230 - v * 210 / 255)
        want.append(row)
    p = write(os.path.join(tmp, "mnist-page.png"), png_bytes(w, h, 0, 8, rows_of(g, w, h, 1)))
    rc, so, se = run(["--model", model, p])
    got = lines_of(so).get(p, "").replace("?", "").split(" ")
    right = sum(a == b for gl, wl in zip(got, want) if len(gl) == len(wl) for a, b in zip(gl, wl))
    seg_ok = len(got) == n_lines and all(len(gl) == per for gl in got)
    print(f"note: MNIST page: read {got}, expected {want}: {right}/40 digits right")
    check(rc == 0 and seg_ok, f"real MNIST digits: 4 lines of 10 found ({[len(x) for x in got]})")
    check(right >= 34, f"real MNIST digits: at least 34 of 40 read right by a 1-epoch MLP ({right})")


if __name__ == "__main__":
    sys.exit(main())
