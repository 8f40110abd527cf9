"""The dashboard's size limits (issue 19): no file in web/ over 700 lines, no function over
100 lines; measured with the ast module, so a long function cannot hide in a closure."""

from __future__ import annotations

import ast
from pathlib import Path

import everyfamily.web

WEB = Path(everyfamily.web.__file__).parent
MAX_FILE_LINES = 700
MAX_FUNCTION_LINES = 100


def _python_files() -> list[Path]:
    files = sorted(WEB.rglob("*.py"))
    assert len(files) > 15  # the package, its pages and its routes
    return files


def test_no_file_in_web_is_over_700_lines() -> None:
    long = {
        str(p.relative_to(WEB)): n
        for p in _python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_in_web_is_over_100_lines() -> None:
    long = {}
    for p in _python_files():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(WEB)}:{node.name}"] = n
    assert long == {}


def test_the_limits_would_catch_an_offender(tmp_path: Path) -> None:
    """The measure itself: a 101-line function is found (the test can fail)."""
    body = "\n".join(f"    x{i} = {i}" for i in range(100))
    tree = ast.parse(f"def f():\n{body}\n")
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert (fn.end_lineno or 0) - fn.lineno + 1 == 101 > MAX_FUNCTION_LINES
