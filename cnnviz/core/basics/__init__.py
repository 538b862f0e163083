"""What every other part of the core stands on: the formulas printed beside each number,
the limits checked before any work, safe reading and atomic writing of files, text from a
file made safe to show, JSON read with limits, and the content-keyed picture cache."""
