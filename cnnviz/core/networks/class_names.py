"""Class names from a labels file: text, one name per line, in the order of the network's
outputs (what Keras's image_dataset_from_directory's class_names, a Teachable Machine
export's labels.txt, or a Hugging Face id2label would list). A model made elsewhere often
does not say what its outputs mean; this names them.

    >>> names = parse_labels("cat\\ndog\\n\\nbird\\n", 3)
    >>> names
    ['cat', 'dog', 'bird']
"""

from __future__ import annotations

import re
from pathlib import Path

from ..basics.files import FileProblem, read_regular_file
from ..basics.text_safety import printable

__all__ = ["LabelsError", "MAX_LABELS_BYTES", "parse_labels", "read_labels", "with_class_names"]

MAX_LABELS_BYTES = 1_000_000  # a name per output: far more than any real labels file
MAX_NAME_CHARS = 60  # what a card keeps of a class name
# "0 cat" or "0: cat" (Teachable Machine writes "0 Class 1"): the number is the position
_NUMBERED = re.compile(r"^\s*(\d+)\s*[:\t ]\s*(\S.*)$")


class LabelsError(ValueError):
    """A labels file that cannot name this network's outputs; the message says why."""


def parse_labels(text: str, count: int) -> list[str]:
    """The names in a labels file's text, checked against the network's `count` outputs.
    Blank lines are skipped; lines numbered 0, 1, 2, ... in order (Teachable Machine's
    "0 cat") lose the number; control characters are dropped."""
    lines = [printable(line).strip() for line in text.splitlines()]
    names = [line for line in lines if line]
    numbered = [m for m in (_NUMBERED.match(n) for n in names) if m is not None]
    if names and len(numbered) == len(names) \
            and [int(m.group(1)) for m in numbered] == list(range(len(names))):
        names = [m.group(2).strip() for m in numbered]
    if len(names) != count:
        raise LabelsError(f"the file names {len(names)} class{'es' if len(names) != 1 else ''}; "
                          f"this network has {count} outputs (one name per line, in output "
                          "order)")
    return [n[:MAX_NAME_CHARS] for n in names]


def read_labels(path: str | Path, count: int) -> list[str]:
    """A labels file -> `count` names; LabelsError in words (a missing, binary, huge or
    special file, or the wrong number of names)."""
    try:
        raw = read_regular_file(path, MAX_LABELS_BYTES, "labels file")
    except FileProblem as exc:
        raise LabelsError(str(exc)) from None
    if b"\0" in raw:
        raise LabelsError(f"{Path(path).name} is not a text file")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return parse_labels(raw.decode(encoding), count)
        except UnicodeDecodeError:
            continue
    raise LabelsError(f"{Path(path).name} is not a text file")  # (latin-1 decodes anything)


def with_class_names(loaded, names: list[str], source: str):
    """The same network and weights with its outputs named (a new LoadedModel; the one
    given is not changed): the network's class names and the card's `classes`, with where
    they came from (`classes_source`)."""
    from .models import Network
    from .weights import LoadedModel

    if len(names) != len(loaded.classes):
        raise LabelsError(f"{len(names)} names for {len(loaded.classes)} outputs")
    card = {**loaded.card, "classes": list(names), "classes_source": source}
    net = Network(loaded.model.arch, class_names=list(names), card=card)
    net.load_state_dict(loaded.model.state_dict())
    net.eval()
    return LoadedModel(net, card, loaded.path, loaded.shipped_as)
