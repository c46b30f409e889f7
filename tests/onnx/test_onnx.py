#!/usr/bin/env python3
"""libnn's ONNX export and import against independent implementations (docs/onnx.md).

Usage (meson runs it): test_onnx.py ONNX_BRIDGE onnx|no-onnx

- every exported model passes onnx.checker.check_model (full check, with shape inference);
- every exported model run by OpenCV's dnn module (cv2.dnn.readNetFromONNX) and by a small numpy
  interpreter written here from the ONNX operator specifications gives libnn's outputs within 1e-4,
  on real MNIST test images for the MLP and the CNN (NN_DATA_DIR/mnist, else random images, said so);
- PyTorch models (MLP; CNNs with batch norm, average and global pooling; every activation) exported by
  torch.onnx.export at opset 13 (and 14, and with batch norm kept apart from the convolutions), imported into libnn, give
  PyTorch's outputs within 1e-4;
- export then import gives the same outputs and predictions;
- unsupported operators, damaged files and absurd shapes are refused with a message, never a crash.

Exit status 77 (skipped, with the reason) without ONNX in the build or without numpy, onnx, cv2
(python3-opencv) or torch (python3-torch): Debian's /usr/bin/python3 has them once installed.
"""
import gzip
import math
import os
import subprocess
import sys
import tempfile

SKIP = 77
TOL = 1e-4


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


# --------------------------------------------------------------------------- the bridge

class Bridge:
    def __init__(self, path, tmp):
        self.path, self.tmp, self.n = path, tmp, 0

    def file(self, suffix):
        self.n += 1
        return os.path.join(self.tmp, "f%d%s" % (self.n, suffix))

    def run(self, *args, expect_ok=True):
        p = subprocess.run([self.path] + list(args), capture_output=True, text=True, timeout=300)
        if p.returncode < 0:
            fail("onnx_bridge %s died of signal %d\n%s" % (" ".join(args), -p.returncode, p.stderr))
        if expect_ok and p.returncode != 0:
            fail("onnx_bridge %s: %s" % (" ".join(args), p.stderr.strip()))
        return p

    def make(self, kind, seed):
        out = self.file(".nnm")
        self.run("make", kind, str(seed), out)
        return out

    def export(self, nnm, softmax=False):
        out = self.file(".onnx")
        self.run("export", nnm, out, *(["softmax"] if softmax else []))
        return out

    def import_(self, onnx_path):
        out = self.file(".nnm")
        self.run("import", onnx_path, out)
        return out

    def forward(self, model, x):
        """libnn's outputs for rows x (channels last), through a .nnm or an .onnx file."""
        import numpy as np
        fin, fout = self.file(".f32"), self.file(".f32")
        np.ascontiguousarray(x, dtype="<f4").tofile(fin)
        self.run("forward", model, fin, fout)
        return np.fromfile(fout, dtype="<f4").reshape(len(x), -1)


# --------------------------------------------------------------------------- data

def mnist_images(n):
    """n MNIST test images in [0, 1], (n, 28, 28, 1), and whether they are real."""
    import numpy as np
    root = os.environ.get("NN_DATA_DIR", "")
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        path = os.path.join(root, "mnist", name)
        if root and os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            images = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 28, 28, 1)
            return images[:n].astype(np.float32) / 255.0, True
    rng = np.random.default_rng(1)
    return rng.random((n, 28, 28, 1), dtype=np.float32), False


# --------------------------------------------------------------------------- a reference interpreter

