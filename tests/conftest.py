"""Shared session fixtures: every expensive world is built once per test session.

``knowsley_scenario`` is the synthetic Knowsley scenario (seed 2026, every story);
``knowsley_demo`` is the demo run of it (``run_demo``: scenario, pipeline and the check
against the truth); ``knowsley_world(seed=..., stories=...)`` is a finished pipeline run of any
variant world (another seed, stories moved or switched off), and ``make_scenario`` generates
a variant scenario into a fresh folder (for the generator's own tests).

Tests read these runs and never run the same world again. Two tests that ask for the same
(seed, stories) share one run, so a test that needs a variant should ask for one another test
already uses when that shows its fact.

Under pytest-xdist (``scripts/test`` runs ``-n 3 --dist loadgroup`` here) each worker is its own
process with its own session fixtures. A world is still built once: the build runs under a
file lock in the session's shared temporary folder and later workers reuse it (the recipe of
the pytest-xdist docs, "Making session-scoped fixtures execute only once"). Each worker then
reads its own copy, because a run's DuckDB stores take a lock per process and tests open them.
Tests that need an expensive world are put in one ``xdist_group`` per world
(``pytest_collection_modifyitems`` below), so that one worker builds it while the other
works on something else, and those groups are sent out first (the demo's dashboard tests
form a second group of the demo, sent after the other worlds: ``SPLIT_FOLDERS``).

``knowsley_small_cli_run`` (and its output folder, ``knowsley_small_run``) is the one full
run of the quarter-size world, through the command line, with the sentinel and hostile names
planted (tests/small_world.py): the CLI, sentinel, hostile-names and staging tests read it
(group ``knowsley-small``) instead of each running that world again.

A variant world runs only the stages its tests read (``VARIANT_STAGES``, by
``run_pipeline(stages=...)``): the stages that make findings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

# Password hashes in the tests use OWASP's minimum argon2id parameters (web/passwords.py), a
# published set, not a weakened one: the suite logs in a few thousand times, and RFC 9106's
# set costs 0.2 s of CPU per check against 0.03 s. Set before any users file is written, and
# inherited by the CLI and servers the tests start. tests/web/test_passwords.py checks both.
os.environ.setdefault("EVERYFAMILY_PASSWORD_HASH", "owasp-minimum")

from everyfamily.demo import Scenario, Stories, generate_scenario
from small_world import SmallRun

DEFAULT_SEED = 2026

#: postgres_server / postgres_dsn: a throwaway PostgreSQL server (tests/postgres_server.py)
pytest_plugins = ("postgres_server",)

#: Fixtures whose tests share one xdist group (one worker builds the world and runs them).
GROUPED_FIXTURES = {
    "knowsley_demo": "knowsley-demo",
    "demo_outputs": "knowsley-demo",
    "knowsley_small_cli_run": "knowsley-small",
}
#: Folders whose tests of a grouped world form a group of their own (``<group>-<folder>``):
#: the dashboard's tests of the demo (many, and slow in a browser) would otherwise make the
#: demo's group one long chain on one worker while the other runs out of work.
SPLIT_FOLDERS = ("web",)
#: Groups sent after every other group: they read a world another group builds, so the
#: worker that takes them finds it built (or nearly) instead of waiting on its lock.
LATE_GROUPS = frozenset({"knowsley-demo-web"})
#: Groups sent before every other group: the longest chains that read no other group's
#: world (the Spark tests: one JVM, about a quarter of the suite's CPU on one worker).
EARLY_GROUPS = frozenset({"spark"})


# --- built once per session, across xdist workers ---------------------------------------------


#: A folder that keeps the built worlds between sessions, for a developer re-running tests
#: (never set in CI: a kept world does not follow changes to the code).
KEEP_WORLDS = os.environ.get("EVERYFAMILY_TEST_WORLDS")


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    """The folder every worker of this session sees (the workers' parent temporary folder)."""
    if KEEP_WORLDS:
        return Path(KEEP_WORLDS)
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_in(
    root: Path, key: str, build: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any]]:
    """Build ``root/key`` once (``build(folder) -> manifest``, JSON-able), however many
    processes ask: the first builds under a file lock, the others wait for it. Returns (the
    folder, the manifest). A failed build is remembered, so the other processes fail at once
    with its message instead of building again (unless the worlds are kept between sessions,
    where the next session tries again)."""
    root.mkdir(parents=True, exist_ok=True)
    folder, done, failed = root / key, root / f"{key}.json", root / f"{key}.failed"
    with FileLock(str(root / f"{key}.lock")):
        if failed.exists() and not KEEP_WORLDS:
            pytest.fail(f"building {key} failed earlier in this session: {failed.read_text()}")
        if not done.exists():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            try:
                manifest = build(folder)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                raise
            done.write_text(json.dumps(manifest), encoding="utf-8")
            failed.unlink(missing_ok=True)
    return folder, json.loads(done.read_text(encoding="utf-8"))


