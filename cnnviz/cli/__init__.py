"""The command line: cnnviz [gui] | train | evaluate | report | predict | summary | filter |
kernels | data, one module per command (NAME, add_parser, run).

Every failure a user can cause prints one clear line to stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from . import (
    data,
    embed,
    evaluate,
    filter,
    gui,
    kernels,
    predict,
    report,
    summary,
    train,
    visualize,
)
from .common import CliError, os_error_line, silence_stdout, writing_output_failed

# The commands in the order `cnnviz --help` lists them.
COMMAND_MODULES = (gui, train, evaluate, report, predict, summary, filter, kernels, embed,
                   visualize, data)
COMMANDS = {module.NAME: module.run for module in COMMAND_MODULES}


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="cnnviz", allow_abbrev=False,
        description="See inside convolutional neural networks. With no command, opens the app.")
    parser.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    for command in sub.choices.values():  # "--data X" is never taken for "--data-dir X"
        command.allow_abbrev = False
    return parser


_NUMPY_FLOAT_WARNINGS = (r"(overflow|underflow|invalid value|divide by zero) encountered"
                         r"|Mean of empty slice|Degrees of freedom <= 0")


def _names_a_file(word: str) -> bool:
    """Whether the first word is a file for the app rather than a command: a file that is
    there, or a name the app would open as a picture or a model (the one rule,
    cnnviz.core.networks.file_kinds.open_as), so a missing photo.png is "no such file", not "invalid
    choice"."""
    from ..core.networks.file_kinds import open_as

    path = Path(word).expanduser()
    return path.exists() or open_as(path) is not None


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()  # (a command may say each phase's share of its time)
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-") and words[0] not in COMMANDS \
            and _names_a_file(words[0]):
        words = ["gui", *words]  # `cnnviz FILE` opens FILE in the app, by what it is
    args = parser.parse_args(words)
    args.argv = words  # (--nproc runs it again)
    args.started = started
    command = args.command or "gui"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NUMPY_FLOAT_WARNINGS, category=RuntimeWarning)
            code = COMMANDS[command](args)
        sys.stdout.flush()  # a full disk is said here, not as "Exception ignored" at exit
        return code
    except CliError as exc:
        print(f"cnnviz {command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (MemoryError, RuntimeError) as exc:  # an allocation anywhere else: one line too
        from ..core.networks.memory import out_of_memory

        what = out_of_memory(exc)
        if what is None:
            raise
        print(f"cnnviz {command}: error: not enough memory ({what})", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader stopped reading (| head): nothing more to say
        silence_stdout()
        return 1
    except OSError as exc:  # whatever the environment refused: one line, never a traceback
        if writing_output_failed(exc):
            silence_stdout()
            print(f"cnnviz {command}: error: cannot write the output ({exc.strerror or exc})",
                  file=sys.stderr)
        else:
            print(f"cnnviz {command}: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
