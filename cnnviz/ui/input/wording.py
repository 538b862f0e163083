"""What the input side says: what it asks for and what it says when there is nothing to
read, per dataset, and the longer texts of its panels (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.core.datasets.data import DATASET_NAMES


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
    # A network that is not MNIST-sized: its input ("3×32×32"); pictures are resized to it,
    # not framed as the dataset's pictures were.
    resized_to: str = ""

    @property
    def title(self) -> str:
        """The dataset's name as written ("MNIST", "Fashion-MNIST")."""
        return DATASET_NAMES.get(self.dataset, self.dataset)

    @property
    def thing(self) -> str:
        """What one test picture is: "digit" or "picture"."""
        return "digit" if self.dataset == "mnist" else "picture"


DIGITS = Wording("mnist", "Draw a digit", "<b>Draw a digit</b>: the network reads it as you draw.",
                 "Draw a digit here", "No digit found in this picture", "Random digit")

PAD_HELP = ("Left button, pen or finger draws; right button erases.\n"
            "Or open an image (Ctrl+O), drop a file here, paste (Ctrl+V), "
            "or pick a real test picture from the gallery.")
ANSWER_HELP = "The class with the highest softmax probability: the network's answer for the input."
SOFTMAX_HELP = ("The softmax layer turns the last layer's scores into probabilities that add up "
                "to 100%. 'Sure' is the top probability; a low value means the network hesitates.")
NO_MODEL = "No model loaded: choose one with File › Open model…"
LOADING_MODEL = "Loading the network (PyTorch and the trained model)… draw meanwhile."
OPEN_HELP = ("Open an image file (PNG, JPEG, BMP, …) as the input (Ctrl+O). "
             "Any size or colour; it is preprocessed like MNIST.")
UNDO_HELP = "Undo the last stroke, clear or loaded image (Ctrl+Z)"
CLEAR_HELP = "Clear the pad to draw a new digit (Ctrl+L or Delete)"

def network_input_lines(hw=(28, 28)) -> list[str]:
    """The network input's caption, short enough for the narrowest column."""
    return ["Result", f"{hw[0]}×{hw[1]}"]


def network_input_help(hw=(28, 28)) -> str:
    size = f"{hw[0]}×{hw[1]}"
    return (f"<b>Network input {size}</b><br>The {size} picture (height × width), values "
            "0..1, that goes into the first layer.")
PREPROCESS_HELP = (
    "MNIST digits were size-normalised to fit a 20×20 box (aspect ratio kept) and centred by "
    "their centre of mass in a 28×28 frame, white ink on black. A drawing or a photo goes "
    "through the same steps before the network sees it; otherwise it would read it badly. "
    "Hover over a step to see what it does; a grey step was not needed for this picture.")
STEP_CAPTIONS = {"grey": "Grey", "invert": "Invert", "clean": "Clean", "crop": "Crop",
                 "thicken": "Thicken", "scale": "Scale", "center": "Center"}


def model_dataset(model) -> str:
    """The dataset a model was trained on ("mnist" when no model is loaded)."""
    return model.dataset if model is not None else "mnist"


def wording(model) -> Wording:
    dataset = model_dataset(model)
    spec = getattr(model, "input_spec", None)
    if spec is not None and not spec.is_digit_sized:
        return Wording(dataset, "Draw or open a picture",
                       "<b>Draw or open a picture</b>: the network reads it as you draw.",
                       "Draw or open a picture here", "Nothing found in this picture",
                       "Random image", "×".join(map(str, spec.shape)))
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
    if getattr(digit, "reason", "") == "no single digit":  # something there, but no one stroke
        return "No single " + ("digit" if words is DIGITS else "item") + " found", (
            "There is something in this picture, but not one dark-on-light or light-on-dark "
            "shape the size of a digit: crop the picture to one digit, or draw on the pad.")
    return words.nothing, ("Nothing stands out from its background. Try a picture with more "
                           "contrast, or draw on the pad.")


def confidence(p: float) -> str:
    """How sure the network is, in a word, from its top probability. ("Unsure" is kept for
    the verdict that a picture does not look like a digit, which is decided differently.)"""
    return "sure" if p >= 0.9 else ("fairly sure" if p >= 0.6 else "not sure")


def heading(words: Wording, shipped_only: bool) -> str:
    """Above the pad (rich text). shipped_only: the model's own test pictures are missing,
    so Random and the gallery give MNIST digits."""
    if not shipped_only:
        return words.heading
    return (words.heading + f"<br><span style='color:gray'>Only MNIST digits ship with cnnviz, "
            f"so {words.random} and the gallery give digits; run <i>cnnviz data download "
            f"{words.dataset}</i> for {words.title} pictures.</span>")


def _shipped_only_note(words: Wording) -> str:
    return (f". The {words.title} test files are not in the data folder and only MNIST "
            "digits ship with cnnviz, so for now this gives an MNIST digit.")


def random_tip(words: Wording, shipped_only: bool) -> str:
    tip = (f"A random real {words.thing} from the {words.title} test set, which the network "
           "never saw while training (Ctrl+R)")
    return tip + (_shipped_only_note(words) if shipped_only else "")


def gallery_tip(words: Wording, shipped_only: bool) -> str:
    tip = f"Browse real {words.title} test {words.thing}s by label and click one to use it"
    return tip + (_shipped_only_note(words) if shipped_only else "")


def brush_tip(default_brush: float) -> str:
    return (f"Brush width in pad pixels (the pad is 280×280, ten per MNIST pixel). "
            f"MNIST strokes are 2–3 pixels wide in 28×28; with about {int(default_brush)} px "
            "a digit drawn to fill the pad ends up just as thick after preprocessing.")


def gallery_fallback_note(dataset: str) -> str:
    """Under the gallery's introduction when it shows MNIST digits for another dataset."""
    if dataset == "mnist":
        return ""
    return (f"Only MNIST digits ship with cnnviz: the {DATASET_NAMES[dataset]} test files are "
            f"not in the data folder (run cnnviz data download {dataset}), so these are "
            "digits, which this model was not trained to read.")


def shipped_gallery_note(dataset: str) -> str:
    """Under the gallery's introduction when it shows the pictures shipped with cnnviz for a
    dataset whose test files are not in the data folder."""
    if dataset == "mnist":
        return ""
    return (f"These ship with cnnviz; run cnnviz data download {dataset} for all 10,000 "
            f"{DATASET_NAMES[dataset]} test images.")


def step_caption(key: str) -> str:
    """A preprocessing step's one-word caption, from its key."""
    return STEP_CAPTIONS.get(key, key.capitalize())


def network_input_tooltip(last_step=None, hw=(28, 28)) -> str:
    """The network input's tooltip; last_step: the step that made it, when it is shown here
    instead of in a column of its own. hw: the network input's height and width."""
    if last_step is None:
        return network_input_help(hw)
    return network_input_help(hw) + f"<br><br><b>{last_step.title}</b>: {last_step.explanation}"


def made_on_the_pad(source: str) -> bool:
    """Whether a picture's source (pad_source's words) is a stroke on the pad, not a picture
    the user opened, pasted or picked."""
    return source == "empty pad" or source.startswith("your drawing")


def pad_source(empty: bool, base: str | None, pristine: bool) -> str:
    """Where a picture the pad made comes from, in words (the input's source line)."""
    if empty:
        return "empty pad"
    if base is None:
        return "your drawing"
    if pristine:  # undo back to an original that was too big to keep
        return f"{base} (the pad's 280×280 copy)"
    return f"your drawing over {base}"
