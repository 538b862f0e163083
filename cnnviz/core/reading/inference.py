"""One image through preprocessing and a model, with every layer's output kept.

This is what the app runs on each pen stroke (off the GUI thread) and what a notebook
user calls to get the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..basics.formulas import percent  # noqa: F401 (the old home of percent; import it from formulas)
from ..networks.models import LayerInfo
from ..networks.network import InspectableNetwork, fit_picture, probabilities, to_network_layout
from ..pictures.preprocess import DigitInput, preprocess_for
from .verdict import unsure_scores


@dataclass
class Analysis:
    digit: DigitInput  # the preprocessing steps and the network input ((H, W) or (H, W, C))
    layers: list[tuple[str, np.ndarray]]  # ("input", (C,H,W)), ("conv1", (C,H,W)), ...
    layer_infos: list[LayerInfo]  # name, label, output shape, parameters (no "input")
    probabilities: np.ndarray  # (classes,)
    prediction: int
    seconds: float  # preprocessing + forward pass
    # The verdict (cnnviz.core.reading.verdict): True when the input does not look like what the
    # network was trained on (a letter for a digit model), whatever the softmax says; and
    # the score it was decided on (higher = less like the training data). An empty input
    # is not unsure: there is nothing to judge.
    unsure: bool = False
    verdict_score: float = float("nan")

    def layer(self, name: str) -> np.ndarray:
        for layer_name, value in self.layers:
            if layer_name == name:
                return value
        raise KeyError(name)

    @property
    def top3(self) -> list[tuple[int, float]]:
        order = np.argsort(-self.probabilities)[:3]
        return [(int(i), float(self.probabilities[i])) for i in order]


def prepare_input(model: InspectableNetwork, image: np.ndarray, *, preprocess: bool = True,
                  dataset: str | None = None) -> DigitInput:
    """A picture -> the network's input with the steps that made it. An MNIST-sized network
    gets the digit framing of the dataset it learned (preprocess_for); any other network
    the whole picture resized to its input (cnnviz.core.networks.network.fit_picture)."""
    spec = model.input_spec
    if not preprocess:
        ready = np.asarray(image, dtype=np.float32)
        return DigitInput(image=ready, steps=[], inverted=False,
                          empty=not bool(ready.any()), bbox=None)
    if spec.is_digit_sized:
        return preprocess_for(dataset)(image)
    return fit_picture(image, spec)


def analyze(model: InspectableNetwork, image: np.ndarray, *, preprocess: bool = True,
            dataset: str | None = None, card: dict | None = None) -> Analysis:
    """image: (H, W) or (H, W, 3), 0..255, any size; or, with preprocess=False, a ready
    input in 0..1 at the network's size ((H, W), or (H, W, C) for several channels).
    dataset: what the model was trained on ("mnist", the default, or "fashion-mnist"),
    which decides how a picture is framed for an MNIST-sized network. card: the model's
    card, whose "verdict" decides `unsure` (without one: the default rule, for MNIST-sized
    networks only: for others cnnviz cannot know what their training data looked like)."""
    t0 = time.perf_counter()
    digit = prepare_input(model, image, preprocess=preprocess, dataset=dataset)
    layers = model.trace(to_network_layout(digit.image, model.input_spec))
    logits_or_probs = layers[-1][1]
    if model.ends_in_softmax:
        probs = probabilities(logits_or_probs, "probabilities")
        logits = layers[-2][1]  # what went into the softmax layer
    else:
        logits = logits_or_probs
        probs = probabilities(logits)
    judged = model.input_spec.is_digit_sized or isinstance((card or {}).get("verdict"), dict)
    unsure, score = unsure_scores(logits, card) if judged else (False, float("nan"))
    return Analysis(digit=digit, layers=layers, layer_infos=list(model.layer_infos),
                    probabilities=np.asarray(probs, dtype=np.float64),
                    prediction=int(np.argmax(probs)), seconds=time.perf_counter() - t0,
                    unsure=bool(unsure) and not digit.empty, verdict_score=float(score))