def run_numpy(model, x_nchw):
    """Runs an ONNX graph of the subset libnn writes, in float64, from the operator specifications."""
    import numpy as np
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x_nchw.astype(np.float64)
    erf = np.vectorize(math.erf)

    def attrs(node):
        from onnx import helper
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def windows(x, k, s, pads, fill):
        n, c, h, w = x.shape
        xp = np.full((n, c, h + pads[0] + pads[2], w + pads[1] + pads[3]), fill)
        xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
        oh, ow = (xp.shape[2] - k[0]) // s[0] + 1, (xp.shape[3] - k[1]) // s[1] + 1
        for i in range(k[0]):
            for j in range(k[1]):
                yield i, j, xp[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]]

    for node in model.graph.node:
        a = attrs(node)
        ins = [env[i] for i in node.input if i]
        op = node.op_type
        if op == "Gemm":
            b = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * ins[0] @ b + (a.get("beta", 1.0) * ins[2] if len(ins) > 2 else 0)
        elif op == "Conv":
            w = ins[1]
            y = 0
            for i, j, xs in windows(ins[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0] * 4), 0.0):
                y = y + np.einsum("nchw,fc->nfhw", xs, w[:, :, i, j])
            if len(ins) > 2:
                y = y + ins[2].reshape(1, -1, 1, 1)
        elif op == "MaxPool":
            y = None
            for _, _, xs in windows(ins[0], a["kernel_shape"], a["strides"], a.get("pads", [0] * 4), -np.inf):
                y = xs if y is None else np.maximum(y, xs)
        elif op == "AveragePool":
            assert a.get("count_include_pad", 0) == 0
            total, count = 0, 0
            ones = np.ones_like(ins[0])
            k, s, p = a["kernel_shape"], a["strides"], a.get("pads", [0] * 4)
            for (_, _, xs), (_, _, cs) in zip(windows(ins[0], k, s, p, 0.0), windows(ones, k, s, p, 0.0)):
                total, count = total + xs, count + cs
            y = total / count
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Transpose":
            y = ins[0].transpose(a["perm"])
        elif op == "BatchNormalization":
            x, g, b, m, v = ins
            shape = (1, -1) + (1,) * (x.ndim - 2)
            y = (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + a.get("epsilon", 1e-5)) * g.reshape(shape) \
                + b.reshape(shape)
        elif op in ("Dropout", "Identity"):
            y = ins[0]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-ins[0]))
        elif op == "Tanh":
            y = np.tanh(ins[0])
        elif op == "LeakyRelu":
            y = np.where(ins[0] > 0, ins[0], a.get("alpha", 0.01) * ins[0])
        elif op == "Elu":
            y = np.where(ins[0] > 0, ins[0], a.get("alpha", 1.0) * (np.exp(ins[0]) - 1))
        elif op == "Selu":
            al, ga = a.get("alpha", 1.6732632423543772), a.get("gamma", 1.0507009873554805)
            y = ga * np.where(ins[0] > 0, ins[0], al * (np.exp(ins[0]) - 1))
        elif op == "Softplus":
            y = np.logaddexp(0, ins[0])
        elif op == "Erf":
            y = erf(ins[0])
        elif op in ("Add", "Mul", "Div"):
            y = {"Add": np.add, "Mul": np.multiply, "Div": np.divide}[op](ins[0], ins[1])
        elif op == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=-1, keepdims=True))
            y = e / e.sum(axis=-1, keepdims=True)
        else:
            fail("the numpy interpreter has no %s (node %s)" % (op, node.name))
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


def compare(what, got, want, tol=TOL):
    import numpy as np
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        fail("%s: shapes %s and %s" % (what, got.shape, want.shape))
    diff = float(np.max(np.abs(got - want)))
    if not diff <= tol:
        fail("%s: outputs differ by %.3g (tolerance %g)" % (what, diff, tol))
    print("ok   %-58s max |diff| %.2e" % (what, diff))
    return diff


def nchw(x):
    return x.transpose(0, 3, 1, 2) if x.ndim == 4 else x


# --------------------------------------------------------------------------- libnn -> ONNX

