"""The output folder is swapped in one atomic step where the OS allows (issue 15): Linux
renameat2(RENAME_EXCHANGE). A process killed at any instant of a swap leaves the output folder
whole, one run's files and never a mix; elsewhere the two-rename fallback leaves a state the
next run names in one line."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from everyfamily.errors import EveryfamilyError
from everyfamily.pipeline import check_not_mid_swap, exchange_paths, staging_dir, swap_in

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux")

#: A child process that swaps runs into OUT for ever: run i writes run.json {"id": i} and
#: data.txt "i" (many files, so a kill can land anywhere in a swap), then swaps them in.
LOOP = """
import json, sys
from pathlib import Path
from everyfamily.pipeline import staging_dir, swap_in
out, atomic = Path(sys.argv[1]), sys.argv[2] == "atomic"
i = int(json.loads((out / "run.json").read_text())["id"])
names = ["run.json"] + [f"part{k}.txt" for k in range(40)]
print("ready", flush=True)
while True:
    i += 1
    stage = staging_dir(out)
    stage.mkdir()
    for k in range(40):
        (stage / f"part{k}.txt").write_text(str(i))
    (stage / "run.json").write_text(json.dumps({"id": i, "outputs": names}))
    swap_in(stage, out, atomic=atomic)
"""


def _first_run(out: Path) -> None:
    out.mkdir()
    for k in range(40):
        (out / f"part{k}.txt").write_text("0")
    (out / "users.sqlite").write_text("kept")  # not a run's output: carried over
    outputs = ["run.json", *(f"part{k}.txt" for k in range(40))]
    (out / "run.json").write_text(json.dumps({"id": 0, "outputs": outputs}))


def _one_run(out: Path) -> int:
    """The run OUT holds; fails if its files come from two runs."""
    run = json.loads((out / "run.json").read_text())["id"]
    parts = {(out / f"part{k}.txt").read_text() for k in range(40)}
    assert parts == {str(run)}, (run, parts)
    assert (out / "users.sqlite").read_text() == "kept"
    return int(run)


def _kill_during_swaps(out: Path, mode: str, seed: int) -> list[int]:
    rng = random.Random(seed)
    runs = []
    for _ in range(5):
        if staging_dir(out).exists():  # what the next run does first
            import shutil

            shutil.rmtree(staging_dir(out))
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOP, str(out), mode], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if mode == "atomic":
            runs.append(_one_run(out))
            check_not_mid_swap(out)  # never stopped mid-swap: nothing to say
        elif not out.exists():
            with pytest.raises(EveryfamilyError, match="stopped while swapping folders"):
                check_not_mid_swap(out)
            out.with_name(out.name + ".previous").rename(out)  # what the message says
    return runs


@linux
def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    (b / "x").write_text("from b")
    assert exchange_paths(a, b) is True
    assert (a / "x").read_text() == "from b" and (b / "x").read_text() == "from a"
    with pytest.raises(FileNotFoundError):
        exchange_paths(a, tmp_path / "missing")  # both must exist: nothing changed
    assert (a / "x").read_text() == "from b"


@linux
@pytest.mark.slow
def test_a_swap_killed_at_any_instant_leaves_one_whole_run(tmp_path: Path) -> None:
    """SIGKILL at 5 random instants of a process that swaps runs in as fast as it can:
    after each, OUT holds exactly one run's files (with the carried-over users store), and
    the runs only go forward."""
    out = tmp_path / "out"
    _first_run(out)
    runs = _kill_during_swaps(out, "atomic", seed=15)
    assert runs == sorted(runs) and runs[-1] > 5  # it did swap, many times


@linux
def test_a_reader_never_finds_the_output_folder_missing(tmp_path: Path) -> None:
    """A reader polling OUT/run.json while 200 runs are swapped in never finds it missing
    (with two renames it is missing between them)."""
    out = tmp_path / "out"
    _first_run(out)
    missing, done = [], threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                json.loads((out / "run.json").read_text())
            except FileNotFoundError:
                missing.append(1)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(1, 201):
            stage = staging_dir(out)
            stage.mkdir()
            (stage / "run.json").write_text(json.dumps({"id": i, "outputs": ["run.json"]}))
            swap_in(stage, out)
    finally:
        done.set()
        t.join()
    assert missing == []
    assert json.loads((out / "run.json").read_text())["id"] == 200
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging or previous folder left


@pytest.mark.slow
def test_the_two_rename_fallback_killed_between_them_is_named_in_one_line(
    tmp_path: Path,
) -> None:
    """Without the exchange (another OS): a kill may land between the two renames; the next
    run's check names the state in one line, and the folder put back holds one whole run."""
    out = tmp_path / "out"
    _first_run(out)
    _kill_during_swaps(out, "renames", seed=3)
    _one_run(out)
