"""Make the PyTorch test fixtures: small networks exported by PyTorch itself to ONNX
(torch.onnx.export), TorchScript (torch.jit.script) and torch.export, with the framework's
own outputs beside them, so cnnviz's readers are checked against what made the files (the
tests never need onnxruntime or onnxscript).

Not part of cnnviz: run it in its own environment (made with torch 2.13.0, onnx 1.23.2,
onnxscript and onnxruntime 1.32.0, Python 3.11, CPU):

    python -m venv /tmp/onnxenv && /tmp/onnxenv/bin/pip install torch onnx onnxscript onnxruntime
    CNNVIZ_DATA_DIR=../shared/data /tmp/onnxenv/bin/python scripts/make_torch_fixtures.py

Writes tests/data/torch/NAME.onnx (and NAME.pt, NAME.pt2 for the examples network) and
NAME.npz: the inputs as the network takes them (`__input__`; MNIST-normalised for the
examples network, as pytorch/examples feeds it), the final output on all of them
(`__output__`, and `__onnxruntime__`: onnxruntime's on the ONNX file), each module's
output on the first few (`__layers_input__`, keyed by module name) and `__accuracy__`
(the network's accuracy on the 10,000 MNIST test digits).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "torch"
DATA = Path(os.environ.get("CNNVIZ_DATA_DIR", "../shared/data")) / "mnist"
MEAN, STD = 0.1307, 0.3081  # pytorch/examples' transforms.Normalize
LAYERS_ON = 3


def idx(name: str, offset: int) -> np.ndarray:
    return np.frombuffer(gzip.open(DATA / name).read(), np.uint8, offset=offset)


class Examples(nn.Module):
    """pytorch/examples' MNIST network (mnist/main.py), narrower so the files stay small:
    8 and 16 filters instead of 32 and 64, 32 hidden units instead of 128."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(2304, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class Graph(nn.Module):
    """A residual block (add), batch norm, two branches joined (cat), global average
    pooling and leaky ReLU, sigmoid and tanh: the graph ops of ONNX files."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 6, 3, padding=1)
        self.inner = nn.Conv2d(6, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.AvgPool2d(2)
        self.left = nn.Conv2d(6, 4, 1)
        self.right = nn.Conv2d(6, 4, 3, padding=1, stride=1)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.bn(x + self.inner(x))
        x = self.pool(F.leaky_relu(x, 0.1))
        x = torch.cat([torch.sigmoid(self.left(x)), torch.tanh(self.right(x))], dim=1)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


def train(model, x, y, epochs=1):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            b = order[i:i + 64]
            loss = F.cross_entropy(model(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def module_outputs(model, x) -> dict:
    """Each named module's output on x (forward hooks): the framework's per-layer outputs."""
    out, hooks = {}, []
    for name, module in model.named_modules():
        if name and not list(module.children()):
            hooks.append(module.register_forward_hook(
                lambda _m, _i, o, name=name: out.__setitem__(name, o.detach().numpy().copy())))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return out


def reference(model, x: torch.Tensor, onnx_path: Path) -> dict:
    import onnxruntime

    some = torch.cat([x[:LAYERS_ON - 1], x[-1:]])
    with torch.no_grad():
        data = {"__input__": x.numpy(), "__output__": model(x).numpy(),
                "__layers_input__": some.numpy()}
    data.update(module_outputs(model, some))
    session = onnxruntime.InferenceSession(str(onnx_path))
    name = session.get_inputs()[0].name
    batch = session.get_inputs()[0].shape[0]
    if isinstance(batch, int):  # a fixed batch: one picture at a time
        ort = np.concatenate([session.run(None, {name: x[i:i + batch].numpy()})[0]
                              for i in range(0, len(x), batch)])
    else:
        ort = session.run(None, {name: x.numpy()})[0]
    data["__onnxruntime__"] = ort
    return data


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
                         .astype(np.float32) / 255)
    y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
                          .astype(np.float32) / 255)
    yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    noise = torch.from_numpy(np.random.default_rng(0).random((10, 1, 28, 28), np.float32))
    probe = torch.cat([xt[:100], noise])
    for name, make, normalise in (("examples", Examples, True), ("graph", Graph, False)):
        torch.manual_seed(0)
        model = make()
        prep = (lambda a: (a - MEAN) / STD) if normalise else (lambda a: a)
        train(model, prep(x[:20000]), y[:20000])
        with torch.no_grad():
            accuracy = float((model(prep(xt)).argmax(1) == yt).float().mean())
        example = prep(probe[:1])
        path = OUT / f"{name}.onnx"
        if name == "examples":  # a dynamic batch, the default exporter
            torch.onnx.export(model, (example,), path, input_names=["input"],
                              dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True,
                              external_data=False)
            torch.jit.script(model).save(str(OUT / f"{name}.pt"))
            torch.export.save(torch.export.export(model, (example,)), str(OUT / f"{name}.pt2"))
        else:  # a fixed batch of 1, the older exporter
            torch.onnx.export(model, (example,), path, input_names=["input"], dynamo=False)
        data = reference(model, prep(probe), path)
        data["__accuracy__"] = np.float64(accuracy)
        np.savez_compressed(OUT / f"{name}.npz", **data)
        size = sum(p.numel() for p in model.parameters())
        print(f"{name}: accuracy {accuracy:.4f}, {size:,} parameters, "
              f"onnxruntime vs torch {np.abs(data['__onnxruntime__'] - data['__output__']).max():.2e}")


if __name__ == "__main__":
    main()
