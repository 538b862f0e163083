"""The training memory estimate (cnnviz.core.networks.memory) against the real peak.

Each run is its own process: import torch, build the model and load the data, note the
resident memory, train one epoch of one or two batches (no test set), and report the peak
resident memory (ru_maxrss) above that baseline next to the estimate's batch and model
part. The estimate should be above the measured figure (it decides what is refused) but
not by a large factor (it would refuse what fits).

    CNNVIZ_DATA_DIR=... python benchmarks/bench_memory.py [--arch cnnviz] [--batches 256 1024]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

CHILD = r"""
import json, resource, sys
import torch
from cnnviz.core.datasets.data import load_split
from cnnviz.core.networks.models import build_model
from cnnviz.core.training.loop import TrainConfig, train, to_tensor

arch, batch = sys.argv[1], int(sys.argv[2])
x, y = load_split("mnist", "train")
x, y = x[:2 * batch], y[:2 * batch]
model = build_model(arch, seed=0)
to_tensor(x[:1])
def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
base = rss()
train(model, x, y, TrainConfig(epochs=1, batch_size=batch, optimizer="adam"),
      device=torch.device("cpu"))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak}))
"""


def main() -> None:
    from cnnviz.core.networks.memory import RUNTIME_BYTES, estimate_training_memory, format_bytes
    from cnnviz.core.networks.models import get_architecture

    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="cnnviz")
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024])
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; torch threads as the default; arch {args.arch}")
    print(f"{'batch':>6}  {'measured':>10}  {'estimate':>10}  ratio")
    arch = get_architecture(args.arch)
    for batch in args.batches:
        out = subprocess.run([sys.executable, "-c", CHILD, args.arch, str(batch)],
                             capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        measured = figures["peak"] - figures["base"]
        est = estimate_training_memory(arch, batch, 2 * batch)
        estimate = est.batch_bytes + est.model_bytes + est.data_bytes + RUNTIME_BYTES
        print(f"{batch:>6}  {format_bytes(measured):>10}  {format_bytes(estimate):>10}  "
              f"{estimate / max(measured, 1):.2f}")


if __name__ == "__main__":
    main()
