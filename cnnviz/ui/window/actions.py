"""The window's actions, menus and toolbar (after Qt for Python's application.py example:
create_actions / create_menus / create_toolbar). Each action has a tooltip in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QStyle, QToolBar


def _icon(theme, standard: QStyle.StandardPixmap) -> QIcon:
    """A theme icon where the desktop has one, else Qt's built-in standard icon."""
    fallback = QApplication.style().standardIcon(standard)
    try:
        return QIcon.fromTheme(theme, fallback)
    except TypeError:  # older Qt without QIcon.ThemeIcon
        return fallback


def make_action(window, text: str, slot, shortcut=None, tip: str = "", icon: QIcon | None = None) -> QAction:
    action = QAction(text, window)
    if icon is not None:
        action.setIcon(icon)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                          if shortcut is not None else tip)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def create_actions(window) -> None:
    """The window's actions, as attributes of the window (window.open_action, …)."""
    SP = QStyle.StandardPixmap  # noqa: N806
    TI = QIcon.ThemeIcon  # noqa: N806
    K = QKeySequence.StandardKey  # noqa: N806
    window.open_action = make_action(window,
        "&Open image…", window.open_image_dialog, K.Open,
        "Open an image file as the input: any size, grey or colour", _icon(TI.DocumentOpen, SP.SP_DialogOpenButton))
    window.open_weights_action = make_action(window,
        "Open &model…", window.open_weights, "Ctrl+Shift+O",
        "Load a trained model into the CNN explorer: a cnnviz .safetensors file, a Keras "
        ".keras or .h5 file (read without TensorFlow), an ONNX .onnx file, or a PyTorch "
        "torch.export .pt2 or TorchScript .pt file",
        _icon(TI.DocumentOpenRecent, SP.SP_DirOpenIcon))
    # Model › Input values: what a model made elsewhere is fed (its input contract)
    window.input_scale_group = QActionGroup(window)
    window.input_scale_actions = {}
    for scale, text, tip in (
            ("0-1", "Values 0..&1 (x / 255)", "Feed the model pixel values from 0 to 1, as the "
             "lecture's Keras homework does (x / 255)"),
            ("0-255", "Values 0..&255", "Feed the model the raw pixel values, 0 to 255"),
            ("mnist", "&MNIST-normalised", "Feed the model (x / 255 − 0.1307) / 0.3081, as "
             "PyTorch's MNIST example does")):
        action = make_action(window, text, lambda s=scale: window.set_input_scale(s), None,
                             tip + ". Only for models made elsewhere that do not say it "
                             "themselves; cnnviz works it out when it opens one.")
        action.setCheckable(True)
        window.input_scale_group.addAction(action)
        window.input_scale_actions[scale] = action
    window.class_names_action = make_action(window,
        "&Name the classes from a file…", window.name_classes_dialog, None,
        "Name the model's outputs from a text file: one name per line, in output order "
        "(a labels.txt from Teachable Machine or Keras works)")
    window.user_set_action = make_action(window,
        "&Your own set…", window.show_user_set, None,
        "Collect your own drawings into a labelled set (any symbols, by class), browse and "
        "fix it, import a folder, and see how the model reads it beside MNIST")
    window.report_card_action = make_action(window,
        "&Report card…", window.show_report_card, None,
        "The model's figures beyond its accuracy (per class, on photos and scans, shifted "
        "and rotated digits, non-digits flagged, calibration, speed), and another model "
        "beside it")
    window.paste_action = make_action(window,
        "&Paste image", window.paste, K.Paste,
        "Use the picture (or image file) on the clipboard as the input",
        _icon(TI.EditPaste, SP.SP_FileDialogDetailedView))
    window.export_png_action = make_action(window,
        "&Export view as PNG…", lambda: window.export_view_png(), "Ctrl+E",
        "Save a picture of the current tab as a PNG file", _icon(TI.DocumentSaveAs, SP.SP_DialogSaveButton))
    window.export_window_action = make_action(window,
        "Export &window as PNG…", lambda: window.export_view_png(whole_window=True), None,
        "Save a picture of the whole window as a PNG file")
    window.export_npy_action = make_action(window,
        "Export feature &maps (.npy)…", lambda: window.export_feature_maps(), "Ctrl+Shift+E",
        "Save the array shown in the current tab (e.g. a layer's feature maps) as a NumPy .npy file")
    # Lessons and sessions (cnnviz.ui.lesson)
    window.open_lesson_action = make_action(window, "Open &lesson…", window.open_lesson_dialog, None,
        "Open a .cnnviz-lesson file and follow it step by step in the lesson panel")
    window.record_lesson_action = make_action(window, "&Record a lesson…", window.record_lesson, None,
        "Make a lesson of your own: set the app up, write a caption and add the step; save it "
        "to share with a class")
    window.save_session_action = make_action(window, "Sa&ve session…", window.save_session,
        "Ctrl+Shift+S", "Save exactly where you are (drawing, model, every tab's settings) "
        "as a .cnnviz-session file to come back to")
    window.open_session_action = make_action(window, "Open sessio&n…", window.open_session_dialog,
        None, "Come back to a saved .cnnviz-session: the drawing, the model and every tab's "
        "settings as they were")
    window.presenter_action = make_action(window, "&Presenter mode", window.toggle_presenter, "F5",
        "For a projector: the shown tab fills the window with large text, high contrast, "
        "colour-blind-safe colours and a large pointer; PgDown/PgUp step a lesson; F5 or "
        "Escape leave it")
    window.presenter_action.setCheckable(True)
    window.addAction(window.presenter_action)  # F5 works while the menus are folded away
    window.quit_action = make_action(window, "&Quit", window.close, K.Quit, "Close cnnviz",
                                    _icon(TI.ApplicationExit, SP.SP_DialogCloseButton))
    window.quit_action.setShortcuts([QKeySequence("Ctrl+Q")])
    window.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    window.undo_action = make_action(window, "&Undo", window.input_panel.undo, K.Undo,
                                    "Undo the last stroke, clear or loaded image",
                                    _icon(TI.EditUndo, SP.SP_ArrowBack))
    window.redo_action = make_action(window, "&Redo", window.input_panel.redo,
                                     list(dict.fromkeys(  # the platform's, and both usual ones, once each
                                         [QKeySequence(K.Redo).toString() or "Ctrl+Shift+Z",
                                          "Ctrl+Shift+Z", "Ctrl+Y"])),
                                     "Do again the stroke, clear or loaded image you undid",
                                     _icon(TI.EditRedo, SP.SP_ArrowForward))
    window.clear_action = make_action(window, "&Clear pad", window.input_panel.clear, "Ctrl+L",
                                     "Clear the drawing pad (Delete works too while the pad has focus)",
                                     _icon(TI.EditClear, SP.SP_DialogResetButton))
    window.random_action = make_action(window, "&Random test digit", window.input_panel.random_digit, "Ctrl+R",
                                      "A random real digit from the MNIST test set",
                                      _icon(TI.MediaPlaylistShuffle, SP.SP_BrowserReload))
    window.gallery_action = make_action(window, "&Gallery of test digits…", window.input_panel.show_gallery,
                                       "Ctrl+G", "Browse 300 real MNIST test digits and pick one",
                                       _icon(TI.FolderOpen, SP.SP_FileDialogContentsView))

    window.tab_group = QActionGroup(window)
    window.tab_actions = []
    for i, (name, key) in enumerate((("&CNN explorer", "Ctrl+1"), ("&Kernel explorer", "Ctrl+2"),
                                     ("&Training lab", "Ctrl+3"))):
        action = make_action(window, name, lambda i=i: window.tabs.setCurrentIndex(i), key,
                              f"Show the {name.replace('&', '')} tab")
        action.setCheckable(True)
        window.tab_group.addAction(action)
        window.tab_actions.append(action)
    window.experiments_tab_action = make_action(window, "E&xperiments", window.show_experiments_tab, "Ctrl+4",
                                          "Show the Experiments tab (teaching views)")
    window.experiments_tab_action.setCheckable(True)
    window.tab_group.addAction(window.experiments_tab_action)
    window.tab_actions.append(window.experiments_tab_action)
    window.reset_layout_action = make_action(window, "&Reset layout", window.reset_layout, None,
                                            "Default window size, panel widths and toolbar")
    # F11 everywhere: the platform's own full-screen key is empty on some X11 desktops
    platform_keys = [k.toString() for k in QKeySequence.keyBindings(K.FullScreen)]
    window.fullscreen_action = make_action(window, "&Full screen", window.toggle_full_screen,
                                          ["F11"] + [k for k in platform_keys if k and k != "F11"],
                                          "Fill the screen (handy on a projector)")
    window.fullscreen_action.setCheckable(True)

    window.shortcuts_action = make_action(window, "&Help and keyboard shortcuts", window.show_shortcuts,
                                         K.HelpContents, "How to use cnnviz, and every keyboard "
                                         "shortcut and mouse gesture")
    window.tour_action = make_action(window, "Take the lecture &tour", window.take_tour, None,
                                     "Walk through the CNN lecture step by step: each step sets "
                                     "the app up, says the lecture's point and asks its questions")
    window.about_action = make_action(window, "&About cnnviz", window.show_about, None,
                                     "Version, the key ideas, and the current model's card",
                                     _icon(TI.HelpAbout, SP.SP_MessageBoxInformation))
    window.about_action.setMenuRole(QAction.MenuRole.AboutRole)
    window.about_qt_action = make_action(window, "About &Qt", QApplication.aboutQt, None,
                                        "The Qt version cnnviz runs on")
    window.about_qt_action.setMenuRole(QAction.MenuRole.AboutQtRole)