def build_once(
    factory: pytest.TempPathFactory, key: str, build: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any]]:
    """``build_in`` the session's shared folder; returns this worker's copy of the folder
    (under xdist, or when the worlds are kept) and the manifest."""
    folder, manifest = build_in(_shared_root(factory) / "shared", key, build)
    if not os.environ.get("PYTEST_XDIST_WORKER") and not KEEP_WORLDS:
        return folder, manifest
    mine = factory.getbasetemp() / "shared" / key
    if not mine.exists():
        shutil.copytree(folder, mine, symlinks=True)
    return mine, manifest


def _scenario_manifest(s: Scenario) -> dict[str, Any]:
    rel = {
        "project_file": str(s.project_file.relative_to(s.out_dir)),
        "truth_dir": str(s.truth_dir.relative_to(s.out_dir)),
        "key_file": str(s.key_file.relative_to(s.out_dir)),
        "sites_file": str(s.sites_file.relative_to(s.out_dir)),
        "stories_file": str(s.stories_file.relative_to(s.out_dir)),
    }
    extracts = {k: str(p.relative_to(s.out_dir)) for k, p in s.extracts.items()}
    return {
        "paths": rel,
        "extracts": extracts,
        "seed": s.seed,
        "n_children": s.n_children,
        "n_families": s.n_families,
    }


def scenario_in(folder: Path, manifest: dict[str, Any], stories: Stories) -> Scenario:
    """The Scenario of a generated folder (wherever it was copied), from its manifest."""
    paths = {k: folder / v for k, v in manifest["paths"].items()}
    return Scenario(
        out_dir=folder,
        extracts={k: folder / v for k, v in manifest["extracts"].items()},
        seed=manifest["seed"],
        stories=stories,
        n_children=manifest["n_children"],
        n_families=manifest["n_families"],
        **paths,
    )


def world_key(seed: int, stories: Stories | None) -> str:
    """A name for the world of (seed, stories): the same world, the same name."""
    if stories is None or stories == Stories():
        return f"knowsley-{seed}-default"
    return f"knowsley-{seed}-{hashlib.sha256(repr(stories).encode()).hexdigest()[:12]}"


