"""The report card's time per model, measured. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_report_card.py
        [--model lecture-keras] [--weights FILE] ...

For each model (default: the shipped cnnviz and lecture-keras, and the Keras model in the
tests' fixtures, a student's): the seconds its whole report card takes on the full test set
in a fresh cache folder, the first model paying for the pictures users load (made once, then
cached) and a model made elsewhere for its unsure verdict's calibration; then the seconds
the same card takes again (from the cache). Target: at most 120 s per model on a 2-core CPU.
Also the load average and the CPU model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # machine.py beside this file

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

TARGET_SECONDS = 120
STUDENT = Path(__file__).resolve().parent.parent / "tests" / "data" / "keras" / "rescaled.keras"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="a shipped model's name")
    parser.add_argument("--weights", action="append", default=[], help="a model file")
    args = parser.parse_args()
    specs = [("shipped", m) for m in args.model] + [("file", w) for w in args.weights]
    if not specs:
        specs = [("shipped", "cnnviz"), ("shipped", "lecture-keras"), ("file", str(STUDENT))]
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CNNVIZ_CACHE_DIR"] = cache  # fresh: nothing remembered from before
        from cnnviz.core.networks.weights import load_shipped, load_weights
        from cnnviz.core.training import report_card as rc

        print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), load average "
              f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
        for kind, value in specs:
            loaded = load_shipped(value) if kind == "shipped" else load_weights(value)
            t0 = time.perf_counter()
            card = rc.compute(loaded)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = rc.compute(load_shipped(value) if kind == "shipped" else load_weights(value))
            second = time.perf_counter() - t0
            f = card.figures
            print(f"{loaded.name:>16}: {first:6.1f} s ({'within' if first <= TARGET_SECONDS else 'OVER'}"
                  f" {TARGET_SECONDS} s), again {second:.2f} s (cached: {again.cached}); "
                  f"{f.get('test_images', 0):,} test pictures, accuracy "
                  f"{100 * f.get('accuracy', float('nan')):.2f}%, {f['ms_per_image']:.2f} ms per picture")
        print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
