"""cnnviz's maths and files, with no Qt and no app state: what the window shows, a notebook
can compute.

    from cnnviz.core import ops, kernels, load_shipped, analyze, default_sample

The code lives in subpackages, one per domain, each using only those before it in LAYERS
(a test checks every import):

    basics       formulas, limits, safe files, the picture cache
    convolution  conv/pool arithmetic, kernels, the kernel explorer's pipeline
    pictures     decoding pictures, preprocessing, samples, user-like pictures
    datasets     MNIST / Fashion-MNIST, the download, the gallery, augmentation
    networks     the network interface, layers, presets, weights, Keras/ONNX/torch files
    reading      one input's analysis, the "not a digit" verdict
    experiments  the lecture's claims tested
    units        what each unit looks for, the map of what the network learned
    training     the training loop, its child process, the user's own data
    lessons      lessons and sessions

The names below are the curated namespace: imported on first use, so `import cnnviz.core`
costs nothing (no torch).
"""

from __future__ import annotations

import importlib
from typing import Any

LAYERS = ("basics", "convolution", "pictures", "datasets", "networks", "reading",
          "experiments", "units", "training", "lessons")

# name -> "subpackage.module" (the module itself) or "subpackage.module:attribute"
_CURATED = {
    # modules a notebook uses most
    "formulas": "basics.formulas",
    "limits": "basics.limits",
    "ops": "convolution.ops",
    "kernels": "convolution.kernels",
    "filtering": "convolution.filtering",
    "images": "pictures.images",
    "preprocess": "pictures.preprocess",
    "data": "datasets.data",
    "network": "networks.network",
    "models": "networks.models",
    "weights": "networks.weights",
    "inference": "reading.inference",
    "verdict": "reading.verdict",
    # the first things a notebook calls
    "conv2d": "convolution.ops:conv2d",
    "parse_kernel": "convolution.kernels:parse_kernel",
    "load_image": "pictures.images:load_image",
    "preprocess_digit": "pictures.preprocess:preprocess_digit",
    "default_sample": "pictures.samples:default_sample",
    "load_split": "datasets.data:load_split",
    "build_model": "networks.models:build_model",
    "load_shipped": "networks.weights:load_shipped",
    "load_weights": "networks.weights:load_weights",
    "analyze": "reading.inference:analyze",
    "TrainConfig": "training.loop:TrainConfig",
    "train": "training.loop:train",
}

__all__ = ["LAYERS", *_CURATED]


def __getattr__(name: str) -> Any:
    target = _CURATED.get(name)
    if target is None:
        raise AttributeError(f"module 'cnnviz.core' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CURATED))
