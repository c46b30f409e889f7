#!/usr/bin/env python3
"""The MNIST round trips of docs/onnx.md, on the 10,000 test images (minutes, so not in `meson test`).

  mnist_end_to_end.py opencv ONNX_BRIDGE MODEL.nnm MODEL.onnx
      libnn's predictions of MODEL.nnm against OpenCV's dnn module running MODEL.onnx (its export):
      both accuracies and the number of images where they disagree.
  mnist_end_to_end.py torch OUT.onnx [EPOCHS]
      trains a PyTorch CNN with batch norm on MNIST's training set (seed 0), prints its test
      accuracy and exports it (opset 13) for `nn-mnist import` and `nn-mnist eval`.

MNIST comes from $NN_DATA_DIR/mnist (IDX, gzip or not). Needs Debian's python3-numpy, python3-opencv,
python3-torch.
"""
import gzip
import os
import sys

import numpy as np


def idx(name):
    root = os.path.join(os.environ.get("NN_DATA_DIR", "data"), "mnist")
    for suffix in ("", ".gz"):
        path = os.path.join(root, name + suffix)
        if os.path.exists(path):
            with (gzip.open if suffix else open)(path, "rb") as f:
                data = f.read()
            offset = 16 if "images" in name else 8
            a = np.frombuffer(data, dtype=np.uint8, offset=offset)
            return a.reshape(-1, 28, 28) if "images" in name else a
    sys.exit("no %s in %s" % (name, root))


def opencv(bridge, nnm, onnx_path):
    import subprocess
    import tempfile

    import cv2
    x = idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0
    y = idx("t10k-labels-idx1-ubyte")
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
        x.astype("<f4").tofile(fin)
        subprocess.run([bridge, "forward", nnm, fin, fout], check=True)
        libnn = np.fromfile(fout, dtype="<f4").reshape(len(x), -1)
    net = cv2.dnn.readNetFromONNX(onnx_path)
    outs = []
    for i in range(0, len(x), 500):
        net.setInput(np.ascontiguousarray(x[i:i + 500].reshape(-1, 1, 28, 28)))
        outs.append(net.forward().copy())
    cv = np.concatenate(outs)
    print("test images:            %d" % len(x))
    print("libnn accuracy:         %.4f" % (libnn.argmax(1) == y).mean())
    print("OpenCV dnn accuracy:    %.4f" % (cv.argmax(1) == y).mean())
    print("predictions that differ: %d" % int((libnn.argmax(1) != cv.argmax(1)).sum()))
    print("max |logit difference|: %.3g" % float(np.abs(libnn - cv).max()))


def torch_train(out, epochs):
    import torch
    from torch import nn
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x = torch.from_numpy(idx("train-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
    xt = torch.from_numpy(idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 5 * 5, 10))
    opt = torch.optim.Adam(model.parameters())
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            idxs = perm[i:i + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print("PyTorch test accuracy: %.4f (%d epochs)" % (acc, epochs))
    torch.onnx.export(model, xt[:2], out, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    print("exported to %s" % out)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "opencv":
        opencv(*sys.argv[2:])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "torch":
        torch_train(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 1)
    else:
        sys.exit(__doc__)
