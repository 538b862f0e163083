"""A crash leaves a trace in the user's cache folder, and About says where."""

import os
import subprocess
import sys


def test_a_segfault_writes_every_threads_stack_to_the_crash_log(tmp_path):
    code = ("import ctypes\n"
            "from cnnviz.ui.window.crash_log import enable_crash_log\n"
            "print(enable_crash_log())\n"
            "ctypes.string_at(0)\n")  # reads address 0: SIGSEGV
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    log = tmp_path / "cnnviz" / "crash.log"
    assert out.stdout.strip() == str(log)
    text = log.read_text()
    assert "cnnviz started" in text and "Segmentation fault" in text
    assert "line 4" in text  # the Python line that crashed


def test_about_names_the_crash_log(tmp_path, monkeypatch):
    import faulthandler

    from cnnviz.app_state import AppState
    from cnnviz.ui.window import crash_log
    from cnnviz.ui.window.dialogs import about_text

    was_enabled = faulthandler.is_enabled()
    path = crash_log.enable_crash_log(tmp_path / "crash.log")
    try:
        assert str(path) in about_text(AppState())
    finally:
        faulthandler.disable()
        if was_enabled:
            faulthandler.enable()


def test_an_unwritable_cache_folder_does_not_stop_the_app(tmp_path):
    from cnnviz.ui.window.crash_log import enable_crash_log

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert enable_crash_log(blocker / "crash.log") is None
