"""The input side: the drawing pad, the preprocessing strip, the answer, the gallery."""
