"""`cnnviz report`: a model's report card (cnnviz.core.training.report_card), alone or beside another
model, as a table or as JSON."""

from __future__ import annotations

import argparse
import sys

from ..core.basics.text_safety import printable  # (light: no torch)
from .common import CliError, add_data_dir, add_model_choice, open_model, strict_json

NAME = "report"
MARK = "*"  # beside the better of two figures (plain ASCII: any terminal shows it)


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="a model's report card: accuracy with its 95%% interval, "
                       "per class, on photos and scans, shifted and rotated, non-digits flagged, "
                       "calibration error, speed; --compare sets another model beside it")
    add_model_choice(p)
    p.add_argument("--compare", metavar="NAME|FILE", default=None,
                   help="another model to set beside it: a shipped model's name (lecture-keras, "
                        "...) or a model file")
    p.add_argument("--test-images", type=int, default=None, metavar="N",
                   help="only the first N test pictures (a quicker, rougher card)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir(p)


def _open_compared(name_or_file: str):
    from ..core.networks.weights import SHIPPED

    shipped = name_or_file in SHIPPED
    return open_model(argparse.Namespace(model=name_or_file if shipped else None,
                                         weights=None if shipped else name_or_file,
                                         input_scale=None, labels=None))


class _Progress:
    """One line on stderr, rewritten in place on a terminal (nothing when it is not one)."""

    def __init__(self, name: str) -> None:
        self.name = printable(name)
        self.on = sys.stderr.isatty()

    def __call__(self, share: float, words: str) -> None:
        if self.on:
            print(f"\r{self.name}: {share:4.0%} {words[:60]:<60}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.on:
            print("\r" + " " * 80 + "\r", end="", file=sys.stderr, flush=True)


def _card(loaded, args):
    from ..core.datasets.data import DataError
    from ..core.training import report_card as rc

    progress = _Progress(loaded.name)
    try:
        return rc.compute(loaded, args.data_dir, test_limit=args.test_images,
                          kind_count=rc.KIND_COUNT, invariance_count=rc.INVARIANCE_COUNT,
                          outlier_count=rc.OUTLIERS_IN_CARD, progress=progress).figures
    except DataError as exc:
        raise CliError(str(exc)) from None
    finally:
        progress.done()


def table(cards: list[dict]) -> str:
    """The figures as a table: a column per model, MARK beside the better of two."""
    from ..core.training.report_card import rows

    names = [printable(str(c.get("model", ""))) for c in cards]
    lines = [(r.label if r.heading or r.key in ("parameters", "accuracy", "accuracy_interval",
                                                "non_digits_flagged", "ece", "ms_per_image")
              else f"  {r.label}",
              [f"{v} {MARK}" if r.better == i else v for i, v in enumerate(r.values)])
             for r in rows(*cards)]
    first = max(len(label) for label, _ in lines)
    widths = [max(len(n), *(len(v[i]) for _, v in lines)) for i, n in enumerate(names)]
    out = ["  ".join([" " * first, *(n.rjust(w) for n, w in zip(names, widths))])]
    out += ["  ".join([printable(label).ljust(first), *(v.rjust(w) for v, w in zip(values, widths))])
            for label, values in lines]
    return "\n".join(out)


def run(args) -> int:
    if args.test_images is not None and args.test_images < 1:
        raise CliError("--test-images takes a whole number of 1 or more")
    loaded = open_model(args)
    cards = [_card(loaded, args)]
    if args.compare:
        cards.append(_card(_open_compared(args.compare), args))
    if args.json:
        print(strict_json(cards[0] if len(cards) == 1 else {"model": cards[0], "compared_with": cards[1]}))
        return 0
    print(table(cards))
    for card in cards:
        for key, why in card.get("omitted", {}).items():
            if key in ("accuracy", "picture_kinds"):  # (one reason says it for the rest)
                print(f"{printable(str(card.get('model')))}: {printable(why)}")
    source = cards[0].get("test_source")
    if source:
        print(f"\nTested on {printable(source)}." + (f"  {MARK} the better of the two."
                                                      if len(cards) == 2 else ""))
    return 0
