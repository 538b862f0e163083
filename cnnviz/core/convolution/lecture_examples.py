"""The lecture's worked examples (../shared/seed/cnn-lecture.md), each with the slide's
settings and the right answer; where a slide prints something else, what it prints and why
that is wrong.

    example = LECTURE_EXAMPLES["stride-2"]
    result = run_pipeline(example.image, example.settings())
    example.matches(result.final)   # True

Qt-free: the kernel explorer's Source box and the tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filter_settings import KernelSettings

__all__ = ["LECTURE_EXAMPLES", "LectureExample"]


@dataclass(frozen=True, eq=False)
class LectureExample:
    """A worked example from the lecture, with the slide's answer."""

    key: str
    name: str  # what the picker shows
    slide: str  # the slide's title
    image: np.ndarray  # (H, W) float64
    kernel: np.ndarray  # (kh, kw)
    stride: tuple[int, int]
    padding: tuple[int, int]
    pool_kind: str
    pool_size: int
    pool_stride: int
    expected: np.ndarray  # the right answer (the final stage)
    description: str
    activation: str = "none"
    slide_shows: np.ndarray | None = None  # what the slide prints, where that is wrong
    note: str = ""  # why the slide's numbers differ
    short: str = ""  # a short name for a narrow picker ("Stride 2 (5×5)"); `name` when empty

    @property
    def short_name(self) -> str:
        return self.short or self.name

    def matches(self, final: np.ndarray | None) -> bool:
        """True when `final` (a result's last stage) is the slide's right answer."""
        return (final is not None and final.shape == self.expected.shape
                and bool(np.allclose(final, self.expected)))

    def settings(self, base: KernelSettings | None = None) -> KernelSettings:
        return (base or KernelSettings()).with_changes(
            kernel=self.kernel.copy(), preset_key=None, stride=self.stride, padding=self.padding,
            activation=self.activation, pool_kind=self.pool_kind, pool_size=self.pool_size,
            pool_stride=self.pool_stride, per_channel=False)

    @property
    def stage(self) -> str:
        return "pool" if self.pool_kind != "none" else "conv"


