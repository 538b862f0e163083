"""Layering rules from DESIGN.md, checked."""

import ast
import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN_IN_CORE = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "cnnviz.ui", "cnnviz.app_state")
CORE = Path(__file__).resolve().parents[1] / "cnnviz" / "core"


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)


def _imported_names(path: Path) -> list[str]:
    """Every module a file imports, anywhere in it (inside functions too), as absolute
    names: `from ..ui import x` in cnnviz/core/m.py is cnnviz.ui."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to cnnviz.core (level 1) or cnnviz (level 2)
                package = ["cnnviz", "core"][:max(0, 2 - node.level + 1)]
                base = ".".join(package + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def test_core_sources_import_no_qt_ui_or_app_state():
    # Also the imports a function makes when it runs (no import of the module would see them).
    bad = {p.name: [n for n in _imported_names(p) if _forbidden(n)] for p in sorted(CORE.glob("*.py"))}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_every_core_module_imports_no_qt_ui_or_app_state():
    # Each module on its own in a fresh interpreter (the test process has Qt loaded already):
    # what it pulls in, directly or through other modules, is what a notebook would get.
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert "ops" in modules and "weights" in modules
    code = ("import importlib, json, sys\n"
            f"forbidden = {FORBIDDEN_IN_CORE!r}\n"
            "found = {}\n"
            "for name in sys.argv[1:]:\n"
            "    importlib.import_module('cnnviz.core.' + name)\n"
            "    bad = [m for m in list(sys.modules) if any(m == f or m.startswith(f + '.') for f in forbidden)]\n"
            "    if bad:\n"
            "        found[name] = bad\n"
            "    for m in bad:\n"
            "        del sys.modules[m]  # so a later module that imports it is caught too\n"
            "print(json.dumps(found))\n")
    out = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_the_rules_see_a_forbidden_import():
    # The checks themselves can fail: a relative import of the app state is recognised.
    names = _imported_names_of("from ..app_state import AppState\nfrom . import ops\n")
    assert "cnnviz.app_state" in names and "cnnviz.core.ops" in names
    assert _forbidden("cnnviz.app_state") and _forbidden("PySide6.QtCore") and not _forbidden("cnnviz.core")


def _imported_names_of(text: str) -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.py"
        path.write_text(text, encoding="utf-8")
        return _imported_names(path)


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
