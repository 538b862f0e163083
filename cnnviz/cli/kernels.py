"""`cnnviz kernels`: the kernel presets, with their values."""

from __future__ import annotations

NAME = "kernels"


def add_parser(sub) -> None:
    sub.add_parser("kernels", help="list the kernel presets")


def run(args) -> int:
    from ..core.convolution.kernels import ALIASES, PRESETS, format_kernel

    print("Pass the name at the start of a line to --kernel, e.g. "
          "cnnviz filter IMAGE --kernel sharpen -o out.png\n")
    for preset in PRESETS.values():
        aliases = [a for a, key in ALIASES.items() if key == preset.key]
        also = f"  (also: {', '.join(aliases)})" if aliases else ""
        print(f"{preset.key}  {preset.name}, {preset.values.shape[0]}x{preset.values.shape[1]}{also}")
        print(f"    {preset.description}")
        for line in format_kernel(preset.values).splitlines():
            print(f"        {line}")
        print()
    return 0
