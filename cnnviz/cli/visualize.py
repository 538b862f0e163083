"""`cnnviz visualize`: what one unit looks for, as a picture: its top (or lowest) test
pictures with the field each was cropped to, and an input optimised to excite it, also
written as OUT.npy beside OUT.png (float32, the network's input shape and value range).
`--class K` makes a class's ideal digit (the output layer, unit K)."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import CliError, add_data_dir, add_model_choice, open_model, strict_json

NAME = "visualize"
STARTS = 4  # random starts; the best-scoring one is written


def add_parser(sub) -> None:
    p = sub.add_parser("visualize", help="what a unit looks for: its top test pictures and an "
                       "optimised input, as one picture (and the input as .npy)")
    add_model_choice(p)
    p.add_argument("--layer", default=None, metavar="NAME",
                   help="the layer (cnnviz summary lists them); a softmax's classes are scored "
                        "on the values before it")
    p.add_argument("--unit", type=int, default=None, metavar="K",
                   help="the unit: a conv layer's map, a dense layer's value")
    p.add_argument("--class", dest="klass", type=int, default=None, metavar="K",
                   help="instead of --layer/--unit: class K's ideal digit (the output layer, "
                        "unit K)")
    p.add_argument("--top", type=int, default=9, metavar="N",
                   help="how many test pictures to show (default 9, at most 25)")
    p.add_argument("--lowest", action="store_true",
                   help="the test pictures the unit answers least to, instead of most")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=None,
                   help="the test pictures to score on (default: the dataset on the model's "
                        "card; needed for a model whose card does not say)")
    p.add_argument("--json", action="store_true",
                   help='print {"layer", "unit", "dataset", "top": [{"index", "score", '
                        '"position"}, ...], "optimized", "optimized_score"}')
    p.add_argument("-o", "--output", required=True, metavar="OUT.png",
                   help="the picture to write (.png, .jpg, .bmp, .webp, .tif); the optimised "
                        "input goes to OUT.npy beside it")
    add_data_dir(p)


def _check_args(args) -> Path:
    """The choices hang together and every output can be written (before any work): the
    .npy path."""
    from ..core.basics.files import output_problem
    from ..core.pictures.images import SAVE_FORMATS
    from ..core.units.unit_examples import TOP_KEPT

    if args.klass is not None and (args.layer is not None or args.unit is not None):
        raise CliError("give --class K, or --layer NAME with --unit K, not both")
    if args.klass is None and (args.layer is None or args.unit is None):
        raise CliError("say which unit: --layer NAME and --unit K, or --class K")
    if not 1 <= args.top <= TOP_KEPT:
        raise CliError(f"--top must be 1 to {TOP_KEPT}, got {args.top}")
    out = Path(args.output)
    if out.suffix.lower() not in SAVE_FORMATS:
        raise CliError(f"cannot save {out.name}: use one of {', '.join(sorted(SAVE_FORMATS))}")
    npy = out.with_suffix(".npy")
    for path in (out, npy):
        problem = output_problem(path)
        if problem:
            raise CliError(problem)
    return npy


def _unit(loaded, args) -> tuple[str, int]:
    """(the layer scored, the unit), checked: UnitProblem as one line."""
    from ..core.units.unit_examples import UnitProblem, check_unit, scored_layer, unit_count

    net = loaded.model
    layer = net.layer_infos[-1].name if args.klass is not None else args.layer
    unit = args.klass if args.klass is not None else args.unit
    try:
        scored = scored_layer(net, layer)
        check_unit(scored, unit, unit_count(net, layer))
    except UnitProblem as exc:
        raise CliError(str(exc)) from None
    return scored, unit


def _examples(loaded, args, layer: str, unit: int):
    from ..core.basics.text_safety import printable
    from ..core.units.unit_examples import UnitProblem, unit_examples

    on_terminal = sys.stderr.isatty()

    def progress(share: float) -> None:  # one line on stderr, rewritten in place
        if on_terminal:
            print(f"\r{printable(loaded.name)}: scoring the test pictures {share:4.0%}", end="",
                  file=sys.stderr, flush=True)

    try:
        found = unit_examples(loaded, args.dataset, args.data_dir, progress=progress)
    except UnitProblem as exc:
        hint = " with --dataset" if "choose its dataset" in str(exc) else ""
        raise CliError(f"{exc}{hint}") from None
    finally:
        if on_terminal:
            print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)
    return found, found.examples(layer, unit, args.top, args.lowest)


def _picture(loaded, args, found, layer, unit, top, result, best):
    from ..core.basics.formulas import fmt_count, fmt_number
    from ..core.datasets.data import DATASET_NAMES, load_split
    from ..core.units.unit_examples import crop_box
    from ..core.units.unit_picture import Cell, render_unit, score_caption

    images, _labels = load_split(found.dataset, "test", args.data_dir, verify=False)
    cells = [Cell(images[e.index] / 255.0, crop_box(loaded.model, layer, e.position)
                  if e.position else None, f"#{e.index}: {score_caption(e.score, e.position)}")
             for e in top]
    what = f"class {loaded.classes[unit]}" if args.klass is not None else f"{layer} unit {unit}"
    which = "lowest" if args.lowest else "top"
    real = found.examples(layer, unit, 1)[0].score
    made = Cell(result.pictures[best], crop_box(loaded.model, layer, result.position)
                if result.position else None,
                f"optimised: {fmt_number(result.scores[best])} (best real: {fmt_number(real)})")
    return render_unit(f"{loaded.name}: {what}, {which} {len(top)} of "
                       f"{fmt_count(found.count)} {DATASET_NAMES[found.dataset]} test pictures",
                       cells, made)


def run(args) -> int:
    import numpy as np

    from ..core.basics.files import FileProblem, write_atomically
    from ..core.pictures.images import ImageError, save_image
    from ..core.units.unit_optimise import optimise_unit

    npy = _check_args(args)
    loaded = open_model(args)
    layer, unit = _unit(loaded, args)
    found, top = _examples(loaded, args, layer, unit)
    result = optimise_unit(loaded.model, layer, unit, starts=STARTS, seed=0)
    best = int(np.argmax(result.scores))
    try:
        save_image(args.output, _picture(loaded, args, found, layer, unit, top, result, best))
        write_atomically(npy, lambda fh: np.save(fh, result.inputs[best].astype(np.float32)))
    except (ImageError, FileProblem) as exc:
        raise CliError(str(exc)) from None
    score = float(result.scores[best])
    if args.json:
        print(strict_json({
            "layer": layer, "unit": unit, "dataset": found.dataset,
            "top": [{"index": e.index, "score": e.score,
                     "position": list(e.position) if e.position is not None else None}
                    for e in top],
            "optimized": str(npy), "optimized_score": score}))
    else:
        from ..core.basics.formulas import fmt_number

        print(f"Wrote {args.output}: {layer} unit {unit}, {'lowest' if args.lowest else 'top'} "
              f"{len(top)} test pictures (best {fmt_number(top[0].score)}); the optimised "
              f"input (score {fmt_number(score)}) in {npy}.")
    return 0
