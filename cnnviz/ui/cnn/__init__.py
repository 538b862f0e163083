"""The CNN explorer screen: every layer of a trained network on the current input."""
