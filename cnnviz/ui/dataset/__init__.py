"""Your own set: collect drawings from the pad into a labelled set, browse it by class,
import folders and photos, and see how a model reads it (cnnviz.core.training.user_set)."""

from .window import SetWindow

__all__ = ["SetWindow"]
