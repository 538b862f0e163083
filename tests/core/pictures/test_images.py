"""Loading and saving pictures: every format and pixel mode against values we construct,
and every kind of bad file gives an ImageError naming the file (never a traceback)."""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from cnnviz.core.basics.limits import MAX_IMAGE_FILE_BYTES
from cnnviz.core.pictures.images import (
    MAX_PIXELS,
    ImageError,
    load_image,
    save_image,
    write_atomically,
)


def gradient(h=24, w=32) -> np.ndarray:
    """A known grey ramp, 0..255 with every value different along a row."""
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 255 // (w - 1) + y * 3) % 256).astype(np.uint8)


def colour(h=24, w=32) -> np.ndarray:
    g = gradient(h, w)
    return np.stack([g, 255 - g, (g // 2 + 60)], axis=2).astype(np.uint8)


# ----- formats and modes --------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["png", "bmp", "tiff", "gif"])
def test_grey_lossless_formats_round_trip(tmp_path, ext):
    g = gradient()
    path = tmp_path / f"g.{ext}"
    Image.fromarray(g, "L").save(path)
    out = load_image(path)
    assert out.dtype == np.float32 and out.shape == g.shape
    np.testing.assert_array_equal(out, g.astype(np.float32))


@pytest.mark.parametrize("ext", ["png", "bmp", "tiff"])
def test_rgb_lossless_formats_round_trip(tmp_path, ext):
    c = colour()
    path = tmp_path / f"c.{ext}"
    Image.fromarray(c, "RGB").save(path)
    out = load_image(path)
    assert out.shape == c.shape
    np.testing.assert_array_equal(out, c.astype(np.float32))


def test_webp_lossless(tmp_path):
    c = colour()
    path = tmp_path / "c.webp"
    Image.fromarray(c, "RGB").save(path, lossless=True)
    np.testing.assert_array_equal(load_image(path), c.astype(np.float32))


def test_jpeg_close_to_original(tmp_path):
    g = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (48, 1))  # smooth: JPEG keeps it well
    path = tmp_path / "g.jpg"
    Image.fromarray(np.rint(g).astype(np.uint8), "L").save(path, quality=95)
    out = load_image(path)
    assert out.shape == (48, 64)
    assert np.abs(out - g).mean() < 2.0


def test_bytes_source_same_as_path(tmp_path):
    path = tmp_path / "g.png"
    Image.fromarray(gradient(), "L").save(path)
    np.testing.assert_array_equal(load_image(path.read_bytes()), load_image(path))
    np.testing.assert_array_equal(load_image(str(path)), load_image(path))


def test_one_bit(tmp_path):
    bits = gradient() > 128
    path = tmp_path / "b.png"
    Image.fromarray(bits).save(path)
    assert Image.open(path).mode == "1"
    np.testing.assert_array_equal(load_image(path), np.where(bits, 255.0, 0.0))


def test_sixteen_bit_grey_keeps_precision(tmp_path):
    values = np.array([[0, 1, 257, 32768, 65535]], dtype=np.uint16)
    for ext in ("png", "tiff"):
        path = tmp_path / f"deep.{ext}"
        Image.fromarray(values).save(path)
        out = load_image(path)
        assert out.shape == (1, 5) and out.dtype == np.float32
        np.testing.assert_allclose(out[0], values[0] * 255.0 / 65535.0, rtol=1e-6)
        assert out[0, 4] == 255.0 and abs(out[0, 3] - 127.502) < 1e-3
        assert 0 < out[0, 1] < 0.01  # a value 8-bit would lose
    assert load_image(path, mode="rgb").shape == (1, 5, 3)


def test_grey_plus_alpha_goes_over_white(tmp_path):
    la = np.zeros((2, 3, 2), np.uint8)
    la[..., 0] = [[0, 100, 200], [0, 0, 0]]
    la[..., 1] = [[255, 255, 255], [0, 128, 255]]
    path = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(path)
    expected = la[..., 0] * (la[..., 1] / 255.0) + 255.0 * (1 - la[..., 1] / 255.0)
    np.testing.assert_allclose(load_image(path), expected, atol=1e-3)


def _png(width: int, height: int, depth: int, colour_type: int, rows: list[bytes],
         extra: bytes = b"") -> bytes:
    """A hand-made PNG: rows are the filtered scanlines (filter byte first)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra
            + _chunk(b"IDAT", zlib.compress(b"".join(rows))) + _chunk(b"IEND", b""))


def _sub_filtered(raw: bytes, bpp: int) -> bytes:
    """PNG filter 1 (Sub): each byte minus the byte one pixel to its left."""
    out = bytes((raw[i] - (raw[i - bpp] if i >= bpp else 0)) % 256 for i in range(len(raw)))
    return b"\x01" + out


def test_sixteen_bit_grey_plus_alpha_keeps_precision():
    # Pillow hands 16-bit grey+alpha over as 8-bit RGBA; cnnviz must give (H, W) grey at
    # full precision, over white like an 8-bit grey+alpha PNG.
    grey = np.array([[30000, 30001, 65535, 1], [0, 40000, 257, 12345]], dtype=np.int64)
    alpha = np.array([[65535, 65535, 32768, 0], [65535, 1000, 65535, 40000]], dtype=np.int64)
    rows = []
    for r in range(2):
        raw = b"".join(struct.pack(">HH", int(g), int(a)) for g, a in zip(grey[r], alpha[r]))
        rows.append(b"\0" + raw if r == 0 else _sub_filtered(raw, 4))  # both filter kinds
    out = load_image(_png(4, 2, 16, 4, rows))
    a = alpha / 65535.0
    expected = grey * (255.0 / 65535.0) * a + 255.0 * (1 - a)
    assert out.shape == (2, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-4)
    assert out[0, 0] != out[0, 1]  # 30000 and 30001 differ (8 bits would merge them)


def test_sixteen_and_eight_bit_grey_with_a_transparent_value_go_over_white():
    values = [30000, 500, 30001, 65535]
    trns = _chunk(b"tRNS", struct.pack(">H", 500))
    out = load_image(_png(4, 1, 16, 0, [b"\0" + struct.pack(">4H", *values)], trns))
    assert out.shape == (1, 4)
    np.testing.assert_allclose(out[0], [30000 * 255 / 65535, 255.0, 30001 * 255 / 65535, 255.0],
                               rtol=1e-6)
    trns = _chunk(b"tRNS", struct.pack(">H", 100))
    out = load_image(_png(3, 1, 8, 0, [b"\0" + bytes([0, 100, 200])], trns))
    assert out.tolist() == [[0.0, 255.0, 200.0]]
    # Two-bit grey: the transparent value 2 is the stored sample, shown as 170.
    trns = _chunk(b"tRNS", struct.pack(">H", 2))
    out = load_image(_png(4, 1, 2, 0, [b"\0" + bytes([0b00011011])], trns))
    assert out.tolist() == [[0.0, 85.0, 255.0, 255.0]]


def test_transparent_rgba_dark_digit_becomes_dark_on_white(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent black everywhere...
    rgba[5:15, 9:11] = [0, 0, 0, 255]  # ...but an opaque black stroke
    rgba[0, 0] = [255, 0, 0, 128]  # half-transparent red
    path = tmp_path / "digit.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = load_image(path)
    assert out.shape == (20, 20, 3)
    assert (out[5:15, 9:11] == 0).all()
    assert out[19, 19].tolist() == [255.0, 255.0, 255.0]
    np.testing.assert_allclose(out[0, 0], [255.0, 127.0, 127.0], atol=0.01)  # 255*(1-128/255)
    grey = load_image(path, mode="grey")
    assert grey.shape == (20, 20) and grey[10, 10] == 0 and abs(grey[19, 19] - 255) < 1e-3


def test_palette_images(tmp_path):
    c = np.zeros((4, 4, 3), np.uint8)
    c[:2] = [255, 0, 0]
    c[2:] = [0, 0, 255]
    path = tmp_path / "p.png"
    Image.fromarray(c, "RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=2).save(path)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(load_image(path), c.astype(np.float32))
    # A GIF with a transparent colour: transparent pixels become white.
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    p.putpixel((1, 1), 1)
    gif = tmp_path / "t.gif"
    p.save(gif, transparency=0)
    out = load_image(gif)
    assert out.shape == (4, 4, 3)
    assert out[0, 0].tolist() == [255.0, 255.0, 255.0] and out[1, 1].tolist() == [10.0, 20.0, 30.0]


def test_gif_first_frame(tmp_path):
    frames = [Image.new("L", (6, 5), v) for v in (10, 200, 90)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50)
    out = load_image(path)
    assert out.shape == (5, 6) and (out == 10).all()


def test_cmyk(tmp_path):
    cmyk = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [255, 0, 0, 0], [0, 255, 255, 0]]], np.uint8)
    path = tmp_path / "cmyk.tiff"
    Image.fromarray(cmyk, "CMYK").save(path)
    out = load_image(path)
    np.testing.assert_array_equal(out[0], [[255, 255, 255], [0, 0, 0], [0, 255, 255], [255, 0, 0]])


def test_modes_grey_and_rgb(tmp_path):
    c = colour()
    path = tmp_path / "c.png"
    Image.fromarray(c, "RGB").save(path)
    grey = load_image(path, mode="grey")
    cf = c.astype(np.float64)
    expected = 0.299 * cf[..., 0] + 0.587 * cf[..., 1] + 0.114 * cf[..., 2]  # ITU-R 601 luma
    assert grey.shape == c.shape[:2]
    np.testing.assert_allclose(grey, expected, atol=1e-3)
    pillow_l = np.asarray(Image.fromarray(c).convert("L"), np.float64)
    assert np.abs(grey - pillow_l).max() <= 0.51  # Pillow rounds to whole numbers
    g = tmp_path / "g.png"
    Image.fromarray(gradient(), "L").save(g)
    rgb = load_image(g, mode="rgb")
    assert rgb.shape == (24, 32, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    with pytest.raises(ValueError):
        load_image(g, mode="sepia")


def test_exif_orientation_makes_photo_upright(tmp_path):
    stored = np.full((20, 40, 3), 255, np.uint8)  # 40 wide, 20 tall as stored in the file
    stored[:6, :6] = 0  # a black mark in the stored top-left corner
    im = Image.fromarray(stored, "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation 6: turn 90 degrees clockwise to view
    path = tmp_path / "phone.jpg"
    im.save(path, exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (40, 20, 3)  # upright: now tall
    assert out[:5, -5:].mean() < 40  # the mark is now top-right
    assert out[:5, :5].mean() > 215 and out[-5:, -5:].mean() > 215 and out[-5:, :5].mean() > 215


# ----- bad files ----------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height grey pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 100)) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("width,height", [(20000, 20000), (10000, 5001), (9000, 9000)])
def test_oversized_header_refused_before_decoding(tmp_path, width, height):
    assert width * height > MAX_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(width, height))
    tracemalloc.start()
    try:
        with pytest.raises(ImageError) as info:
            load_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # refused from the header: no pixel buffer was made
    message = str(info.value)
    assert "bomb.png" in message and f"{width}x{height} = {width * height:,} pixels" in message
    assert "up to 50,000,000 pixels" in message
    if width == 20000:
        assert "400 megapixels" in message


def test_one_pixel_over_the_cap_says_the_exact_count():
    # 50,000,001 pixels rounds to "50 megapixels", the cap itself: the exact count must show.
    with pytest.raises(ImageError) as info:
        load_image(_png_claiming(50_000_001, 1))
    message = str(info.value)
    assert "50000001x1 = 50,000,001 pixels" in message and "up to 50,000,000 pixels" in message
    assert "50 megapixels;" not in message  # never "50 megapixels; ... up to 50 megapixels"


def test_hand_made_png_decodes():
    # The hand-made PNG writer above makes valid files: a 1x1 one decodes to its value.
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0\x7f"))
            + _chunk(b"IEND", b""))
    assert load_image(data).tolist() == [[127.0]]


def _expect_error(source, *words):
    with pytest.raises(ImageError) as info:
        load_image(source)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    _expect_error(path, "empty.png", "empty")
    _expect_error(b"", "empty")


def test_random_bytes_and_text(tmp_path):
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    _expect_error(path, "noise.jpg", "not a picture")
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n")
    _expect_error(text, "notes.png")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files(tmp_path, fmt, keep):
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, fmt)
    data = buf.getvalue()
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: int(len(data) * keep)])
    _expect_error(path, "cut.")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_png_cut_inside_header(tmp_path):
    path = tmp_path / "short.png"
    path.write_bytes(_png_claiming(10, 10)[:20])
    _expect_error(path, "short.png")


def test_huge_file_refused_before_reading(tmp_path):
    path = tmp_path / "huge.png"
    with open(path, "wb") as fh:  # sparse: costs no disk space
        fh.truncate(MAX_IMAGE_FILE_BYTES + 1)
    tracemalloc.start()
    try:
        message = _expect_error(path, "huge.png", f"{MAX_IMAGE_FILE_BYTES + 1:,} bytes", "512 MB")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, message  # the file was not read into memory


def test_missing_file_and_folder(tmp_path):
    _expect_error(tmp_path / "nothing-here.png", "nothing-here.png", "no such file")
    _expect_error(tmp_path, tmp_path.name, "folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not stop root (or are not POSIX here)")
def test_permission_denied(tmp_path):
    path = tmp_path / "secret.png"
    Image.new("L", (2, 2)).save(path)
    path.chmod(0)
    try:
        _expect_error(path, "secret.png", "permission")
    finally:
        path.chmod(0o644)


def test_wrong_source_type():
    with pytest.raises(TypeError):
        load_image(12345)


# ----- saving -------------------------------------------------------------------------------


def test_save_clips_and_rounds(tmp_path):
    a = np.array([[-5.0, 300.0, 12.4, 12.6]], np.float32)
    path = save_image(tmp_path / "clip.png", a)
    assert path == tmp_path / "clip.png"
    assert load_image(path).tolist() == [[0.0, 255.0, 12.0, 13.0]]


def test_save_normalize(tmp_path):
    a = np.array([[-1.0, 0.0, 1.0], [0.5, -0.5, 1.0]])
    out = load_image(save_image(tmp_path / "n.png", a, normalize=True))
    np.testing.assert_array_equal(out, np.rint((a + 1) * 127.5))
    const = load_image(save_image(tmp_path / "c.png", np.full((3, 4), 7.0), normalize=True))
    assert const.shape == (3, 4) and np.isfinite(const).all() and (const == const[0, 0]).all()
    with pytest.raises(ImageError, match="NaN"):
        save_image(tmp_path / "nan.png", np.array([[0.0, np.nan]]), normalize=True)
    with pytest.raises(ImageError, match="NaN"):
        save_image(tmp_path / "nan2.png", np.array([[0.0, np.nan]]))
    assert not (tmp_path / "nan.png").exists()


@pytest.mark.parametrize("ext", ["png", "jpg", "jpeg", "bmp", "webp", "tiff", "tif", "PNG"])
def test_save_formats(tmp_path, ext):
    c = colour()
    path = save_image(tmp_path / f"out.{ext}", c)
    back = load_image(path)
    assert back.shape == c.shape
    tolerance = 0 if ext.lower() in ("png", "bmp", "tiff", "tif") else 8
    assert np.abs(back - c).mean() <= tolerance
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{ext}"]  # no temp file left


def test_save_shapes(tmp_path):
    g = gradient().astype(np.float32)
    np.testing.assert_array_equal(load_image(save_image(tmp_path / "a.png", g[..., None])), g)
    np.testing.assert_array_equal(load_image(save_image(tmp_path / "b.png", g)), g)
    for bad in (np.zeros((4, 4, 2)), np.zeros(5), np.zeros((0, 3))):
        with pytest.raises(ImageError):
            save_image(tmp_path / "bad.png", bad)


def test_save_unknown_extension(tmp_path):
    for name in ("x.xyz", "noext"):
        with pytest.raises(ImageError, match="unknown picture type"):
            save_image(tmp_path / name, np.zeros((2, 2)))
    assert list(tmp_path.iterdir()) == []


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "same.png"
    save_image(path, np.zeros((4, 4)))
    save_image(path, np.full((4, 4), 200.0))
    assert (load_image(path) == 200).all()
    assert [p.name for p in tmp_path.iterdir()] == ["same.png"]


def test_save_into_a_missing_folder_names_it_and_creates_nothing(tmp_path):
    target = tmp_path / "no" / "such" / "out.png"
    with pytest.raises(ImageError) as info:
        save_image(target, np.zeros((2, 2)))
    message = str(info.value)
    assert f"the folder {tmp_path / 'no' / 'such'} does not exist" in message and "out.png" in message
    assert list(tmp_path.iterdir()) == []  # no folder made behind the user's back


def test_save_onto_a_folder_or_inside_a_file(tmp_path):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(ImageError) as info:
        save_image(tmp_path / "d.png", np.zeros((2, 2)))
    assert str(tmp_path / "d.png") in str(info.value) and "is a folder" in str(info.value)
    (tmp_path / "f").write_text("x")
    with pytest.raises(ImageError, match="is a file, not a folder"):
        save_image(tmp_path / "f" / "o.png", np.zeros((2, 2)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "f"]


def test_write_atomically_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "x.NPY"
    target.write_bytes(b"old")

    def half_then_fail(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(ImageError, match="cannot save x.NPY: No space left on device"):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["x.NPY"]
    assert write_atomically(target, lambda fh: np.save(fh, np.arange(3))) == target
    np.testing.assert_array_equal(np.load(target), np.arange(3))  # the exact name, no ".npy" added
    assert [p.name for p in tmp_path.iterdir()] == ["x.NPY"]
