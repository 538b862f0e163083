"""The report card window: a model's figures beyond its accuracy, and two models side by
side (cnnviz.core.training.report_card computes them; cnnviz.ui.controllers.report_card runs it)."""

from .window import ReportCardWindow

__all__ = ["ReportCardWindow"]
