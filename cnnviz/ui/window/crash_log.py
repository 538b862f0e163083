"""A crash leaves a trace: Python's faulthandler writes the stack of every thread into a
log file in the user's cache folder when the process dies of a signal (a segfault in Qt or
torch). Help › About says where the file is."""

from __future__ import annotations

import faulthandler
import os
import stat
import sys
import time
from pathlib import Path

import platformdirs

CRASH_LOG_NAME = "crash.log"
MAX_LOG_BYTES = 1_000_000
_log_file = None  # kept open for the life of the process (faulthandler writes to its fd)
_log_path: Path | None = None


def crash_log_path() -> Path:
    """~/.cache/cnnviz/crash.log on Linux ($XDG_CACHE_HOME honoured), the platform's cache
    folder elsewhere."""
    return Path(platformdirs.user_cache_dir("cnnviz", appauthor=False, opinion=False)) / CRASH_LOG_NAME


def enable_crash_log(path: Path | None = None) -> Path | None:
    """Turn faulthandler on into the crash log (appending, with a start line). Returns the
    path, or None when it cannot be written (the app starts anyway). Only a regular file is
    ever opened: a FIFO or a device there would block the start (or swallow the log), so
    it is refused with a line on stderr."""
    global _log_file, _log_path
    path = path or crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = _open_for_append(path)
        if log is None:
            print(f"cnnviz: no crash log is kept: {path} is not a regular file (a pipe, "
                  "device or folder); remove it to have one.", file=sys.stderr)
            return None
        log.write(f"--- cnnviz started {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()})\n")
        log.flush()
    except OSError:
        return None
    if _log_file is not None:
        _log_file.close()
    _log_file, _log_path = log, path
    faulthandler.enable(file=log, all_threads=True)
    return path


def _open_for_append(path: Path):
    """The log opened for appending, or None when it is not a regular file. Checked before
    it is opened, then opened without blocking and checked again (it may have been swapped
    meanwhile); a log over 1 MB is first renamed to crash.log.old."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        return None
    if info is not None and info.st_size > MAX_LOG_BYTES:  # keep the log small
        os.replace(path, path.with_suffix(".log.old"))
    flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_NOCTTY", 0))
    try:
        fd = os.open(path, flags, 0o666)
    except OSError:
        if os.path.exists(path) and not os.path.isfile(path):  # a FIFO with no reader: ENXIO
            return None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, "a", encoding="utf-8")  # noqa: SIM115 (must outlive the caller)
    except BaseException:
        os.close(fd)
        raise


def crash_log_in_use() -> Path | None:
    """The crash log faulthandler writes to now, or None."""
    return _log_path if _log_file is not None and faulthandler.is_enabled() else None
