"""Running cnnviz's command line inside a test: its exit code and what it printed."""

from __future__ import annotations

from types import SimpleNamespace

from cnnviz.cli import main


def run(capsys, *args) -> SimpleNamespace:
    """cli.main(args) in this process: returncode, stdout, stderr."""
    capsys.readouterr()  # drop anything printed before
    code = main(list(args))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def one_line(text: str) -> bool:
    """A message of one line, no traceback."""
    return text.count("\n") == 1 and "Traceback" not in text
