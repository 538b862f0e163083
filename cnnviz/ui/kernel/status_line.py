"""The line under the panels: a busy bar while a big image is filtered, and what the last
result was (its time, or whether it matches the slide's answer)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget


class StatusLine(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setToolTip("A large image is being filtered on a background thread; the "
                                 "window stays responsive and the newest settings win.")
        self.busy_label = QLabel("computing…")
        self.info_label = QLabel()
        self.info_label.setStyleSheet("color: #555;")
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.busy_bar)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.info_label, 1)
        self._notice = ""
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.busy_label.setVisible(busy)

    def show_notice(self, text: str) -> None:
        """A sentence said before the next result's line (then dropped): what just changed
        by itself, e.g. a new image taking over from a lecture example."""
        self._notice = text

    def show_result(self, seconds: float, example, matches: bool) -> None:
        if example is None:
            text, style = (f"Computed in {1000 * seconds:.1f} ms. Point at any pixel to see what "
                           "it is made of."), "color: #555;"
        elif matches and example.slide_shows is not None:  # the slide's own numbers are wrong
            text, style = (f"✓ Matches the corrected answer (the slide \"{example.slide}\" "
                           "prints a wrong number: see the note beside the panels)."
                           ), "color: #1b5e20; font-weight: bold;"
        elif matches:
            text, style = (f"✓ Matches the slide's answer (slide \"{example.slide}\")."
                           ), "color: #1b5e20; font-weight: bold;"
        else:
            text, style = ("Your settings differ from the slide's: pick the example again to get "
                           "them back."), "color: #555;"
        if self._notice:
            text, style = f"{self._notice} {text}", "color: #1b5e20;"
            self._notice = ""
        self.info_label.setText(text)
        self.info_label.setStyleSheet(style)
        self.info_label.setToolTip(text)
