"""What the network reads from a picture: the analysis of one input (every layer's output
and the answer), the "does not look like a digit" verdict with its calibration, the
verdict for an opened model, and the synthetic non-digits both are calibrated on."""
