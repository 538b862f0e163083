"""A crash leaves a trace: Python's faulthandler writes the stack of every thread into a
log file in the user's cache folder when the process dies of a signal (a segfault in Qt or
torch). Help › About says where the file is."""

from __future__ import annotations

import faulthandler
import os
import time
from pathlib import Path

import platformdirs

CRASH_LOG_NAME = "crash.log"
_log_file = None  # kept open for the life of the process (faulthandler writes to its fd)


def crash_log_path() -> Path:
    """~/.cache/cnnviz/crash.log on Linux ($XDG_CACHE_HOME honoured), the platform's cache
    folder elsewhere."""
    return Path(platformdirs.user_cache_dir("cnnviz", appauthor=False, opinion=False)) / CRASH_LOG_NAME


def enable_crash_log(path: Path | None = None) -> Path | None:
    """Turn faulthandler on into the crash log (appending, with a start line). Returns the
    path, or None when the folder cannot be written (the app starts anyway)."""
    global _log_file
    path = path or crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 1_000_000:  # keep the log small
            os.replace(path, path.with_suffix(".log.old"))
        log = open(path, "a", encoding="utf-8")  # noqa: SIM115 (must outlive this function)
        log.write(f"--- cnnviz started {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()})\n")
        log.flush()
    except OSError:
        return None
    if _log_file is not None:
        _log_file.close()
    _log_file = log
    faulthandler.enable(file=log, all_threads=True)
    return path


def crash_log_in_use() -> Path | None:
    """The crash log faulthandler writes to now, or None."""
    return Path(_log_file.name) if _log_file is not None and faulthandler.is_enabled() else None
