"""HDF5 read in a child process: a Keras .h5 file or a .keras file's model.weights.h5.

HDF5 is a large C library reading a complex format; a damaged or hostile file must not
take the window down with it. So cnnviz never opens HDF5 in its own process: a child
(`python -m cnnviz.core.networks.hdf5_reader`, given the bytes on stdin) walks the file with h5py
and answers with its numeric datasets and the few attributes Keras keeps there, as an .npz
(numpy's zip of arrays, read back with allow_pickle=False: no code). A child that crashes,
hangs or runs out of memory is one clear message.

    contents = read_hdf5(raw)     # HDF5Contents: .datasets {path: array}, .attrs {(path, name): text}
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np

__all__ = ["HDF5_MAGIC", "HDF5Error", "HDF5Contents", "read_hdf5"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"  # the first 8 bytes of every HDF5 file
MAX_OBJECTS = 20_000  # groups and datasets: far more than any model cnnviz opens
MAX_VALUES_BYTES = 600_000_000  # the numbers a file may hold (the file itself is capped too)
CHILD_SECONDS = 120  # reading the largest file cnnviz opens takes a few seconds
CHILD_MEMORY = 4 * 2**30  # address space the child may use (where the system can limit it)
ATTRIBUTES = ("model_config", "keras_version", "backend", "weight_names")  # Keras's


class HDF5Error(ValueError):
    """HDF5 data that cannot be read; the message says why in plain words."""


@dataclass
class HDF5Contents:
    datasets: dict[str, np.ndarray] = field(default_factory=dict)  # "model_weights/conv2d/..."
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)  # ("", "model_config") -> JSON

    def attr(self, path: str, name: str):
        """An attribute's text (weight_names: a JSON list), or None."""
        return self.attrs.get((path.strip("/"), name))

    def group(self, path: str) -> bool:
        prefix = path.strip("/") + "/"
        return any(key.startswith(prefix) for key in self.datasets) or \
            any(p == path.strip("/") for p, _ in self.attrs)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return json.dumps([_text(v) for v in value.reshape(-1).tolist()])
    if isinstance(value, (list, tuple)):
        return json.dumps([_text(v) for v in value])
    return str(value)


def _dump(raw: bytes) -> bytes:
    """In the child: the file's numeric datasets and Keras's attributes, as an .npz."""
    import h5py

    arrays: dict[str, np.ndarray] = {}
    manifest: dict = {"datasets": [], "attrs": []}
    total = 0
    with h5py.File(io.BytesIO(raw), "r") as f:
        objects = [("", f)]

        def keep_attrs(path: str, obj) -> None:
            for name in ATTRIBUTES:
                if name in obj.attrs:
                    manifest["attrs"].append([path, name, _text(obj.attrs[name])])

        keep_attrs("", f)

        def visit(name: str, obj) -> None:
            nonlocal total
            objects.append((name, obj))
            if len(objects) > MAX_OBJECTS:
                raise HDF5Error(f"it holds more than {MAX_OBJECTS:,} objects")
            keep_attrs(name, obj)
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub":
                total += int(obj.size) * obj.dtype.itemsize
                if total > MAX_VALUES_BYTES:
                    raise HDF5Error(f"its numbers take more than {MAX_VALUES_BYTES / 1e6:,.0f} MB")
                arrays[f"a{len(manifest['datasets'])}"] = np.asarray(obj[()])
                manifest["datasets"].append(name)

        f.visititems(visit)
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), np.uint8)
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **arrays)
    return out.getvalue()


def _limit_memory() -> None:  # the child's first step, before it reads anything
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def read_hdf5(raw: bytes) -> HDF5Contents:
    """The numeric datasets and Keras's attributes of an HDF5 file's bytes, read in a
    child process; HDF5Error in words for a damaged, hostile or unreadable file."""
    if raw[:8] != HDF5_MAGIC:
        raise HDF5Error("it is not HDF5 data")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        child = subprocess.run([sys.executable, "-m", "cnnviz.core.networks.hdf5_reader"], input=raw,
                               capture_output=True, timeout=CHILD_SECONDS, env=env)
    except subprocess.TimeoutExpired:
        raise HDF5Error(f"reading it took more than {CHILD_SECONDS} s (a damaged file?)") from None
    except OSError as exc:
        raise HDF5Error(f"cnnviz could not start its HDF5 reader ({exc})") from None
    if child.returncode != 0:
        said = child.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1][:200] if said else ""
        if child.returncode < 0:
            why = f"the reader stopped on signal {-child.returncode}: the data is damaged"
        elif "MemoryError" in why:
            why = "reading it needs more memory than cnnviz allows"
        raise HDF5Error(f"the HDF5 data is damaged ({why or 'unreadable'})")
    try:
        with np.load(io.BytesIO(child.stdout), allow_pickle=False) as npz:
            manifest = json.loads(bytes(npz["manifest"]).decode())
            datasets = {path: npz[f"a{i}"] for i, path in enumerate(manifest["datasets"])}
        attrs = {(str(p), str(n)): str(t) for p, n, t in manifest["attrs"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HDF5Error(f"the HDF5 reader's answer was damaged ({exc})") from None
    return HDF5Contents(datasets, attrs)


def _main() -> int:
    _limit_memory()
    raw = sys.stdin.buffer.read()
    try:
        out = _dump(raw)
    except HDF5Error as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        print(f"{type(exc).__name__}: {str(exc)[:200]}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
