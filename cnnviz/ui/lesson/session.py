"""File › Save session / Open session: exactly where the user was (the tab, the model, the
drawing as its strokes or the picture, the brush, the layer, and every tab's own settings,
saved through the same save_settings / restore_settings the window uses between runs, in a
QSettings file of their own), as a `.cnnviz-session` file (cnnviz.core.lessons.session)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QFileDialog

from ...core.basics.files import FileProblem
from ...core.lessons.session import (
    SESSION_SUFFIX,
    Session,
    SessionError,
    decode_picture,
    encode_picture,
    model_reference,
    read_session,
    session_document,
    write_json_file,
)
from ..input import drawing_pad
from .capture import picture_of, shipped_sample_number
from .setup import current_tab, sample_picture, show_tab, use_model_file

FILE_FILTER = f"cnnviz sessions (*{SESSION_SUFFIX});;All files (*)"
# Settings that belong to this computer, not to where the user was: the recent model files
# and the data folder (a session opened elsewhere must not point at them).
_LOCAL_KEYS = ("CnnExplorer/model", "CnnExplorer/opened", "/data_dir")


# --------------------------------------------------------------------------- tab settings

def _json_value(value):
    if isinstance(value, QByteArray):
        return {"bytes": base64.b64encode(value.data()).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value if isinstance(value, (bool, int, float)) else str(value)


def tab_settings(window) -> dict:
    """Every explorer's own settings, as save_settings writes them, as JSON values."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "tabs.ini")
        s = QSettings(path, QSettings.Format.IniFormat)
        for explorer in window.explorers:
            explorer.save_settings(s)
        s.sync()
        back = QSettings(path, QSettings.Format.IniFormat)
        return {key: _json_value(back.value(key)) for key in sorted(back.allKeys())
                if not key.endswith(_LOCAL_KEYS)}


def restore_tab_settings(window, values: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "tabs.ini")
        s = QSettings(path, QSettings.Format.IniFormat)
        for key, value in values.items():
            if isinstance(value, dict):
                value = QByteArray(base64.b64decode(value["bytes"]))
            s.setValue(key, value)
        s.sync()
        back = QSettings(path, QSettings.Format.IniFormat)
        for explorer in window.explorers:
            explorer.restore_settings(back)


# --------------------------------------------------------------------------- the input

def capture_input(window) -> dict:
    pad = window.input_panel.pad
    if pad.origin() is not None:  # exactly a picture that was opened or picked
        number = shipped_sample_number(window.state.image)
        return {"sample": number} if number is not None else {"picture": picture_of(window)}
    under = drawing_pad.under_strokes(pad)
    strokes = [{"erase": erase, "points": [list(p) for p in points]}
               for erase, points in drawing_pad.strokes(pad)]
    return {"drawing": {"base": None if under is None else encode_picture(under, pad.base() or ""),
                        "ink": pad.ink(), "paper": pad.paper(), "strokes": strokes}}


def restore_input(window, value: dict) -> str:
    """The input a session kept; what could not be restored, in words ("" when all was)."""
    panel = window.input_panel
    try:
        if "sample" in value:
            panel.show_image(*sample_picture(value["sample"]))
        elif "picture" in value:
            picture = value["picture"]
            panel.show_image(decode_picture(picture, "the session's picture"),
                             picture.get("name") or "the session's picture")
        elif "drawing" in value:
            drawing = value["drawing"]
            base = drawing["base"]
            under = None if base is None else decode_picture(base, "the picture under the drawing")
            if under is not None and under.shape != (280, 280):
                return "The picture under the drawing is not the pad's 280×280; the drawing was not restored."
            drawing_pad.draw_strokes(panel.pad, None if under is None else np.rint(under).astype(np.uint8),
                                   [(s["erase"], s["points"]) for s in drawing["strokes"]],
                                   drawing["ink"], drawing["paper"],
                                   None if base is None else (base.get("name") or None))
    except (ValueError, IndexError) as exc:
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}; the current input is kept."
    return ""


# --------------------------------------------------------------------------- whole sessions

def capture_session(window) -> Session:
    return Session(tab=current_tab(window), model=model_reference(window.state.model),
                   input=capture_input(window), brush=float(window.input_panel.brush_size()),
                   layer=window.state.layer or None, settings=tab_settings(window))


def restore_session(window, session: Session) -> list[str]:
    """Put the window where the session was; what could not be, in words."""
    from ...core.networks.weights import WeightsError

    problems, pending_layer = [], False
    if isinstance(session.model, str):
        try:
            loaded = window.cnn_explorer.shipped_model(session.model)
            if loaded is not window.state.model:
                window.state.model = loaded
        except WeightsError as exc:
            problems.append(f"The model {session.model} could not be loaded ({exc}).")
    elif isinstance(session.model, dict):
        problem, pending_layer = use_model_file(window, session.model, (session.folder,))
        if problem:
            problems.append(problem)
    try:
        restore_tab_settings(window, session.settings)
    except Exception as exc:  # the explorers check their own values; never a crash here
        problems.append(f"Some tab settings were not restored ({exc}).")
    problem = restore_input(window, session.input)
    if problem:
        problems.append(problem)
    if session.brush is not None:
        window.input_panel.set_brush_size(int(round(session.brush)))
    if session.layer:
        _restore_layer(window, session.layer, pending_layer)
    show_tab(window, session.tab)
    return problems


def _restore_layer(window, layer: str, after_model: bool) -> None:
    state = window.state
    if after_model:  # the model file is read on a worker: the layer follows it
        def once(_loaded) -> None:
            state.events.model.disconnect(once)
            state.layer = layer
        state.events.model.connect(once)
    elif state.model is not None and layer in [i.name for i in state.model.model.layer_infos]:
        state.layer = layer


def save_session(window, path: str | None = None) -> Path | None:
    if window.cnn_explorer is None:
        window.statusBar().showMessage("The network is still loading; save the session once "
                                       "it is ready.", 5000)
        return None
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Save session", str(
            Path(window._start_dir()) / f"cnnviz{SESSION_SUFFIX}"), FILE_FILTER)
        if not path:
            return None
        if not path.endswith(SESSION_SUFFIX):
            path += SESSION_SUFFIX
    try:
        written = write_json_file(path, session_document(capture_session(window)))
    except FileProblem as exc:
        window.warn("Cannot save session", f"{exc}.\n\nNothing was overwritten.")
        return None
    window.last_dir = str(written.parent)
    window.statusBar().showMessage(f"Saved the session to {written}", 6000)
    return written


def open_session(window, path: str | None = None) -> list[str] | None:
    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, "Open session", window._start_dir(),
                                              FILE_FILTER)
        if not path:
            return None
    try:
        session = read_session(path)
    except SessionError as exc:
        window.warn("Cannot open session", f"{exc}.\n\nNothing was changed.")
        return None
    if window.cnn_explorer is None:  # a lazy start (cnnviz gui FILE): once the network is there
        def once(loading: bool) -> None:
            if not loading:
                window.state.events.model_loading.disconnect(once)
                open_session(window, path)
        window.state.events.model_loading.connect(once)
        return []
    problems = restore_session(window, session)
    window.last_dir = str(Path(path).parent)
    if problems:
        window.warn("Session opened, with problems", "\n".join(problems))
    else:
        window.statusBar().showMessage(f"Opened the session {Path(path).name}", 6000)
    return problems
