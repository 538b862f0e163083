"""Downloading the dataset files from their public mirrors, safely.

Each file is fetched into "<name>.part" beside its final place, resumed with an HTTP Range
request when a .part is already there, checked against the published size and SHA-256, and
only then renamed (atomically) to its final name. So whatever goes wrong (a dropped
connection, a truncated or corrupted answer, Ctrl-C, a full disk) there is never a file under
the final name that is not the official one. Only the standard library's urllib is used.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from .data import DataError, DatasetFile, get_dataset_info, resolve_data_dir, sha256_of, verify_file

BLOCK = 1 << 16
RETRY_DELAY_S = 1.0  # before the 2nd attempt on a mirror; doubles each time (tests set it to 0)
USER_AGENT = "cnnviz (https://pypi.org/project/cnnviz/) python-urllib"
_RETRY_HTTP = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(RuntimeError):
    """A dataset file that could not be downloaded; the message names the file and mirrors."""


class _MirrorError(Exception):
    """One attempt on one mirror failed; retry says whether trying it again may help."""

    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


def _url(base: str, name: str) -> str:
    return base if base.endswith(name) else base.rstrip("/") + "/" + name


def _local_error(path: Path, exc: OSError) -> DownloadError:
    return DownloadError(f"cannot write {path}: {exc.strerror or exc}")


def _progress_bar(enabled: bool, name: str, total: int, initial: int):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety
        return None
    return tqdm(total=total, initial=initial, desc=name, unit="B", unit_scale=True,
                unit_divisor=1024, file=sys.stderr, leave=True, dynamic_ncols=True)


def _finish(part: Path, final: Path, expected: DatasetFile) -> None:
    """Check the complete .part and move it to the final name, or delete it."""
    try:
        size = part.stat().st_size
        if size != expected.size:
            part.unlink()
            raise _MirrorError(f"got {size:,} bytes, expected {expected.size:,}", retry=False)
        if sha256_of(part) != expected.sha256:
            part.unlink()  # never trusted: a damaged download is thrown away
            raise _MirrorError("the file does not match its published SHA-256 checksum "
                               "(corrupted download)", retry=False)
        os.replace(part, final)
    except OSError as exc:
        raise _local_error(final, exc) from None
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _resume_offset(part: Path, expected: DatasetFile) -> int:
    """How many bytes of the file part already holds (0 when it is not a prefix)."""
    try:
        offset = part.stat().st_size if part.exists() else 0
        if offset > expected.size:  # not a prefix of this file: start again
            part.unlink()
            offset = 0
    except OSError as exc:
        raise _local_error(part, exc) from None
    return offset


def _request(url: str, part: Path, offset: int, timeout: float):
    """The open response to a GET of url (from byte `offset` on); _MirrorError otherwise."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # http/https only (checked)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # our .part does not fit what the server has
            with contextlib.suppress(OSError):
                part.unlink()
            raise _MirrorError("HTTP 416 (range not satisfiable); starting again", retry=True) from None
        raise _MirrorError(f"HTTP {exc.code} {exc.reason}".rstrip(),
                           retry=exc.code in _RETRY_HTTP) from None
    except urllib.error.URLError as exc:
        raise _MirrorError(f"cannot connect ({exc.reason})", retry=True) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _MirrorError(f"cannot connect ({exc or type(exc).__name__})", retry=True) from None


def _answer_offset(response, part: Path, offset: int, expected: DatasetFile) -> int:
    """Where the response's body starts in the file (offset for a fitting 206, 0 for a
    200); _MirrorError for an answer that is not the file or not the asked range."""
    status = response.status
    if status == 206 and offset:
        found = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*",
                             response.headers.get("Content-Range", ""))
        if (not found or int(found.group(1)) != offset
                or (found.group(3) != "*" and int(found.group(3)) != expected.size)):
            with contextlib.suppress(OSError):
                part.unlink()
            raise _MirrorError("the server answered the resume request with the wrong range; "
                               "starting again", retry=True)
    elif status == 200:
        offset = 0  # the server ignored our Range header (or we sent none): from zero
    else:
        raise _MirrorError(f"unexpected HTTP {status}", retry=False)
    length = response.headers.get("Content-Length")
    if status == 200 and length and length.strip().isdigit() and int(length) != expected.size:
        raise _MirrorError(f"the server offers {int(length):,} bytes, expected "
                           f"{expected.size:,} (not the official file)", retry=False)
    return offset


