"""Plans made from the dashboard's Plan page (issue 17: "and the same from the dashboard's
Plan page for managers and analysts").

A user with ``run_plan`` picks a scenario (close and open sites and venues from the run's
``planning:`` lists, or an optimised set for a budget); :class:`PlanRunner` checks it into a
scenario file (the same validation as ``everyfamily plan --scenarios``), writes it into the
user's own folder ``OUT/plan_runs/<user>/`` and runs
:func:`everyfamily.planning.stage.plan_from_run` there in a background thread, with the
project rebuilt from run.json's ``settings`` (the run's own, paths already resolved). The
run's stores are opened read-only; the plan goes to ``OUT/plan_runs/<user>/plan/``
(plan.json, plan.csv, plan.gpkg), released by the same rules as the run's plan. One plan
runs at a time in the whole app (planning solves take a core for seconds to a minute); a
second request while one runs is told to wait.

The state of each user's job (queued, running and its step, done, failed with a one-line
reason) lives in memory and in ``job.json`` beside the plan: who asked, when, for what.
The route audits the request in the users store when there is one (local single-user mode
keeps no audit log, as elsewhere). Messages never hold a value from a record: a failure
shows the one-line :class:`EveryfamilyError` text, anything else a fixed sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from everyfamily.errors import ConfigError, EveryfamilyError

RUNS_DIR = "plan_runs"
#: Scenario kinds a user can run from the page.
KINDS = ("what_if", "optimise")
LOCAL_USER = "local"


@dataclass(frozen=True)
class PlanJob:
    """One user's plan from the browser: ``state`` is queued, running, done or failed."""

    user: str
    state: str
    step: str
    kind: str
    scenario: str
    started_at: str
    finished_at: str | None = None
    seconds: float | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanRequest:
    """What the form asked for, checked against the run's ``planning:`` lists."""

    kind: str
    name: str
    close: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    budget: float | None = None
    keep_sites: bool = False

    def scenario_yaml(self) -> str:
        """The scenario file of this request (the baseline comes first by itself)."""
        spec: dict[str, Any] = {"id": "from_the_page", "name": self.name}
        if self.kind == "optimise":
            spec["optimise"] = {"budget": self.budget, "keep_sites": self.keep_sites}
        else:
            spec["close"] = list(self.close)
            spec["open"] = list(self.open)
        return yaml.safe_dump({"scenarios": [spec]}, sort_keys=False)


def user_slug(username: str | None) -> str:
    """A folder name for a user: letters, digits, '-' and '_' only (never a path); a name
    that needs cleaning gets a short hash of itself, so two users never share a folder."""
    if not username:
        return LOCAL_USER
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", username).strip("_")[:64]
    if slug == username and slug != LOCAL_USER:
        return slug
    # two names that clean to the same folder (a.b, a_b) must not share one
    digest = hashlib.sha256(username.encode("utf-8")).hexdigest()[:10]
    return f"{slug or 'user'}-{digest}"


def _one(values: Mapping[str, Sequence[str]], key: str) -> str:
    got = values.get(key) or [""]
    return str(got[-1]).strip()


def parse_request(
    values: Mapping[str, Sequence[str]], sites: Sequence[str], venues: Sequence[str]
) -> PlanRequest:
    """The form's fields (``kind``; ``close`` and ``open``, repeated; ``budget``,
    ``keep_sites``; ``name``) as a :class:`PlanRequest`, or a one-line ConfigError."""
    kind = _one(values, "kind")
    if kind not in KINDS:
        raise ConfigError(f"plan form: kind: expected one of {', '.join(KINDS)}")
    name = " ".join(_one(values, "name").split())[:80]
    if kind == "optimise":
        text = _one(values, "budget").replace(",", "").replace("£", "")
        try:
            budget = float(text)
        except ValueError:
            budget = float("nan")
        if not budget > 0 or budget == float("inf"):
            raise ConfigError(
                "plan form: budget: expected a number of pounds a year above 0",
                hint="e.g. 2500000",
            )
        keep = _one(values, "keep_sites") in ("1", "on", "true")
        label = name or f"Best places for GBP {budget:,.0f} a year"
        return PlanRequest(kind, label, budget=budget, keep_sites=keep)
    close = tuple(dict.fromkeys(str(v) for v in values.get("close") or ()))
    open_ = tuple(dict.fromkeys(str(v) for v in values.get("open") or ()))
    bad = [c for c in close if c not in sites] + [o for o in open_ if o not in venues]
    if bad:
        raise ConfigError(
            "plan form: a place to close or open is not in the run's planning lists",
            hint="pick sites to close and venues to open from the lists",
        )
    if not close and not open_:
        raise ConfigError(
            "plan form: pick at least one site to close or one venue to open",
            hint="or choose an optimised set for a budget",
        )
    label = ", ".join([*(f"close {c}" for c in close), *(f"open {o}" for o in open_)])
    label = (label[:1].upper() + label[1:])[:80]
    return PlanRequest(kind, name or label, close=close, open=open_)


