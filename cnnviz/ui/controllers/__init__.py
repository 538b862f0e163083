"""Controllers: Qt signals, no widgets. Each owns its requests, pacing and threads;
views subscribe to the app state and to these signals, and draw."""

from .analysis import AnalysisController
from .runner import LatestRequestRunner
from .weights import WeightsLoader

__all__ = ["AnalysisController", "LatestRequestRunner", "WeightsLoader"]
