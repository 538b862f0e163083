"""The lecture's arithmetic, on plain arrays: convolution, padding, stride and pooling with
their size formulas (ops), the kernel presets and the user's own kernels, the kernel
explorer's filter pipeline and previews, the convolution stepper, the lecture's worked
examples, receptive fields and per-pixel explanations."""
