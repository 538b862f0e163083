"""Write cnnviz/samples/mnist-test-samples.npz: 30 real MNIST test digits of each class.

Run once by the maintainers (the shipped file is committed); needs the MNIST files:
    python scripts/make_samples.py --data-dir ../shared/data
The digits are the first 30 of each class in the official test set, kept with their
index in that set so anyone can check them.
"""

import argparse
from pathlib import Path

import numpy as np

from cnnviz.core.data import load_split

PER_CLASS = 30

parser = argparse.ArgumentParser()
parser.add_argument("--data-dir")
args = parser.parse_args()
images, labels = load_split("mnist", "test", args.data_dir)
index = np.concatenate([np.flatnonzero(labels == d)[:PER_CLASS] for d in range(10)])
index.sort()
out = Path(__file__).resolve().parent.parent / "cnnviz" / "samples" / "mnist-test-samples.npz"
np.savez_compressed(out, images=images[index], labels=labels[index], test_index=index)
print(f"wrote {len(index)} digits to {out} ({out.stat().st_size:,} bytes)")
