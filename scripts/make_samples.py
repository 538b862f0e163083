"""Write the test pictures shipped inside the package (cnnviz/samples/):

- mnist-test-samples.npz: 30 real MNIST test digits of each class (300);
- fashion-mnist-test-samples.npz: 10 real Fashion-MNIST test images of each class (100), so
  a Fashion-MNIST model gets clothes from Random and the gallery without a data folder.

Run once by the maintainers (the shipped files are committed); needs the data files:
    python scripts/make_samples.py --data-dir ../shared/data [--dataset fashion-mnist]
The pictures are the first of each class in the official test set, kept with their index
in that set so anyone can check them. Fashion-MNIST is © Zalando SE, MIT licence.
"""

import argparse
from pathlib import Path

import numpy as np

from cnnviz.core.datasets.data import load_split
from cnnviz.core.pictures.samples import SAMPLE_FILES

PER_CLASS = {"mnist": 30, "fashion-mnist": 10}

parser = argparse.ArgumentParser()
parser.add_argument("--data-dir")
parser.add_argument("--dataset", choices=sorted(PER_CLASS), action="append",
                    help="which set to write (default: both)")
args = parser.parse_args()
for dataset in args.dataset or sorted(PER_CLASS):
    images, labels = load_split(dataset, "test", args.data_dir)
    per = PER_CLASS[dataset]
    index = np.concatenate([np.flatnonzero(labels == k)[:per] for k in range(10)])
    index.sort()
    out = Path(__file__).resolve().parent.parent / "cnnviz" / "samples" / SAMPLE_FILES[dataset]
    np.savez_compressed(out, images=images[index], labels=labels[index], test_index=index)
    print(f"wrote {len(index)} {dataset} test pictures to {out} ({out.stat().st_size:,} bytes)")
