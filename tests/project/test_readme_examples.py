"""The Python examples in README.md run, and say what they print.

Every ```python (or ```py) block runs, top to bottom, in a fresh namespace in an empty
folder; shell blocks (sh, bash, console, none named) are left alone. A line like
`ops.conv2d(image, kernel)   # [[2, 1, -1], ...]` whose comment starts with a Python
literal is checked: the expression must give that value. Pictures an example opens by a
name that is not a file in the checkout (`load_image("my-digit.png")`) are a shipped
sample digit, so the example runs as a reader would run it with their own picture.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PYTHON_FENCES = {"python", "py", "python3"}
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)[^\n]*\n(.*?)^\1\s*$", re.S | re.M)
PICTURE = re.compile(r"""["']([\w./-]+\.(?:png|jpe?g|bmp|gif|webp|tiff?))["']""", re.I)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every Python block in a Markdown text."""
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(2).lower() in PYTHON_FENCES:
            blocks.append((text.count("\n", 0, match.start(3)) + 1, match.group(3)))
    return blocks


def _blocks() -> list:
    text = README.read_text(encoding="utf-8") if README.is_file() else ""
    found = python_blocks(text)
    # No Python block found (a README rewritten, or a fence this runner no longer reads)
    # is a failure: the examples would silently stop being checked.
    return [pytest.param(code, id=f"README.md:{line}") for line, code in found] or [
        pytest.param(None, id="no-python-blocks")]


def _comments(code: str) -> dict[int, str]:
    """Line number -> the text of the comment on that line."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def _literal_at_start(comment: str):
    """The Python literal a comment starts with ('(32, 26, 26): every map' -> (32, 26, 26)),
    or None when it starts with words."""
    for end in range(len(comment), 0, -1):
        if comment[end - 1] not in ")]}'\"0123456789":
            continue
        try:
            return (ast.literal_eval(comment[:end]),)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return None


def _same(got, want) -> bool:
    if isinstance(want, str) or isinstance(got, str):
        return got == want
    try:
        return bool(np.array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float)))
    except (TypeError, ValueError):
        return got == want


def _provide_pictures(code: str, folder: Path) -> None:
    from PIL import Image

    from cnnviz.core.pictures.samples import load_samples

    images, _, _ = load_samples()
    for name in PICTURE.findall(code):
        if not (ROOT / name).exists():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.kron(images[0], np.ones((4, 4), np.uint8))).save(target)


def run_block(code: str) -> None:
    """Run one block statement by statement, checking the literal results its comments
    promise. AssertionError names the line."""
    comments = _comments(code)
    namespace: dict = {"__name__": "__readme__"}
    for node in ast.parse(code).body:
        module = ast.Module(body=[node], type_ignores=[])
        if isinstance(node, ast.Expr) and node.end_lineno in comments:
            promised = _literal_at_start(comments[node.end_lineno])
            if promised is not None:
                got = eval(compile(ast.Expression(node.value), "README.md", "eval"), namespace)
                assert _same(got, promised[0]), (
                    f"README line {node.lineno}: {ast.unparse(node.value)} gives {got!r}, "
                    f"the README says {promised[0]!r}")
                continue
        exec(compile(module, "README.md", "exec"), namespace)


@pytest.mark.parametrize("code", _blocks())
def test_readme_python_example_runs(code, tmp_path, monkeypatch):
    assert code is not None, "README.md has no ```python example to run (or none was found)"
    _provide_pictures(code, tmp_path)
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    run_block(code)


def test_the_runner_finds_blocks_and_catches_a_wrong_promise():
    text = "x\n```python\na = 2\na + 1  # 3\n```\n```sh\nrm -rf /\n```\n"
    blocks = python_blocks(text)
    assert [line for line, _ in blocks] == [3] and "rm" not in blocks[0][1]
    run_block(blocks[0][1])
    with pytest.raises(AssertionError, match="the README says 4"):
        run_block("a = 2\na + 1  # 4\n")
    assert _literal_at_start("(32, 26, 26): every feature map") == ((32, 26, 26),)
    assert _literal_at_start("a torch.nn.Module") is None