def create_menus(window) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for a in (window.open_action, window.open_weights_action, window.paste_action, None,
              window.export_png_action, window.export_window_action, window.export_npy_action, None,
              window.open_lesson_action, window.record_lesson_action, None,
              window.save_session_action, window.open_session_action, None,
              window.quit_action):
        file_menu.addSeparator() if a is None else file_menu.addAction(a)
    edit_menu = bar.addMenu("&Edit")
    for a in (window.undo_action, window.redo_action, window.clear_action, None,
              window.random_action, window.gallery_action):
        edit_menu.addSeparator() if a is None else edit_menu.addAction(a)
    model_menu = bar.addMenu("&Model")
    model_menu.addAction(window.open_weights_action)
    model_menu.addSeparator()
    window.input_scale_menu = model_menu.addMenu("&Input values")
    window.input_scale_menu.setToolTipsVisible(True)
    for action in window.input_scale_actions.values():
        window.input_scale_menu.addAction(action)
    model_menu.addAction(window.class_names_action)
    model_menu.addSeparator()
    model_menu.addAction(window.report_card_action)
    model_menu.addAction(window.user_set_action)
    window.view_menu = bar.addMenu("&View")
    for a in window.tab_actions:
        window.view_menu.addAction(a)
    window.view_menu.addSeparator()
    help_menu = bar.addMenu("&Help")
    for a in (window.tour_action, window.shortcuts_action, None, window.about_action, window.about_qt_action):
        help_menu.addSeparator() if a is None else help_menu.addAction(a)


def create_toolbar(window) -> None:
    window.toolbar = QToolBar("Main toolbar")
    window.toolbar.setObjectName("main_toolbar")
    window.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    window.toolbar.setMovable(True)
    for a in (window.open_action, window.open_weights_action, window.export_png_action, None,
              window.undo_action, window.clear_action, window.random_action, window.gallery_action, None,
              window.about_action):
        window.toolbar.addSeparator() if a is None else window.toolbar.addAction(a)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, window.toolbar)
    toggle = window.toolbar.toggleViewAction()
    toggle.setText("Show &toolbar")
    toggle.setStatusTip("Show or hide the toolbar")
    for a in (toggle, window.fullscreen_action, window.presenter_action, None,
              window.reset_layout_action):
        window.view_menu.addSeparator() if a is None else window.view_menu.addAction(a)