def test_exports(bridge, images, real):
    import cv2
    import numpy as np
    import onnx
    rng = np.random.default_rng(7)
    inputs = {
        "mlp": images.reshape(len(images), 784),
        "cnn": images,
        "every": rng.uniform(-1, 1, (64, 12, 12, 3)).astype(np.float32),
        "gap": rng.uniform(-1, 1, (64, 10, 10, 2)).astype(np.float32),
        "mse": rng.uniform(-1, 1, (64, 5)).astype(np.float32),
    }
    for kind, x in inputs.items():
        nnm = bridge.make(kind, 42)
        ref = bridge.forward(nnm, x.reshape(len(x), -1))
        for softmax in (False, True):
            path = bridge.export(nnm, softmax)
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            tag = "%s%s" % (kind, " + softmax" if softmax else "")
            meta = {p.key: p.value for p in model.metadata_props}
            if "libnn.version" not in meta or "libnn.loss" not in meta:
                fail("%s: metadata_props %s" % (tag, meta))
            want = ref
            if softmax and kind != "mse":
                e = np.exp(ref - ref.max(axis=1, keepdims=True))
                want = e / e.sum(axis=1, keepdims=True)
            print("ok   %-58s onnx.checker (full)" % tag)
            compare("%s: numpy interpreter vs libnn" % tag, run_numpy(model, nchw(x)), want)
            net = cv2.dnn.readNetFromONNX(path)
            net.setInput(np.ascontiguousarray(nchw(x)))
            compare("%s: OpenCV dnn vs libnn%s" % (tag, "" if real or kind not in ("mlp", "cnn") else
                                                   " (random images)"), net.forward(), want)
            back = bridge.import_(path)
            got = bridge.forward(back, x.reshape(len(x), -1))
            compare("%s: export then import vs libnn" % tag, got, ref, 1e-6)
            if kind != "mse" and not (got.argmax(1) == ref.argmax(1)).all():
                fail("%s: predictions differ after export and import" % tag)


# --------------------------------------------------------------------------- PyTorch -> libnn

