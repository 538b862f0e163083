"""`cnnviz evaluate`: test accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import json
import time

from ..core.basics.text_safety import printable  # (light: no torch)
from .common import (
    DATASET_HELP,
    CliError,
    add_data_dir,
    add_model_choice,
    dataset_choice,
    load_data,
    open_model,
)

NAME = "evaluate"


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    add_model_choice(p)
    p.add_argument("--dataset", default=None, metavar="NAME|DIR",
                   help=DATASET_HELP.replace(", or mnist+FOLDER (both together)", "")
                   + "; default: the dataset the model was trained on")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir(p)


def run(args) -> int:
    from ..core.networks.network import digit_mismatch
    from ..core.training.loop import evaluate

    loaded = open_model(args)
    choice = dataset_choice(args.dataset) if args.dataset else None
    if choice is not None and choice.folder is not None:
        return _on_set(args, loaded, choice)
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
        from ..core.training.report_card import wilson_interval

        right = round(m["accuracy"] * m["count"])
        out.update(model=loaded.name, dataset=dataset, seconds=round(seconds, 2),
                   input_scale=loaded.card.get("input_scale", "0-1"), classes=loaded.classes,
                   accuracy_interval=list(wilson_interval(right, m["count"])),
                   per_writer_accuracy={},
                   mnist_accuracy=m["accuracy"] if dataset == "mnist" else None)
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


def _on_set(args, loaded, choice) -> int:
    """Your own set: accuracy with its interval, per class and writer, the confusion matrix,
    the most confident misreads, and the model's MNIST test accuracy beside them."""
    from ..core.training.user_set import UserSetError
    from ..core.training.user_training import evaluate_on_set

    if choice.builtin is not None:
        raise CliError("evaluate reads one set at a time: give the folder alone (its MNIST "
                       "test accuracy is shown beside it)")
    t0 = time.perf_counter()
    try:
        result = evaluate_on_set(loaded.model, choice.folder, args.data_dir)
    except UserSetError as exc:
        raise CliError(str(exc)) from None
    seconds = time.perf_counter() - t0
    if args.json:
        out = result.to_json()
        out.update(model=loaded.name, dataset=str(choice.folder), seconds=round(seconds, 2),
                   input_scale=loaded.card.get("input_scale", "0-1"))
        print(json.dumps(out))
        return 0
    names = [printable(c) for c in result.classes]
    print(f"Model {printable(loaded.name)} on {printable(choice.folder.name)} ({result.count:,} "
          f"pictures, {seconds:.1f} s)")
    print(f"Accuracy: {printable(result.sentence)}")
    print("\nPer writer:")
    for writer, acc in result.per_writer.items():
        print(f"  {printable(writer)[:20]:>20}  {acc * 100:6.2f}%")
    print("\nPer class:")
    for name, share in result.per_class.items():
        print(f"  {printable(name)[:20]:>20}  " + ("   –" if share is None else f"{share * 100:6.2f}%"))
    if result.misread:
        print("\nMisread most confidently:")
        for m in result.misread[:5]:
            print(f"  {printable(m['file'])}: {printable(m['truth'])} read as "
                  f"{printable(m['answer'])} ({m['confidence']:.1%})")
    used = sorted({i for i, row in enumerate(result.confusion) if any(row)}
                  | {j for row in result.confusion for j, v in enumerate(row) if v})
    print("\nConfusion matrix (rows: true class, columns: read as):")
    print(" " * 12 + "".join(f"{names[j][:7]:>8}" for j in used))
    for i in used:
        print(f"{names[i][:11]:>11} " + "".join(f"{result.confusion[i][j]:>8}" for j in used))
    return 0
