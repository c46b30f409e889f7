#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_onnx.c: fuzz/corpus-onnx/.

Usage: make_corpus.py ONNX_BRIDGE OUT_DIR   (Debian's python3 with python3-onnx and python3-torch)

Small models only (libFuzzer mutates whole inputs): libnn's exports of the test models "every", "gap"
and "mse" (every layer kind and activation), and PyTorch's exports of a small CNN with batch norm, of
every activation, and of a MatMul + Add MLP, as exported (batch norm folded into the convolutions) and with batch norm kept.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch import nn


def main():
    bridge, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("every", "gap", "mse"):
            nnm = os.path.join(tmp, kind + ".nnm")
            subprocess.run([bridge, "make", kind, "1", nnm], check=True)
            subprocess.run([bridge, "export", nnm, os.path.join(out, "libnn-%s.onnx" % kind)], check=True)
        subprocess.run([bridge, "export", os.path.join(tmp, "gap.nnm"), os.path.join(out, "libnn-gap-softmax.onnx"),
                        "softmax"], check=True)
    torch.manual_seed(0)
    models = {
        "torch-cnn-bn": (nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                                       nn.AvgPool2d(2, padding=1, count_include_pad=False), nn.Flatten(),
                                       nn.Linear(2 * 2 * 2, 3), nn.Softmax(1)), (1, 1, 8, 8)),
        "torch-acts": (nn.Sequential(nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 4), nn.GELU(approximate="tanh"),
                                     nn.SiLU(), nn.ELU(), nn.LeakyReLU(0.1), nn.Softplus(), nn.SELU(), nn.Sigmoid(),
                                     nn.Tanh(), nn.Dropout(0.2), nn.Linear(4, 2)), (1, 4)),
        "torch-gap": (nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                    nn.BatchNorm1d(3), nn.Linear(3, 2)), (2, 2, 6, 6)),
    }
    for name, (model, shape) in models.items():
        model.eval()
        for folding in (True, False):
            path = os.path.join(out, "%s%s.onnx" % (name, "" if folding else "-nofold"))
            mode = torch.onnx.TrainingMode.EVAL if folding else torch.onnx.TrainingMode.PRESERVE
            torch.onnx.export(model, torch.randn(*shape), path, opset_version=13, do_constant_folding=folding,
                              training=mode,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    # MatMul + Add, as other exporters write a dense layer.
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"), helper.make_node("Add", ["h", "b"], ["a"], name="bias"),
         helper.make_node("Relu", ["a"], ["y"], name="relu")], "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor("W", TensorProto.FLOAT, [4, 3], np.arange(12, dtype=np.float32) / 10),
         helper.make_tensor("b", TensorProto.FLOAT, [3], np.ones(3, np.float32))])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "matmul-add.onnx"))


if __name__ == "__main__":
    main()
