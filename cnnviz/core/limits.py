"""Every limit the app and the CLI enforce, once, named for what it limits.

A limit for what a person types (a kernel in a cell grid, a stride in a spin box) may
differ from one for what a file may hold (a layer read from a weights header): they
have different names here, never one name with two values.
"""

from __future__ import annotations

# Images (files and pasted pictures).
MAX_IMAGE_PIXELS = 50_000_000  # per channel; also the padded input and output of a filter
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
MAX_HEADER_DEPTH = 32  # nesting of a weights file's JSON header

# Training.
MAX_TRAIN_SEED = 2**31 - 1  # what a spin box holds; torch.manual_seed fails past 2**64