class PlanRunner:
    """Runs plans from the page in background threads, one at a time (module docstring)."""

    def __init__(
        self, out_dir: Path, run: Mapping[str, Any], environ: Mapping[str, str] | None
    ) -> None:
        self.out_dir = Path(out_dir)
        self.run = run
        self.environ = environ
        self._lock = threading.Lock()
        self._jobs: dict[str, PlanJob] = {}
        self._busy: str | None = None
        self._threads: dict[str, threading.Thread] = {}

    def folder(self, user: str | None) -> Path:
        return self.out_dir / RUNS_DIR / user_slug(user)

    def plan_dir(self, user: str | None) -> Path:
        return self.folder(user) / "plan"

    def job(self, user: str | None) -> PlanJob | None:
        """The user's job: in memory, else the last one written (job.json)."""
        slug = user_slug(user)
        with self._lock:
            got = self._jobs.get(slug)
        if got is not None:
            return got
        path = self.folder(user) / "job.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return PlanJob(**data)
        except (OSError, ValueError, TypeError):
            return None

    def choices(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Site ids and venue ids of the run's ``planning:`` block (empty without one)."""
        p = (self.run.get("settings") or {}).get("planning") or {}
        sites = tuple(str(s.get("id")) for s in p.get("sites") or [])
        venues = tuple(str(v.get("id")) for v in p.get("venues") or [])
        return sites, venues

    def start(self, user: str | None, request: PlanRequest) -> PlanJob:
        """Start the user's plan in a thread; refused (ConfigError) while any plan runs."""
        slug = user_slug(user)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        job = PlanJob(slug, "queued", "waiting to start", request.kind, request.name, now)
        with self._lock:
            if self._busy is not None:
                raise ConfigError(
                    "a plan is already running on this dashboard",
                    hint="wait for it to finish (the page refreshes itself), then run yours",
                )
            self._busy = slug
            self._jobs[slug] = job
        folder = self.folder(user)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenarios.yaml").write_text(request.scenario_yaml(), encoding="utf-8")
        self._save(job)
        t = threading.Thread(target=self._work, args=(slug, folder), daemon=True)
        self._threads[slug] = t
        t.start()
        return job

    def wait(self, user: str | None, timeout: float = 120.0) -> PlanJob | None:
        """Wait for the user's thread (tests and the command line)."""
        t = self._threads.get(user_slug(user))
        if t is not None:
            t.join(timeout)
        return self.job(user)

    def _set(self, slug: str, **changes: Any) -> PlanJob:
        with self._lock:
            job = replace(self._jobs[slug], **changes)
            self._jobs[slug] = job
        self._save(job)
        return job

    def _save(self, job: PlanJob) -> None:
        path = self.out_dir / RUNS_DIR / job.user / "job.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job.to_json(), indent=2), encoding="utf-8")
        tmp.replace(path)

    def _work(self, slug: str, folder: Path) -> None:
        from everyfamily.config import Project
        from everyfamily.planning.stage import plan_from_run

        t0 = time.perf_counter()
        try:
            self._set(slug, state="running", step="reading the run's settings")
            project = Project.model_validate(self.run.get("settings") or {})
            plan_from_run(
                project,
                self.out_dir,
                scenarios=folder / "scenarios.yaml",
                out=folder / "plan",
                echo=lambda _m: None,
                environ=self.environ,
                step=lambda s: self._set(slug, step=s),
            )
            state, message = "done", None
        except EveryfamilyError as exc:
            state, message = "failed", exc.one_line()
        except Exception:  # never a traceback on the page: it may hold values
            state, message = "failed", "the plan failed unexpectedly; see the server log"
        try:
            self._set(
                slug,
                state=state,
                step="finished" if state == "done" else "stopped",
                finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
                seconds=round(time.perf_counter() - t0, 1),
                message=message,
            )
        finally:
            with self._lock:
                self._busy = None
