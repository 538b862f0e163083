"""The settings file is checked before Qt reads it, so a damaged file never stops the app.

Qt decodes an INI value written as @Variant(...) (or @DateTime(...)) with QDataStream when
the value is first read: a 40-byte line claiming four billion list items aborts the process
inside QSettings.value(), before any check in Python can run. And QSettings opens its files
when it is made: a FIFO there blocks the start for ever.

check_settings_files() runs before the first QSettings() of the process (and again before
each later one; it is cheap). For each INI file Qt would read for this application (the
application's file and the organisation's fallback file in the user's folder):

- one that is not a regular file (a FIFO, a device, a folder) is moved aside to
  NAME.damaged without being opened; if it cannot be moved, this run of the app keeps its
  settings in a fresh temporary folder (not saved) instead;
- one too large to be settings is moved aside whole;
- otherwise its raw text is scanned the way Qt's INI reader splits it (quotes, escapes,
  comments, commas, line ends), and every entry in which some value could be decoded with
  QDataStream is dropped; the original is kept as NAME.damaged and every other entry is kept.

Each returns one sentence for the status bar. On macOS and Windows the native format is not
an INI file (a property list, the registry): nothing is checked there unless INI is chosen.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings

MAX_SETTINGS_BYTES = 8 * 2**20  # the app writes a few KB; window layouts are capped at 64 KB
DAMAGED_SUFFIX = ".damaged"
_PROBE = "cnnviz-settings-location-probe"  # an application with no settings anywhere

# What may follow a value's leading "@": the forms Qt decodes without QDataStream (a byte
# array's or string's text, four or two whole numbers, nothing), and "@@" (a literal "@").
_SAFE_AFTER_AT = (b"@", b"ByteArray(", b"String(", b"Rect(", b"Size(", b"Point(", b"Invalid()")
# The escapes that cannot make an "@" (a value may start with one: Qt writes "\\q" for "\q");
# a number (\x40, \100), an unknown escape or an escaped line break could.
_SAFE_ESCAPES = tuple(bytes([c]) for c in b"abfnrtv\"?'\\")


def is_ini_format(fmt: QSettings.Format | None = None) -> bool:
    fmt = QSettings.defaultFormat() if fmt is None else fmt
    if fmt == QSettings.Format.IniFormat:
        return True
    return fmt == QSettings.Format.NativeFormat and sys.platform not in ("darwin", "win32")


def settings_files() -> list[Path]:
    """The user's INI files a plain QSettings() of this application reads: its own file, then
    the organisation's. Where Qt keeps them (QSettings.setPath and $XDG_CONFIG_HOME
    honoured) is asked of Qt for an application that has no settings, so nothing of this
    application's is opened."""
    if not is_ini_format():
        return []
    app = QCoreApplication.instance()
    org = app.organizationName() if app is not None else ""
    name = app.applicationName() if app is not None else ""
    if not org:
        return []
    probe = Path(QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, _PROBE,
                           _PROBE).fileName())
    folder, suffix = probe.parent.parent, probe.suffix
    files = [folder / org / f"{name}{suffix}"] if name else []
    return files + [folder / f"{org}{suffix}"]


def check_settings_files() -> list[str]:
    """Check (and where needed repair) every settings file before Qt reads it. Returns one
    sentence per file that was changed or set aside; [] when all is well."""
    messages = []
    for path in settings_files():
        message = check_settings_file(path)
        if message:
            messages.append(message)
    return messages


def check_settings_file(path: Path) -> str | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _keep_elsewhere(path, f"cannot be read ({exc.strerror or exc})")
    if not stat.S_ISREG(info.st_mode):
        return _move_aside(path, "is not a regular file (a pipe, device or folder)")
    if info.st_size > MAX_SETTINGS_BYTES:
        return _move_aside(path, f"is {info.st_size / 2**20:,.0f} MB, too large to be settings")
    try:
        data = _read(path)
    except _NotRegular:
        return _move_aside(path, "is not a regular file (a pipe, device or folder)")
    except OSError as exc:
        return _keep_elsewhere(path, f"cannot be read ({exc.strerror or exc})")
    kept, dropped = clean_ini(data)
    if not dropped:
        return None
    damaged = path.with_name(path.name + DAMAGED_SUFFIX)
    try:
        _write(damaged, data)
        _write(path, kept)
    except OSError as exc:
        return _keep_elsewhere(path, f"holds damaged values and cannot be repaired "
                                     f"({exc.strerror or exc})")
    entries = "entry" if dropped == 1 else "entries"
    return (f"The settings file {path} held {dropped} damaged {entries}; "
            f"{'it was' if dropped == 1 else 'they were'} left out (the original is kept "
            f"as {damaged.name}) and every other setting kept.")


