"""`cnnviz filter`: the kernel explorer's pipeline (kernel, activation, pooling) on a file."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import CliError

NAME = "filter"


def add_parser(sub) -> None:
    p = sub.add_parser("filter", help="apply a kernel (and activation, pooling) to an image")
    p.add_argument("image")
    p.add_argument("--kernel", required=True,
                   help="a preset name (see `cnnviz kernels`) or values like '0 -1 0; -1 5 -1; 0 -1 0'")
    p.add_argument("--stride", default="1", help="S or SH,SW")
    p.add_argument("--padding", default="0", help="P or PH,PW (zero padding)")
    p.add_argument("--activation", default="none",
                   help="none, relu, leaky_relu, elu, tanh, sigmoid or softmax (softmax: over "
                        "the whole output map, per channel with --per-channel)")
    p.add_argument("--pool", default=None, metavar="KIND:SIZE[:STRIDE]",
                   help="pooling after the activation, e.g. max:2:2 (kinds: max, min, avg; the "
                        "stride defaults to the size; 'none' for no pooling)")
    p.add_argument("--per-channel", action="store_true",
                   help="filter each colour channel on its own (default: sum over channels "
                        "like a conv layer)")
    p.add_argument("--out", "-o", required=True,
                   help="OUT.npy keeps raw float values; OUT.png a normalised picture (the "
                        "folder must exist)")


def _parse_pair(text: str, what: str, most: int) -> tuple[int, int]:
    """--stride / --padding: one whole number or two (rows, columns), at most `most` each
    (a shell passes any number; 1e20 must be one clear line, not minutes of arithmetic)."""
    try:
        parts = [int(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise CliError(f"--{what} must be a whole number or two like 2,1; got {text!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise CliError(f"--{what} takes one or two numbers, got {text!r}")
    if max(parts) > most:
        raise CliError(f"--{what} may be at most {most:,} (got {text})")
    return parts[0], parts[1]


def _parse_pool(text: str | None) -> tuple[str, int, int] | None:
    """--pool KIND[:SIZE[:STRIDE]] -> (kind, size, stride), or None for no pooling."""
    from ..core.convolution.ops import POOL_KINDS

    if text is None:
        return None
    example = "like max:2:2 (KIND:SIZE:STRIDE), or none"
    if not text.strip():
        raise CliError(f"--pool is empty; give the pooling {example}")
    bits = [b.strip() for b in text.split(":")]
    if len(bits) > 3:
        raise CliError(f"--pool takes at most KIND:SIZE:STRIDE (three parts), got {text!r}")
    kind = bits[0].lower()
    if kind == "none":
        if len(bits) > 1:
            raise CliError(f"--pool none takes no size or stride, got {text!r}")
        return None
    if kind not in POOL_KINDS:
        raise CliError(f"--pool: unknown pooling {bits[0]!r}; choose one of: none, {', '.join(POOL_KINDS)}")
    numbers = []
    for what, bit in zip(("size", "stride"), bits[1:]):
        try:
            n = int(bit)
        except ValueError:
            raise CliError(f"--pool {what} must be a whole number, got {bit!r}; write the pooling "
                           f"{example}") from None
        if n < 1:
            raise CliError(f"--pool: the pooling {what} must be at least 1 (got {n})")
        numbers.append(n)
    size = numbers[0] if numbers else 2
    return kind, size, numbers[1] if len(numbers) > 1 else size


def _write_filter_output(out: Path, result) -> None:
    """.npy: the raw values under the exact name (np.save on a path would add ".npy");
    .png: a picture stretched to 0..255. Never half a file."""
    import numpy as np

    from ..core.basics.files import FileProblem, write_atomically
    from ..core.pictures.images import ImageError, save_image

    try:
        if out.suffix.lower() == ".npy":
            write_atomically(out, lambda fh: np.save(fh, result))
        else:
            save_image(out, result, normalize=True)
    except (ImageError, FileProblem) as exc:
        raise CliError(str(exc)) from None


def run(args) -> int:
    import numpy as np

    from ..core.basics.files import output_problem
    from ..core.basics.limits import MAX_FILTER_PADDING, MAX_FILTER_STRIDE
    from ..core.convolution.filter_settings import KernelSettings
    from ..core.convolution.filtering import ACTIVATION_NAMES, run_pipeline
    from ..core.convolution.kernels import KernelError, kernel_from_text_or_preset
    from ..core.pictures.images import ImageError, load_image

    try:
        kernel = kernel_from_text_or_preset(args.kernel)
    except KernelError as exc:
        raise CliError(str(exc)) from None
    stride = _parse_pair(args.stride, "stride", MAX_FILTER_STRIDE)
    padding = _parse_pair(args.padding, "padding", MAX_FILTER_PADDING)
    pool = _parse_pool(args.pool)
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in (".npy", ".png"):
        raise CliError("--out must end in .npy (raw values) or .png (picture)")
    problem = output_problem(out)  # said now, not after the filtering
    if problem:
        raise CliError(problem)
    try:
        image = load_image(args.image).astype(np.float32)
    except ImageError as exc:
        raise CliError(str(exc)) from None
    if args.activation not in ACTIVATION_NAMES:
        raise CliError(f"--activation: unknown activation {args.activation!r}; choose one of: "
                       f"{', '.join(ACTIVATION_NAMES)}")
    kind, size, pool_stride = pool or ("none", 2, 2)
    settings = KernelSettings(kernel=kernel, preset_key=None, stride=stride, padding=padding,
                              activation=args.activation, pool_kind=kind, pool_size=size,
                              pool_stride=pool_stride, per_channel=args.per_channel)
    try:
        # The kernel explorer's pipeline, so both floor a size that is not whole (like torch
        # and Keras) and say so in the same words.
        r = run_pipeline(image, settings)
    except MemoryError:
        raise CliError(f"not enough memory to filter {args.image}; try a smaller image or "
                       "less padding") from None
    if r.error:
        raise CliError(r.error)
    for note in r.notes:
        print(f"note: {note}", file=sys.stderr)
    result = r.final
    assert result is not None  # no error: every stage asked for was computed
    if result.ndim == 3:
        result = np.moveaxis(result, 0, -1)  # per channel: (H, W, C), as images are stored
    _write_filter_output(out, result)
    shape = "x".join(map(str, result.shape))
    print(f"{args.image} -> {out}  ({shape}, min {float(result.min()):g}, max {float(result.max()):g})")
    return 0
