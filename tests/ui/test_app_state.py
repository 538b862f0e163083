"""The app state's events: who hears what, with which values (no Qt needed)."""

import numpy as np

from cnnviz.app_state import AppState, KernelSettings


def test_events_carry_the_new_values_to_every_listener():
    state = AppState()
    heard = []
    state.image_changed.connect(lambda image, source: heard.append(("image", image.shape, source)))
    state.layer_changed.connect(lambda name: heard.append(("layer", name)))
    state.kernel_source_changed.connect(lambda s: heard.append(("source", s)))
    state.set_image(np.zeros((4, 5), np.float32), "drawing")
    state.set_layer("conv1")
    state.set_layer("conv1")  # unchanged: no event
    state.set_kernel_source("lecture:lecture-5x5")
    state.set_kernel_source("lecture:lecture-5x5")
    assert heard == [("image", (4, 5), "drawing"), ("layer", "conv1"), ("source", "lecture:lecture-5x5")]


def test_a_listener_with_fewer_arguments_is_called_and_can_disconnect():
    state = AppState()
    calls = []

    def on_image():
        calls.append(1)

    state.image_changed.connect(on_image)
    state.set_image(np.zeros((2, 2)), "x")
    state.image_changed.disconnect(on_image)
    state.set_image(np.zeros((2, 2)), "y")
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
