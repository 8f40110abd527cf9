"""The pipeline: ingest -> link -> measure -> find -> report, stage by stage.

This module is the I/O edge that wires the pure stages together: it opens the run's two
stores (``everyfamily.stores``: identifiable and analysis, encrypted), runs each stage in its
zone, times it, and writes run.json (versions, seed, data vintages,
settings, timings, row reconciliation). Stages that have not been built yet are skipped and
say so in run.json.

Every run writes into a staging folder next to the output folder (``OUT.staging``, starting
from a copy of the previous run's stores, which carry state from run to run) and only a
complete run is swapped in, by renaming folders: a run that fails or is killed leaves the
previous outputs as they were, never a mix of two runs (:func:`swap_in`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from everyfamily import __version__
from everyfamily.config import Project
from everyfamily.console import RunProgress, run_progress
from everyfamily.engines.base import Engine
from everyfamily.errors import DataError, EveryfamilyError

if TYPE_CHECKING:
    from everyfamily.stage import Stage

Echo = Callable[[str], None]

STORE_FILE = "everyfamily.duckdb"  # the analysis store (everyfamily.stores.STORE_PATHS)


@dataclass
class RunContext:
    """What every stage receives: the project, the output folder and the open stores."""

    project: Project
    out_dir: Path
    engine: Engine
    echo: Echo
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: where a key named by ``privacy.key_env`` is looked up (None: os.environ); the CLI
    #: passes the environment ``main()`` was given
    environ: Mapping[str, str] | None = None
    #: the console's progress bar (everyfamily.console): a stage may count its steps with
    #: ``ctx.progress.task(description, total)``; drawn only on a terminal
    progress: RunProgress = field(default_factory=lambda: RunProgress(0))

    def warn(self, stage: str, code: str, message: str) -> None:
        """A loud warning: printed, and kept in run.json's ``warnings`` (and so the report).

        ``message`` names files, areas and counts only, never a value from a record.
        """
        self.echo(f"  WARNING: {message}")
        self.metadata.setdefault("warnings", []).append(
            {"stage": stage, "code": code, "message": message}
        )


#: What a stage's entry point is (``everyfamily.stage.Stage.run``).
StageFunction = Callable[[RunContext], None]


def stages() -> tuple[Stage, ...]:
    """Every declared stage, in order (``everyfamily.stage.discover``): each package's
    ``stage.py`` declares its stage once. Ingest and linkage handle direct identifiers, so
    they work in the identifiable zone; every later stage writes only pseudonymised or
    aggregate tables, to the analysis zone."""
    from everyfamily.stage import discover

    return discover()


def check_declared_writes(ctx: RunContext, stage: Stage) -> None:
    """Raise when ``stage`` ran but a table it declared in ``writes`` is not in the stores.

    Tables carried from the previous run into the staging stores already exist, so this
    catches a declared table a first run never writes, not one a later run fails to
    rewrite."""
    from everyfamily.stage import missing_writes

    missing = missing_writes(stage, ctx.engine.has_table, ctx.metadata.get(stage.name))
    if missing:
        raise DataError(
            f"stage {stage.name!r} did not write the store table(s) it declares: "
            + ", ".join(missing),
            hint="write them, or declare them in may_write (everyfamily.stage.Stage)",
        )


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"everyfamily": __version__, "python": platform.python_version()}
    for pkg in ("duckdb", "splink", "pandas", "pyarrow", "geopandas"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_pipeline(
    project: Project,
    *,
    out_dir: Path,
    echo: Echo = print,
    seed: int | None = None,
    extra_metadata: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    stages: Collection[str] | None = None,
) -> dict[str, Any]:
    """Run every stage on a validated project; returns the run metadata (also run.json).

    ``environ``: where a key named by ``privacy.key_env`` is looked up (None: os.environ).
    ``stages``: run only these stages (by name), for tests and developers who need a few
    outputs quickly; refused before anything is written when a named stage reads a table a
    left-out one must write (``everyfamily.stage.subset``). The left-out stages record
    ``{"skipped": ...}`` in run.json, which lists the stages run under ``stages_run``.
    None (the default) runs every stage, as a product run always does."""
    from everyfamily.stores import open_project_stores

    todo = _chosen_stages(stages)
    out_dir = Path(out_dir)
    previous = _previous_run(project)
    staging = _prepare_staging(out_dir, echo, stores_from=previous)
    try:
        engine = open_project_stores(staging, project, environ=environ)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ctx = RunContext(
        project=project, out_dir=staging, engine=engine, echo=echo, seed=seed, environ=environ
    )
    ctx.metadata.update(run_metadata(project, seed, extra_metadata))
    if todo is not None:
        ctx.metadata["stages_run"] = [s.name for s in todo]
    if previous is not None:
        ctx.metadata["previous_run"] = str(previous)
    # run.json says "running" from the start, so a staging folder left by a killed run never
    # passes for a finished one
    _write_run_json(staging, ctx.metadata)
    _run_stages(ctx, out_dir, staging, todo)
    swap_in(staging, out_dir)
    echo(f"outputs written to {out_dir.resolve()}")
    return ctx.metadata


def _chosen_stages(names: Collection[str] | None) -> tuple[Stage, ...] | None:
    """None (every stage, found when the run starts) or the checked subset ``names``."""
    if names is None:
        return None
    from everyfamily.stage import subset

    return subset(stages(), names)


def _previous_run(project: Project) -> Path | None:
    """The folder of the previous run the project names (``project.previous_run_path``),
    checked: a folder that is not a complete run is a one-line ConfigError
    (``everyfamily.since.previous``)."""
    path = project.project.previous_run_path
    if path is None:
        return None
    from everyfamily.since.previous import check_previous_run

    return check_previous_run(path, project.project.reference_date).path


def _prepare_staging(out_dir: Path, echo: Echo, stores_from: Path | None = None) -> Path:
    """A fresh staging folder beside ``out_dir`` holding a copy of the previous run's stores
    (they carry state between runs into one folder: ids kept stable, cells kept
    suppressed). ``stores_from``: the previous run's folder when the project names one
    (``project.previous_run_path``), else ``out_dir`` itself."""
    from everyfamily.stores import STORE_PATHS

    if out_dir.exists() and not out_dir.is_dir():
        from everyfamily.errors import ConfigError

        raise ConfigError(
            f"{out_dir}: the output folder is a file",
            hint="give --out a folder (new or a previous run's)",
        )
    staging = staging_dir(out_dir)
    check_not_mid_swap(out_dir)
    if staging.exists():
        echo(f"removing {staging}, left by an earlier run that did not finish")
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    source = out_dir if stores_from is None else Path(stores_from)
    _copy_store_dirs(source, staging)
    for rel in STORE_PATHS.values():
        for old in source.glob(rel + "*") if source.is_dir() else ():
            if old.is_file():
                new = staging / old.relative_to(source)
                if not new.parent.exists():
                    new.parent.mkdir(parents=True)
                    shutil.copymode(old.parent, new.parent)
                shutil.copy2(old, new)
    return staging


def _copy_store_dirs(source: Path, staging: Path) -> None:
    """Copy the previous run's store folders (an engine whose zones are storage locations,
    Spark: ``everyfamily.stores.STORE_DIRS``) into the staging folder, as its DuckDB files
    are copied."""
    from everyfamily.stores import STORE_DIRS

    for rel in STORE_DIRS.values():
        old = source / rel
        if source.is_dir() and old.is_dir():
            shutil.copytree(old, staging / rel)


def _export_stores(ctx: RunContext) -> None:
    """On an engine whose zones are storage locations (Spark), copy the run's tables into
    its DuckDB store files, which the readers of a finished run open
    (``everyfamily.stores.export_to_duckdb``); timed as ``export`` in run.json."""
    if ctx.engine.capabilities.zones != "locations":
        return
    from everyfamily.stores import export_to_duckdb

    t0 = time.perf_counter()
    rows = export_to_duckdb(ctx.engine, ctx.out_dir, ctx.project.privacy, environ=ctx.environ)
    ctx.metadata["timings_seconds"]["export"] = round(time.perf_counter() - t0, 3)
    ctx.metadata["exported_rows"] = rows
    ctx.echo(f"  stores copied to DuckDB files for readers ({sum(rows.values())} rows)")


def run_metadata(
    project: Project, seed: int | None, extra: dict[str, Any] | None
) -> dict[str, Any]:
    """run.json at the start of a run: versions, seed, data vintages, settings."""
    from everyfamily.stores import STORE_PATHS

    return {
        "everyfamily_run": 1,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "project": project.project.name,
        "reference_date": project.project.reference_date.isoformat(),
        "seed": seed,
        "versions": _versions(),
        "data_vintages": {
            "population": project.population.vintage,
            "deprivation": project.deprivation.vintage if project.deprivation else None,
        },
        "settings": json.loads(project.model_dump_json()),
        "timings_seconds": {},
        "stores": {"encrypted": project.privacy.encrypt_at_rest, **STORE_PATHS},
        **(extra or {}),
        "status": "running",
    }


def _run_stages(
    ctx: RunContext, out_dir: Path, staging: Path, chosen: tuple[Stage, ...] | None = None
) -> None:
    """Run every stage (or the ``chosen`` ones) in its zone, timed, checking each wrote what
    it declares; on any failure say where the previous and the partial outputs are, and
    re-raise. Closes the stores and writes run.json whatever happens."""
    engine, echo = ctx.engine, ctx.echo
    current = ""
    try:
        todo = stages() if chosen is None else chosen
        if chosen is not None:
            for left_out in stages():
                if left_out not in chosen:
                    ctx.metadata[left_out.name] = {"skipped": "not among the stages asked for"}
        with run_progress(len(todo)) as progress:
            ctx.progress = progress
            for stage in todo:
                current = stage.name
                echo(f"[{stage.name}]")
                progress.stage(stage.name)
                t0 = time.perf_counter()
                with engine.zone(stage.zone):
                    stage.run(ctx)
                took = time.perf_counter() - t0
                ctx.metadata["timings_seconds"][stage.name] = round(took, 3)
                echo(f"  {stage.name} took {took:.1f} s")
                progress.stage_done()
                check_declared_writes(ctx, stage)
        _export_stores(ctx)
        ctx.metadata["status"] = "complete"
    except BaseException as exc:
        ctx.metadata["status"] = "failed"
        # the class and the stage only: a message could hold a value from a record
        ctx.metadata["failure"] = {"stage": current, "error": type(exc).__name__}
        kept = (
            f"the previous outputs in {out_dir} are unchanged; this run's partial outputs "
            f"are in {staging}"
        )
        echo(f"run failed in stage {current or 'setup'}: {kept}")
        if isinstance(exc, EveryfamilyError):
            exc.hint = f"{exc.hint}; {kept}" if exc.hint else kept
            exc.args = (exc.one_line(),)
        else:
            exc.add_note(kept)
        raise
    finally:
        engine.close()
        ctx.metadata["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if ctx.metadata["status"] == "complete":
            ctx.metadata["outputs"] = sorted(p.name for p in staging.iterdir())
        _write_run_json(staging, ctx.metadata)


def check_not_mid_swap(out_dir: Path) -> None:
    """A one-line error if a run was stopped between the two renames of :func:`swap_in`
    (``OUT`` gone, ``OUT.previous`` holding the earlier outputs): nothing is guessed."""
    out_dir = Path(out_dir)
    previous = out_dir.absolute().with_name(out_dir.absolute().name + ".previous")
    if previous.exists() and not out_dir.exists():
        from everyfamily.errors import ConfigError

        raise ConfigError(
            f"{out_dir} is missing but {previous} holds an earlier run's outputs (a run was "
            "stopped while swapping folders)",
            hint=f"rename {previous.name} back to {out_dir.name}, or delete it",
        )


def staging_dir(out_dir: Path) -> Path:
    """Where a run into ``out_dir`` writes until it is complete: beside it, on the same
    filesystem, so the swap is a rename."""
    out_dir = Path(out_dir).absolute()
    return out_dir.with_name(out_dir.name + ".staging")


#: renameat2 flag: exchange the two paths atomically (linux/fs.h).
RENAME_EXCHANGE = 2
#: renameat2's "relative to the current directory" (linux/fcntl.h); our paths are absolute.
_AT_FDCWD = -100


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two existing paths in ONE atomic step: Linux ``renameat2(..., RENAME_EXCHANGE)``
    (kernel 3.15+, glibc 2.28+, on filesystems that support it: ext4, xfs, btrfs, tmpfs ...),
    called through ctypes (the standard library has no binding). Returns False, having
    changed nothing, where the OS, the C library or the filesystem cannot do it; other
    errors raise ``OSError``."""
    import ctypes
    import errno
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(staging: Path, out_dir: Path, *, atomic: bool = True) -> None:
    """Replace ``out_dir`` by the complete run in ``staging``.

    Whatever the old folder holds that its run did not write (the users store and audit log,
    extracts, a demo's scenario) moves to the new one first: files by a hard link (so they
    never go missing from the folder in use), folders by a rename. Then the swap itself:

    - where the OS allows (``atomic``, Linux: :func:`exchange_paths`), ONE atomic exchange of
      the two folders: ``OUT`` is the old run until that instant and the new one after, and
      never missing; the old run, now at ``OUT.staging``, is renamed to ``OUT.previous`` and
      deleted. A crash at any point leaves ``OUT`` whole (old or new);
    - elsewhere, two renames: the old folder aside to ``OUT.previous``, the staging folder
      to ``OUT``; then the old one is deleted. POSIX rename is atomic, so a reader sees the
      old folder or the new one, never a mix, but ``OUT`` is missing between the two: a
      crash there leaves ``OUT.previous`` and ``OUT.staging`` whole, and the next run stops
      with a one-line error naming them (:func:`check_not_mid_swap`)."""
    out_dir = Path(out_dir).absolute()
    staging = Path(staging).absolute()
    previous = out_dir.with_name(out_dir.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    try:  # a process working inside the output folder follows it to the new one
        cwd: Path | None = Path.cwd()
    except OSError:
        cwd = None
    inside = cwd is not None and (cwd == out_dir or out_dir in cwd.parents)
    if out_dir.is_dir():
        _carry_over(out_dir, staging)
        if atomic and exchange_paths(staging, out_dir):
            staging.rename(previous)  # the old run, now at the staging path
        else:
            out_dir.rename(previous)
            staging.rename(out_dir)
    else:
        staging.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)
    if inside and cwd is not None and cwd.is_dir():
        os.chdir(cwd)


