"""The command line: help for analysts, one-line user errors, tracebacks only with --debug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from everyfamily.cli import main


def test_help_lists_the_commands(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "run", "validate", "settings-doc"):
        assert command in out
    assert "reach" in out  # says what the tool is for, in plain words


def test_user_error_is_one_line_without_traceback(tmp_path: Path, capsys) -> None:
    code = main(["validate", str(tmp_path / "missing.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "project file not found" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys) -> None:
    code = main(["--debug", "validate", str(tmp_path / "missing.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" in err


def test_usage_error_exit_code(capsys) -> None:
    assert main(["no-such-command"]) == 2


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("everyfamily")
    proc = subprocess.run(
        [str(exe), "validate", str(tmp_path / "x.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "Traceback" not in proc.stderr
