"""`cnnviz embed`: a map of what a network learned (cnnviz.core.units.embedding) as a picture:
a flat layer's values (by default the one before the output) for the test set, in 2-D by
PCA or t-SNE, coloured by true class; optionally the coordinates as a .npy file."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import CliError, add_data_dir, add_model_choice, open_model

NAME = "embed"


def add_parser(sub) -> None:
    p = sub.add_parser("embed", help="a map of what the network learned: a layer's values for "
                       "the test set in 2-D (PCA or t-SNE), coloured by class, as a picture")
    add_model_choice(p)
    p.add_argument("--layer", default=None, metavar="NAME",
                   help="a flat layer before the output (default: the one the output reads)")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca",
                   help="pca (seconds, all 10,000 test digits) or tsne (islands of alike "
                        "digits; 5,000 digits by default, about 35 s on 2 cores)")
    p.add_argument("--points", type=int, default=None, metavar="N",
                   help="how many test digits to map (a seeded spread of the test set; "
                        "default: 10,000 for pca, 5,000 for tsne)")
    p.add_argument("-o", "--output", required=True, metavar="MAP.png",
                   help="the picture to write (.png, .jpg, .bmp, .webp, .tif)")
    p.add_argument("--coords", default=None, metavar="OUT.npy",
                   help="also write the coordinates, float32 (N, 2), one row per test digit in "
                        "test-set order (with a subset, its positions go to OUT.indices.npy)")
    add_data_dir(p)


def _check_outputs(args) -> None:
    """Every output can be written, before any work is done."""
    from ..core.basics.files import output_problem
    from ..core.pictures.images import SAVE_FORMATS

    if Path(args.output).suffix.lower() not in SAVE_FORMATS:
        raise CliError(f"cannot save {Path(args.output).name}: use one of "
                       f"{', '.join(sorted(SAVE_FORMATS))}")
    for path in filter(None, (args.output, args.coords)):
        problem = output_problem(path)
        if problem:
            raise CliError(problem)
    if args.coords and Path(args.coords).suffix.lower() != ".npy":
        raise CliError(f"--coords {args.coords}: the coordinates are written as a .npy file")
    if args.points is not None and not 3 <= args.points <= 10_000:
        raise CliError(f"--points must be 3 to 10000 (the test set), got {args.points}")


def _write_coords(path: str, m) -> str:
    import numpy as np

    from ..core.basics.files import write_atomically

    write_atomically(path, lambda fh: np.save(fh, m.coords.astype(np.float32)))
    words = f"; coordinates in {path} ({len(m.coords)}×2)"
    if len(m.indices) < 10_000:
        extra = str(Path(path).with_suffix(".indices.npy"))
        write_atomically(extra, lambda fh: np.save(fh, m.indices.astype(np.int64)))
        words += f", their test-set positions in {extra}"
    return words


def run(args) -> int:
    from ..core.basics.files import FileProblem
    from ..core.basics.text_safety import printable
    from ..core.pictures.images import ImageError, save_image
    from ..core.units.embedding import EmbeddingError, describe, make_map, render_map

    _check_outputs(args)
    loaded = open_model(args)
    on_terminal = sys.stderr.isatty()

    def progress(share: float) -> None:  # one line on stderr, rewritten in place
        if on_terminal:
            print(f"\r{printable(loaded.name)}: making the map {share:4.0%}", end="",
                  file=sys.stderr, flush=True)

    try:
        m = make_map(loaded.model, loaded.dataset, args.method, args.layer, args.points,
                     args.data_dir, progress=progress)
    except EmbeddingError as exc:
        raise CliError(str(exc)) from None
    finally:
        if on_terminal:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    try:
        save_image(args.output, render_map(m))
        words = _write_coords(args.coords, m) if args.coords else ""
    except (ImageError, FileProblem) as exc:
        raise CliError(str(exc)) from None
    print(f"Wrote {args.output}: {describe(m)}; {int(m.misread.sum())} misread (ringed){words}.")
    return 0
