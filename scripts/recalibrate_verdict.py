"""Fix a digit model's "unsure" threshold again, on the images cnnviz train held out, as
cnnviz train now does it (cnnviz.core.reading.verdict.calibrate_for_card), and write the weights
with the new card["verdict"] to a new file (the tensors are unchanged).

    CNNVIZ_DATA_DIR=../shared/data python scripts/recalibrate_verdict.py IN.safetensors OUT.safetensors

Used once for the shipped cnnviz-mnist weights when the calibration learnt the pictures
users load (scripts/train_shipped.sh says so): the card's hold_out says which training
images were never trained on.
"""

from __future__ import annotations

import sys

from cnnviz.core.datasets.data import load_split
from cnnviz.core.networks.weights import load_weights, save_weights
from cnnviz.core.reading import verdict


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[4].strip(), file=sys.stderr)
        return 2
    src, dst = argv
    loaded = load_weights(src)
    card = dict(loaded.card)
    held = card.get("hold_out", card.get("verdict", {}).get("held_out"))
    if loaded.dataset != "mnist" or not isinstance(held, int) or held <= 0:
        print(f"{src}: not a digit model with held-out training images", file=sys.stderr)
        return 1
    x, _ = load_split("mnist", "train")
    held_out = x[len(x) - held:]
    card["verdict"] = verdict.calibrate_for_card(
        loaded.model, held_out, "mnist",
        source=f"the last {held:,} mnist training images, kept out of training")
    save_weights(loaded.model, dst, card)
    v = card["verdict"]
    print(f"wrote {dst}: threshold {v['threshold']:.4f} ({v['score']}), held-out flagged "
          f"{v['flagged_real']:.2%}, drawn non-digits flagged {v['flagged_outliers']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
