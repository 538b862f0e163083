"""Peak memory of small files that ask for a lot: a 49-megapixel colour PNG of about 150 KB
filtered per channel (refused: its three maps per stage pass the filter's limit) and summed
(the kernel explorer's and `cnnviz filter`'s path, output written as a PNG), a colour picture
just inside the per-channel limit, and a 99 MB weights header of empty JSON objects
(refused before it is parsed). Prints figures; asserts nothing.

Each case runs in its own process; the figure is the process's peak resident memory
(ru_maxrss), and, for the weights file, the peak above what the process held before the file
was opened (the imports).

    python benchmarks/bench_untrusted_memory.py
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

CHILD = r"""
import json, resource, sys, time
case, path, out = sys.argv[1], sys.argv[2], sys.argv[3]

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from cnnviz.core.convolution.filter_settings import KernelSettings
from cnnviz.core.convolution.filtering import run_pipeline
from cnnviz.core.pictures.images import load_image, save_image
from cnnviz.core.networks.weights import WeightsError, load_weights

base = peak_mb()
start = time.perf_counter()
said = ""
if case == "header":
    try:
        load_weights(path)
    except WeightsError as exc:
        said = str(exc)
else:
    image = load_image(path)
    result = run_pipeline(image, KernelSettings(per_channel=case == "per-channel"))
    said = result.error or ""
    if result.ok:
        final = result.final
        if final.ndim == 3:
            import numpy as np
            final = np.moveaxis(final, 0, -1)
        save_image(out, final, normalize=True)
        said = "filtered, written as PNG"
print(json.dumps({"base": base, "peak": peak_mb(), "seconds": time.perf_counter() - start,
                  "said": said}))
"""


def _picture(path: Path, side: int) -> None:
    """A colour picture of side×side pixels that compresses to a few hundred KB."""
    import numpy as np
    from PIL import Image

    a = np.zeros((side, side, 3), np.uint8)
    a[: side // 2, :, 0] = 200
    a[:, : side // 2, 1] = 120
    a[side // 4: 3 * side // 4, side // 4: 3 * side // 4, 2] = 255
    Image.fromarray(a).save(path, optimize=True)


def _empty_objects_header(path: Path, size: int) -> None:
    body = b'{"a": [' + b"{}," * (size // 3) + b"{}]}"
    body += b" " * (-len(body) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body)


def _run(case: str, path: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, case, str(path), str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"CPU: {cpu_model()}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        big, inside, header = folder / "49mp.png", folder / "16mp.png", folder / "99mb.safetensors"
        _picture(big, 7000)
        _picture(inside, 4080)
        _empty_objects_header(header, 99_000_000)
        cases = [
            ("per-channel", big, "49 MP colour PNG, each channel filtered alone"),
            ("summed", big, "49 MP colour PNG, channels summed, written as PNG"),
            ("per-channel", inside, "16.6 MP colour PNG, each channel alone, written as PNG"),
            ("header", header, "99 MB weights header of empty objects"),
        ]
        for case, path, words in cases:
            figures = _run(case, path, folder / "out.png")
            extra = figures["peak"] - figures["base"]
            print(f"{words} ({path.stat().st_size:,} bytes): peak {figures['peak']:,.0f} MB "
                  f"({extra:,.0f} MB above the {figures['base']:,.0f} MB after the imports), "
                  f"{figures['seconds']:.2f} s\n    {figures['said'][:160]}")


if __name__ == "__main__":
    main()