def _carry_over(out_dir: Path, staging: Path) -> None:
    """Move what the old run did not write into the staging folder (see :func:`swap_in`)."""
    produced = set(_outputs_of(out_dir))
    for old in out_dir.iterdir():
        new = staging / old.name
        if old.name in produced or new.exists() or new.is_symlink():
            continue  # the old run's output (replaced), or written again by this run
        if old.is_dir() and not old.is_symlink():
            old.rename(new)
        else:
            try:
                os.link(old, new, follow_symlinks=False)
            except OSError:  # a filesystem without hard links
                shutil.copy2(old, new, follow_symlinks=False)


def _outputs_of(out_dir: Path) -> list[str]:
    """The entries a finished run wrote (run.json ``outputs``; older runs did not list them:
    their store files and run.json at least)."""
    from everyfamily.stores import STORE_PATHS

    try:
        meta = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    listed = meta.get("outputs") if isinstance(meta, dict) else None
    if isinstance(listed, list):
        return [str(x) for x in listed]
    return ["run.json", *(Path(rel).parts[0] for rel in STORE_PATHS.values())]


def _write_run_json(out_dir: Path, metadata: dict[str, Any]) -> None:
    """Write run.json whole or not at all (a temporary file renamed over the old one)."""
    tmp = out_dir / "run.json.tmp"
    tmp.write_text(json.dumps(metadata, indent=2, default=str), encoding="utf-8")
    tmp.replace(out_dir / "run.json")


def run_status(out_dir: Path) -> str:
    """'complete', 'running' (still running, or killed), 'failed', or 'unknown' (no run.json;
    runs written before statuses existed count as 'complete')."""
    path = out_dir / "run.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    status = meta.get("status", "complete") if isinstance(meta, dict) else "unknown"
    return str(status)
