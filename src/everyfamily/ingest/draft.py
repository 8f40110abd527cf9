"""Draft a project file from a council's extracts (``everyfamily init``).

Reads each file with the same readers ``run`` uses (encoding, delimiter and sheet detection),
guesses the mapping with :mod:`everyfamily.ingest.guess` and writes commented YAML that the
analyst edits: confident mappings as settings, doubtful ones commented out with their
candidates, and a confidence on every line.

Nothing from a row reaches the output except site labels (the council's venue names and
codes, which are not personal data) in ``value_maps.site``: never a name, date, postcode,
address or NHS number.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from everyfamily.config import SourceOptions, load_project, read_project_yaml
from everyfamily.errors import InputError
from everyfamily.ingest import readers, rules
from everyfamily.ingest.guess import SourceGuess, guess_source, match_sites
from everyfamily.population.attributes import load_sites

SAMPLE_ROWS = 2000
MIN_SHARED_CHILDREN = 5  # children seen in two sources before a site code is inferred from them


@dataclass(frozen=True)
class DraftedSource:
    """One extract as read and guessed."""

    name: str
    path: Path
    file_format: str
    options: Mapping[str, str]
    guess: SourceGuess
    rows: int
    site_map: Mapping[str, tuple[str | None, str]]  # value -> (site id or None, evidence)


_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".ods": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _read(path: Path) -> tuple[str, dict[str, str], readers.RawBatch, SourceGuess]:
    """(format, reading options, rows, the guess) of one extract."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: cannot tell the file type from its extension {path.suffix!r}",
            hint="give CSV (.csv/.txt), Excel (.xlsx/.xls/.ods) or Parquet (.parquet) files",
        )
    if fmt == "csv":
        batch = readers.read_csv(path, SourceOptions())
        opts = {"encoding": batch.encoding or "utf-8", "delimiter": batch.delimiter or ","}
        if opts["encoding"] == "utf-8":
            with path.open("rb") as f:
                if f.read(3) == b"\xef\xbb\xbf":
                    opts["encoding"] = "utf-8-sig"
    elif fmt == "excel":
        return fmt, *_best_sheet(path)
    else:
        opts, batch = {}, readers.read_parquet(path, SourceOptions())
    return fmt, opts, batch, guess_source(path.name, batch.columns, _samples(batch))


def _best_sheet(path: Path) -> tuple[dict[str, str], readers.RawBatch, SourceGuess]:
    """The sheet whose columns map best (a workbook may open with a notes sheet)."""
    from python_calamine import CalamineWorkbook

    names = list(CalamineWorkbook.from_path(str(path)).sheet_names)
    best: tuple[float, dict[str, str], readers.RawBatch, SourceGuess] | None = None
    for sheet in names:
        try:
            batch = readers.read_excel(path, SourceOptions(sheet=sheet))
        except InputError:
            continue  # an empty or header-only sheet
        g = guess_source(path.name, batch.columns, _samples(batch))
        score = sum(m.confidence for m in g.mappings if m.accepted)
        if best is None or score > best[0]:
            best = (score, {"sheet": sheet}, batch, g)
    if best is None:
        raise InputError(f"{path}: no sheet of the workbook has a header and data rows")
    return best[1], best[2], best[3]


def _samples(batch: readers.RawBatch, n: int = SAMPLE_ROWS) -> dict[str, list[str | None]]:
    t = batch.table.slice(0, n)
    return {c: t.column(i).to_pylist() for i, c in enumerate(batch.columns)}


_SAFE_NAME = re.compile(r"[^a-z0-9]+")


def _source_name(path: Path, role: str, taken: set[str]) -> str:
    base = _SAFE_NAME.sub("_", path.stem.lower()).strip("_") or role
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _child_keys(batch: readers.RawBatch, guess: SourceGuess) -> list[tuple[str, ...] | None]:
    """A matching key per row (folded names + date of birth), for site inference only."""
    cols = guess.columns
    need = ("first_name", "last_name", "date_of_birth")
    if not all(f in cols for f in need):
        return [None] * batch.rows_read
    fmt = guess.date_formats.get("date_of_birth", (None, 0.0))[0]
    formats = (fmt,) if fmt else rules.DEFAULT_DATE_FORMATS
    parts = [batch.table.column(cols[f]).to_pylist() for f in need]
    folded: dict[str | None, str | None] = {}
    born: dict[str | None, str | None] = {}
    out: list[tuple[str, ...] | None] = []
    for first, last, dob in zip(*parts, strict=True):
        for name in (first, last):
            if name not in folded:
                folded[name] = rules.fold_name(name)
        if dob not in born:
            day = rules.parse_date(dob, formats)
            born[dob] = day.isoformat() if day else None
        f, la, b = folded[first], folded[last], born[dob]
        out.append((f, la, b) if f and la and b else None)
    return out


