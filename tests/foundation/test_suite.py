"""The suite itself: a broken import fails, never skips; CI runs exactly scripts/test; the
shared worlds of tests/conftest.py are built once however many processes ask for them."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

#: Makes one package module fail to import, as a typo or a missing dependency would, then runs
#: pytest with the remaining arguments.
BREAK_AND_RUN = """
import importlib.abc, sys
import pytest

BROKEN = sys.argv[1]

class Broken(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == BROKEN:
            raise ImportError(f"{name} is broken for this test")
        return None

sys.meta_path.insert(0, Broken())
sys.exit(pytest.main(sys.argv[2:]))
"""


@pytest.mark.slow
def test_a_broken_import_in_the_package_fails_collection_and_skips_nothing() -> None:
    # the story tests once skipped ("the pipeline is not complete yet") when it did not import
    files = ["tests/findings/test_stories.py", "tests/reach/test_knowsley.py"]
    args = ["-p", "no:cacheprovider", "-p", "no:xdist", "--collect-only", "-q", *files]
    done = subprocess.run(
        [sys.executable, "-c", BREAK_AND_RUN, "everyfamily.demo.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.INTERRUPTED, out[-2000:]  # collection errors
    assert "ERROR collecting tests/findings/test_stories.py" in out
    assert "everyfamily.demo.evaluate is broken for this test" in out
    assert "skipped" not in out


def _skips_on_import_error(tree: ast.AST) -> list[int]:
    """Lines that turn a missing module into a skip: importorskip, or pytest.skip in an
    ``except ImportError`` (or ModuleNotFoundError) handler."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "importorskip":
            lines.append(node.lineno)
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            caught = ast.unparse(node.type)
            if "ImportError" in caught or "ModuleNotFoundError" in caught:
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Attribute) and inner.attr == "skip":
                        lines.append(inner.lineno)
    return sorted(lines)


def test_the_scan_finds_a_skip_on_import_error() -> None:
    planted = textwrap.dedent("""
        import pytest
        mod = pytest.importorskip("nothing")
        try:
            import nothing
        except (ModuleNotFoundError, OSError):
            pytest.skip("no nothing")
    """)
    assert _skips_on_import_error(ast.parse(planted)) == [3, 7]


def test_no_test_turns_a_missing_import_into_a_skip() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "test_suite.py"
        and (lines := _skips_on_import_error(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}, "fail with what to run (scripts/bootstrap, scripts/services) instead"


def test_ci_runs_exactly_scripts_test_and_it_runs_pytest_on_two_or_more_workers() -> None:
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ci[-1] == "scripts/test"
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    assert "--dist loadgroup" in script and '-n "$workers"' in script


BUILD_ONE = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from conftest import build_in

def build(folder: Path) -> dict:
    with open(Path(sys.argv[2]) / "builds.txt", "a") as f:
        f.write("built\\n")
    time.sleep(1.0)  # long enough for the other process to be waiting on the lock
    (folder / "world.txt").write_text("one world")
    return {"n": 1}

folder, manifest = build_in(Path(sys.argv[2]), "world", build)
print((folder / "world.txt").read_text(), manifest["n"])
"""


@pytest.mark.slow
def test_a_shared_world_is_built_once_for_every_process_that_asks(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD_ONE, str(TESTS), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-500:] for _o, err in outs]
    assert [o.strip() for o, _e in outs] == ["one world 1"] * 3
    assert (tmp_path / "builds.txt").read_text().splitlines() == ["built"]
