"""Shared small widgets: image panels with colour bars, plots, tooltips."""
