"""One image through preprocessing and a model, with every layer's output kept.

This is what the app runs on each pen stroke (off the GUI thread) and what a notebook
user calls to get the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .formulas import percent  # noqa: F401 (the old home of percent; import it from formulas)
from .models import LayerInfo, Network
from .preprocess import DigitInput, preprocess_for
from .verdict import unsure_scores


@dataclass
class Analysis:
    digit: DigitInput  # the preprocessing steps and the 28x28 network input
    layers: list[tuple[str, np.ndarray]]  # ("input", (1,28,28)), ("conv1", (C,H,W)), ...
    layer_infos: list[LayerInfo]  # name, label, output shape, parameters (no "input")
    probabilities: np.ndarray  # (10,)
    prediction: int
    seconds: float  # preprocessing + forward pass
    # The verdict (cnnviz.core.verdict): True when the input does not look like what the
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


def analyze(model: Network, image: np.ndarray, *, preprocess: bool = True,
            dataset: str | None = None, card: dict | None = None) -> Analysis:
    """image: (H, W) or (H, W, 3), 0..255, any size; or a ready (28, 28) input in 0..1
    with preprocess=False. dataset: what the model was trained on ("mnist", the default, or
    "fashion-mnist"), which decides how a picture is framed (preprocess_for). card: the
    model's card, whose "verdict" decides `unsure` (without one: the default rule)."""
    t0 = time.perf_counter()
    if preprocess:
        digit = preprocess_for(dataset)(image)
    else:
        ready = np.asarray(image, dtype=np.float32)
        digit = DigitInput(image=ready, steps=[], inverted=False,
                           empty=not bool(ready.any()), bbox=None)
    layers = model.trace(digit.image)
    logits_or_probs = layers[-1][1]
    if model.ends_in_softmax:
        probs = logits_or_probs
        logits = layers[-2][1]  # what went into the softmax layer
    else:
        logits = logits_or_probs
        e = np.exp(logits_or_probs - logits_or_probs.max())
        probs = e / e.sum()
    unsure, score = unsure_scores(logits, card)
    return Analysis(digit=digit, layers=layers, layer_infos=list(model.layer_infos),
                    probabilities=np.asarray(probs, dtype=np.float64),
                    prediction=int(np.argmax(probs)), seconds=time.perf_counter() - t0,
                    unsure=bool(unsure) and not digit.empty, verdict_score=float(score))