# --- the worlds --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def knowsley_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The default synthetic Knowsley scenario (seed 2026, every story), generated once.
    Read it, never write into it: ``knowsley_scenario_copy`` is a copy a test may change."""

    def build(folder: Path) -> dict[str, Any]:
        return _scenario_manifest(generate_scenario(folder / "scenario", seed=DEFAULT_SEED))

    folder, manifest = build_once(tmp_path_factory, "scenario-2026-default", build)
    return scenario_in(folder / "scenario", manifest, Stories())


@pytest.fixture
def knowsley_scenario_copy(knowsley_scenario: Scenario, tmp_path: Path) -> Scenario:
    """A private copy of the default scenario, for a test that writes beside its files."""
    folder = tmp_path / "scenario"
    shutil.copytree(knowsley_scenario.out_dir, folder)
    return replace(
        knowsley_scenario,
        out_dir=folder,
        project_file=folder / knowsley_scenario.project_file.name,
        truth_dir=folder / knowsley_scenario.truth_dir.relative_to(knowsley_scenario.out_dir),
        key_file=folder / knowsley_scenario.key_file.relative_to(knowsley_scenario.out_dir),
        sites_file=folder / knowsley_scenario.sites_file.relative_to(knowsley_scenario.out_dir),
        stories_file=folder / knowsley_scenario.stories_file.relative_to(knowsley_scenario.out_dir),
        extracts={
            k: folder / p.relative_to(knowsley_scenario.out_dir)
            for k, p in knowsley_scenario.extracts.items()
        },
    )


#: The stages a variant world runs unless a test asks for others: every stage that makes a
#: finding (communities, access and trends write candidate findings; find ranks them), not
#: services, since, planning or report, which no test of a variant world reads (about a
#: fifth of a full run). The default world is the demo run, with every stage.
VARIANT_STAGES = ("ingest", "link", "measure", "communities", "access", "trends", "find")


def _run_world(
    folder: Path, seed: int, stories: Stories | None, stages: tuple[str, ...] | None
) -> dict[str, Any]:
    """The default world through ``run_demo`` (as ``everyfamily demo`` runs it); a variant:
    generate its scenario into ``folder/scenario``, then ``run_pipeline`` into ``folder``
    (only ``stages``)."""
    from everyfamily.config import load_project
    from everyfamily.demo.run import run_demo
    from everyfamily.pipeline import run_pipeline

    if stories is None or stories == Stories():
        run_demo(out_dir=folder, seed=seed, echo=lambda _m: None)
        stages = None
    else:
        scenario = generate_scenario(folder / "scenario", seed=seed, stories=stories)
        project = load_project(scenario.project_file)
        run_pipeline(project, out_dir=folder, echo=lambda _m: None, seed=seed, stages=stages)
    return {"seed": seed, "stories": repr(stories), "stages": stages}


@pytest.fixture(scope="session")
def knowsley_world(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``run(seed=2026, stories=None, stages=VARIANT_STAGES) -> output folder``: a finished
    pipeline run of that world (its scenario in ``scenario/``, the truth in
    ``scenario/truth/``), built once per session. The default world is the demo run (every
    stage, with ``demo_evaluation.json``); a variant runs only ``stages``
    (``run_pipeline(stages=...)``). Read the folder, never write into it (copy it first).

    Every test of one world must ask for the same stages: a world is built once, so a test
    asking for other stages than it was built with fails at once, whichever test came first
    (ask for the union in both)."""

    given = os.environ.get("EVERYFAMILY_TEST_DEMO_DIR")

    def run(
        seed: int = DEFAULT_SEED,
        stories: Stories | None = None,
        stages: tuple[str, ...] = VARIANT_STAGES,
    ) -> Path:
        key = world_key(seed, stories)
        if given and key == world_key(DEFAULT_SEED, None) and (Path(given) / "run.json").is_file():
            return Path(given)
        folder, manifest = build_once(
            tmp_path_factory, key, lambda f: _run_world(f, seed, stories, stages)
        )
        assert manifest["stories"] == repr(stories), f"two worlds share the name {key}"
        built = manifest.get("stages")
        if built is not None and list(built) != list(stages):
            pytest.fail(
                f"world {key} was built with the stages {built}, this test asks for "
                f"{list(stages)}: every test of one world must ask for the same stages"
            )
        return folder

    return run


@pytest.fixture(scope="session")
def knowsley_demo(knowsley_world: Callable[..., Path]) -> Path:
    """The real Knowsley demo (``run_demo``, seed 2026), run once per session.
    EVERYFAMILY_TEST_DEMO_DIR may name a folder an earlier demo run wrote, to save time
    while developing (tests may write into it)."""
    return knowsley_world(DEFAULT_SEED)


#: The share of the children the small world simulates (``generate_scenario(scale=...)``).
SMALL_SCALE = 0.25


