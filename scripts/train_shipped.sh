#!/usr/bin/env bash
# The exact commands that made the weights shipped in cnnviz/weights/ (CPU, seed 0).
# Needs the MNIST and Fashion-MNIST files: CNNVIZ_DATA_DIR=../shared/data bash scripts/train_shipped.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=cnnviz/weights
cnnviz train --arch cnnviz --dataset mnist --epochs 15 --seed 0 --out $W/cnnviz-mnist.safetensors
# As the lecture trains its Keras model: SGD (Keras's default lr 0.01), batch 128, 5 epochs, no augmentation.
cnnviz train --arch lecture-keras --dataset mnist --optimizer sgd --lr 0.01 --batch-size 128 --epochs 5 \
    --no-augment --seed 0 --out $W/lecture-keras-mnist.safetensors
cnnviz train --arch lecture-deep --dataset mnist --optimizer adam --lr 0.001 --schedule constant \
    --epochs 3 --no-augment --seed 0 --out $W/lecture-deep-mnist.safetensors
cnnviz train --arch cnnviz --dataset fashion-mnist --epochs 12 --no-augment --seed 0 \
    --out $W/cnnviz-fashion-mnist.safetensors
