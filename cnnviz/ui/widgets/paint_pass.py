"""One paint pass for a new result, not one per plot.

A QGraphicsView (every pyqtgraph plot is one) works out what to repaint in a queued call
of its scene, made after its items changed; at the end of that call it paints the whole
window's pending changes at once (it sends the window's posted UpdateRequest). So with
four plots on screen a new result was painted in four passes, each with whatever was
dirty by then, each flushed to the screen on its own (under X11 a pass's flush costs more
than painting a plot).

OnePaintPass.run(), called once the views have taken the result, lets the scenes work out
their changes right away while the window's paint is held back, and then asks for one
paint of everything.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QGraphicsView, QWidget

LOW_PRIORITY = int(Qt.EventPriority.LowEventPriority.value)  # (as Qt posts its own)


class OnePaintPass(QObject):
    """For a top-level window: run() after a batch of view updates (see the module)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._holding = False
        self._views: list[QGraphicsView] | None = None
        window.installEventFilter(self)

    def forget_views(self) -> None:
        """Plots were added or removed: look for them again on the next run()."""
        self._views = None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        # held back while the scenes work out their changes: painted once, after them
        return (self._holding and watched is self.window
                and event.type() == QEvent.Type.UpdateRequest)

    def run(self) -> None:
        if self._views is None:
            self._views = self.window.findChildren(QGraphicsView)
        self._holding = True
        try:
            for view in self._views:
                try:
                    scene = view.scene()
                except RuntimeError:  # (deleted since: look again next time)
                    self._views = None
                    continue
                if scene is not None:
                    QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
        finally:
            self._holding = False
        # whatever was held back (and any paint already asked for) goes in one request
        QCoreApplication.removePostedEvents(self.window, QEvent.Type.UpdateRequest)
        QCoreApplication.postEvent(self.window, QEvent(QEvent.Type.UpdateRequest),
                                   LOW_PRIORITY)
