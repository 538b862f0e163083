"""Downloading the dataset against local HTTP servers on 127.0.0.1 that serve the shared
MNIST files, some of them told to misbehave (cut the connection, corrupt bytes, ignore
Range requests, answer 404). Nothing here contacts any other address."""

from __future__ import annotations

import os
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cnnviz.core.datasets import download as download_module
from cnnviz.core.datasets.data import DATASETS, resolve_data_dir, verify_file
from cnnviz.core.datasets.download import DownloadError, download_dataset

INFO = DATASETS["mnist"]
TEST_IMAGES = INFO.files["test-images"]  # 1.6 MB: the file the misbehaving servers spoil
TEST_LABELS = INFO.files["test-labels"]
REPO = Path(__file__).resolve().parents[3]
# The product's own setting (absolute even when CNNVIZ_DATA_DIR is relative), else the
# checkout's neighbour folder.
SHARED = resolve_data_dir() if os.environ.get("CNNVIZ_DATA_DIR") else REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def shared_mnist() -> Path:
    folder = SHARED / "mnist"
    missing = [f.name for f in INFO.files.values() if not (folder / f.name).is_file()]
    if missing:
        pytest.skip(f"the official MNIST files are not in {folder} (missing {', '.join(missing)}); "
                    "set CNNVIZ_DATA_DIR to the shared data folder")
    return folder


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No proxies, no waiting between retries, and a guard: only 127.0.0.1 may be contacted."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(download_module, "RETRY_DELAY_S", 0.0)
    real_urlopen = urllib.request.urlopen

    def guarded(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"test tried to contact {url}"
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


class Handler(BaseHTTPRequestHandler):
    """Serves /mnist/<file> from memory; server.mode says how to misbehave for server.target."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802
        server = self.server
        name = self.path.rsplit("/", 1)[-1]
        with server.lock:
            server.requests.append((name, self.headers.get("Range")))
        data = server.files.get(name) if self.path.startswith("/mnist/") else None
        mode = server.mode if name in server.target or not server.target else "ok"
        if data is None or mode == "404":
            self.send_error(404, "Not Found")
            return
        start = 0
        wanted = self.headers.get("Range")
        if wanted and mode != "ignore-range":
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if mode == "corrupt":  # right length, wrong bytes
            middle = len(body) // 2
            body = body[:middle] + bytes(b ^ 0xFF for b in body[middle:middle + 64]) + body[middle + 64:]
        if mode in ("too-long", "unsized-too-long"):  # another, longer file
            body = body + b"extra bytes"
        if mode != "unsized-too-long":  # without a length, HTTP/1.0 ends the body by closing
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "truncate":  # promise everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def serve(shared_mnist):
    """serve(mode="ok", target=()) -> (mirror URL, server); all servers stop in teardown."""
    files = {f.name: (shared_mnist / f.name).read_bytes() for f in INFO.files.values()}
    running = []

    def start(mode: str = "ok", target: tuple[str, ...] = ()):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.files, server.mode, server.target = files, mode, set(target)
        server.requests, server.lock = [], threading.Lock()
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/mnist/", server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _link_all_but(folder: Path, shared: Path, *keep_missing: str) -> None:
    """Put the official files (as symlinks) in folder, except those named."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in INFO.files.values():
        if f.name not in keep_missing:
            (folder / f.name).symlink_to(shared / f.name)


def _names(server) -> list[str]:
    return [name for name, _ in server.requests]


def test_clean_download_verifies(tmp_path, serve):
    url, server = serve()
    folder = download_dataset("mnist", tmp_path, mirrors=[url], timeout=10)
    assert folder == tmp_path / "mnist"
    for f in INFO.files.values():
        verify_file(folder / f.name, f)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in INFO.files.values())
    assert sorted(_names(server)) == sorted(f.name for f in INFO.files.values())
    assert all(r is None for _, r in server.requests)  # nothing to resume: no Range


def test_present_valid_files_are_not_downloaded_again(tmp_path, serve, shared_mnist):
    _link_all_but(tmp_path / "mnist", shared_mnist)
    url, server = serve()
    assert download_dataset("mnist", tmp_path, mirrors=[url]) == tmp_path / "mnist"
    assert server.requests == []


