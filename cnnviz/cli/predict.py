"""`cnnviz predict`: read the digit in image files, the app's own way."""

from __future__ import annotations

import sys

from ..core.basics.text_safety import printable  # (light: no torch)
from .common import add_model_choice, open_model, strict_json

NAME = "predict"


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="read the digit in one or more image files")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_model_choice(p)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per image")


def run(args) -> int:
    import numpy as np

    from ..core.basics.formulas import percent
    from ..core.pictures.images import ImageError, load_image
    from ..core.reading import verdict
    from ..core.reading.inference import analyze

    loaded = open_model(args)
    results, failed = [], False
    for name in args.images:
        try:
            # The app's own path: the picture framed for the network, traced, judged.
            result = analyze(loaded.model, load_image(name), dataset=loaded.dataset,
                             card=loaded.card)
        except (ImageError, ValueError) as exc:
            failed = True
            results.append({"file": name, "error": str(exc)})
            continue
        except (MemoryError, RuntimeError) as exc:
            from ..core.networks.memory import out_of_memory

            what = out_of_memory(exc)
            if what is None:
                raise
            failed = True
            results.append({"file": name, "error": f"not enough memory to read it ({what}); "
                                                   "try a smaller picture"})
            continue
        prep = result.digit
        if prep.empty:  # an all-zero input still gets a confident answer; it means nothing
            failed = True
            why = ("there is something in the picture, but no single digit-sized shape "
                   "(crop it to one digit)" if getattr(prep, "reason", "") == "no single digit"
                   else "the picture is blank (no ink stands out from the background)")
            results.append({"file": name, "error": f"no digit found: {why}"})
            continue
        probs = result.probabilities
        if not np.isfinite(probs).all():  # "0 (nan%)" would be no answer at all
            failed = True
            results.append({"file": name, "error": "the network's output is not a number "
                            "(NaN or infinity): the model's weights are broken"})
            continue
        # Full precision: rounding shows small probabilities as 0.0
        results.append({"file": name, "prediction": result.prediction,
                        "class": loaded.classes[result.prediction],
                        "probabilities": [float(p) for p in probs], "unsure": result.unsure})
    if args.json:
        print(strict_json(results))
    else:
        classes = [printable(c) for c in loaded.classes]  # names from a file: no terminal codes
        for r in results:
            if "error" in r:  # stderr, so stdout holds only results
                print(f"{r['file']}: error: {r['error']}", file=sys.stderr)
                continue
            top = sorted(range(len(classes)), key=lambda i: -r["probabilities"][i])[:3]
            tops = ", ".join(f"{classes[i]} {percent(r['probabilities'][i])}" for i in top)
            unsure = (f"   unsure: {verdict.not_like(loaded.dataset)}" if r["unsure"] else "")
            print(f"{r['file']}: {classes[r['prediction']]}   ({tops}){unsure}")
    return 1 if failed else 0
