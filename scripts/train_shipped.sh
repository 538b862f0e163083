#!/usr/bin/env bash
# The exact commands that made the weights shipped in cnnviz/weights/ (CPU, seed 0).
# Needs the MNIST and Fashion-MNIST files: CNNVIZ_DATA_DIR=../shared/data bash scripts/train_shipped.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=cnnviz/weights
# cnnviz: 15 epochs from random weights, Adam one-cycle, augmentation (including low-resolution
# scans), outlier exposure 0.5 (drawn non-digits pushed towards a uniform softmax) and the
# last 2,000 training images held out to fix its "unsure" threshold (the defaults).
cnnviz train --arch cnnviz --dataset mnist --epochs 15 --seed 0 --out $W/cnnviz-mnist.safetensors
# Its unsure threshold was then fixed again (the tensors unchanged) when calibration learnt the
# pictures users load (the held-out digits as photos, scans and crops); cnnviz train above now
# does the same, so on a fresh run this step changes nothing:
python scripts/recalibrate_verdict.py $W/cnnviz-mnist.safetensors $W/cnnviz-mnist.recalibrated.safetensors
mv $W/cnnviz-mnist.recalibrated.safetensors $W/cnnviz-mnist.safetensors
# cnnviz-fashion: its earlier 12-epoch model (the Fashion line of commit fa9c7a4, no --init,
# on that commit's code) fine-tuned with outlier exposure; a full retraining did not fit the
# session's time on a shared 2-core machine.
BASE=$(mktemp -d)
trap 'rm -rf "$BASE"' EXIT
git show fa9c7a4:cnnviz/weights/cnnviz-fashion-mnist.safetensors > "$BASE/cnnviz-fashion-mnist.safetensors"
# As the lecture trains its Keras model: SGD (Keras's default lr 0.01), batch 128, 5 epochs, no augmentation.
# The lecture models train as the lecture does, on all 60,000 images and without outlier
# exposure (so they have no stored verdict and get the default rule).
cnnviz train --arch lecture-keras --dataset mnist --optimizer sgd --lr 0.01 --batch-size 128 --epochs 5 \
    --no-augment --outlier-exposure 0 --hold-out 0 --seed 0 --out $W/lecture-keras-mnist.safetensors
cnnviz train --arch lecture-deep --dataset mnist --optimizer adam --lr 0.001 --schedule constant \
    --epochs 3 --no-augment --outlier-exposure 0 --hold-out 0 --seed 0 --out $W/lecture-deep-mnist.safetensors
cnnviz train --arch cnnviz --dataset fashion-mnist --init "$BASE/cnnviz-fashion-mnist.safetensors" \
    --epochs 2 --limit 20000 --lr 0.001 --no-augment --seed 0 --out $W/cnnviz-fashion-mnist.safetensors
# Comparison models for Experiments › Invariance (not in the model picker): a fully connected
# network with about as many parameters as cnnviz's CNN (203,530 against 198,122), trained with
# the same augmentation, and the cnnviz CNN trained without augmentation (a short run: 2 epochs
# on the first 30,000 images). Neither needs the unsure verdict.
cnnviz train --arch "flatten, dense 256, relu, dense 10" --dataset mnist --epochs 15 \
    --outlier-exposure 0 --hold-out 0 --seed 0 --out $W/fully-connected-mnist.safetensors
cnnviz train --arch cnnviz --dataset mnist --epochs 2 --limit 30000 --no-augment \
    --outlier-exposure 0 --hold-out 0 --seed 0 --out $W/cnnviz-noaug-mnist.safetensors
