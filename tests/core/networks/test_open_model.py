"""PyTorch networks: torch.export .pt2 files (read with zip and JSON, never unpickled), a
torch.nn.Module in memory (cnnviz.open_model), and cnnviz.show from a script; pickles and
TorchScript are refused in words without being opened."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnnviz
from cnnviz.core.networks.torch_graph import TorchGraphError
from cnnviz.core.networks.weights import WeightsError, load_weights

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "torch"


class Residual(nn.Module):
    """A small graph: a residual add, batch norm, two branches joined, global pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 6, 3, padding=1)
        self.inner = nn.Conv2d(6, 6, 3, padding=1, groups=2)
        self.bn = nn.BatchNorm2d(6)
        self.left = nn.Conv2d(6, 4, 1)
        self.right = nn.Conv2d(6, 4, 3, padding=2, dilation=2)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.bn(x + self.inner(x))
        x = F.max_pool2d(F.gelu(x), 2)
        x = torch.cat([F.silu(self.left(x)), torch.tanh(self.right(x))], dim=1)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


def test_a_torch_export_file_agrees_with_pytorch():
    loaded = load_weights(FIXTURES / "examples.pt2")
    ref = np.load(FIXTURES / "examples.npz")
    x = ref["__input__"] * float(loaded.model.input_std) + float(loaded.model.input_mean)
    with torch.no_grad():
        ours = torch.log_softmax(loaded.model(torch.from_numpy(x.astype(np.float32))), 1)
    np.testing.assert_allclose(ours.numpy(), ref["__output__"], atol=1e-4)
    assert loaded.card["input_scale"] == "mnist"  # worked out, as pytorch/examples feeds it
    trace = dict(loaded.model.trace(x[0]))
    np.testing.assert_allclose(trace["conv1"], ref["conv1"][0], atol=1e-4)


def test_a_module_in_memory_is_every_layer_of_it():
    torch.manual_seed(0)
    module = Residual().eval()
    with torch.no_grad():  # batch norm with statistics of its own
        module.bn.running_mean.uniform_(-0.5, 0.5)
        module.bn.running_var.uniform_(0.5, 2.0)
    net = cnnviz.open_model(module)
    x = torch.rand(6, 1, 28, 28)
    with torch.no_grad():
        np.testing.assert_allclose(net(x).numpy(), module(x).numpy(), atol=1e-5)
    kinds = [i.kind for i in net.layer_infos]
    assert kinds.count("add") == 1 and kinds.count("concat") == 1 and "globalpool" in kinds
    # its weights were copied: training the module further does not change what is shown
    with torch.no_grad():
        module.stem.weight.add_(1.0)
    assert not torch.equal(net.layers["conv1"].weight, module.stem.weight)


def test_a_module_using_an_op_outside_the_list_is_refused_by_name():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(784, 10)

        def forward(self, x):
            return self.fc(torch.flatten(x, 1).pow(2))

    with pytest.raises(TorchGraphError, match="aten.pow"):
        cnnviz.open_model(Odd())


def _archive_with(change) -> bytes:
    with zipfile.ZipFile(FIXTURES / "examples.pt2") as z:
        files = {n: z.read(n) for n in z.namelist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def _reads_a_file(files):
    """The graph's first relu replaced by aten.from_file, an op that reads a file."""
    key = "examples/models/model.json"
    program = json.loads(files[key])
    node = next(n for n in program["graph_module"]["graph"]["nodes"] if "relu" in n["target"])
    node["target"] = "torch.ops.aten.from_file.default"
    files[key] = json.dumps(program).encode()


def _pickled_weight(files):
    key = "examples/data/weights/model_weights_config.json"
    config = json.loads(files[key])
    next(iter(config["config"].values()))["use_pickle"] = True
    files[key] = json.dumps(config).encode()


@pytest.mark.parametrize("change, words", [
    (_reads_a_file, "aten.from_file, which cnnviz does not read"),
    (_pickled_weight, "is pickled; cnnviz never unpickles"),
])
def test_a_pt2_file_is_checked_before_anything_runs(change, words, tmp_path):
    path = tmp_path / "changed.pt2"
    path.write_bytes(_archive_with(change))
    with pytest.raises(WeightsError, match=words):
        load_weights(path)


class _Marker:
    """Unpickling this would create a file (what a hostile pickle does, harmlessly)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_pickles_are_refused_without_being_opened(kind, tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "model.pt"
    if kind == "pickle":
        path.write_bytes(pickle.dumps(_Marker(marker)))
    else:
        torch.save({"weights": torch.zeros(3), "payload": _Marker(marker)}, path)
    with pytest.raises(WeightsError, match="never opens: unpickling can run code"):
        load_weights(path)
    assert not marker.exists()


def test_show_opens_the_window_on_a_module_and_returns_when_it_closes(qapp, settings_sandbox):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from cnnviz.ui.window.main_window import MainWindow

    seen = {}

    def close_it():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
                   and w.isVisible()]
        if not windows or windows[0].state.model is None:
            QTimer.singleShot(100, close_it)
            return
        seen["model"] = windows[0].state.model.name
        windows[0].close()

    QTimer.singleShot(100, close_it)
    torch.manual_seed(0)
    cnnviz.show(Residual().eval())
    assert seen["model"] == "Residual"


def test_a_keras_model_in_memory_opens_through_its_own_save():
    keras = pytest.importorskip("keras")  # (not a dependency of cnnviz or its tests)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    net = cnnviz.open_model(model)
    x = np.random.default_rng(0).random((2, 28, 28, 1), np.float32)
    with torch.no_grad():
        ours = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(ours, np.asarray(model(x)), atol=1e-4)


def test_every_kind_of_model_file_is_opened_by_its_content(tmp_path):
    from cnnviz.core.networks.file_kinds import file_kind, open_as

    for name in ("examples.pt2", "examples.pt", "examples.onnx", "graph.onnx"):
        copy = tmp_path / "no-suffix"
        copy.write_bytes((FIXTURES / name).read_bytes())
        assert file_kind(copy) == "model" and open_as(copy) == "model", name
        assert load_weights(copy).model.layer_infos, name


def test_a_torchscript_file_agrees_with_pytorch():
    loaded = load_weights(FIXTURES / "examples.pt")
    ref = np.load(FIXTURES / "examples.npz")
    x = ref["__input__"] * float(loaded.model.input_std) + float(loaded.model.input_mean)
    with torch.no_grad():
        ours = torch.log_softmax(loaded.model(torch.from_numpy(x.astype(np.float32))), 1)
    np.testing.assert_allclose(ours.numpy(), ref["__output__"], atol=1e-4)
    assert [i.kind for i in loaded.model.layer_infos][:2] == ["conv", "activation"]


class _ReadsAFile(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        secret = torch.from_file("/etc/hostname", False, 1, dtype=torch.uint8)
        return self.fc(torch.flatten(x, 1)) + secret.float().sum()


def test_a_torchscript_graph_that_reads_a_file_is_refused_before_it_runs(tmp_path, monkeypatch):
    path = tmp_path / "reads.pt"
    torch.jit.script(_ReadsAFile()).save(str(path))
    ran = []
    monkeypatch.setattr(torch.jit, "freeze", lambda *a, **k: ran.append(1))  # (never reached)
    with pytest.raises(WeightsError, match="aten::from_file"):
        load_weights(path)
    assert not ran