def torch_models():
    import torch
    from torch import nn
    torch.manual_seed(0)

    class Cnn(nn.Module):
        def __init__(self, final_softmax=False):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                nn.Linear(32, 10))
            self.final_softmax = final_softmax

        def forward(self, x):
            y = self.body(x)
            return torch.softmax(y, 1) if self.final_softmax else y

    acts = nn.Sequential(
        nn.Conv2d(1, 6, 5, stride=2, padding=2), nn.GELU(), nn.Conv2d(6, 6, 3), nn.SiLU(),
        nn.MaxPool2d(2, stride=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(6, 24), nn.GELU(approximate="tanh"), nn.Linear(24, 24), nn.ELU(0.7), nn.LeakyReLU(0.1),
        nn.Linear(24, 16), nn.Softplus(), nn.SELU(), nn.Sigmoid(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 10))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return [("mlp", mlp, False), ("cnn+bn", Cnn(), False), ("cnn+bn+softmax", Cnn(True), True),
            ("activations", acts, False)]


def test_torch_imports(bridge, images):
    import numpy as np
    import torch
    x = torch.from_numpy(np.ascontiguousarray(nchw(images)))
    for name, model, softmax in torch_models():
        # A few training-mode passes give batch norm non-trivial running statistics.
        model.train()
        with torch.no_grad():
            for i in range(4):
                model(x[i * 32:(i + 1) * 32] * (1 + 0.5 * i))
        model.eval()
        with torch.no_grad():
            want = model(x).numpy()
            if softmax:
                model.final_softmax = False
                want = model(x).numpy()  # libnn drops the final Softmax: its outputs are logits
                model.final_softmax = True
        # Eval-mode exports fold Conv + BatchNorm2d into the Conv; TrainingMode.PRESERVE on the eval model
        # keeps BatchNormalization nodes on images (and Identity nodes on shared initializers).
        for opset, folding in ((13, True), (13, False), (14, True)):
            path = bridge.file(".onnx")
            mode = torch.onnx.TrainingMode.EVAL if folding else torch.onnx.TrainingMode.PRESERVE
            torch.onnx.export(model, x[:2], path, opset_version=opset, do_constant_folding=folding, training=mode,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
            nnm = bridge.import_(path)
            got = bridge.forward(nnm, images.reshape(len(images), -1))
            compare("PyTorch %s (opset %d%s) imported vs PyTorch" % (name, opset, "" if folding else ", batch norm kept"),
                    got, want)


# --------------------------------------------------------------------------- refusals

def test_refusals(bridge):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    def graph_model(nodes, inits, out_dim=3, opset=13):
        g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", out_dim])], inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])

    def refused(what, model_bytes, *needles):
        path = bridge.file(".onnx")
        with open(path, "wb") as f:
            f.write(model_bytes)
        p = bridge.run("import", path, bridge.file(".nnm"), expect_ok=False)
        if p.returncode != 1:
            fail("%s: import exited with %d, expected a refusal (1)\n%s" % (what, p.returncode, p.stderr))
        for needle in needles:
            if needle not in p.stderr:
                fail("%s: the message does not name %r: %s" % (what, needle, p.stderr.strip()))
        print("ok   refused: %-49s %s" % (what, p.stderr.strip().split(": ", 2)[-1][:90]))

    w = helper.make_tensor("W", TensorProto.FLOAT, [3, 4], np.ones(12, np.float32))
    b = helper.make_tensor("b", TensorProto.FLOAT, [3], np.zeros(3, np.float32))
    gemm = helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc", transB=1)
    ok = graph_model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc", transB=1)], [w, b])
    onnx.checker.check_model(ok)
    bridge.import_(bridge_write(bridge, ok.SerializeToString()))
    # MatMul + Add (other exporters' dense layer) is accepted, and computes x W + b.
    wm = np.random.default_rng(5).normal(size=(4, 3)).astype(np.float32)
    mm = graph_model([helper.make_node("MatMul", ["x", "Wm"], ["h"], name="mm"),
                      helper.make_node("Add", ["bm", "h"], ["y"], name="bias")],
                     [helper.make_tensor("Wm", TensorProto.FLOAT, [4, 3], wm.ravel()),
                      helper.make_tensor("bm", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0])])
    onnx.checker.check_model(mm)
    xm = np.random.default_rng(6).normal(size=(9, 4)).astype(np.float32)
    compare("MatMul + Add imported vs numpy", bridge.forward(bridge.import_(bridge_write(bridge, mm.SerializeToString())),
                                                            xm), xm @ wm + np.array([0.5, -1.0, 2.0]))
    refused("an unsupported operator", graph_model([gemm, helper.make_node("Cos", ["h"], ["y"], name="mystery")],
                                                  [w, b]).SerializeToString(), "mystery", "Cos")
    refused("weights of the wrong shape", graph_model([gemm, helper.make_node("Relu", ["h"], ["y"], name="r")], [
        helper.make_tensor("W", TensorProto.FLOAT, [3, 5], np.ones(15, np.float32)), b]).SerializeToString(), "fc")
    huge = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40])  # and no data
    refused("absurd shapes (2^40 x 2^40)", graph_model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc")],
                                                      [huge, b]).SerializeToString(), "absurd")
    short = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], raw_data=b"\0" * 47)
    refused("raw data shorter than the shape", graph_model([helper.make_node("Gemm", ["x", "W", "b"], ["y"],
                                                                             name="fc", transB=1)],
                                                           [short, b]).SerializeToString(), "raw data")
    few = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[3, 4], float_data=[1.0] * 11)
    refused("float_data shorter than the shape", graph_model([helper.make_node("Gemm", ["x", "W", "b"], ["y"],
                                                                               name="fc", transB=1)],
                                                             [few, b]).SerializeToString(), "values")
    refused("a newer opset", graph_model([helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc", transB=1)],
                                         [w, b], opset=99).SerializeToString(), "opset")
    good = ok.SerializeToString()
    refused("a truncated file", good[:len(good) // 2])
    refused("random bytes", np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    refused("an empty file", b"")


def bridge_write(bridge, data):
    path = bridge.file(".onnx")
    with open(path, "wb") as f:
        f.write(data)
    return path


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    bridge_path, flavour = sys.argv[1], sys.argv[2]
    if flavour != "onnx":
        print("SKIP: libnn was built without ONNX (meson -Donnx=enabled needs libprotobuf-c-dev, "
              "protobuf-c-compiler and libonnx-dev)")
        return SKIP
    missing = []
    for module, package in (("numpy", "python3-numpy"), ("onnx", "python3-onnx"), ("cv2", "python3-opencv"),
                            ("torch", "python3-torch")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        print("SKIP: %s lacks %s (apt-get install %s)" % (sys.executable, ", ".join(missing), " ".join(missing)))
        return SKIP
    images, real = mnist_images(256)
    print("data: %s" % ("256 MNIST test images from $NN_DATA_DIR/mnist" if real else
                        "random images (set NN_DATA_DIR to a folder with mnist/ for real ones)"))
    with tempfile.TemporaryDirectory(prefix="nn-onnx-") as tmp:
        bridge = Bridge(bridge_path, tmp)
        test_exports(bridge, images, real)
        test_torch_imports(bridge, images)
        test_refusals(bridge)
    print("all ONNX checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
