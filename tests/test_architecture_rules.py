"""Layering rules from DESIGN.md, checked."""

import subprocess
import sys


def test_core_imports_no_qt():
    code = ("import sys, cnnviz.core.models, cnnviz.core.training, cnnviz.core.weights, "
            "cnnviz.core.data, cnnviz.core.inference, cnnviz.core.samples, cnnviz.app_state, "
            "cnnviz.core.ops, cnnviz.core.kernels, cnnviz.core.images, cnnviz.core.preprocess, "
            "cnnviz.core.download, cnnviz.cli\n"
            "import pkgutil, importlib, cnnviz.core\n"
            "for m in pkgutil.iter_modules(cnnviz.core.__path__): "
            "importlib.import_module('cnnviz.core.' + m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_signal_emits_do_not_corrupt_refcounts():
    # PySide6 6.12.0 drops a reference to True/False on every emit; on Python 3.11 the
    # app then dies after some thousands of pen strokes. pyproject excludes it; this
    # catches a broken Qt binding before a user does.
    code = ("from PySide6.QtCore import QObject, Signal, QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "class E(QObject):\n    s = Signal(int)\n"
            "e = E(); e.s.connect(lambda i: None)\n"
            "for i in range(300000): e.s.emit(i)\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-500:]
