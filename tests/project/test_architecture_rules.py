"""Layering rules from DESIGN.md, checked."""

import ast
import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN_IN_CORE = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "cnnviz.ui", "cnnviz.app_state")
CORE = Path(__file__).resolve().parents[2] / "cnnviz" / "core"


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)


def _module_name(path: Path) -> str:
    """cnnviz/core/basics/files.py -> cnnviz.core.basics.files (a package: its __init__'s name)."""
    parts = list(path.relative_to(CORE.parents[1]).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path, module: str | None = None) -> list[str]:
    """Every module a file imports, anywhere in it (inside functions too), as absolute
    names: `from ...ui import x` in cnnviz/core/basics/m.py is cnnviz.ui."""
    module = module or _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to the file's own package, one level up for each dot more
                up = package[:len(package) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def _core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_core_sources_import_no_qt_ui_or_app_state():
    # Also the imports a function makes when it runs (no import of the module would see them).
    bad = {str(p.relative_to(CORE)): [n for n in _imported_names(p) if _forbidden(n)]
           for p in _core_files()}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_every_core_module_imports_no_qt_ui_or_app_state():
    # Each module on its own in a fresh interpreter (the test process has Qt loaded already):
    # what it pulls in, directly or through other modules, is what a notebook would get.
    modules = [_module_name(p) for p in _core_files()]
    assert "cnnviz.core.convolution.ops" in modules and "cnnviz.core.networks.weights" in modules
    code = ("import importlib, json, sys\n"
            f"forbidden = {FORBIDDEN_IN_CORE!r}\n"
            "found = {}\n"
            "for name in sys.argv[1:]:\n"
            "    importlib.import_module(name)\n"
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


def _layer_problems(files: list[tuple[Path, str]]) -> list[str]:
    """Each import of a core subpackage later in LAYERS than the importing module's own
    (files: (path, module name))."""
    from cnnviz.core import LAYERS

    problems = []
    for path, module in files:
        own = module.split(".")
        if len(own) < 3:
            continue  # cnnviz/core/__init__.py: the curated namespace names every layer
        for name in _imported_names(path, module):
            parts = name.split(".")
            later = (parts[:2] == ["cnnviz", "core"] and len(parts) > 2 and parts[2] in LAYERS
                     and LAYERS.index(parts[2]) > LAYERS.index(own[2]))
            if later:
                problems.append(f"{'/'.join(own[2:])} imports {name}")
    return problems


def test_core_is_subpackages_in_layers():
    # Every module sits in one of the subpackages, and no subpackage uses a later one.
    from cnnviz.core import LAYERS

    loose = sorted(p.name for p in CORE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside the subpackages: {loose}"
    folders = sorted(p.name for p in CORE.iterdir() if (p / "__init__.py").is_file())
    assert folders == sorted(LAYERS)
    problems = _layer_problems([(p, _module_name(p)) for p in _core_files()])
    assert problems == [], problems


def test_the_layer_rule_sees_an_import_of_a_later_layer(tmp_path):
    # The check itself can fail: a basics module importing a network is caught, relative or
    # not, inside a function too; an import from its own layer is not.
    probe = tmp_path / "probe.py"
    probe.write_text("from ..networks.layers import Conv\nfrom . import formulas\n"
                     "def f():\n    import cnnviz.core.lessons.lesson\n", encoding="utf-8")
    found = _layer_problems([(probe, "cnnviz.core.basics.probe")])
    assert found == ["basics/probe imports cnnviz.core.networks.layers",
                     "basics/probe imports cnnviz.core.networks.layers.Conv",
                     "basics/probe imports cnnviz.core.lessons.lesson"]


def test_the_curated_core_names_resolve_without_torch():
    # `import cnnviz.core` is free; each curated name reaches a real module or object.
    code = ("import sys, cnnviz.core as c\n"
            "assert 'torch' not in sys.modules, 'import cnnviz.core pulled in torch'\n"
            "missing = [n for n in c.__all__ if getattr(c, n, None) is None]\n"
            "print(missing)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_rules_see_a_forbidden_import():
    # The checks themselves can fail: a relative import of the app state is recognised.
    names = _imported_names_of("from ...app_state import AppState\nfrom . import ops\n")
    assert "cnnviz.app_state" in names and "cnnviz.core.convolution.ops" in names
    assert _forbidden("cnnviz.app_state") and _forbidden("PySide6.QtCore") and not _forbidden("cnnviz.core")


def _imported_names_of(text: str) -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.py"
        path.write_text(text, encoding="utf-8")
        return _imported_names(path, module="cnnviz.core.convolution.m")


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
