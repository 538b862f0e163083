"""What a file is, by its first bytes (never by its name): cnnviz opens pictures as the
input and models as the network, whatever the file is called. Knows every model format,
so it lives with the networks."""

from __future__ import annotations

import os
from pathlib import Path

from ..basics.files import zip_names

_PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
                  b"II*\x00", b"MM\x00*")
ACCEPTED_KINDS = ("a picture (PNG, JPEG, BMP, GIF, TIFF, WebP) or a model (a cnnviz "
                  ".safetensors file, a Keras .keras or .h5 file, an ONNX .onnx file, a torch.export "
                  ".pt2 or TorchScript .pt file)")


MODEL_SUFFIXES = (".safetensors", ".keras", ".h5", ".hdf5", ".onnx", ".pt2", ".pt", ".pth")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                    ".ppm", ".pbm")


def open_as(path: str | os.PathLike) -> str | None:
    """How cnnviz opens a file: "model" or "picture" by its content; by its name when the
    content does not say (a damaged model is opened as one, so its message is a model's);
    None when it is neither (the caller names ACCEPTED_KINDS)."""
    kind = file_kind(path)
    if kind is not None:
        return kind
    suffix = Path(path).suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in PICTURE_SUFFIXES:
        return "picture"
    return None


def file_kind(path: str | os.PathLike) -> str | None:
    """"model", "picture" or None (not a regular file, unreadable, or neither), from the
    file's first bytes. A FIFO or a device is never opened (reading one could block)."""
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    from .hdf5_reader import HDF5_MAGIC

    if head.startswith(HDF5_MAGIC):
        return "model"  # HDF5: a Keras .h5
    if head.startswith(b"PK"):  # a plain torch.save zip is opened as a model only by name
        from .keras_file import keras_zip_names
        from .torch_graph import pt2_names, torchscript_names

        names = zip_names(path)
        return "model" if any(rule(names) for rule in (keras_zip_names, pt2_names,
                                                        torchscript_names)) else None
    if len(head) >= 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < 100_000_000:
        return "model"  # safetensors: an 8-byte header length, then its JSON
    if head.startswith(_PICTURE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "picture"
    from .onnx_file import is_onnx

    if is_onnx(head):
        return "model"  # ONNX: a protobuf ModelProto
    return None
