"""Run every benchmark in bench/ and print its figures against a baseline measured in the same run.

Usage: ``scripts/bench [--full] [NAME ...]``. Each ``bench_<name>.py`` has ``main(argv)`` and
prints one JSON line per figure: {"bench", "metric", "value", "baseline", "ratio", ...}.
``--full`` passes ``--full`` to each benchmark (the sizes the issues set as targets); the
default sizes are small enough for a shared laptop. Timings are never asserted in tests.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    full = "--full" in argv
    names = [a for a in argv if not a.startswith("--")]
    files = sorted(HERE.glob("bench_*.py"))
    if names:
        files = [f for f in files if any(n in f.stem for n in names)]
    rows: list[dict] = []
    for f in files:
        print(f"== {f.stem}", flush=True)
        buf = io.StringIO()
        t0 = time.perf_counter()
        with redirect_stdout(buf):
            _load(f).main(["--full"] if full else [])
        for line in buf.getvalue().splitlines():
            print(line, flush=True)
            if line.startswith("{"):
                rows.append(json.loads(line))
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    print("\nbench | metric | value | baseline | ratio")
    for r in rows:
        cells = (r.get(k) for k in ("bench", "metric", "value", "baseline", "ratio"))
        print(" | ".join(str(c) for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
