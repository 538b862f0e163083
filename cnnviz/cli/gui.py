"""`cnnviz [gui] [FILE]`: open the desktop app, with a picture or a model at start."""

from __future__ import annotations

from pathlib import Path

from .common import CliError, add_data_dir, add_input_scale

NAME = "gui"


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default)")
    p.add_argument("image", nargs="?", metavar="FILE", help="a picture (the input), a model "
                   "(cnnviz .safetensors, Keras, ONNX, torch.export or TorchScript) or a lesson "
                   "(.cnnviz-lesson) or a session (.cnnviz-session) to open at start, by its content")
    add_input_scale(p)
    add_data_dir(p)


def run(args) -> int:
    image = getattr(args, "image", None)
    if image:  # said here, before a window opens only to say it
        path = Path(image).expanduser()
        if not path.exists():
            raise CliError(f"cannot open {image}: no such file")
        image = str(path)
        _check_lesson(path)
    from ..ui.window.app import display_problem, run_app

    problem = display_problem()
    if problem:
        raise CliError(problem)
    scale, labels = getattr(args, "input_scale", None), getattr(args, "labels", None)
    if (scale or labels) and not image:
        raise CliError("--input-scale and --labels are for a model file opened at start "
                       "(cnnviz gui MODEL --input-scale 0-255)")
    if labels and not Path(labels).expanduser().is_file():
        raise CliError(f"--labels {labels}: no such file")
    return run_app(image=image, data_dir=getattr(args, "data_dir", None),
                   model_options={"input_scale": scale, "labels": labels})


def _check_lesson(path: Path) -> None:
    """A lesson file that cannot be used is said here, in one line, before a window opens."""
    from ..core.lessons.lesson import LessonError, is_lesson, read_lesson

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096) if path.is_file() else b""
    except OSError:
        return  # the window says why it cannot be read
    if is_lesson(head):
        try:
            read_lesson(path)
        except LessonError as exc:
            raise CliError(str(exc)) from None
    from ..core.lessons.session import SessionError, is_session, read_session

    if is_session(head):
        try:
            read_session(path)
        except SessionError as exc:
            raise CliError(str(exc)) from None
