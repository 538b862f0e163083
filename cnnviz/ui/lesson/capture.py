"""What the app shows now, as a lesson step's setup: the exact inverse of setup.StepApplier
(capture -> save -> open -> apply -> capture gives the same setup again).

    setup = capture_setup(window)   # {"tab": "kernel-explorer", "model": "cnnviz", …}
"""

from __future__ import annotations

import json

import numpy as np

from ...core.lessons.session import MAX_PICTURE_BYTES, encode_picture, model_reference
from .setup import EXPERIMENT_VIEWS, current_tab

_VIEW_NAMES = {view: name for name, view in EXPERIMENT_VIEWS.items()}


def shipped_sample_number(image) -> int | None:
    """The test-set number of a shipped MNIST digit equal to `image`, else None."""
    from ...core.pictures.samples import load_samples

    if image is None or np.shape(image) != (28, 28):
        return None
    images, _labels, index = load_samples("mnist")
    same = np.flatnonzero((images == np.asarray(image)).all(axis=(1, 2)))
    return int(index[same[0]]) if same.size else None


def picture_of(window) -> dict | None:
    """The input as an embedded PNG ({"png", "name"}); a picture too large to embed is
    embedded as the pad's 280×280 copy."""
    state = window.state
    if state.image is None:
        return None
    picture = encode_picture(state.image, state.image_source)
    if len(picture["png"]) > MAX_PICTURE_BYTES:
        picture = encode_picture(window.input_panel.pad.image(),
                                 f"{state.image_source} (the pad's 280×280 copy)")
    return picture


def capture_input(window) -> dict:
    number = shipped_sample_number(window.state.image)
    if number is not None:
        return {"sample": number}
    picture = picture_of(window)
    return {} if picture is None else {"picture": picture}


def capture_kernel(window) -> dict:
    from ...core.convolution.kernels import PRESETS

    state = window.state
    k = state.kernel
    setup: dict = {"kernel_source": state.kernel_source}
    preset = PRESETS.get(k.preset_key) if k.preset_key else None
    if preset is not None and preset.values.shape == k.kernel.shape and \
            np.array_equal(preset.values, k.kernel):
        setup["kernel"] = k.preset_key
    else:
        setup["kernel_values"] = [[float(v) for v in row] for row in np.asarray(k.kernel)]
    setup.update(stride=list(k.stride), padding=list(k.padding), activation=k.activation,
                 pooling=k.pool_kind, pool_size=int(k.pool_size), pool_stride=int(k.pool_stride))
    return setup


def capture_setup(window) -> dict:
    """The window's state as a step's "setup" object, ready for the lesson file."""
    from ...core.networks.arch_text import architecture_to_json

    state = window.state
    setup: dict = {"tab": current_tab(window)}
    model = model_reference(state.model)
    if model is not None:
        setup["model"] = model
    setup.update(capture_input(window))
    setup.update(capture_kernel(window))
    experiments = window.experiments_explorer
    if experiments is not None and experiments.list.currentRow() >= 0:
        view = type(experiments.views[experiments.list.currentRow()]).__name__
        if view in _VIEW_NAMES:
            setup["experiment"] = _VIEW_NAMES[view]
    if state.layer and state.model is not None and \
            state.layer in [i.name for i in state.model.model.layer_infos]:
        setup["layer"] = state.layer
    if window.lab is not None:
        setup["lab_architecture"] = json.loads(architecture_to_json(window.lab.editor.architecture()))
    return setup


def missing_from_capture(window) -> list[str]:
    """What a step cannot keep, in words (a model trained here and never saved)."""
    if window.state.model is not None and model_reference(window.state.model) is None:
        return ["the current model has no file (save it from the lab first), so the step "
                "keeps the model that is shown when it is played"]
    return []