def _read_block(response, got: int, expected: DatasetFile) -> bytes:
    try:
        return response.read(BLOCK)
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorError(f"connection broken after {got:,} of {expected.size:,} bytes "
                           f"({exc or type(exc).__name__})", retry=True) from None


def _copy_body(response, fh, part: Path, got: int, expected: DatasetFile, bar) -> int:
    """Append the response's body to fh (never past expected.size), synced; the bytes
    part holds afterwards."""
    while block := _read_block(response, got, expected):
        if got + len(block) > expected.size:
            fh.close()
            part.unlink()
            raise _MirrorError(f"the server sent more than the expected {expected.size:,} "
                               "bytes (not the official file)", retry=False)
        try:
            fh.write(block)
        except OSError as exc:
            raise _local_error(part, exc) from None
        got += len(block)
        if bar is not None:
            bar.update(len(block))
    try:
        fh.flush()
        os.fsync(fh.fileno())
    except OSError as exc:
        raise _local_error(part, exc) from None
    return got


def _fetch(url: str, part: Path, expected: DatasetFile, timeout: float, progress: bool) -> bool:
    """One request for url into part (resuming it if it holds a prefix).

    Returns True when part now holds expected.size bytes (not yet checksummed); raises
    _MirrorError when this attempt failed, DownloadError for local problems (disk, rights).
    """
    offset = _resume_offset(part, expected)
    if offset == expected.size:
        return True
    with _request(url, part, offset, timeout) as response:
        offset = _answer_offset(response, part, offset, expected)
        try:
            fh = open(part, "ab" if offset else "wb")  # noqa: SIM115 (closed by "with fh" below)
        except OSError as exc:
            raise _local_error(part, exc) from None
        bar = _progress_bar(progress, part.name[: -len(".part")], expected.size, offset)
        try:
            with fh:
                got = _copy_body(response, fh, part, offset, expected, bar)
        finally:
            if bar is not None:
                bar.close()
    if got < expected.size:
        raise _MirrorError(f"connection closed after {got:,} of {expected.size:,} bytes "
                           "(truncated)", retry=True)
    return True


def _download_file(expected: DatasetFile, folder: Path, mirrors: tuple[str, ...], timeout: float,
                   retries: int, progress: bool) -> None:
    final = folder / expected.name
    part = folder / (expected.name + ".part")
    errors = []
    for base in mirrors:
        url = _url(base, expected.name)
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            errors.append(f"{url}: not an http or https address")
            continue
        message = ""
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
            resumed = part.exists() and part.stat().st_size > 0
            try:
                _fetch(url, part, expected, timeout, progress)
                _finish(part, final, expected)
                return
            except _MirrorError as exc:
                message = str(exc)
                # A resumed file that fails its checksum may hold a bad prefix from earlier:
                # it was deleted, so trying again (from zero) can help.
                if exc.retry or (resumed and not part.exists()):
                    continue
                break
        errors.append(f"{url}: {message}")
    if not mirrors:
        errors.append("no mirrors given")
    raise DownloadError(f"could not download {expected.name} from any mirror: " + "; ".join(errors))


def download_dataset(dataset: str = "mnist", data_dir: str | os.PathLike | None = None, *,
                     mirrors: Iterable[str] | None = None, progress: bool = False,
                     timeout: float = 30.0, retries: int = 2) -> Path:
    """Make sure the four official files of `dataset` are in <data dir>/<dataset>/.

    Files already there with the published size and SHA-256 are kept as they are; the
    others are fetched from each mirror in turn (default: the dataset's public mirrors;
    each URL is the base followed by the file name), `retries` more times per mirror after
    a dropped connection, resuming where it stopped. Returns the dataset folder.
    Raises DownloadError (naming the file and what each mirror answered) if a file cannot
    be had; a file under its final name is always the verified official file.
    """
    info = get_dataset_info(dataset)
    folder = resolve_data_dir(data_dir) / info.key
    mirrors = tuple(info.mirrors if mirrors is None else ([mirrors] if isinstance(mirrors, str)
                                                          else mirrors))
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the data folder {folder}: {exc.strerror or exc}") from None
    for expected in info.files.values():
        final = folder / expected.name
        if final.exists():
            try:
                verify_file(final, expected)
                continue  # already here and official
            except DataError:
                pass  # damaged or not the official file: download it again over it
            except OSError as exc:
                raise DownloadError(f"cannot read {final}: {exc.strerror or exc}") from None
        _download_file(expected, folder, mirrors, timeout, retries, progress)
    return folder
