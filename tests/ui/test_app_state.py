"""The app state's events: who hears what, with which values (no Qt needed)."""

import subprocess
import sys
import typing

import numpy as np

from cnnviz.app_state import AppState, InputImage, KernelSettings


def test_events_carry_the_new_values_to_every_listener():
    state = AppState()
    heard = []
    state.events.input_image.connect(lambda p: heard.append(("image", p.pixels.shape, p.source)))
    state.events.layer.connect(lambda name: heard.append(("layer", name)))
    state.events.kernel_source.connect(lambda s: heard.append(("source", s)))
    state.input_image = InputImage(np.zeros((4, 5), np.float32), "drawing")
    state.layer = "conv1"
    state.layer = "conv1"  # unchanged: no event
    state.kernel_source = "lecture:lecture-5x5"
    state.kernel_source = "lecture:lecture-5x5"
    assert heard == [("image", (4, 5), "drawing"), ("layer", "conv1"), ("source", "lecture:lecture-5x5")]


def test_a_listener_with_fewer_arguments_is_called_and_can_disconnect():
    state = AppState()
    calls = []

    def on_image():
        calls.append(1)

    state.events.input_image.connect(on_image)
    state.input_image = InputImage(np.zeros((2, 2)), "x")
    state.events.input_image.disconnect(on_image)
    state.input_image = InputImage(np.zeros((2, 2)), "y")
    assert calls == [1]


def test_kernel_settings_compare_kernels_by_value():
    a = KernelSettings()
    b = a.with_changes(kernel=a.kernel.copy())
    assert a.same_as(b)
    assert not a.same_as(a.with_changes(kernel=a.kernel * 2))
    assert not a.same_as(a.with_changes(stride=(2, 2)))
    assert not a.same_as(None)


def test_failure_is_published_and_cleared_by_the_next_result():
    state = AppState()
    errors = []
    state.analysis_failed.connect(errors.append)
    state.publish_analysis_failure("boom")
    assert state.analysis_error == "boom" and errors == ["boom"]
    state.publish_analysis(object())
    assert state.analysis_error is None


def test_an_image_set_again_is_heard_even_when_it_looks_the_same():
    """A pen stroke that ends on the same pixels, or a Random picture equal to the last,
    is still a new request: each InputImage is equal only to itself."""
    state = AppState()
    heard = []
    state.events.input_image.connect(heard.append)
    pixels = np.full((3, 3), 7, np.float32)
    first = InputImage(pixels, "your drawing")
    state.input_image = first
    state.input_image = InputImage(pixels, "your drawing")  # the same array, the same source
    state.input_image = InputImage(pixels.copy(), "your drawing")  # equal pixels
    assert len(heard) == 3 and heard[0] is first and heard[1] is not first
    assert state.image is heard[2].pixels and state.image is not pixels
    assert state.image_source == "your drawing"


def test_model_kernel_and_catalogue_are_heard_on_every_assignment():
    state = AppState()
    heard = []
    for name in ("model", "kernel", "catalogue"):
        state.events[name].connect(lambda new, old, name=name: heard.append((name, new is old)))
    model, kernel, entries = object(), KernelSettings(), []
    for _ in range(2):
        state.model = model
        state.kernel = kernel
        state.catalogue = entries
    assert heard == [("model", False), ("kernel", False), ("catalogue", False),
                     ("model", True), ("kernel", True), ("catalogue", True)]


def test_an_unchanged_plain_value_is_not_heard_again():
    state = AppState()
    heard = []
    new_values = {"drawing": True, "training": True, "model_loading": True,
                  "kernel_source": "network", "channel_view": "1", "layer": "conv1"}
    for name in new_values:
        state.events[name].connect(lambda new, old, name=name: heard.append((name, new, old)))
    for name, value in new_values.items():
        setattr(state, name, getattr(state, name))  # the value it has: nothing heard
        setattr(state, name, value)
        setattr(state, name, value)
    assert heard == [("drawing", True, False), ("training", True, False),
                     ("model_loading", True, False), ("kernel_source", "network", "image"),
                     ("channel_view", "1", "all"), ("layer", "conv1", None)]


def test_results_and_work_are_events_not_field_signals():
    state = AppState()
    assert set(state.events) == {"input_image", "model", "model_loading", "kernel",
                                 "kernel_source", "channel_view", "layer", "catalogue",
                                 "drawing", "training"}
    results, busy = [], []
    state.analysis_ready.connect(results.append)
    state.busy_changed.connect(lambda which, flag: busy.append((which, flag)))
    analysis = object()
    state.publish_analysis(analysis)
    state.publish_analysis(analysis)  # the same result again is announced again
    state.busy_changed.emit("analysis", True)
    assert results == [analysis, analysis] and state.analysis is analysis
    assert busy == [("analysis", True)]


def test_every_field_has_its_real_type():
    from cnnviz.core.networks.catalogue import ModelEntry
    from cnnviz.core.networks.weights import LoadedModel
    from cnnviz.core.reading.inference import Analysis

    hints = typing.get_type_hints(AppState, localns={
        "np": np, "LoadedModel": LoadedModel, "ModelEntry": ModelEntry, "Analysis": Analysis})
    expected = {"input_image": InputImage | None, "model": LoadedModel | None,
                "model_loading": bool, "kernel": KernelSettings, "kernel_source": str,
                "kernel_before_lecture": KernelSettings | None, "channel_view": str,
                "layer": str | None, "catalogue": list[ModelEntry],
                "analysis": Analysis | None, "analysis_error": str | None,
                "drawing": bool, "training": bool}
    assert {name: hints[name] for name in expected} == expected
    assert {f for f in AppState.__dataclass_fields__
            if not str(hints[f]).startswith("typing.ClassVar")} == set(expected)
    assert typing.get_type_hints(InputImage, localns={"np": np}) == {"pixels": np.ndarray,
                                                                      "source": str}


def test_the_state_imports_without_qt_or_torch():
    code = ("import sys, cnnviz.app_state; "
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
