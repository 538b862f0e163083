"""Store the recognition benchmark's hard cases as small picture files for the tests.

Each case is one picture that cnnviz.core.pictures.user_pictures made exactly as the benchmark
makes it, from an MNIST test digit, and that was read wrongly or not at all before the
preprocessing learnt it. The tests read the files, so they need neither the MNIST files nor
this generator to stay the same. Run from the repository root with the MNIST files found:

    CNNVIZ_DATA_DIR=../shared/data python scripts/make_hard_cases.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.core.datasets.data import load_split
from cnnviz.core.pictures import user_pictures

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "hard_cases"
# (kind, count, seed, picks): the set each case comes from, as the benchmark made it.
CASES = [("blank_page", 500, 1, [17, 104, 175, 215, 266, 342, 436]),
         ("faint_pencil", 300, 0, [12, 37]),
         ("phone_photo", 300, 0, [108]),
         ("phone_photo", 500, 0, [151, 269])]


def main() -> None:
    x, y = load_split("mnist", "test")
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    for kind, count, seed, picks in CASES:
        made, labels = user_pictures.make_set(kind, x, y, count=count, seed=seed,
                                              first=max(picks) + 1)
        for i in picks:
            name = f"{kind}-{count}-seed{seed}-{i}.png"
            picture = np.clip(np.rint(np.asarray(made[i], np.float64)), 0, 255).astype(np.uint8)
            Image.fromarray(picture).save(OUT / name, optimize=True)
            truth = None if kind == "blank_page" else int(labels[i])
            index.append({"file": name, "kind": kind, "label": truth})
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} pictures to {OUT}")


if __name__ == "__main__":
    main()
