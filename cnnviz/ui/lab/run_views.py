"""The training lab's run views: the run model (run_model.py) reaches the buttons, the
progress bar, the curves, the confusion matrix, the filters and the drawing's reading here.
The lab keeps one RunViews; each field of the run it hears is drawn by one method."""

from __future__ import annotations

import html

import numpy as np

from cnnviz.core.basics.formulas import percent
from cnnviz.core.training.job import RunPhase

from . import wording as W


class RunViews:
    """Subscribes the lab's views to its run model (the lab's widgets, drawn from here)."""

    def __init__(self, lab):
        self.lab = lab
        run = lab.run.events
        run.phase.connect(self.on_phase)
        run.progress.connect(self.on_batch)
        run.epochs.connect(self.on_epochs)
        run.confusion.connect(self.on_confusion)
        run.filters.connect(self.on_filters)
        run.probe.connect(self.on_probe)
        run.probe_input.connect(self.on_probe_input)
        run.error.connect(self.on_failed)
        self.on_phase(lab.run.phase)

    def on_phase(self, phase: RunPhase) -> None:
        lab = self.lab
        P = RunPhase  # noqa: N806
        running = phase.active
        has_weights = lab.controller.weights is not None
        lab.start_button.setEnabled(not running)
        lab.pause_button.setEnabled(phase in (P.RUNNING, P.PAUSED))
        lab.pause_button.setText("Resume" if phase is P.PAUSED else "Pause")
        lab.pause_button.setToolTip(W.RESUME_TIP if phase is P.PAUSED else W.PAUSE_TIP)
        lab.stop_button.setEnabled(phase in (P.STARTING, P.RUNNING, P.PAUSED))
        can_more = not running and has_weights and phase is not P.IDLE
        lab.more_button.setEnabled(can_more)
        lab.more_count.setEnabled(can_more)
        # a failed run with no finished epoch has no network worth showing
        lab.follow_button.setEnabled(phase is not P.IDLE
                                     and (phase is not P.FAILED or has_weights))
        lab.editor.set_editable(not running)
        lab.settings.set_editable(not running)
        done = (phase.done or phase is P.FAILED) and has_weights
        lab.finish_group.setEnabled(done)
        if phase is P.STARTING:
            lab.progress.show_text("Starting: reading the training images…")
        elif phase is P.PAUSED:
            lab.progress.show_text(lab.progress.format() + " · paused")
        elif phase is P.STOPPING:
            lab.progress.show_text("Stopping…")
        elif phase is P.FAILED:  # not "about 0:45 left" any more
            lab.progress.show_text("Stopped: " + ("the last finished epoch is kept" if has_weights
                                                  else "no epoch finished"), full=False)
        elif phase is P.STOPPED and not has_weights:  # nothing to keep: not "Done"
            lab.progress.show_text("Stopped before the first epoch finished", full=False)
        elif phase.done:
            acc = lab.run.last_test_accuracy()
            lab.progress.show_text(("Stopped" if phase is P.STOPPED else "Done")
                                   + (f": {percent(acc)} of the test images right"
                                      if acc is not None else ""), full=True)
            if done and not lab.name_edit.text():
                lab.name_edit.setText(self.suggested_name())
        if done:
            lab.name_edit.setFocus()

    def suggested_name(self) -> str:
        lab = self.lab
        base = lab.controller.arch.name if lab.controller.arch is not None else "my-network"
        acc = lab.run.last_test_accuracy()
        return f"{base}-{100 * acc:.1f}" if acc is not None else base

    def on_batch(self, batch) -> None:
        lab = self.lab
        if batch is None:  # a new run
            return
        lab.curves.add_batch(batch)
        if lab.run.phase is RunPhase.RUNNING:
            lab.progress.show_batch(batch)

    def on_confusion(self, confusion) -> None:
        lab = self.lab
        if confusion is not None:
            lab.confusion.show_confusion(confusion)

    def on_filters(self, weights) -> None:
        lab = self.lab
        if weights is not None:
            lab.filter_view.show_weights(weights)

    def on_probe(self, answer) -> None:
        lab = self.lab
        if answer is not None:
            lab.probe_view.show_answer(np.asarray(answer.probabilities, np.float64),
                                       answer.answer)

    def on_probe_input(self, image28) -> None:
        lab = self.lab
        if image28 is not None:
            lab.probe_view.show_input(image28)

    def on_epochs(self, epochs) -> None:
        lab = self.lab
        if not epochs:  # a new run
            return
        epoch = epochs[-1]
        lab.curves.add_epoch(epoch)
        acc = epoch.test_accuracy
        if epoch.confusion is not None:
            if not lab._shown_results:  # once a run: the user may go back to the network
                lab._shown_results = True
                lab.left_tabs.setCurrentIndex(2)
            if lab._cell is not None:  # the chosen cell's images as this epoch reads them
                lab.show_cell(*lab._cell)
            else:
                lab.cell_images.show_text("Click a cell of the matrix to see its test images.")
            n = int(np.asarray(epoch.confusion).sum())
            lab.confusion_title.setText(
                f"<b>Confusion matrix</b> after epoch {len(epochs)} on {n:,} test "
                f"images ({percent(acc) if acc is not None else '?'} right). Rows: true class; "
                "columns: the network's answer. Click a cell.")
        if acc is not None:
            loss = epoch.test_loss if epoch.test_loss is not None else float("nan")
            lab._say(f"Epoch {epoch.epoch}: {percent(float(acc))} of the test images "
                      f"right, test loss {float(loss):.4f}.")

    def on_failed(self, message: str | None) -> None:
        lab = self.lab
        if not message:  # a new run
            return
        head = "" if message.lower().startswith("training") else "<b>Training failed:</b> "
        message = message[:1].upper() + message[1:] if not head else message
        lab._say(f"{head}{html.escape(message)} The app keeps running; change a setting "
                  "and start again.", error=True, escaped=True)
