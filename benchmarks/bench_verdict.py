"""The "does not look like a digit" verdict, measured. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_verdict.py [--per-kind 100]
        [--model cnnviz] [--model cnnviz-fashion] [--weights FILE] [--user-count 300]

For each model (default: the shipped cnnviz and cnnviz-fashion):
1. Drawn non-members (cnnviz.core.reading.outliers' measurement stream, never trained on) through
   the real preprocessing: the share of each kind called unsure (target: at least 70% over
   all kinds), under the threshold stored in the model's card (or the default rule).
2. The model's own test set (all 10,000): the share called unsure (target: at most 2%).
3. For an MNIST model: pictures of MNIST test
   digits made as users make them (tight crops, phone photos, faint pencil, low-res scans):
   the share of each kind called unsure (target: at most 2% each).
4. The three scores compared at the same 99.5th-percentile threshold on the last 2,000
   training images: non-members flagged, test pictures flagged, and the AUROC (the chance
   that a random non-member scores above a random test picture).
Also the seconds this took, with the CPU model.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # machine.py beside this file

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.datasets.data import DataError, load_split  # noqa: E402
from cnnviz.core.networks.weights import load_shipped, load_weights  # noqa: E402
from cnnviz.core.pictures.preprocess import preprocess_for  # noqa: E402
from cnnviz.core.reading import verdict  # noqa: E402
from cnnviz.core.reading.outliers import KINDS, STREAM_MEASURE, outlier_inputs  # noqa: E402

TARGET_OUTLIERS = 0.70
TARGET_REAL = 0.02
TARGET_USER_KIND = 0.02


def auroc(outlier_scores: np.ndarray, real_scores: np.ndarray) -> float:
    """P(outlier score > real score), ties counted half (the Mann-Whitney statistic)."""
    real = np.sort(real_scores)
    below = np.searchsorted(real, outlier_scores, "left")
    at_or_below = np.searchsorted(real, outlier_scores, "right")
    return float(np.mean(below + 0.5 * (at_or_below - below)) / len(real))


def mark(value: float, target: float, above: bool) -> str:
    ok = value >= target if above else value <= target
    return "ok" if ok else "MISSED"


def user_picture_rates(loaded, count: int, data_dir) -> list[tuple[str, float, float, int]]:
    """(kind, unsure share, no-digit share, pictures) per user-picture kind, or []."""
    from cnnviz.core.pictures import user_pictures

    x, y = load_split("mnist", "test", data_dir)
    prep = preprocess_for(loaded.dataset)
    rows = []
    for kind in user_pictures.DIGIT_KINDS:
        pictures, _labels = user_pictures.make_set(kind, x, y, count=count, seed=0)
        inputs = [prep(p) for p in pictures]
        found = np.array([d.image for d in inputs if not d.empty]).reshape(-1, 28, 28)
        unsure, _ = verdict.unsure_scores(verdict.logits_of(loaded.model, found), loaded.card)
        rows.append((kind, float(unsure.mean()) if len(found) else float("nan"),
                     1 - len(found) / len(inputs), len(inputs)))
    return rows


def bench_model(loaded, per_kind: int, user_count: int, data_dir) -> None:
    dataset = loaded.dataset
    kinds = KINDS[dataset]
    rule = verdict.rule_for(loaded.card)
    how = (f"stored threshold {rule.threshold:.3f} on the {rule.score} score"
           if rule.stored else "the default rule (no stored threshold)")
    print(f"\n== {loaded.name} ({dataset}), {how}")
    t0 = time.perf_counter()
    images, names = outlier_inputs(per_kind * len(kinds), dataset, stream=STREAM_MEASURE, seed=0)
    names = np.array(names)
    logits = verdict.logits_of(loaded.model, images)
    unsure, _ = verdict.unsure_scores(logits, loaded.card)
    thing = "digits" if dataset == "mnist" else "clothes"
    print(f"1. drawn non-{thing} called unsure ({len(names)} pictures, {per_kind} per kind):")
    for kind in kinds:
        sel = names == kind
        print(f"     {kind:<12} {unsure[sel].mean():7.1%}  ({sel.sum()})")
    overall = float(unsure.mean())
    print(f"     {'overall':<12} {overall:7.1%}   target >= {TARGET_OUTLIERS:.0%}: "
          f"{mark(overall, TARGET_OUTLIERS, True)}")

    try:
        xt, yt = load_split(dataset, "test", data_dir)
        xtrain, _ = load_split(dataset, "train", data_dir)
    except DataError as exc:
        print(f"   (no {dataset} data: {exc})")
        return
    test_logits = verdict.logits_of(loaded.model, xt)
    test_unsure, _ = verdict.unsure_scores(test_logits, loaded.card)
    real = float(test_unsure.mean())
    right = test_logits.argmax(1) == yt
    print(f"2. {dataset} test set called unsure: {real:.2%} of {len(xt):,}   target <= "
          f"{TARGET_REAL:.0%}: {mark(real, TARGET_REAL, False)}   (of the ones it reads "
          f"wrong: {test_unsure[~right].mean():.0%} of {int((~right).sum())}; accuracy "
          f"{right.mean():.2%})")

    if dataset == "mnist":
        rows = user_picture_rates(loaded, user_count, data_dir)
        if rows:
            print(f"3. pictures of MNIST test digits as users make them, called unsure "
                  f"(target <= {TARGET_USER_KIND:.0%} each):")
        for kind, share, none, n in rows:
            print(f"     {kind:<15} {share:7.2%}  {mark(share, TARGET_USER_KIND, False):<6} "
                  f"(no digit found: {none:.1%}; {n} pictures)")

    held = verdict.logits_of(loaded.model, xtrain[-verdict.HELD_OUT:])
    print(f"4. the scores compared (threshold: the {verdict.QUANTILE:.1%} quantile of the last "
          f"{verdict.HELD_OUT:,} training images):")
    for score in verdict.SCORES:
        t = np.quantile(verdict.scores(held, score), verdict.QUANTILE)
        o, r = verdict.scores(logits, score), verdict.scores(test_logits, score)
        print(f"     {score:<12} non-{thing} flagged {np.mean(o > t):6.1%}   test flagged "
              f"{np.mean(r > t):6.2%}   AUROC {auroc(o, r):.4f}")
    print(f"   ({time.perf_counter() - t0:.1f} s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", help="a shipped model (repeatable)")
    p.add_argument("--weights", action="append", help="a .safetensors file (repeatable)")
    p.add_argument("--per-kind", type=int, default=100, help="drawn non-members per kind")
    p.add_argument("--user-count", type=int, default=300, help="user pictures per kind")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}")
    models = [load_shipped(m) for m in args.model or []] + [load_weights(w) for w in args.weights or []]
    for loaded in models or [load_shipped("cnnviz"), load_shipped("cnnviz-fashion")]:
        bench_model(loaded, args.per_kind, args.user_count, args.data_dir)


if __name__ == "__main__":
    main()
