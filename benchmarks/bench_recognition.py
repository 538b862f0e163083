"""How well the shipped model reads the pictures people really load. Prints figures beside
the targets; asserts nothing.

    CNNVIZ_DATA_DIR=... python benchmarks/bench_recognition.py [--count 500]
        [--kinds tight_crop phone_photo ...] [--weights FILE] [--seed 0]

Each kind (cnnviz/core/pictures/user_pictures.py) is made from MNIST *test* digits, as a user would
make a picture: a tight crop, a phone photo, faint pencil, low-resolution scans, photos of
lined and squared notebook paper, a blank page, an empty notebook page and a colourful photo. Every picture goes through cnnviz.core.reading.inference.analyze (the
app's preprocessing and the network), and per kind the run prints:

    right      the answer is the MNIST label (digit kinds)
    no digit   preprocessing found nothing to read (digit.empty); for blank_page the share
               and empty_notebook the share called "blank", for colourful_photo the share called "no single digit"
    unsure     the verdict said "does not look like a digit" (analysis.unsure, under the
               model card's stored threshold, as in the app), once the
               verdict exists; n/a before
    ms/image   preprocessing + forward pass, and that as a ratio to the network alone on a
               ready 28x28 input timed in the same run (so machines compare)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.datasets.data import load_split  # noqa: E402
from cnnviz.core.networks.weights import load_shipped, load_weights  # noqa: E402
from cnnviz.core.pictures.user_pictures import DIGIT_KINDS, KINDS, make_set  # noqa: E402
from cnnviz.core.reading.inference import analyze  # noqa: E402

# Targets: (least share right, most share "no digit") per digit kind.
TARGETS = {
    "tight_crop": (0.98, 0.005),
    "phone_photo": (0.98, 0.005),
    "faint_pencil": (0.98, 0.005),
    "low_res_blocky": (0.93, None),
    "low_res_smooth": (0.93, None),
    "notebook_lined": (0.98, 0.005),
    "notebook_squared": (0.98, 0.005),
}
EMPTY_TARGETS = {"blank_page": ("blank", 1.0), "colourful_photo": ("no single digit", None),
                 "empty_notebook": ("blank", 1.0)}


def reason_of(digit) -> str:
    """'blank', 'no single digit' or '' (a digit was read); older code has no reason field."""
    if not digit.empty:
        return ""
    return getattr(digit, "reason", "") or "blank"


def run_kind(model, kind: str, count: int, seed: int, x, y, card=None) -> dict:
    pictures, labels = make_set(kind, x, y, count=count, seed=seed)
    right = empty = unsure = 0
    unsure_known = True
    reasons: dict[str, int] = {}
    seconds = 0.0
    for picture, label in zip(pictures, labels):
        t0 = time.perf_counter()
        analysis = analyze(model, picture, card=card)  # the card's verdict, as the app does
        seconds += time.perf_counter() - t0
        why = reason_of(analysis.digit)
        reasons[why] = reasons.get(why, 0) + 1
        empty += analysis.digit.empty
        right += (not analysis.digit.empty) and analysis.prediction == label
        if hasattr(analysis, "unsure"):
            unsure += bool(analysis.unsure)
        else:
            unsure_known = False
    n = len(pictures)
    return {"kind": kind, "n": n, "right": right / n, "empty": empty / n, "reasons": reasons,
            "unsure": unsure / n if unsure_known else None, "ms": 1000 * seconds / n}


def net_only_ms(model, x) -> float:
    ready = [d.astype(np.float32) / 255 for d in x[:200]]
    t0 = time.perf_counter()
    for d in ready:
        analyze(model, d, preprocess=False)
    return 1000 * (time.perf_counter() - t0) / len(ready)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=500, help="pictures per kind (default 500)")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    p.add_argument("--weights", metavar="FILE", help="a .safetensors file (default: shipped cnnviz)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=os.environ.get("CNNVIZ_DATA_DIR"))
    args = p.parse_args(argv)

    loaded = load_weights(args.weights) if args.weights else load_shipped("cnnviz")
    model = loaded.model
    x, y = load_split("mnist", "test", data_dir=args.data_dir)
    print(f"CPU: {cpu_model()}; {os.cpu_count()} cores; model: {args.weights or 'shipped cnnviz'}")
    print(f"{args.count} pictures per kind from MNIST test digits, seed {args.seed}")
    ref = net_only_ms(model, x)
    print(f"network alone on a ready 28x28 input: {ref:.2f} ms (the ratio below is to this)\n")
    print(f"{'kind':<16} {'right':>7} {'target':>7} {'no digit':>9} {'target':>7} "
          f"{'unsure':>7} {'ms/image':>9} {'ratio':>6}")
    for kind in args.kinds:
        r = run_kind(model, kind, args.count, args.seed, x, y, loaded.card)
        unsure = "n/a" if r["unsure"] is None else f"{100 * r['unsure']:.1f}%"
        if kind in DIGIT_KINDS:
            least, most = TARGETS[kind]
            right, t_right = f"{100 * r['right']:.1f}%", f">={100 * least:.0f}%"
            empty = f"{100 * r['empty']:.1f}%"
            t_empty = f"<={100 * most:.1f}%" if most is not None else "-"
            ok = r["right"] >= least and (most is None or r["empty"] <= most)
        else:
            word, least = EMPTY_TARGETS[kind]
            share = r["reasons"].get(word, 0) / r["n"]
            right, t_right = "-", "-"
            empty = f"{100 * r['empty']:.1f}%"
            t_empty = f">={100 * least:.0f}%" if least is not None else "-"
            ok = r["empty"] >= (least if least is not None else 0)
            empty += f" ({100 * share:.0f}% '{word}')"
        print(f"{kind:<16} {right:>7} {t_right:>7} {empty:>9} {t_empty:>7} {unsure:>7} "
              f"{r['ms']:>8.1f} {r['ms'] / ref:>6.1f}x  {'ok' if ok else 'MISSED'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
