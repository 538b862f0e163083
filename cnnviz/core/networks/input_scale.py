"""What values a network expects of its input: the input contract of a model made
elsewhere. cnnviz always feeds the plain 0..1 picture; a network's own input scaling
(Architecture.input_mean and input_std, applied inside it) turns that into what the
model was trained on:

- "0-1": x / 255, as the lecture's Keras homework does;
- "0-255": the raw pixel values (a model trained on them, or with a Rescaling layer inside);
- "mnist": MNIST-normalised, (x / 255 − 0.1307) / 0.3081, as pytorch/examples does.

A Keras file says it when it has a Rescaling layer or a Normalization layer first; otherwise `work_out` picks the
convention under which the network reads the 300 MNIST test digits cnnviz ships best
(offline, a few milliseconds), and the user can change it (`--input-scale`, the model
card's `input_scale`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

__all__ = ["INPUT_SCALES", "fixed_by_file", "settle", "with_input_scale", "work_out"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# name -> (mean, std) applied to the 0..1 picture: (x01 − mean) / std is what the model sees
# (in order of how usual they are: the first that reads the digits well enough is chosen)
INPUT_SCALES = {"0-1": (0.0, 1.0), "mnist": (MNIST_MEAN, MNIST_STD),
                "0-255": (0.0, 1.0 / 255.0)}
WORDS = {"0-1": "values 0..1 (x / 255)", "0-255": "values 0..255",
         "mnist": "MNIST-normalised ((x / 255 − 0.1307) / 0.3081)"}


FROM_FILE = "read from the file"  # how input_scale_source begins when the file says it


def fixed_by_file(loaded) -> bool:
    """Whether the file says what it takes (a Keras Rescaling layer, or a Normalization
    layer first, whose mean gives the units), or the model is one of cnnviz's own (its
    card's architecture carries its scaling): nothing to choose."""
    return "made_with" not in loaded.card \
        or str(loaded.card.get("input_scale_source", "")).startswith(FROM_FILE)


def with_input_scale(loaded, scale: str, source: str = "chosen by the user"):
    """The same network and weights, fed with another input convention (a new LoadedModel;
    the one given is not changed). ValueError for an unknown name."""
    from .models import Network
    from .weights import LoadedModel

    if scale not in INPUT_SCALES:
        raise ValueError(f"the input scale is one of {', '.join(INPUT_SCALES)}, not {scale!r}")
    mean, std = INPUT_SCALES[scale]
    arch = replace(loaded.model.arch, input_mean=mean, input_std=std)
    card = {**loaded.card, "input_scale": scale, "input_scale_source": source}
    net = Network(arch, class_names=loaded.model.class_names, card=card)
    net.load_state_dict(loaded.model.state_dict())
    net.eval()
    return LoadedModel(net, card, loaded.path, loaded.shipped_as)


def work_out(loaded) -> tuple[str, dict[str, tuple[float, float]]] | None:
    """The convention under which the network reads cnnviz's 300 shipped MNIST test digits
    best, and each convention's (accuracy, mean cross-entropy loss) on them; None when the
    network is not a 1×28×28, ten-class one (there is nothing to try it on).

    Of the conventions that read within CLEAR_GAP of the best accuracy, the first of
    INPUT_SCALES (the lecture's 0..1, then MNIST's normalisation, then raw 0..255) is
    chosen, unless a later one has a clearly lower loss (under LOSS_FACTOR times): a ReLU
    network reads a shifted or scaled input about as accurately, but only the convention
    it was trained on makes it as sure of the right answers."""
    import torch
    import torch.nn.functional as F

    from ..pictures.samples import load_samples
    from .network import digit_mismatch

    if digit_mismatch(loaded.input_spec, len(loaded.classes)):
        return None
    images, labels, _ = load_samples("mnist")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    y = torch.from_numpy(labels.astype(np.int64))
    found = {}
    for scale in INPUT_SCALES:
        net = with_input_scale(loaded, scale).model
        with torch.no_grad():
            out = net(x)
            loss = float(F.cross_entropy(out, y)) if torch.isfinite(out).all() else float("inf")
        found[scale] = (float((out.argmax(1) == y).float().mean()), loss)
    top = max(accuracy for accuracy, _ in found.values())
    near = [s for s in INPUT_SCALES if found[s][0] >= top - CLEAR_GAP]
    best = near[0]
    for scale in near[1:]:
        if found[scale][1] < LOSS_FACTOR * found[best][1]:
            best = scale
    return best, found


CLEAR_GAP = 0.02  # how many more of the digits (6 of 300) another convention must read
# How much lower another convention's loss must be to win (measured on the shipped digits:
# pytorch/examples' network, trained MNIST-normalised, 0.22 against 0.90 at 0..1; the
# lecture's, trained at 0..1, 0.061 against 0.063 MNIST-normalised)
LOSS_FACTOR = 0.5


def settle(loaded):
    """A model made elsewhere, with its input contract on its card: read from the file (a
    Rescaling layer), or worked out on the shipped digits; the LoadedModel to use."""
    if fixed_by_file(loaded):
        return loaded
    found = work_out(loaded)
    if found is None:
        loaded.card.update(input_scale="0-1", input_scale_source="assumed (the lecture's x / "
                           "255): the network does not read MNIST digits to try it on")
        return loaded
    best, scores = found
    tried = "; ".join(f"{k}: {100 * acc:.0f}%, loss {loss:.2f}" for k, (acc, loss) in scores.items())
    source = f"worked out on cnnviz's 300 MNIST test digits ({tried})"
    if best == "0-1":
        loaded.card.update(input_scale="0-1", input_scale_source=source)
        return loaded
    return with_input_scale(loaded, best, source)