@pytest.fixture(scope="session")
def knowsley_small_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The default scenario (seed 2026, every story) at a quarter of its children, generated
    once: for tests of the product's plumbing (the CLI, the staging swap, what leaks where)
    whose facts do not depend on the size of the world. Read it, never write into it (copy
    its ``out_dir`` first, as ``knowsley_scenario_copy`` does)."""

    def build(folder: Path) -> dict[str, Any]:
        scenario = generate_scenario(folder / "scenario", seed=DEFAULT_SEED, scale=SMALL_SCALE)
        return _scenario_manifest(scenario)

    folder, manifest = build_once(tmp_path_factory, "scenario-2026-small", build)
    return scenario_in(folder / "scenario", manifest, Stories())


def _small_cli_run(folder: Path, small: Scenario) -> dict[str, Any]:
    """Copy the small scenario into ``folder/scenario``, plant the sentinel and the hostile
    names in it, and run the command line on it into ``folder/out``, keeping what it printed
    and logged (``console.txt``, ``logs.txt`` beside ``out``)."""
    import contextlib
    import io
    import logging

    from everyfamily.cli import main
    from small_world import plant_hostile, plant_sentinel

    shutil.copytree(small.out_dir, folder / "scenario")
    project_file = folder / "scenario" / small.project_file.relative_to(small.out_dir)
    plant_hostile(folder / "scenario")
    plant_sentinel(project_file)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(f"{record.name}: {record.getMessage()}")

    root, keep = logging.getLogger(), Keep(logging.DEBUG)
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(keep)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", str(project_file), "--out", str(folder / "out")])
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
    (folder / "console.txt").write_text(out.getvalue() + err.getvalue(), encoding="utf-8")
    (folder / "logs.txt").write_text("\n".join(records), encoding="utf-8")
    if code != 0:
        raise RuntimeError(f"everyfamily run exited {code} on the small world")
    return {"project_file": str(project_file.relative_to(folder)), "scale": SMALL_SCALE}


@pytest.fixture(scope="session")
def knowsley_small_cli_run(
    tmp_path_factory: pytest.TempPathFactory, knowsley_small_scenario: Scenario
) -> SmallRun:
    """The one full run of the quarter-size world, built once per session through the
    command line (`everyfamily run`, as the README's user runs it), on a copy of
    ``knowsley_small_scenario`` with the sentinel and hostile names planted
    (tests/small_world.py). Shared by the CLI's test, the sentinel, the hostile-names tests
    and the staging swap, which ran four full runs of this world, one each. Read it, never write
    into it (copy it first)."""
    folder, manifest = build_once(
        tmp_path_factory,
        "knowsley-2026-small-cli-run",
        lambda f: _small_cli_run(f, knowsley_small_scenario),
    )
    return SmallRun(
        out=folder / "out",
        project_file=folder / manifest["project_file"],
        console=(folder / "console.txt").read_text(encoding="utf-8"),
        logs=(folder / "logs.txt").read_text(encoding="utf-8"),
    )


@pytest.fixture(scope="session")
def knowsley_small_run(knowsley_small_cli_run: SmallRun) -> Path:
    """The output folder of the shared quarter-size run (``knowsley_small_cli_run``: the
    command line on the small scenario with the sentinel and hostile names planted).
    Read it, never write into it (copy it first)."""
    return knowsley_small_cli_run.out


#: A line through Whiston and Prescot, east of the M57 (lon, lat): between several small
#: areas and their nearest centres (Whiston Willis, Our Lady's).
BARRIER_ELSEWHERE = ((-2.82, 53.43), (-2.80, 53.42), (-2.77, 53.41))


def another_anchor(truth: dict[str, Any]) -> str:
    """The small area with the most under-fives that is well away from the planted community
    and the barrier's far side of this truth (not in their wards)."""
    import pandas as pd

    root = Path(__file__).resolve().parents[1] / "src/everyfamily/demo/opendata/knowsley"
    pop = pd.read_csv(
        root / "population/mid2020_population_single_year_of_age_lsoa2011_knowsley.csv"
    )
    taken = set(truth["emerging_community"]["lsoas"]) | set(
        truth["barrier"].get("far_side_lsoas", [])
    )
    lookup = pd.read_csv(root / "lookups/lsoa2011_to_ward2019_knowsley.csv")
    ward = dict(zip(lookup["LSOA11CD"], lookup["WD19CD"], strict=True))
    taken_wards = {ward[a] for a in taken if a in ward}
    pop = pop[~pop["lsoa11_code"].isin(taken) & ~pop["lsoa11_code"].map(ward).isin(taken_wards)]
    return str(pop.sort_values("age_0_4", ascending=False)["lsoa11_code"].iloc[0])


@pytest.fixture(scope="session")
def knowsley_moved_stories(knowsley_scenario: Scenario) -> Stories:
    """The default world's stories, every one moved (seed 2026): a Polish community anchored
    at :func:`another_anchor`, the low-engagement site at the first other centre, the barrier
    on :data:`BARRIER_ELSEWHERE`. One world (``knowsley_world(stories=...)``) for the tests
    that find a moved story (findings, access, communities): one pipeline run, not three."""
    from everyfamily.demo.stories import Barrier

    truth0 = json.loads(knowsley_scenario.stories_file.read_text(encoding="utf-8"))
    old_site = truth0["low_engagement_site"]["site_id"]
    per_site = truth0["low_engagement_site"]["attendances_per_registered_child"]
    base = Stories()
    return replace(
        base,
        emerging_community=replace(
            base.emerging_community, anchor_lsoa=another_anchor(truth0), origin="polish"
        ),
        low_engagement_site=replace(
            base.low_engagement_site, site_id=sorted(s for s in per_site if s != old_site)[0]
        ),
        barrier=Barrier(line=BARRIER_ELSEWHERE),
    )


@pytest.fixture
def make_scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Scenario]:
    """A function ``make(seed=2026, stories=None) -> Scenario`` writing to a fresh folder."""

    def make(seed: int = DEFAULT_SEED, stories: Stories | None = None) -> Scenario:
        out: Path = tmp_path_factory.mktemp(f"scenario-{seed}") / "scenario"
        return generate_scenario(out, seed=seed, stories=stories)

    return make


