"""A damaged settings file never stops the app: a value Qt would decode into an abort
(@Variant claiming four billion list items) is left out before Qt reads the file, every
other setting kept, and a FIFO where the settings file or the crash log lives is refused
without being opened (it blocked the start for ever). Starts run in a subprocess: the abort
is a hard one, and a hang must end in a timeout, not hang the suite."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnnviz.ui.window.settings_file import clean_ini

BOMB = rb"@Variant(\0\0\0\v\xff\xff\xff\xfe)"  # a QStringList of 4,294,967,294 items

START = textwrap.dedent("""
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    app.setOrganizationName("cnnviz")
    app.setApplicationName("cnnviz")
    from cnnviz.ui.window.crash_log import enable_crash_log
    enable_crash_log()
    from cnnviz.ui.window.main_window import MainWindow
    window = MainWindow(lazy=True)  # what the app's start does before the window shows
    print("TAB", window.tabs.currentIndex())
    print("BRUSH", window.input_panel.brush_size())
    print("STATUS", window.statusBar().currentMessage())
    window.close()
""")


def _start(home: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", START], capture_output=True, text=True,
                          env=env, timeout=timeout)


def _settings(home: Path) -> Path:
    folder = home / "config" / "cnnviz"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "cnnviz.conf"


def _lines(out: subprocess.CompletedProcess) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


@pytest.mark.parametrize("value", [
    BOMB,
    rb"\x40Variant(\0\0\0\v\xff\xff\xff\xfe)",  # the "@" as an escape
    rb"plain, @Variant(\0\0\0\v\xff\xff\xff\xfe)",  # a list's second item
    rb'""@Variant(\0\0\0\v\xff\xff\xff\xfe)',  # after an empty quoted string
    rb"@Var\
iant(\0\0\0\v\xff\xff\xff\xfe)",  # over two lines
])
def test_a_variant_bomb_in_the_settings_file_is_left_out_and_the_rest_kept(tmp_path, value):
    path = _settings(tmp_path)
    original = b"[input]\nbrush=30\n\n[window]\ntab=1\nlegacy=" + value + b"\n"
    path.write_bytes(original)
    out = _start(tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = _lines(out)
    assert (seen["TAB"], seen["BRUSH"]) == ("1", "30")  # what the user had is kept
    assert "damaged" in seen["STATUS"] and "cnnviz.conf.damaged" in seen["STATUS"]
    assert (path.parent / "cnnviz.conf.damaged").read_bytes() == original
    assert b"legacy" not in path.read_bytes() and b"brush=30" in path.read_bytes()


def test_a_variant_bomb_in_the_organisations_fallback_file_is_left_out(tmp_path):
    _settings(tmp_path)
    org_file = tmp_path / "config" / "cnnviz.conf"
    org_file.write_bytes(b"[window]\ntab=" + BOMB + b"\n")
    out = _start(tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert _lines(out)["TAB"] == "0"
    assert (tmp_path / "config" / "cnnviz.conf.damaged").exists()


def test_a_fifo_as_the_settings_file_is_moved_aside_without_a_hang(tmp_path):
    path = _settings(tmp_path)
    os.mkfifo(path)
    out = _start(tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "not a regular file" in _lines(out)["STATUS"]
    assert stat.S_ISFIFO(os.stat(path.parent / "cnnviz.conf.damaged").st_mode)
    assert path.is_file()  # the settings of this run were saved in a new file


def test_a_fifo_as_the_crash_log_is_refused_without_a_hang(tmp_path):
    log = tmp_path / "cache" / "cnnviz" / "crash.log"
    log.parent.mkdir(parents=True)
    os.mkfifo(log)
    out = _start(tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "crash log" in out.stderr and "not a regular file" in out.stderr


def test_the_settings_the_app_writes_pass_the_scan_unchanged():
    written = (b"[CnnExplorer]\nopened=@Invalid()\nsplitter=@ByteArray(\\0\\0\\0\\xff\\0)\n"
               b"[KernelExplorer]\nkernel=\"0 -1 0; -1 5 -1; 0 -1 0\"\npadding=\"0,0\"\n"
               b"[TrainingLab]\narchitecture=\"{\\\"name\\\": \\\"a\\\", \\\"layers\\\": [1, 2]}\"\n"
               b"[x]\nlist=@@x, \"y,z\", \\\\q\nquoted=\"a, b=@c\"\nb=\"@ByteArray(\\0,\\x1@A=B, @V)\"\n"
               b"size=@Size(1 2)\nliteral=@@Variant(\n")
    assert clean_ini(written) == (written, 0)


def test_the_scan_follows_quotes_over_lines_and_comments():
    data = b'; a "comment\n[a]\nx="a\n, @Variant(1)"\r\ny=@DateTime(1)\r\nz=2\n'
    kept, dropped = clean_ini(data)
    assert dropped == 1 and kept == b'; a "comment\n[a]\nx="a\n, @Variant(1)"\r\nz=2\n'