class _NotRegular(OSError):
    pass


def _read(path: Path) -> bytes:
    """The file's bytes, opened without blocking and checked again once open (it may have
    been swapped for a FIFO after the stat)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular(str(path))
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > MAX_SETTINGS_BYTES:
                raise OSError("the file grew too large while it was read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a temporary file in the same folder, then a rename), private."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _move_aside(path: Path, why: str) -> str:
    damaged = path.with_name(path.name + DAMAGED_SUFFIX)
    try:
        if damaged.is_dir() and not damaged.is_symlink():
            raise OSError(f"{damaged.name} is in the way")
        os.replace(path, damaged)  # a rename: the file is never opened
    except OSError as exc:
        return _keep_elsewhere(path, f"{why} and cannot be moved aside ({exc.strerror or exc})")
    return (f"The settings file {path} {why}; it was moved aside to {damaged.name} and the "
            "default settings are used.")


def _keep_elsewhere(path: Path, why: str) -> str:
    """This run's settings go to a fresh temporary folder: the file is never opened."""
    folder = tempfile.mkdtemp(prefix="cnnviz-settings-")
    QSettings.setPath(QSettings.defaultFormat(), QSettings.Scope.UserScope, folder)
    return (f"The settings file {path} {why}: cnnviz uses the default settings this time and "
            "does not save them.")


# -- the scan ------------------------------------------------------------------------------

def clean_ini(data: bytes) -> tuple[bytes, int]:
    """The INI text without its dangerous entries, and how many were dropped.

    An entry (a logical line: Qt joins lines inside quotes and after a backslash) is
    dangerous when a value in it could start with "@" followed by anything but a form Qt
    decodes without QDataStream, or with an escape that could spell the "@" ("\\x40"). Values
    start after "=" and after each "," outside quotes (lists); leading spaces and quotes are
    passed over. Keys are checked the same way (Qt writes neither "@" nor "\\" first in a
    key, so nothing the app wrote is lost)."""
    spans = list(_entries(data))
    bad = [(start, end) for start, end, dangerous in spans if dangerous]
    if not bad:
        return data, 0
    out, last = [], 0
    for start, end in bad:
        out.append(data[last:start])
        last = end
    out.append(data[last:])
    return b"".join(out), len(bad)


def _could_decode(data: bytes, i: int) -> bool:
    """Whether a value starting at data[i] could be one Qt decodes with QDataStream: "@"
    then anything but a safe form, or an escape that could spell the "@" ("\\x40")."""
    if data[i] == 0x40:
        return not data.startswith(_SAFE_AFTER_AT, i + 1)
    return data[i] == 0x5C and not data.startswith(_SAFE_ESCAPES, i + 1)


def _entries(data: bytes):
    """(start, end, dangerous) of each logical line, end past its line break."""
    n = len(data)
    i = start = 0
    in_quotes = False
    value_start = True  # at the start of a key or a value: the next significant byte decides
    dangerous = False
    while i < n:
        c = data[i]
        if value_start and not in_quotes and c in b" \t":
            i += 1
            continue
        if value_start and c == 0x22:  # '"'
            in_quotes = not in_quotes
            i += 1
            continue
        if value_start:
            value_start = False
            dangerous = dangerous or _could_decode(data, i)
        if c == 0x5C:  # a backslash escapes the next byte (a line break too)
            i += 2
            if i - 1 < n and data[i - 1] in b"\r\n" and i < n and data[i] in b"\r\n" \
                    and data[i] != data[i - 1]:
                i += 1
            continue
        if c == 0x22:
            in_quotes = not in_quotes
        elif not in_quotes and c in b"=,":
            value_start = True
        elif not in_quotes and c == 0x3B:  # ";": a comment to the end of the line
            while i < n and data[i] not in b"\r\n":
                i += 1
            continue
        elif not in_quotes and c in b"\r\n":
            i += 1
            while i < n and data[i] in b"\r\n":
                i += 1
            yield start, i, dangerous
            start, value_start, dangerous = i, True, False
            continue
        i += 1
    if start < n:
        yield start, n, dangerous