def _infer_site_codes(
    batches: Mapping[str, readers.RawBatch],
    guesses: Mapping[str, SourceGuess],
    known: Mapping[str, Mapping[str, str | None]],
) -> dict[str, dict[str, tuple[str, float]]]:
    """Site codes no name matches, inferred from children seen in two sources.

    An attendance extract may label venues 'V101' where registrations say the centre's name:
    among children who appear in both (same folded names and date-of-birth text, dates
    each read with its source's guessed format), the code's site is the one most of them are
    registered at, when it has at least twice the children of the runner-up (families also
    use other centres, so a strict majority is too strict).
    """
    resolved: dict[str, dict[tuple[str, ...], str]] = {}
    for name, batch in batches.items():
        cols = guesses[name].columns
        if "site" not in cols:
            continue
        sites = batch.table.column(cols["site"]).to_pylist()
        keyed: dict[tuple[str, ...], str] = {}
        for key, value in zip(_child_keys(batch, guesses[name]), sites, strict=True):
            sid = known[name].get((value or "").strip()) if value else None
            if key is not None and sid is not None:
                keyed.setdefault(key, sid)
        resolved[name] = keyed
    out: dict[str, dict[str, tuple[str, float]]] = {}
    for name, batch in batches.items():
        cols = guesses[name].columns
        unknown = {v for v, sid in known.get(name, {}).items() if sid is None}
        if not unknown:
            continue
        votes: dict[str, Counter[str]] = {}
        seen: dict[str, set[tuple[str, ...]]] = {}
        sites = batch.table.column(cols["site"]).to_pylist()
        for key, value in zip(_child_keys(batch, guesses[name]), sites, strict=True):
            v = (value or "").strip()
            if key is None or v not in unknown or key in seen.setdefault(v, set()):
                continue
            seen[v].add(key)
            for other, keyed in resolved.items():
                if other != name and key in keyed:
                    votes.setdefault(v, Counter())[keyed[key]] += 1
                    break
        for v, counter in votes.items():
            top = counter.most_common(2)
            sid, hits = top[0]
            runner_up = top[1][1] if len(top) > 1 else 0
            if hits >= MIN_SHARED_CHILDREN and hits >= 2 * runner_up:
                out.setdefault(name, {})[v] = (sid, hits / sum(counter.values()))
    return out


def draft_sources(
    files: Sequence[Path], sites: tuple[Sequence[str], Sequence[str]] | None = None
) -> list[DraftedSource]:
    """Read and guess every file; site values matched to ``sites`` (ids, names) if given."""
    batches: dict[str, readers.RawBatch] = {}
    meta: dict[str, tuple[Path, str, dict[str, str]]] = {}
    guesses: dict[str, SourceGuess] = {}
    taken: set[str] = set()
    for path in files:
        fmt, opts, batch, g = _read(Path(path))
        name = _source_name(Path(path), g.role, taken)
        batches[name], meta[name], guesses[name] = batch, (Path(path), fmt, opts), g
    known: dict[str, dict[str, str | None]] = {}
    if sites is not None:
        for name, batch in batches.items():
            col = guesses[name].columns.get("site")
            if col is not None:
                values = [v.strip() for v in batch.table.column(col).to_pylist() if v and v.strip()]
                known[name] = match_sites(values, sites[0], sites[1])
    inferred = _infer_site_codes(batches, guesses, known) if known else {}
    out = []
    for name, batch in batches.items():
        site_map: dict[str, tuple[str | None, str]] = {}
        for v, sid in known.get(name, {}).items():
            if sid is not None:
                site_map[v] = (sid, "id or name of a site")
            elif v in inferred.get(name, {}):
                isid, share = inferred[name][v]
                site_map[v] = (
                    isid,
                    f"inferred: {share:.0%} of children also in another source are at {isid} there",
                )
            else:
                site_map[v] = (None, "no site matches")
        path, fmt, opts = meta[name]
        out.append(DraftedSource(name, path, fmt, opts, guesses[name], batch.rows_read, site_map))
    return out


