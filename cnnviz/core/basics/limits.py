"""Every limit the app and the CLI enforce, once, named for what it limits.

A limit for what a person types (a kernel in a cell grid, a stride in a spin box) may
differ from one for what a file may hold (a layer read from a weights header): they
have different names here, never one name with two values.
"""

from __future__ import annotations

# Images (files and pasted pictures).
MAX_IMAGE_PIXELS = 50_000_000  # per channel; also the padded input and output of a filter
# (its maps together when each colour channel is filtered alone)
MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024

# A kernel typed by a person (kernel explorer, `cnnviz filter --kernel`).
MAX_TYPED_KERNEL_SIDE = 11  # AlexNet's first layer is 11×11
MAX_GRID_KERNEL_SIDE = 7  # the explorer's cell grid (larger kernels come as text)
MAX_TYPED_STRIDE = 10
MAX_TYPED_PADDING = 30
MAX_TYPED_POOL = 8  # pooling window side and stride in the explorer
MAX_KERNEL_VALUE = 1e6  # a typed or saved kernel weight, either sign (1e308 overflowed drawing)

# The command line's filter: any whole number a shell can pass, checked in closed form.
MAX_FILTER_STRIDE = 10_000
MAX_FILTER_PADDING = 10_000

# An architecture read from a weights file, a JSON file, the text form or the lab's editor.
MAX_ARCH_LAYERS = 64
MAX_ARCH_CHANNELS = 1024
MAX_ARCH_UNITS = 65536
MAX_ARCH_KERNEL_SIDE = 15
MAX_ARCH_STRIDE = 16
MAX_ARCH_PADDING = 16
MAX_ARCH_PARAMETERS = 50_000_000
MAX_LAYER_VALUES = 8_000_000  # one image's output of one layer (32 MB of float32)
MAX_WEIGHTS_FILE_BYTES = 512 * 1024 * 1024
MAX_HEADER_DEPTH = 32  # nesting of a weights file's JSON header (and of an architecture's JSON)
# A weights file's JSON header (the architecture, the card and where each tensor lies): the
# shipped files' are 2,040 to 6,552 bytes, a 64-layer network with a card of 1,000 class
# names about 60 KB. Checked before the header is parsed: a 99 MB header of empty objects
# made Python build 2.8 GB of them before it could be refused.
MAX_HEADER_BYTES = 1_000_000
MAX_JSON_DIGITS = 100  # a whole number in a header or an architecture's JSON (cnnviz writes <= 20)
# The work of one picture through a network: multiply-adds of its convolutions and dense
# layers (and the values its pooling windows read), from the layer shapes, before anything
# runs. ResNet-18 on a 224×224 picture needs 1.8e9 and ResNet-34 3.7e9; the biggest shipped
# network (lecture-deep) 1.2e7. A 10 MB file of wide, padded convolutions inside every other
# limit needed about 2e11: two minutes a picture. See multiply_adds.
MAX_MULTIPLY_ADDS = 5_000_000_000

# Keras model code typed or pasted into the lab, or given as `--arch FILE.py`: read, never
# run. A notebook cell with data loading, the model, compile and fit is 1-3 KB; the lecture's
# whole example 1.3 KB.
MAX_KERAS_CODE_CHARS = 100_000
MAX_KERAS_CODE_DEPTH = 24  # brackets and calls inside one another in one expression

# A stored map of what a network learned (cnnviz.core.units.embedding): 10,000 points on 50 axes
# are 2 MB; the axes of a 100,000-value layer 40 MB.
MAX_MAP_CACHE_BYTES = 256 * 1024 * 1024

# Training.
MAX_LAB_LR = 10.0  # the lab's learning-rate box: high enough to watch a run blow up
MAX_TRAIN_SEED = 2**31 - 1  # what a spin box holds; torch.manual_seed fails past 2**64



def _count(shape) -> int:
    n = 1
    for v in shape:
        n *= int(v)
    return n


def multiply_adds(layer_infos) -> int:
    """The multiply-adds one picture costs, from the layer shapes alone (the LayerInfos of
    cnnviz.core.networks.models.summarize; nothing is built or run): a convolution
    out_h·out_w·out_c·(k_h·k_w·in_c/groups), a dense layer in·out; a pooling layer counts
    the values its windows read (out_c·out_h·out_w·k·k, a global pooling its input), or a
    file of pools alone would cost nothing. Every other layer works value by value, at most
    64 × 8,000,000 values, far below the limit. Compared with MAX_MULTIPLY_ADDS."""
    total = 0
    for info in layer_infos:
        spec, out = info.spec, _count(info.output_shape)
        if info.kind == "conv":
            kh, kw = (int(v) for v in spec.kernel)
            total += out * kh * kw * (int(info.in_shape[0]) // int(spec.groups))
        elif info.kind == "dense":
            total += int(info.in_shape[0]) * out
        elif info.kind == "pool":
            total += out * int(spec.size) ** 2
        elif info.kind == "globalpool":
            total += _count(info.in_shape)
    return total

# Lessons (.cnnviz-lesson files) and their exercises.
MAX_LESSON_FILE_BYTES = 5 * 1024 * 1024
MAX_LESSON_STEPS = 200
MAX_LESSON_TEXT = 2000  # characters of one field of a step (its text, formula, what to try)
MAX_EXERCISE_GRID = 7  # an exercise's image, kernel or block: at most 7×7
MAX_EXERCISE_NUMBER = 10_000_000  # a size, depth or count in an exercise (256×256 inputs fit)
MAX_ANSWER_CHARS = 500  # an answer typed in the lesson panel

# The user's own sets (cnnviz.core.training.user_set).
MAX_SET_FILES = 100_000  # pictures in a set or an image folder read as one
MAX_SET_CLASSES = 50
MAX_SET_MANIFEST_BYTES = 256 * 1024 * 1024  # cnnviz-set.json with every sample's strokes