def _a(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.setflags(write=False)
    return a


_IMAGE_5x5 = _a([[1, 0, 1, 0, 1], [1, 0, 0, 1, 1], [0, 1, 1, 0, 0], [1, 0, 0, 1, 0], [0, 0, 1, 1, 0]])
_KERNEL = _a([[0, 1, 0], [1, 0, -1], [0, 1, 0]])
_STRIDE_IMAGE = _a([[95, 242, 186, 152, 39], [39, 14, 220, 153, 180], [5, 247, 212, 54, 46],
                    [46, 77, 133, 110, 74], [156, 35, 74, 93, 116]])
_LAPLACIAN = _a([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
_PADDING1 = _a([[1, 0, 0, 1, 1], [1, 2, 1, -1, 2], [1, -1, 1, 3, 1], [0, 2, 1, 1, 1],
                [1, -1, -1, 2, 1]])
_NONE = ("none", 2, 2)

_EXAMPLE_LIST = [
    LectureExample(
        "what-is-the-output", "What is the Output? (5×5, stride 1)", "What is the Output? / Recap",
        _IMAGE_5x5, _KERNEL, (1, 1), (0, 0), *_NONE, _a([[2, 1, -1], [-1, 1, 3], [2, 1, 1]]),
        "The 5×5 binary image and the 3×3 kernel of the Recap slides: 5 − 3 + 1 = 3, a 3×3 "
        "feature map. Point at an output pixel to see its nine products.",
        short="Recap: 5×5, stride 1"),
    LectureExample(
        "stride-2", "Stride of 2 (5×5)", "Stride of 2 / Shift by 2",
        _IMAGE_5x5, _KERNEL, (2, 2), (0, 0), *_NONE, _a([[2, -1], [2, 1]]),
        "The same image and kernel, moving 2 pixels at a time: (5 − 3 + 2×0) / 2 + 1 = 2.",
        short="Stride 2 (5×5)"),
    LectureExample(
        "padding-1", "Padding = 1 (5×5 → 7×7)", "Padding",
        _IMAGE_5x5, _KERNEL, (1, 1), (1, 1), *_NONE, _PADDING1,
        "A ring of zeros around the image keeps the output 5×5: (5 − 3 + 2×1) / 1 + 1 = 5.",
        slide_shows=_a([[2, -1, 1, 1, 0], [2, 1, 0, 1, 2], [1, -1, 1, 0, 1], [0, 1, 2, 1, 1],
                        [2, 0, 1, 0, 2]]),
        note="The slide's padded 7×7 image is right but 16 of its 25 output values are not; "
             "its top-left 3×3 is the stride-2 answer pasted in. Check any pixel by pointing at it.",
        short="Padding 1 (5×5)"),
    LectureExample(
        "seven-by-seven-stride-2", "7×7 image, 3×3 filter, stride 2", "How many positions?",
        _a(np.pad(_IMAGE_5x5, 1)), _KERNEL, (2, 2), (0, 0), *_NONE, _PADDING1[::2, ::2],
        "The question after the padding slide: a 3×3 filter on the padded 7×7 image with stride 2 "
        "lands on (7 − 3) / 2 + 1 = 3 positions per axis, 9 in all.",
        short="7×7, stride 2"),
    LectureExample(
        "stride-laplacian-1", "Stride slide: Laplacian, stride 1", "Stride",
        _STRIDE_IMAGE, _LAPLACIAN, (1, 1), (0, 0), *_NONE,
        _a([[692, -315, -6], [-680, -194, 305], [153, -59, -86]]),
        "The Stride slide's 5×5 grey image and the Laplacian kernel: 242 + 39 + 220 + 247 − 4×14 = 692.",
        note="The slide also shows a 6×6 grid (131 162 232 …); it is a frame of another figure, "
             "partly hidden by a kernel drawn over it. A 3×3 kernel on 6×6 gives 4×4, not the "
             "slide's 3×3: the 5×5 grid is the input that gives the slide's numbers.",
        short="Laplacian, stride 1"),
    LectureExample(
        "stride-laplacian-2", "Stride slide: Laplacian, stride 2", "Stride",
        _STRIDE_IMAGE, _LAPLACIAN, (2, 2), (0, 0), *_NONE, _a([[692, -6], [153, -86]]),
        "The same, with a 2×2 stride: every other position of the stride-1 result.",
        short="Laplacian, stride 2"),
    LectureExample(
        "grey-vertical-edge", "Vertical edge (grey scale)", "Convolution on Grey Scale",
        _a([[1, 1, 0, 0, 0]] * 5), _a([[1, 0, -1]] * 3), (1, 1), (0, 0), *_NONE,
        _a([[3, 3, 0]] * 3),
        "Bright on the left, dark on the right: the kernel 1 0 −1 lights up where the edge is.",
        short="Vertical edge (5×5)"),
    LectureExample(
        "max-pool", "Max pooling 2×2, stride 2 (4×4)", "Pooling: Example",
        _a([[4, 123, 1, 34], [56, 99, 222, 253], [45, 122, 165, 12], [21, 187, 133, 124]]),
        _a([[1]]), (1, 1), (0, 0), "max", 2, 2, _a([[123, 253], [187, 165]]),
        "No convolution here (a 1×1 kernel of 1 copies the input): each 2×2 block keeps its "
        "largest value. Point at a pooled pixel to see which one won.",
        slide_shows=_a([[123, 167], [187, 165]]),
        note="The slide prints 167 top right, but 167 is not in the image: that block holds "
             "1, 34, 222, 253, so its max is 253.",
        short="Max pooling (4×4)"),
]

LECTURE_EXAMPLES: dict[str, LectureExample] = {e.key: e for e in _EXAMPLE_LIST}
