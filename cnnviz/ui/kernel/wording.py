"""The kernel explorer's words: tooltips, panel explanations and fixed texts (in one place,
so the panels stay short and a wording change is one edit)."""

from __future__ import annotations

from ...core.basics.limits import MAX_TYPED_PADDING as MAX_PADDING
from ...core.basics.limits import MAX_TYPED_POOL as MAX_POOL
from ...core.basics.limits import MAX_TYPED_STRIDE as MAX_STRIDE

CUSTOM_TEXT = "Custom (your own numbers)"
LIMITS_TEXT = f"Stride 1 to {MAX_STRIDE}, padding 0 to {MAX_PADDING}."
STALE_MARK = " — last valid result"  # added to a panel's title while it shows an older result
TITLES = {"input": "① input", "kernel": "② kernel", "conv": "③ convolution",
          "activation": "④ activation", "pool": "⑤ pooling"}
PANEL_TIPS = {
    "input": "The image the kernel slides over (zero padding drawn around small images). "
             "The orange box is the window under the output pixel you point at.",
    "kernel": "The kernel's weights: blue below zero, red above. Each output pixel is the "
              "sum of these weights times the pixels under them.",
    "conv": "The convolution output (feature map). Point at a pixel to see its sum of "
            "products, as on the lecture's Recap slides.",
    "activation": "The activation applied to every convolution output.",
}
POOL_TIPS = {
    "max": "The max pooled output. Point at a pixel to see the values its window held and which "
           "one was kept (the largest).",
    "min": "The min pooled output. Point at a pixel to see the values its window held and which "
           "one was kept (the smallest).",
    "avg": "The average pooled output. Point at a pixel to see the values its window held and "
           "their mean (every value counts; none is picked).",
    "none": "Pooling is off: choose max, min or average under Activation and pooling.",
}

TIP_SOURCE = ("What to filter. The current image at full size (what you drew or opened), the "
              "input the network sees (28×28 for an MNIST model; after preprocessing, once a "
              "model has analysed the image), or one of the lecture's worked examples, with the slide's settings and "
              "answer, so you can check every number of the slides.")
TIP_PRESET = ("A ready-made kernel. The lecture's \"Detected features\" table (identity, three "
              "edge detectors, sharpen, box blur, Gaussian blur) and a few classics. "
              "\"Convolution Filters or Kernels detect features in images.\" Edit any cell to "
              "make your own.")
TIP_STRIDE = (f"Stride (1 to {MAX_STRIDE}): how many pixels the kernel moves between outputs. "
              "\"The stride is a step of sliding of small matrix over the image\"; \"Larger stride "
              "has less overlap\" and a smaller output: (W − F + 2P) / S + 1. When that is not a "
              "whole number, the last rows or columns the kernel cannot reach are left out, like "
              "PyTorch and Keras do, and a note says what would make it whole.")
TIP_PADDING = (f"Zero padding (0 to {MAX_PADDING}): rings of zeros added around the image before "
               "the kernel slides, so the edges get their own outputs and the size can stay the "
               "same (5×5 with padding 1 and a 3×3 kernel stays 5×5).")
TIP_LINK = "Use the same stride and padding for rows and columns (square steps, like the slides)."
TIP_ACTIVATION = ("The activation applied to every convolution output. \"Activation function is "
                  "used to introduce non-linearity in the system.\" ReLU: \"Change all negative "
                  "values to zero, leave all positive value alone\", f(x) = max(0, x). tanh lies "
                  "between −1 and 1, sigmoid between 0 and 1.")
TIP_POOL = ("Pooling: \"a process of subsample (shrink the image) to reduce the computation\". "
            "Max keeps the largest value of each window, min the smallest, average the mean. "
            "\"Typically, we use 2 × 2 kernel and stride of 2.\" Sizes are floored like Keras and "
            "torch: ⌊(W − F) / S⌋ + 1.")
TIP_POOL_SIZE = f"The pooling window's side, 1 to {MAX_POOL} (2 means 2×2 blocks)."
TIP_POOL_STRIDE = (f"How far the pooling window moves, 1 to {MAX_POOL}. \"A big stride in the pooling layer leads to "
                   "high information loss\"; \"In practice a stride of 2 was found to be effective.\"")
TIP_COLOUR = ("Colour images: \"Convolution on Color Image\" sums the kernel's response over the "
              "red, green and blue channels into ONE feature map, like a conv layer; or filter each "
              "channel alone and keep the colours (like a photo editor). Only for colour inputs.")
TIP_CHANNEL = "Per-channel mode: show all three filtered channels as colour, or one channel's numbers."

# Colours and styles (strings: the panels make their pens from them).
WINDOW_COLOUR = "#ff8f00"  # the window that made the pixel under the mouse
POOL_COLOUR = "#00a152"
PAD_COLOUR = "#6d4c41"
LEFT_OUT_COLOUR = "#e65100"  # rows and columns a floored size leaves out
NOTE_STYLE = ("QLabel { background: #fff3e0; color: #4e3400; border: 1px solid #ffb74d; "
              "padding: 5px; border-radius: 4px; }")
ERROR_STYLE = ("QLabel { background: #c62828; color: white; font-weight: bold; padding: 6px; "
               "border-radius: 4px; }")
FLOOR_COLOUR = "#a15c00"  # a floored formula: amber, not the red of an error
ERROR_COLOUR = "#c62828"