# --- YAML -----------------------------------------------------------------------------------


def _q(value: Any) -> str:
    """One YAML scalar, quoted as YAML needs."""
    return (
        yaml.safe_dump(value, default_style=None, width=10_000).strip().removesuffix("...").strip()
    )


def _rel(path: Path, folder: Path) -> str:
    try:
        return os.path.relpath(Path(path).resolve(), folder.resolve())
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())


def render_sources(drafted: Sequence[DraftedSource], out_folder: Path) -> str:
    """The ``sources:`` block as commented YAML."""
    lines = [
        "# Drafted by `everyfamily init`: check every line, then run `everyfamily validate`.",
        "# Confidence (0-1) is shown per mapping; lines starting '#  ' are guesses below the",
        "# bar or alternatives: uncomment what is right.",
        "sources:",
    ]
    for d in drafted:
        g = d.guess
        lines.append(f"- name: {_q(d.name)}")
        lines.append(
            f"  role: {g.role}  # confidence {g.role_confidence:.2f}; births, "
            "health_visiting, registrations or attendances"
        )
        lines.append(f"  path: {_q(_rel(d.path, out_folder))}  # {d.rows:,} rows")
        lines.append(f"  format: {d.file_format}")
        if d.options:
            lines.append("  options:")
            lines += [f"    {k}: {_q(v)}" for k, v in d.options.items()]
        lines.append("  columns:")
        for m in g.mappings:
            prefix = "    " if m.accepted else "    # "
            lines.append(f"{prefix}{m.field}: {_q(m.column)}  # {m.confidence:.2f} ({m.evidence})")
        if g.unused_columns:
            lines.append("    # not mapped: " + ", ".join(_q(c) for c in g.unused_columns))
        formats = {f: v for f, v in g.date_formats.items() if f in g.columns}
        if formats:
            lines.append("  date_formats:")
            for f, (fmt, share) in formats.items():
                lines.append(f"    {f}: {_q(fmt)}  # reads {share:.0%} of sampled values")
        if d.site_map:
            lines.append("  value_maps:")
            lines.append("    site:")
            for v, (sid, why) in d.site_map.items():
                if sid is None:
                    lines.append(f"      # {_q(v)}: ???  # {why}: give the site id")
                else:
                    lines.append(f"      {_q(v)}: {_q(sid)}  # {why}")
    return "\n".join(lines) + "\n"


_SKELETON = """\
# everyfamily project file drafted by `everyfamily init`. Fill in the settings marked TODO
# (docs/onboarding.md and docs/settings.md describe each), then `everyfamily validate`.
project:
  name: TODO your council
  area_name: TODO
  reference_date: TODO  # e.g. '2026-03-31': the date reach is measured at
# geography:      TODO small areas (boundaries file), postcode lookup, hierarchy
# population:     TODO ONS small-area population estimates by single year of age
# sites:          TODO the sites file (id, name, latitude, longitude)
privacy:
  key_file: TODO  # a 32+ byte secret key file, readable only by the service account
"""

_PATH_KEYS = frozenset({"path", "key_file"})


def _rebase(node: Any, src: Path, dst: Path) -> Any:
    """Relative file paths of a base project rewritten for a file in another folder."""
    if isinstance(node, dict):
        return {
            k: (
                _rel(src / v, dst)
                if k in _PATH_KEYS and isinstance(v, str) and not Path(v).is_absolute()
                else _rebase(v, src, dst)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v, src, dst) for v in node]
    return node


def render_project(drafted: Sequence[DraftedSource], out: Path, base: Path | None) -> str:
    """The whole project file: the base project's settings (sources replaced) or a skeleton."""
    head = _SKELETON
    if base is not None:
        data = read_project_yaml(base.read_text(encoding="utf-8"))
        data = {k: v for k, v in (data or {}).items() if k != "sources"}
        data = _rebase(data, base.resolve().parent, out.resolve().parent)
        head = (
            f"# everyfamily project file: settings from {base.name}, sources drafted by "
            "`everyfamily init`.\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        )
    return head + render_sources(drafted, out.resolve().parent)


def base_sites(base: Path | None) -> tuple[list[str], list[str]] | None:
    """(ids, names) of the base project's sites file, if it has one."""
    if base is None:
        return None

    project = load_project(base)
    if project.sites is None:
        return None
    frame = load_sites(project.sites)
    names = frame["site_name"].astype(str).tolist()
    return frame["site_id"].astype(str).tolist(), names