def test_damaged_present_file_is_replaced(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    (folder / TEST_LABELS.name).write_bytes(b"not the labels")
    url, server = serve()
    download_dataset("mnist", tmp_path, mirrors=[url])
    verify_file(folder / TEST_LABELS.name, TEST_LABELS)
    assert _names(server) == [TEST_LABELS.name]


def test_truncated_download_fails_then_next_mirror_resumes(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_IMAGES.name)
    bad_url, bad = serve("truncate", (TEST_IMAGES.name,))
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", tmp_path, mirrors=[bad_url], retries=1, timeout=10)
    message = str(info.value)
    assert message.startswith(f"could not download {TEST_IMAGES.name} from any mirror: {bad_url}")
    assert "truncated" in message
    assert not (folder / TEST_IMAGES.name).exists()  # nothing under the final name
    assert len(bad.requests) == 2 and bad.requests[1][1] is not None  # the retry resumed
    part = folder / (TEST_IMAGES.name + ".part")
    kept = part.read_bytes()  # a prefix, kept for resuming, never trusted as the file
    assert 0 < len(kept) < TEST_IMAGES.size
    assert kept == (shared_mnist / TEST_IMAGES.name).read_bytes()[: len(kept)]

    # Mirror fallback: the bad mirror first, a good one second.
    good_url, good = serve()
    download_dataset("mnist", tmp_path, mirrors=[bad_url, good_url], retries=0, timeout=10)
    verify_file(folder / TEST_IMAGES.name, TEST_IMAGES)
    assert not part.exists()
    assert len(good.requests) == 1 and good.requests[0][1].startswith("bytes=")


def test_corrupted_download_leaves_nothing_trusted(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_IMAGES.name)
    bad_url, bad = serve("corrupt", (TEST_IMAGES.name,))
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", tmp_path, mirrors=[bad_url], timeout=10)
    assert TEST_IMAGES.name in str(info.value) and "SHA-256" in str(info.value)
    assert not (folder / TEST_IMAGES.name).exists()
    assert not (folder / (TEST_IMAGES.name + ".part")).exists()
    assert len(bad.requests) == 1  # a corrupt answer from scratch is not retried on that mirror
    good_url, _ = serve()
    download_dataset("mnist", tmp_path, mirrors=[bad_url, good_url], timeout=10)
    verify_file(folder / TEST_IMAGES.name, TEST_IMAGES)


def test_resume_sends_range_request(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_IMAGES.name)
    official = (shared_mnist / TEST_IMAGES.name).read_bytes()
    (folder / (TEST_IMAGES.name + ".part")).write_bytes(official[:700_000])
    url, server = serve()
    download_dataset("mnist", tmp_path, mirrors=[url])
    verify_file(folder / TEST_IMAGES.name, TEST_IMAGES)
    assert server.requests == [(TEST_IMAGES.name, "bytes=700000-")]


def test_resume_when_server_ignores_range(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_IMAGES.name)
    official = (shared_mnist / TEST_IMAGES.name).read_bytes()
    (folder / (TEST_IMAGES.name + ".part")).write_bytes(official[:500_000])
    url, server = serve("ignore-range")
    download_dataset("mnist", tmp_path, mirrors=[url])
    verify_file(folder / TEST_IMAGES.name, TEST_IMAGES)  # restarted from zero, not appended
    assert len(server.requests) == 1


def test_resume_from_a_bad_prefix_starts_again(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    (folder / (TEST_LABELS.name + ".part")).write_bytes(b"\0" * 1000)  # not the file's start
    url, server = serve()
    download_dataset("mnist", tmp_path, mirrors=[url], retries=1)
    verify_file(folder / TEST_LABELS.name, TEST_LABELS)
    assert server.requests == [(TEST_LABELS.name, "bytes=1000-"), (TEST_LABELS.name, None)]


def test_oversized_part_and_complete_part(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    part = folder / (TEST_LABELS.name + ".part")
    part.write_bytes(b"x" * (TEST_LABELS.size + 10))  # longer than the file: thrown away
    url, server = serve()
    download_dataset("mnist", tmp_path, mirrors=[url])
    verify_file(folder / TEST_LABELS.name, TEST_LABELS)
    assert server.requests == [(TEST_LABELS.name, None)]
    # A complete, valid .part left by an interrupted rename is used without a request.
    (folder / TEST_LABELS.name).rename(part)
    server.requests.clear()
    download_dataset("mnist", tmp_path, mirrors=[url])
    verify_file(folder / TEST_LABELS.name, TEST_LABELS)
    assert server.requests == [] and not part.exists()


def test_http_errors_name_file_and_every_mirror(tmp_path, serve, shared_mnist):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    url1, s1 = serve("404")
    url2, s2 = serve("too-long")
    url3, s3 = serve("unsized-too-long")
    with pytest.raises(DownloadError) as info:
        download_dataset("mnist", tmp_path, mirrors=[url1, url2, url3, "ftp://example.invalid/"])
    message = str(info.value)
    assert message.startswith(f"could not download {TEST_LABELS.name} from any mirror: "
                              f"{url1}{TEST_LABELS.name}: HTTP 404")
    assert f"; {url2}{TEST_LABELS.name}: the server offers {TEST_LABELS.size + 11:,} bytes" in message
    assert f"; {url3}{TEST_LABELS.name}: the server sent more than" in message
    assert "ftp://example.invalid/" in message and "not an http or https address" in message
    assert [len(s.requests) for s in (s1, s2, s3)] == [1, 1, 1]  # none is worth retrying
    assert not (folder / TEST_LABELS.name).exists()
    assert not (folder / (TEST_LABELS.name + ".part")).exists()


def test_unreachable_mirror_falls_back(tmp_path, serve, shared_mnist):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/mnist/"
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    url, _ = serve()
    download_dataset("mnist", tmp_path, mirrors=[dead, url], retries=1, timeout=5)
    verify_file(folder / TEST_LABELS.name, TEST_LABELS)


def test_progress_goes_to_stderr(tmp_path, serve, shared_mnist, capsys):
    folder = tmp_path / "mnist"
    _link_all_but(folder, shared_mnist, TEST_LABELS.name)
    url, _ = serve()
    download_dataset("mnist", tmp_path, mirrors=[url], progress=True)
    out = capsys.readouterr()
    assert out.out == "" and TEST_LABELS.name in out.err


def test_default_folder_comes_from_the_environment(tmp_path, serve, shared_mnist, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(tmp_path / "env"))
    _link_all_but(tmp_path / "env" / "mnist", shared_mnist)
    url, server = serve()
    assert download_dataset(mirrors=[url]) == tmp_path / "env" / "mnist"
    assert server.requests == []
