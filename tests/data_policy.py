"""The one policy for tests that need a dataset: found through the product's own
data-folder setting (CNNVIZ_DATA_DIR, then the per-user folder); without the files a test
skips with the reason, except in CI (CI=true), where it fails."""

from __future__ import annotations

import os

import pytest

from cnnviz.core.datasets.data import DataError, load_split, resolve_data_dir


def need_data(dataset: str = "mnist") -> str:
    """The data folder holding `dataset`'s files; skips (or, in CI, fails) without them."""
    try:
        load_split(dataset, "test", verify=False)
    except DataError as exc:
        # In CI the data must be there (.ci/run points CNNVIZ_DATA_DIR at ../shared/data);
        # on a user's machine without the files these tests skip with the reason.
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the {dataset} files: {exc}")
        pytest.skip(f"{dataset} files not found in {resolve_data_dir()}: "
                    "set CNNVIZ_DATA_DIR or run `cnnviz data download`")
    return str(resolve_data_dir())
