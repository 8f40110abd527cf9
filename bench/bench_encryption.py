"""Benchmark: what encrypting both stores costs on the Knowsley demo pipeline.

Usage: ``python bench/bench_encryption.py [SEED]``. Generates the synthetic scenario once,
then runs the whole pipeline into fresh folders with ``privacy.encrypt_at_rest`` off (the
baseline, measured in the same run) and on (the default), alternating, ``ROUNDS`` times
each, and keeps each configuration's fastest run (the first run pays for imports and cold
caches). Prints one JSON line per stage and one for the total, with the ratio encrypted /
plain.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from everyfamily.config import load_project
from everyfamily.demo import generate_scenario
from everyfamily.pipeline import run_pipeline

ROUNDS = 2


def _run(project, out: Path, seed: int) -> tuple[float, dict[str, float]]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    meta = run_pipeline(project, out_dir=out, echo=lambda _m: None, seed=seed)
    return time.perf_counter() - t0, meta["timings_seconds"]


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    seed = int(args[0]) if args else 2026
    with tempfile.TemporaryDirectory() as tmp:
        scenario = generate_scenario(Path(tmp) / "scenario", seed=seed)
        encrypted = load_project(scenario.project_file)
        plain = encrypted.model_copy(
            update={"privacy": encrypted.privacy.model_copy(update={"encrypt_at_rest": False})}
        )
        runs: dict[str, list[tuple[float, dict[str, float]]]] = {"plain": [], "enc": []}
        for k in range(ROUNDS):
            runs["plain"].append(_run(plain, Path(tmp) / f"plain{k}", seed))
            runs["enc"].append(_run(encrypted, Path(tmp) / f"encrypted{k}", seed))
        base_total, base_stages = min(runs["plain"], key=lambda r: r[0])
        enc_total, enc_stages = min(runs["enc"], key=lambda r: r[0])
    for name, seconds in enc_stages.items():
        base = base_stages.get(name) or float("nan")
        print(
            json.dumps(
                {
                    "bench": "encryption",
                    "metric": f"{name}_seconds",
                    "value": seconds,
                    "baseline": base,
                    "ratio": round(seconds / base, 2) if base else None,
                }
            )
        )
    print(
        json.dumps(
            {
                "bench": "encryption",
                "metric": "pipeline_seconds",
                "value": round(enc_total, 2),
                "baseline": round(base_total, 2),
                "ratio": round(enc_total / base_total, 2),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
