"""Compare two output folders of everyfamily runs, ignoring what differs from run to run.

``python -m everyfamily.testing.compare_runs A B`` says, file by file, whether two runs'
outputs are the same apart from time stamps, timings, run ids and the folders they were
written to: the proof that a refactoring changed no result (issue 19: "outputs of the demo
byte-identical apart from timestamps before and after the redesign").

How each kind of file is compared:

* ``*.json``: parsed; keys in :data:`VOLATILE_KEYS` (time stamps, timings, run ids, the
  versions of the tools) are dropped at any depth, then the two documents must be equal;
* ``*.duckdb`` (the two stores, opened with the key each run's run.json names, read-only):
  the same tables, each with the same columns, types and rows (rows compared as sorted
  multisets; run ids in a row count as time stamps);
* ``*.gpkg``: the same layers, each with the same rows and geometries (the GeoPackage's own
  time stamps ignored);
* text (``.csv``, ``.html``, ``.md``, ``.txt``, ``.j2``): equal once ISO time stamps and the
  two folders' paths are masked;
* anything else: equal bytes.

Only names of files, tables, columns and counts are printed: never a value from a row (the
stores hold person-level records). Exit code 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from everyfamily.engines.base import Engine

#: JSON keys whose values change from run to run without any result changing.
VOLATILE_KEYS = frozenset(
    {
        "started_at",
        "finished_at",
        "generated_at",
        "timings_seconds",
        "generate_seconds",
        "run",  # linkage/summary.json: the run id is the start time
        "versions",
        "seconds",  # run.json access.seconds: timings
        "linker_uid",  # linkage/model.json: Splink's random id of the linker
    }
)
#: Two numbers are "close" when they differ by at most this, relative to the larger: the
#: rounding of floating-point sums that a multi-threaded engine adds in another order (the
#: EM training of the linkage model moves m probabilities in the 15th digit from run to run).
REL_TOL = 1e-9
NUMBER = re.compile(
    r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+"
)
#: An ISO 8601 time stamp (with or without a time zone), as runs write them.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
TEXT_SUFFIXES = frozenset({".csv", ".html", ".md", ".txt", ".j2", ".xml", ".svg"})
#: Files a store leaves beside itself while open (never part of a finished run's results).
SKIPPED_SUFFIXES = frozenset({".wal", ".tmp", ".lock"})


@dataclass(frozen=True)
class Difference:
    """One file that differs: its path relative to the output folder and why (names and
    counts only)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_runs`: files the same (once volatile values are
    masked), files whose only differences are numbers within :data:`REL_TOL` (``close``,
    with the largest relative difference), files that differ, files in one folder only."""

    same: tuple[str, ...]
    different: tuple[Difference, ...]
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]
    close: tuple[Difference, ...] = ()

    @property
    def identical(self) -> bool:
        """Nothing differs beyond float rounding."""
        return not (self.different or self.only_in_a or self.only_in_b)

    def lines(self) -> list[str]:
        """A readable account, one line per file that is not the same, then a summary."""
        out = [f"only in A: {p}" for p in self.only_in_a]
        out += [f"only in B: {p}" for p in self.only_in_b]
        out += [f"close {d.path}: {d.reason}" for d in self.close]
        out += [f"DIFFERENT {d.path}: {d.reason}" for d in self.different]
        out.append(
            f"{len(self.same)} file(s) the same, {len(self.close)} the same up to float "
            f"rounding, {len(self.different)} different, {len(self.only_in_a)} only in A, "
            f"{len(self.only_in_b)} only in B"
        )
        return out


def without_volatile(doc: Any, keys: frozenset[str] = VOLATILE_KEYS) -> Any:
    """``doc`` (parsed JSON) without the keys in ``keys``, at any depth, and with time
    stamps inside strings masked."""
    if isinstance(doc, Mapping):
        return {k: without_volatile(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [without_volatile(v, keys) for v in doc]
    if isinstance(doc, str):
        return TIMESTAMP.sub("<time>", doc)
    return doc


def mask_text(text: str, folders: Sequence[Path] = ()) -> str:
    """``text`` with ISO time stamps and the given folders' paths masked."""
    for folder in folders:
        for form in {str(folder), str(Path(folder).resolve())}:
            text = text.replace(form, "<OUT>")
    return TIMESTAMP.sub("<time>", text)


def _files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in SKIPPED_SUFFIXES and not p.name.endswith(".wal")
    }


def compare_runs(
    a: Path, b: Path, *, environ: Mapping[str, str] | None = None, skip: Sequence[str] = ()
) -> Comparison:
    """Compare every file of output folders ``a`` and ``b`` (see the module docstring);
    paths starting with one of ``skip`` are left out."""
    a, b = Path(a), Path(b)
    fa = {p for p in _files(a) if not p.startswith(tuple(skip))}
    fb = {p for p in _files(b) if not p.startswith(tuple(skip))}
    same: list[str] = []
    close: list[Difference] = []
    different: list[Difference] = []
    stores = _store_rels(a, b, fa & fb)
    outcomes = {rel: _compare_file(a, b, rel) for rel in sorted(fa & fb) if rel not in stores}
    if stores:
        outcomes.update(_compare_stores(a, b, stores, environ))
    for rel, reason in sorted(outcomes.items()):
        if reason is None:
            same.append(rel)
        elif reason.startswith(CLOSE):
            close.append(Difference(rel, reason))
        else:
            different.append(Difference(rel, reason))
    return Comparison(
        same=tuple(same),
        different=tuple(different),
        only_in_a=tuple(sorted(fa - fb)),
        only_in_b=tuple(sorted(fb - fa)),
        close=tuple(close),
    )


#: How a reason starts when the only differences are numbers within REL_TOL.
CLOSE = "numbers within float rounding"


def _close_reason(worst: float) -> str:
    return f"{CLOSE} (largest relative difference {worst:.1e})"


def _rel(x: float, y: float) -> float:
    if math.isnan(x) or math.isnan(y):
        return 0.0 if math.isnan(x) and math.isnan(y) else math.inf
    scale = max(abs(x), abs(y))
    return 0.0 if x == y else abs(x - y) / scale


def close_numbers(x: Any, y: Any) -> float | None:
    """The largest relative difference between the numbers of two parsed JSON documents of
    the same shape, or None when anything but numbers differs."""
    if isinstance(x, str) and isinstance(y, str):
        return 0.0 if x == y else close_text(x, y)
    if isinstance(x, bool) or isinstance(y, bool) or isinstance(x, str) or isinstance(y, str):
        return 0.0 if x == y else None
    if isinstance(x, int | float) and isinstance(y, int | float):
        return _rel(float(x), float(y))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        if list(x) != list(y):
            return None
        parts = [close_numbers(x[k], y[k]) for k in x]
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            return None
        parts = [close_numbers(u, v) for u, v in zip(x, y, strict=True)]
    else:
        return 0.0 if x == y else None
    if any(p is None for p in parts):
        return None
    return max((p for p in parts if p is not None), default=0.0)


def close_text(x: str, y: str) -> float | None:
    """Like :func:`close_numbers` for text: the words around the numbers must be equal."""
    wx, wy = NUMBER.split(x), NUMBER.split(y)
    nx, ny = NUMBER.findall(x), NUMBER.findall(y)
    if wx != wy or len(nx) != len(ny):
        return None
    return max((_rel(_number(u), _number(v)) for u, v in zip(nx, ny, strict=True)), default=0.0)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _compare_file(a: Path, b: Path, rel: str) -> str | None:
    pa_, pb = a / rel, b / rel
    suffix = pa_.suffix.lower()
    if suffix == ".json":
        da, db = (json.loads(p.read_text(encoding="utf-8")) for p in (pa_, pb))
        ja = json.dumps(without_volatile(da), sort_keys=True)
        jb = json.dumps(without_volatile(db), sort_keys=True)
        ja, jb = mask_text(ja, [a]), mask_text(jb, [b])
        if ja == jb:
            return None
        worst = close_numbers(json.loads(ja), json.loads(jb))
        if worst is not None and worst <= REL_TOL:
            return _close_reason(worst)
        return _json_reason(json.loads(ja), json.loads(jb))
    if suffix == ".gpkg":
        return _compare_gpkg(pa_, pb)
    if suffix in TEXT_SUFFIXES:
        ta = mask_text(pa_.read_text(encoding="utf-8", errors="replace"), [a])
        tb = mask_text(pb.read_text(encoding="utf-8", errors="replace"), [b])
        if ta == tb:
            return None
        worst = close_text(ta, tb)
        if worst is not None and worst <= REL_TOL:
            return _close_reason(worst)
        la, lb = ta.splitlines(), tb.splitlines()
        first = next((i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y), None)
        where = f"first at line {first + 1}" if first is not None else "one is longer"
        return f"text differs ({len(la)} vs {len(lb)} lines, {where})"
    return None if pa_.read_bytes() == pb.read_bytes() else "bytes differ"


def _json_reason(da: Any, db: Any) -> str:
    """Which top-level keys differ (key names only)."""
    if isinstance(da, dict) and isinstance(db, dict):
        keys = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
        return "JSON differs in " + ", ".join(map(str, keys[:10]))
    return "JSON differs"


def _compare_gpkg(pa_: Path, pb: Path) -> str | None:
    import pyogrio

    la = sorted(str(n) for n, _k in pyogrio.list_layers(pa_))
    lb = sorted(str(n) for n, _k in pyogrio.list_layers(pb))
    if la != lb:
        return f"layers differ: {sorted(set(la) ^ set(lb))}"
    for layer in la:
        fa = pyogrio.read_dataframe(pa_, layer=layer)
        fb = pyogrio.read_dataframe(pb, layer=layer)
        if list(fa.columns) != list(fb.columns) or len(fa) != len(fb):
            return f"layer {layer}: columns or row counts differ"
        ga, gb = fa.geometry.to_wkb(), fb.geometry.to_wkb()
        if not (fa.drop(columns="geometry").equals(fb.drop(columns="geometry")) and ga.equals(gb)):
            return f"layer {layer}: rows differ"
    return None


# --- stores ----------------------------------------------------------------------------------


def _store_rels(a: Path, b: Path, rels: set[str]) -> dict[str, str]:
    """Store files present in both folders, by path, with their zone."""
    from everyfamily.stores import STORE_PATHS

    return {rel: zone for zone, rel in STORE_PATHS.items() if rel in rels}


def _compare_stores(
    a: Path, b: Path, stores: Mapping[str, str], environ: Mapping[str, str] | None
) -> dict[str, str | None]:
    from everyfamily.stores import open_run_stores

    zones = tuple(stores.values())
    out: dict[str, str | None] = {}
    ea = open_run_stores(a, zones=zones, environ=environ)
    try:
        eb = open_run_stores(b, zones=zones, environ=environ)
        try:
            for rel, zone in stores.items():
                out[rel] = _compare_zone(ea, eb, zone, (a, b))
        finally:
            eb.close()
    finally:
        ea.close()
    return out


def _tables(engine: Engine, zone: str) -> list[str]:
    rows = engine.query(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "ORDER BY table_name",
        [zone],
    )
    return [str(x) for x in rows.column("table_name").to_pylist()]


def _compare_zone(ea: Any, eb: Any, zone: str, folders: tuple[Path, Path]) -> str | None:
    from everyfamily.engines.base import quote_ident

    with ea.zone(zone), eb.zone(zone):
        ta, tb = _tables(ea, zone), _tables(eb, zone)
        if ta != tb:
            return f"tables differ: {sorted(set(ta) ^ set(tb))}"
        problems = []
        worst = 0.0
        for table in ta:
            # each row with DuckDB's hash of it: rows whose hash has an equal on the other
            # side are the same; only the rest are converted and compared in Python
            sql = (
                f"SELECT hash(t) AS {_HASH}, * "
                f"FROM {quote_ident(zone)}.main.{quote_ident(table)} AS t"
            )
            xa, xb = ea.query(sql), eb.query(sql)
            if xa.drop([_HASH]).schema != xb.drop([_HASH]).schema:
                problems.append(f"{table} (columns or types)")
                continue
            if xa.num_rows != xb.num_rows:
                problems.append(f"{table} ({xa.num_rows} vs {xb.num_rows} rows)")
                continue
            n, rel = _differing_rows(*_unmatched(xa, xb), folders)
            if n:
                problems.append(f"{table} ({n} row(s) differ)")
            worst = max(worst, rel)
        if problems:
            return "; ".join(problems)
        return _close_reason(worst) if worst > 0 else None


_HASH = "__compare_runs_hash"


def _unmatched(xa: Any, xb: Any) -> tuple[Any, Any]:
    """The rows of each side whose hash is not matched on the other (as many as are
    unmatched; rows with a hash seen on both sides but more often on one are all kept)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ca = Counter(xa.column(_HASH).to_pylist())
    cb = Counter(xb.column(_HASH).to_pylist())
    odd = pa.array(list((ca - cb) | (cb - ca)), type=xa.schema.field(_HASH).type)
    keep_a = pc.is_in(xa.column(_HASH), value_set=odd)
    keep_b = pc.is_in(xb.column(_HASH), value_set=odd)
    return xa.filter(keep_a).drop([_HASH]), xb.filter(keep_b).drop([_HASH])


def _differing_rows(xa: Any, xb: Any, folders: tuple[Path, Path]) -> tuple[int, float]:
    """How many rows of ``xa`` have no equal row in ``xb`` beyond float rounding, and the
    largest relative difference of the rows within it. Rows are multisets: exact matches
    first; the rest are grouped by everything but their floats and paired, within a group,
    in the order of their floats. Time stamps and the run folders in text are masked."""
    ra = Counter(_row(r, folders[0]) for r in xa.to_pylist())
    rb = Counter(_row(r, folders[1]) for r in xb.to_pylist())
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for side, left in ((0, ra - rb), (1, rb - ra)):
        for exact in left.elements():
            groups.setdefault(_skeleton(exact), ([], []))[side].append(exact)
    # rows with nothing like them on the other side (a changed text, a changed integer): as
    # both sides hold as many rows, each side has as many of them
    n = sum(max(0, len(left_a) - len(left_b)) for left_a, left_b in groups.values())
    worst = 0.0
    for left_a, left_b in groups.values():
        pairs = zip(sorted(left_a, key=_floats), sorted(left_b, key=_floats), strict=False)
        for va, vb in pairs:
            rel = close_numbers(json.loads(va), json.loads(vb))
            if rel is None or rel > REL_TOL:
                n += 1
            else:
                worst = max(worst, rel)
    return n, worst


def _masked(value: Any, folder: Path) -> Any:
    """Text with time stamps and the run folder masked; a value of a time-stamp type (a
    datetime, as ``ingest_batches.loaded_at``) is a time stamp."""
    if isinstance(value, str):
        return mask_text(value, [folder])
    if isinstance(value, dt.datetime):
        return "<time>"
    return value


def _row(row: Mapping[str, Any], folder: Path) -> str:
    """A row as JSON, time stamps and the run folder masked."""
    return json.dumps({k: _masked(v, folder) for k, v in row.items()}, sort_keys=True, default=str)


def _skeleton(exact: str) -> str:
    """A row's JSON with its floats blanked: rows that may differ only by float rounding."""
    return json.dumps(
        {k: (None if isinstance(v, float) else v) for k, v in json.loads(exact).items()},
        sort_keys=True,
    )


def _floats(exact: str) -> tuple[float, ...]:
    vals = [v for _k, v in sorted(json.loads(exact).items()) if isinstance(v, float)]
    return tuple(math.inf if math.isnan(v) else v for v in vals)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """``python -m everyfamily.testing.compare_runs A B [--skip PREFIX ...]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m everyfamily.testing.compare_runs",
        description="Compare two everyfamily output folders, ignoring time stamps and run ids.",
    )
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument(
        "--skip", action="append", default=[], help="leave out paths starting with this"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    from everyfamily.errors import EveryfamilyError

    try:
        result = compare_runs(args.a, args.b, environ=environ, skip=args.skip)
    except EveryfamilyError as exc:
        print(exc.one_line(), file=sys.stderr)
        return 2
    lines = result.lines()
    if not args.quiet:
        lines = [f"same: {p}" for p in result.same] + lines
    print("\n".join(lines))
    return 0 if result.identical else 1


if __name__ == "__main__":  # pragma: no cover - a developer's command
    raise SystemExit(main())
