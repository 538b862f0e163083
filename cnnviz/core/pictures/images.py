"""Loading and saving pictures as numpy arrays, safely.

load_image gives float32 pixel values 0..255 (the lecture's pixel values): (H, W) for a grey
picture, (H, W, 3) for a colour one. Whatever is wrong with a file (missing, empty, cut
short, not a picture, absurdly large) comes back as an ImageError with a plain message
naming the file, never as a traceback; the file size is checked before it is opened and the
pixel count from the file header before any pixel is decoded, so neither a huge file nor a
small file claiming a huge picture can eat the memory. Pillow reads straight from the file.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..basics import files
from ..basics.files import FileProblem, output_problem
from ..basics.limits import MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS

__all__ = ["LUMA_WEIGHTS", "MAX_PIXELS", "SAVE_FORMATS", "ImageError", "load_image",
           "output_problem", "save_image", "to_grey", "to_grey_uint8", "to_uint8",
           "write_atomically"]

# The old name (the window imports it). The largest image FILE opened is
# MAX_IMAGE_FILE_BYTES: a 50-megapixel picture, even uncompressed 16-bit colour (300 MB),
# fits; a multi-gigabyte file is refused before a byte of it is read.
MAX_PIXELS = MAX_IMAGE_PIXELS

# Extension -> Pillow format name for save_image.
SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}

_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}


class ImageError(ValueError):
    """A picture that cannot be opened or saved; the message says why in plain words."""


# ----- loading -------------------------------------------------------------------------------


def _too_many_pixels(name: str, pixels: int, size: str = "") -> str:
    """The exact count, so 50,000,001 never reads as "50 megapixels; up to 50 megapixels"."""
    mp = pixels / 1e6
    mp_text = f"{mp:,.0f}" if mp >= 10 else f"{mp:,.1f}"
    about = "" if mp_text == f"{MAX_IMAGE_PIXELS / 1e6:,.0f}" else f" ({mp_text} megapixels)"
    return (f"{name} is {size}{pixels:,} pixels{about}; cnnviz opens images up to "
            f"{MAX_IMAGE_PIXELS:,} pixels ({MAX_IMAGE_PIXELS / 1e6:g} megapixels)")


def _describe_size(name: str, width: int, height: int) -> str:
    return _too_many_pixels(name, width * height, f"{width}x{height} = ")


def _probe_size(data: BinaryIO) -> tuple[int, int] | None:
    """The (width, height) in a header that Pillow refused as a decompression bomb.

    Pillow's own check fires inside Image.open, before we can read the size; this parses the
    header with the same format plugins but without that check, only to word the message.
    """
    try:
        Image.init()
        data.seek(0)
        prefix = data.read(16)
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            if accept:
                ok = accept(prefix)
                if not ok or isinstance(ok, str):
                    continue
            data.seek(0)
            try:
                im = factory(data, "")
            except Exception:
                continue
            return im.size
    except Exception:
        return None
    return None


def _open_source(source) -> tuple[BinaryIO, str]:
    """A binary stream of the picture (the open file itself, never a copy in memory) and a
    name for messages. The caller closes the stream."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError("the image data is empty (0 bytes)")
        return io.BytesIO(bytes(source)), "the image data"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_image takes a file path or bytes, not {type(source).__name__}")
    path = Path(source).expanduser()
    name = path.name or str(path)
    try:
        if path.is_dir():
            raise ImageError(f"{name} is a folder, not an image file")
        size = path.stat().st_size
        if size == 0:
            raise ImageError(f"{name} is empty (0 bytes)")
        if size > MAX_IMAGE_FILE_BYTES:
            raise ImageError(f"{name} is {size:,} bytes ({size / 2**30:.1f} GB); cnnviz opens image "
                             f"files up to {MAX_IMAGE_FILE_BYTES // 2**20} MB")
        return open(path, "rb"), name  # noqa: SIM115 (load_image closes it)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file ({path})") from None
    except PermissionError:
        raise ImageError(f"{name} cannot be read: permission denied") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image file") from None
    except MemoryError:
        raise ImageError(f"{name} is too large to read into memory") from None
    except OSError as exc:
        raise ImageError(f"{name} cannot be read: {exc.strerror or exc}") from None


