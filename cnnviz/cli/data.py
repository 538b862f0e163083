"""`cnnviz data where|verify|download`: find, check or download the datasets."""

from __future__ import annotations

import sys

from .common import CliError, add_data_dir

NAME = "data"


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="find, check or download the datasets")
    p.add_argument("action", choices=["where", "verify", "download"])
    p.add_argument("dataset", nargs="?", default="mnist", choices=["mnist", "fashion-mnist"])
    add_data_dir(p)


def run(args) -> int:
    from ..core.datasets.data import DataError, find_file, get_dataset_info, resolve_data_dir, verify_file

    info = get_dataset_info(args.dataset)
    folder = resolve_data_dir(args.data_dir) / info.key
    if args.action == "where":
        print(folder)
        return 0
    if args.action == "download":
        from ..core.datasets.download import DownloadError, download_dataset

        try:
            download_dataset(args.dataset, args.data_dir, progress=sys.stderr.isatty())
        except (DownloadError, DataError) as exc:
            raise CliError(str(exc)) from None
    bad = 0
    for part, expected in info.files.items():
        path = find_file(args.dataset, part, args.data_dir)  # the .gz file, else unpacked
        try:
            verify_file(path, expected)
            print(f"ok       {path}")
        except DataError as exc:
            bad += 1
            print(f"problem  {exc}")
    return 1 if bad else 0
