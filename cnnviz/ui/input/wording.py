"""What the input side asks for and says when there is nothing to read, per dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Wording:
    """What the input side asks for: digits for an MNIST model, any picture for a model of
    another dataset (a Fashion-MNIST model reads clothes, not digits)."""

    dataset: str  # "mnist" or "fashion-mnist"
    prompt: str  # an empty pad
    heading: str  # above the pad (rich text)
    pad_hint: str  # grey text on the empty pad
    nothing: str  # a picture in which preprocessing found nothing to read
    random: str  # the Random button


DIGITS = Wording("mnist", "Draw a digit", "<b>Draw a digit</b>: the network reads it as you draw.",
                 "Draw a digit here", "No digit found in this picture", "Random digit")


def model_dataset(model) -> str:
    """The dataset a model was trained on ("mnist" when no model is loaded)."""
    return model.dataset if model is not None else "mnist"


def wording(model) -> Wording:
    dataset = model_dataset(model)
    if dataset == "mnist":
        return DIGITS
    return Wording(dataset, "Draw or open a picture",
                   "<b>Draw or open a picture</b>: the network reads it as you draw.",
                   "Draw or open a picture here", "Nothing found in this picture",
                   "Random image")


def blank_input(digit) -> bool:
    """True when the picture itself is blank (a cleared pad), as opposed to a picture in which
    preprocessing found no ink (DigitInput.empty is True for both)."""
    steps = digit.steps
    return not steps or not np.any(steps[0].image)


def nothing_to_read(digit, words: Wording) -> tuple[str, str]:
    """(short answer, longer explanation) for an analysis whose DigitInput is empty."""
    if blank_input(digit):
        return words.prompt, "The pad is empty: there is nothing to read yet."
    return words.nothing, ("Nothing stands out from its background. Try a picture with more "
                           "contrast, or draw on the pad.")