def _over_white(values: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite colour values (0..255) with alpha (0..255) over a white background."""
    a = alpha.astype(np.float32) / 255.0
    if values.ndim == 3:
        a = a[..., None]
    return values.astype(np.float32) * a + 255.0 * (1.0 - a)


def _scale_wide(values: np.ndarray) -> np.ndarray:
    """Grey values of a 32-bit image ("I" or "F" mode) to 0..255.

    "I": 0..65535 (16-bit data as some formats hand it over) is scaled by 255/65535;
    "F": 0..1 is scaled by 255, 0..255 kept; anything else is stretched min..max to 0..255.
    """
    v = values.astype(np.float64)
    finite = np.isfinite(v)
    if not finite.all():
        v = np.where(finite, v, 0.0)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    if values.dtype.kind == "f":
        if lo >= 0 and hi <= 1.0:
            return (v * 255.0).astype(np.float32)
        if lo >= 0 and hi <= 255.0:
            return v.astype(np.float32)
    elif lo >= 0 and hi <= 65535:
        return (v * (255.0 / 65535.0)).astype(np.float32)
    if hi > lo:
        return ((v - lo) * (255.0 / (hi - lo))).astype(np.float32)
    return np.zeros(v.shape, np.float32)


def _grey_la16(raw: np.ndarray) -> np.ndarray:
    """16-bit grey+alpha read as raw bytes (H, W, 4) = L high, L low, A high, A low (see
    _raw_la16) -> (H, W) grey 0..255 over white, at full precision."""
    b = raw.astype(np.float64)
    grey = (b[..., 0] * 256 + b[..., 1]) * (255.0 / 65535.0)
    alpha = (b[..., 2] * 256 + b[..., 3]) / 65535.0
    return (grey * alpha + 255.0 * (1.0 - alpha)).astype(np.float32)


def _raw_la16(im: ImageFile.ImageFile) -> bool:
    """Pillow decodes a 16-bit grey+alpha PNG to 8-bit RGBA ("LA;16B" -> "RGBA"), dropping
    the low byte of every value. Decoding the same bytes with the plain "RGBA" unpacker (the
    same 4 bytes per pixel, so PNG's unfiltering is the same) keeps all 16 bits: the
    channels then hold L high, L low, A high, A low. True when the tiles were switched."""
    if im.format != "PNG" or im.mode != "RGBA" or not im.tile:
        return False
    if not all(isinstance(t[3], str) and t[3] == "LA;16B" for t in im.tile):
        return False
    # Plain tuples, which Pillow reads as tiles: its _Tile class is private (and new in 11).
    im.tile = [(t[0], t[1], t[2], "RGBA") for t in im.tile]  # type: ignore[misc]
    return True


def _transparent_value(im: Image.Image, rawmode: str | None) -> float | None:
    """The grey value a PNG's tRNS chunk makes transparent, scaled like the decoded pixels
    ("L;2" stores 0..3 and decodes to 0..255), or None."""
    t = im.info.get("transparency")
    if not isinstance(t, int) or isinstance(t, bool):
        return None
    if im.mode == "L" and rawmode and rawmode.startswith("L;") and rawmode[2:].isdigit():
        bits = int(rawmode[2:])
        return float(t * 255 // ((1 << bits) - 1)) if bits < 8 else float(t)
    return float(t)


def _to_array(im: Image.Image, transparent: float | None = None) -> np.ndarray:
    """A decoded Pillow image to float32 0..255: (H, W) for grey modes, (H, W, 3) for colour.
    transparent: a grey value (tRNS) to put over white, as stored in the decoded pixels."""
    mode = im.mode
    if mode == "1":
        return np.asarray(im.convert("L"), dtype=np.float32)
    if mode == "L":
        grey = np.asarray(im, dtype=np.float32)
        return np.where(grey == transparent, 255.0, grey).astype(np.float32) if transparent is not None else grey
    if mode in ("LA", "La"):
        la = np.asarray(im.convert("LA") if mode == "La" else im)
        return _over_white(la[..., 0], la[..., 1])
    if mode.startswith("I;16"):
        raw = np.asarray(im)
        grey = raw.astype(np.float32) * np.float32(255.0 / 65535.0)
        return np.where(raw == transparent, np.float32(255.0), grey) if transparent is not None else grey
    if mode in ("I", "F"):
        return _scale_wide(np.asarray(im))
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        rgba = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
        rgb = _over_white(rgba[..., :3], rgba[..., 3]) if has_alpha else rgba.astype(np.float32)
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
            return np.ascontiguousarray(rgb[..., 0])  # a grey palette is a grey picture
        return rgb
    if mode in ("RGBA", "RGBa"):
        rgba = np.asarray(im.convert("RGBA") if mode == "RGBa" else im)
        return _over_white(rgba[..., :3], rgba[..., 3])
    if mode == "RGB":
        return np.asarray(im, dtype=np.float32)
    # CMYK, YCbCr, LAB, HSV, RGBX, 16-bit colour ...: let Pillow convert to RGB.
    if "A" in mode and mode not in ("LAB",):
        rgba = np.asarray(im.convert("RGBA"))
        return _over_white(rgba[..., :3], rgba[..., 3])
    return np.asarray(im.convert("RGB"), dtype=np.float32)


def _damaged(name: str, exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "truncated" in text.lower():
        return f"{name} is cut short (truncated): the end of the file is missing"
    return f"{name} cannot be decoded, the file is damaged ({text})"


LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's "L" conversion


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma, as Pillow's "L" conversion, without rounding to whole numbers."""
    r, g, b = (np.float32(w) for w in LUMA_WEIGHTS)
    return (rgb[..., 0] * r + rgb[..., 1] * g + rgb[..., 2] * b).astype(np.float32)


def to_grey(array: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3|4) in 0..255 -> (H, W) float32 0..255: the one grey conversion
    (luma for colour, alpha ignored; nan -> 0, +inf -> 255, -inf -> 0)."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 3:
        a = _luma(a[..., :3].astype(np.float32, copy=False))
    a = a.astype(np.float32, copy=False)
    if not np.isfinite(a).all():
        a = np.nan_to_num(a, nan=0.0, posinf=255.0, neginf=0.0)
    return a


def to_grey_uint8(array: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3|4) in 0..255 -> (H, W) uint8, rounded and clipped."""
    return np.clip(np.rint(to_grey(array)), 0, 255).astype(np.uint8)


def load_image(source: str | os.PathLike | bytes, *, mode: str = "auto") -> np.ndarray:
    """Open a picture file (or its bytes) as float32 values 0..255.

    mode="auto": (H, W) for grey pictures, (H, W, 3) for colour; "grey" always (H, W)
    (ITU-R 601 luma, like Pillow's "L"); "rgb" always (H, W, 3). Transparent pixels are
    put over white (a dark digit drawn on a transparent background stays dark on white);
    photos are turned upright from their EXIF orientation; a GIF gives its first frame.
    Raises ImageError with a plain-words reason for anything that is not a usable picture.
    """
    if mode == "gray":
        mode = "grey"
    if mode not in ("auto", "grey", "rgb"):
        raise ValueError(f"mode must be 'auto', 'grey' or 'rgb', not {mode!r}")
    buffer, name = _open_source(source)
    with buffer, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's remarks about odd metadata are not errors
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(buffer)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            size = _probe_size(buffer)
            if size is not None:
                raise ImageError(_describe_size(name, *size)) from None
            found = re.search(r"\((\d+) pixels\)", str(exc))
            if found:
                raise ImageError(_too_many_pixels(name, int(found.group(1)))) from None
            raise ImageError(f"{name} is too large; cnnviz opens images up to "
                             f"{MAX_IMAGE_PIXELS:,} pixels") from None
        except UnidentifiedImageError:
            raise ImageError(f"{name} is not a picture cnnviz can read (PNG, JPEG, BMP, GIF, "
                             "WebP and TIFF work)") from None
        except Exception as exc:  # a damaged header can raise almost anything inside Pillow
            raise ImageError(_damaged(name, exc)) from None
        picture: Image.Image = im  # turned upright below, from its EXIF orientation
        try:
            width, height = im.size
            if width <= 0 or height <= 0:
                raise ImageError(f"{name} has no pixels ({width}x{height})")
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError(_describe_size(name, width, height))
            try:
                im.seek(0)  # the first frame of an animation
                rawmode = im.tile[0][3] if im.tile and isinstance(im.tile[0][3], str) else None
                la16 = _raw_la16(im)
                im.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageError(_describe_size(name, width, height)) from None
            except MemoryError:
                raise ImageError(f"{name} is too large to decode in the available memory") from None
            except Exception as exc:
                raise ImageError(_damaged(name, exc)) from None
            try:
                upright = ImageOps.exif_transpose(im)
            except Exception:  # broken EXIF: use the picture as stored
                upright = im
            if upright is not None:
                picture = upright
            try:
                array = (_grey_la16(np.asarray(picture)) if la16
                         else _to_array(picture, _transparent_value(picture, rawmode)))
            except MemoryError:
                raise ImageError(f"{name} is too large to convert in the available memory") from None
            except ImageError:
                raise
            except Exception as exc:
                raise ImageError(f"{name} has a pixel format cnnviz cannot convert "
                                 f"({picture.mode}): {exc}") from None
        finally:
            picture.close()
    if mode == "grey" and array.ndim == 3:
        array = _luma(array)
    elif mode == "rgb" and array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return np.ascontiguousarray(array, dtype=np.float32)


# ----- saving --------------------------------------------------------------------------------


_CONVERT_VALUES = 1 << 20  # values converted at a time by to_uint8


def to_uint8(array: np.ndarray, *, normalize: bool = False) -> np.ndarray:
    """(H, W) or (H, W, 3) values to uint8: clipped to 0..255 and rounded, or with
    normalize=True stretched so the smallest value is 0 and the largest 255 (a constant
    picture becomes all 0)."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ImageError(f"an image must be (H, W), (H, W, 1) or (H, W, 3), not {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ImageError(f"an image needs at least one pixel, got shape {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.float32) * 255
    if not np.issubdtype(a.dtype, np.number):
        raise ImageError(f"image values must be numbers, not {a.dtype}")
    if np.iscomplexobj(a):
        a = a.real
    rows = max(1, _CONVERT_VALUES // max(1, a[0].size))
    blocks = [slice(r, r + rows) for r in range(0, a.shape[0], rows)]
    # Checked and converted a block of rows at a time, in float64: a 49-megapixel colour
    # result as whole float64 copies took gigabytes; the result is the same.
    if any(np.isnan(a[b]).any() for b in blocks):
        raise ImageError("the image has NaN (not-a-number) values; cannot save it")
    scale = None
    if normalize:
        if any(np.isinf(a[b]).any() for b in blocks):
            raise ImageError("the image has infinite values; cannot stretch it to 0..255")
        lo, hi = float(a.min()), float(a.max())
        halve = hi - lo == math.inf  # values near ±1.8e308: halve everything so the span fits
        if halve:
            lo, span = lo / 2, hi / 2 - lo / 2
        else:
            span = hi - lo
        scale = (lo, span, halve)
    out = np.empty(a.shape, np.uint8)
    for b in blocks:
        v = a[b].astype(np.float64)
        if scale is not None:
            lo, span, halve = scale
            if halve:
                v = v / 2
            v = (v - lo) * (255.0 / span) if span > 0 else np.zeros_like(v)
        out[b] = np.clip(np.rint(v), 0, 255)
    return out


def save_image(path: str | os.PathLike, array: np.ndarray, *, normalize: bool = False) -> Path:
    """Write (H, W), (H, W, 1) or (H, W, 3) values as a picture; the format comes from the
    extension (.png, .jpg/.jpeg, .bmp, .webp, .tif/.tiff).

    normalize=False clips to 0..255 and rounds; normalize=True maps min..max to 0..255.
    The file is written atomically: a failure never leaves half a file under the name.
    """
    path = Path(path).expanduser()
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(SAVE_FORMATS))
        raise ImageError(f"cannot save {path.name}: unknown picture type "
                         f"{path.suffix or '(no extension)'!r}; use one of {known}")
    pixels = to_uint8(array, normalize=normalize)
    im = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    return write_atomically(path, lambda fh: im.save(fh, format=fmt, **options))


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """cnnviz.core.basics.files.write_atomically, its FileProblem said as an ImageError (what the
    callers of the image functions catch)."""
    try:
        return files.write_atomically(path, write)
    except FileProblem as exc:
        raise ImageError(str(exc)) from None
