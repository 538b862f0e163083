"""`cnnviz evaluate`: test accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import json
import time

from ..core.text_safety import printable  # (light: no torch)
from .common import CliError, add_data_dir, add_model_choice, load_data, open_model

NAME = "evaluate"


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    add_model_choice(p)
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=None,
                   help="default: the dataset the model was trained on")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir(p)


def run(args) -> int:
    from ..core.network import digit_mismatch
    from ..core.training import evaluate

    loaded = open_model(args)
    dataset = args.dataset or loaded.card.get("dataset", "mnist")
    mismatch = digit_mismatch(loaded.input_spec, len(loaded.classes), "evaluate")
    if mismatch:
        raise CliError(mismatch)
    x, y = load_data(dataset, "test", args.data_dir)
    t0 = time.perf_counter()
    m = evaluate(loaded.model, x, y)
    seconds = time.perf_counter() - t0
    if args.json:
        out = {k: v for k, v in m.items() if k not in ("predictions", "confidence")}
        out.update(model=loaded.name, dataset=dataset, seconds=round(seconds, 2),
                   input_scale=loaded.card.get("input_scale", "0-1"), classes=loaded.classes)
        print(json.dumps(out))
        return 0
    classes = [printable(c) for c in loaded.classes]  # names from a file: no terminal codes
    print(f"Model {printable(loaded.name)} on the {dataset} test set ({m['count']:,} images, "
          f"{seconds:.1f} s)")
    right = round(m["accuracy"] * m["count"])
    print(f"Accuracy: {m['accuracy'] * 100:.2f}%  ({right:,} right, "
          f"{m['count'] - right:,} wrong)   mean loss {m['loss']:.4f}")
    print("\nPer class:")
    for i, acc in enumerate(m["per_class_accuracy"]):
        print(f"  {classes[i]:>12}  {acc * 100:6.2f}%")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    print("      " + "".join(f"{i:>6}" for i in range(len(classes))))
    for i, row in enumerate(m["confusion"]):
        print(f"{i:>6}" + "".join(f"{v:>6}" for v in row))
    return 0
