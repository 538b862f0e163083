"""Datasets: MNIST and Fashion-MNIST read from the data folder (checked against their
SHA-256), the checked download, the gallery of real test pictures, and the training-time
augmentation."""
