"""Presenter mode for a projector, and accessible names for every control."""

from .mode import Presenter

__all__ = ["Presenter"]