# --- distribution under xdist ------------------------------------------------------------------
#
# ``scripts/test`` runs ``--dist loadgroup``. Its own implementation in pytest-xdist 3.8 marks a
# group by rewriting test ids, which pytest 9.2 no longer lets it do: every group is silently
# spread over the workers (pytest-dev/pytest-xdist#1386, fix not released). So the scheduler
# is ours, a ``LoadScopeScheduling`` whose unit of work is, for each test, its world's group
# (``xdist_group`` mark, or a fixture of ``GROUPED_FIXTURES``) or else its module: a module's
# tests stay on one worker, as ``--dist loadfile``, so a module-scoped fixture is built once.
# The workers write each test's unit into a file the controller names (``workerinput``); the
# controller reads it when it schedules (after every worker has collected).

_UNITS = "everyfamily_xdist_units"


def _group_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    fixtures = getattr(item, "fixturenames", ())
    group = next((g for f, g in GROUPED_FIXTURES.items() if f in fixtures), None)
    folder = item.nodeid.split("/")[1] if item.nodeid.startswith("tests/") else ""
    if group is not None and folder in SPLIT_FOLDERS:
        return f"{group}-{folder}"
    return group


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """Send the tests of expensive worlds first (grouped ones, then the slow ones), so that
    no worker starts an expensive world last; then, on an xdist worker, write each test's
    unit of work for the controller's scheduler. Without xdist the order changes nothing a
    test may depend on."""
    groups = {item.nodeid: _group_of(item) for item in items}
    for item in items:
        if groups[item.nodeid] is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))

    def rank(item: pytest.Item) -> int:
        group = groups[item.nodeid]
        if group is not None:
            return 1 if group in LATE_GROUPS else -1 if group in EARLY_GROUPS else 0
        return 2 if item.get_closest_marker("slow") else 3

    items.sort(key=rank)  # stable: the collection order within each rank
    result = yield  # the other hooks (deselection by -k or -m, xdist's own)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _UNITS in workerinput:
        units = {item.nodeid: _group_of(item) or item.nodeid.split("::")[0] for item in items}
        target = Path(workerinput[_UNITS]) / f"{workerinput['workerid']}.json"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(units), encoding="utf-8")
        partial.replace(target)
    return result


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(controller) Tell each worker where to write its tests' units of work."""
    node.workerinput[_UNITS] = str(_units_dir(node.config))


def _units_dir(config: pytest.Config) -> Path:
    folder: Path | None = getattr(config, "_everyfamily_units", None)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="everyfamily-xdist-"))
        config._everyfamily_units = folder  # type: ignore[attr-defined]
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    return folder


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """(controller) ``--dist loadgroup``: schedule by world group, else by module."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    units: dict[str, str] = {}

    class WorldScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if not units:
                for written in sorted(_units_dir(config).glob("*.json")):
                    units.update(json.loads(written.read_text(encoding="utf-8")))
                    break
            return units.get(nodeid) or nodeid.split("::")[0]

    return WorldScheduling(config, log)
