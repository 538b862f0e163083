"""The training lab tab: build a network, train it, watch it learn."""
