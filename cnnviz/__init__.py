"""cnnviz: see inside convolutional neural networks.

From a script or a notebook:

    import cnnviz
    net = cnnviz.open_model("model.keras")   # or .onnx, .pt2, .safetensors, or a
                                            # torch.nn.Module / Keras model in memory
    cnnviz.show(model)                      # the window, on that network; returns when closed
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["open_model", "show"]


def _loaded(source, input_shape=(1, 28, 28)):
    """Anything open_model takes -> a cnnviz LoadedModel (the network, its card, its file)."""
    import os
    import tempfile
    from pathlib import Path

    from .core.networks.weights import LoadedModel, load_weights

    if isinstance(source, (str, os.PathLike)):
        return load_weights(Path(source).expanduser())
    if isinstance(source, LoadedModel):
        return source
    module = type(source).__module__.split(".")[0]
    if module == "keras" or hasattr(source, "save") and hasattr(source, "get_config"):
        # a Keras model: saved by Keras itself, then read as any .keras file is
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            source.save(path)
            loaded = load_weights(path)
            loaded.path = None  # (the temporary file is gone)
            return loaded
    import torch

    from .core.networks.models import Network
    from .core.networks.torch_graph import from_module

    if isinstance(source, Network):
        return LoadedModel(source, source.card, None)
    if isinstance(source, torch.nn.Module):
        return from_module(source, tuple(input_shape))
    raise TypeError(f"cnnviz opens a model file's path, a torch.nn.Module or a Keras model, "
                    f"not {type(source).__name__}")


def open_model(source, input_shape=(1, 28, 28)):
    """The inspectable network (cnnviz.core.networks.network.InspectableNetwork) of a model file
    (cnnviz .safetensors, Keras .keras or .h5, ONNX .onnx, torch.export .pt2), of a
    torch.nn.Module in memory (followed by torch.export on one picture of input_shape,
    (C, H, W)), or of a Keras model object (saved with its own model.save). Raises
    cnnviz.core.networks.weights.WeightsError, or TorchGraphError, in words."""
    return _loaded(source, input_shape).model


def show(model, input_shape=(1, 28, 28), picture=None) -> None:
    """Open cnnviz's window on a model (anything open_model takes, or what it returned),
    from a script or a notebook cell; returns when the window is closed. picture: an
    optional image (a path, or an array) to read first."""
    import sys

    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QApplication

    loaded = _loaded(model, input_shape)
    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(sys.argv[:1] or ["cnnviz"])
    app.setQuitOnLastWindowClosed(False)  # a notebook's own event loop goes on after it
    from .app_state import AppState, InputImage
    from .ui.window.main_window import MainWindow

    window = MainWindow(AppState())
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.load_defaults()
    window.replace_model(loaded)
    if picture is not None:
        from .core.pictures.images import load_image

        pixels = (load_image(picture) if isinstance(picture, (str, bytes))
                  or hasattr(picture, "__fspath__") else picture)
        window.state.input_image = InputImage(pixels, "the picture given")
    window.show()
    loop = QEventLoop()
    window.destroyed.connect(loop.quit)
    loop.exec()
