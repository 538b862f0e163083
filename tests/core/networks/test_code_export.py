"""An architecture exported as PyTorch code runs (the test runs it) with the editor's parameter
count and every output shape; exported as Keras code it reads back, with cnnviz's own
reader, to the same architecture; both against torch modules built here by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.core.networks.arch_text import check_layers, parse_architecture, total_parameters
from cnnviz.core.networks.code_export import CodeExportError, keras_code, pytorch_code
from cnnviz.core.networks.keras_code import read_keras_code
from cnnviz.core.networks.models import ARCHITECTURES, Architecture, Conv, Dense, Flatten, Network

# Every kind of layer the editor builds, with strides, padding, odd kernels, min pooling.
TEXTS = [
    "conv 8 3x5 stride=2 pad=1x2, leaky_relu, bn, avgpool 2, flatten, dense 16, elu, "
    "dropout 0.3, dense 10",
    "conv 6 5 pad=2 bias=no, bn eps=0.001, tanh, maxpool 3 stride=2, conv 12 3 pad=1, "
    "sigmoid, flatten, dense 10, softmax",
    "conv 4 4 stride=2 pad=1, relu, conv 4 1, flatten, bn, dense 10",
]


def _run(code: str) -> nn.Module:
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # the test's own reference run
    return namespace["model"]


@pytest.mark.parametrize("arch", [*ARCHITECTURES.values(),
                                  *(parse_architecture(t) for t in TEXTS)],
                         ids=[*ARCHITECTURES, "mixed", "odd-kernels", "bn-after-flatten"])
def test_exported_pytorch_code_runs_with_the_editors_counts_and_shapes(arch):
    code = pytorch_code(arch)
    model = _run(code).eval()
    checks = check_layers(arch)
    assert sum(p.numel() for p in model.parameters()) == total_parameters(checks)
    x = torch.rand(3, *arch.input_shape)
    assert tuple(model(x).shape) == (3, 10)
    # the shape written after each step of forward is the editor's
    written = [line.split("# (B, ")[1].rstrip(")") for line in code.splitlines()
               if "# (B, " in line and "def forward" not in line]
    assert written == [", ".join(map(str, c.output_shape)) for c in checks]
    # the editor's own torch module has as many parameters, tensor by tensor
    own = sorted(tuple(p.shape) for p in Network(arch).parameters())
    assert sorted(tuple(p.shape) for p in model.parameters()) == own


def test_the_lecture_model_as_pytorch_matches_a_hand_built_one():
    model = _run(pytorch_code(ARCHITECTURES["lecture-keras"]))
    reference = nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(1600, 10), nn.Softmax(dim=1))
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {"conv1.weight": (64, 1, 3, 3), "conv1.bias": (64,),
                      "conv2.weight": (64, 64, 3, 3), "conv2.bias": (64,),
                      "fc1.weight": (10, 1600), "fc1.bias": (10,)}
    # the same weights give the same answers as the hand-built network
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), reference.parameters()):
            mine.copy_(theirs)
        x = torch.rand(4, 1, 28, 28)
        torch.testing.assert_close(model(x), reference(x))


@pytest.mark.parametrize("arch", [*ARCHITECTURES.values(),
                                  parse_architecture(TEXTS[1]), parse_architecture(TEXTS[2])],
                         ids=[*ARCHITECTURES, "odd-kernels", "bn-after-flatten"])
def test_exported_keras_code_reads_back_to_the_same_architecture(arch):
    reading = read_keras_code(keras_code(arch))
    back = reading.architecture
    assert back.layers == arch.layers
    assert back.input_shape == arch.input_shape
    assert back.input_mean == pytest.approx(arch.input_mean)
    assert back.input_std == pytest.approx(arch.input_std)
    assert reading.trainable_parameters == total_parameters(check_layers(arch))


def test_the_lecture_model_as_keras_code_is_the_lectures():
    code = keras_code(ARCHITECTURES["lecture-keras"])
    assert ("model = keras.Sequential([\n"
            "    layers.Conv2D(64, (3, 3), activation='relu', input_shape=(28, 28, 1)),\n"
            "    layers.MaxPooling2D((2, 2)),\n"
            "    layers.Conv2D(64, (3, 3), activation='relu'),\n") in code
    assert "layers.Dense(10, activation='softmax'),\n])" in code
    assert "53,578 parameters" in code


def test_what_the_export_cannot_say_is_a_message():
    with pytest.raises(CodeExportError, match="Keras has no min pooling"):
        keras_code(parse_architecture("conv 4 3, minpool 2, flatten, dense 10"))
    assert "-F.max_pool2d(-x, 2)" in pytorch_code(
        parse_architecture("conv 4 3, minpool 2, flatten, dense 10"))
    joined = Architecture("joined", "", (Conv(4, (3, 3), padding=(1, 1)),
                                         Conv(4, (3, 3), padding=(1, 1)), Flatten(), Dense(10)),
                          sources=((0,), (1,), (2,), (3,)))
    with pytest.raises(CodeExportError, match="not one chain"):
        pytorch_code(joined)
    with pytest.raises(CodeExportError, match="layer 2"):
        pytorch_code(Architecture("bad", "", (Conv(4, (3, 3)), Dense(10))))


def test_a_network_ending_in_scores_says_how_to_compile_it():
    code = keras_code(parse_architecture("flatten, dense 10"))
    assert "from_logits=True" in code
    assert "input_shape=(28, 28, 1)" in code


def test_the_labs_export_menu_copies_and_saves_code_that_reads_back(qtbot, tmp_path):
    from PySide6.QtGui import QGuiApplication

    from cnnviz.ui.lab.editor import ArchitectureEditor

    editor = ArchitectureEditor()
    qtbot.addWidget(editor)
    editor.choose_preset("fast")
    titles = [a.text() for a in editor.export_button.menu().actions()]
    assert titles == ["Copy as Keras code", "Copy as PyTorch code", "Save as Keras .py…",
                      "Save as PyTorch .py…"]
    assert all(a.toolTip() for a in editor.export_button.menu().actions())
    editor.export_button.menu().actions()[0].trigger()
    copied = QGuiApplication.clipboard().text()
    assert read_keras_code(copied).architecture.layers == ARCHITECTURES["fast"].layers
    path = tmp_path / "homework.py"
    path.write_text("the student's own file\n")
    assert editor.export_button.save("pytorch", str(path))  # replaced whole, atomically
    model = _run(path.read_text())
    assert sum(p.numel() for p in model.parameters()) == 46_826
    assert "Saved as PyTorch code" in editor.code_note.text()
    assert not editor.export_button.save("keras", str(tmp_path / "no-such-folder" / "x.py"))
    assert editor.text_message.text().startswith("Not saved:")
    editor.text_edit.setText("conv 4 3, minpool 2, flatten, dense 10")
    assert editor.apply_text()
    assert not editor.export_button.copy("keras")
    assert "Keras has no min pooling" in editor.text_message.text()
