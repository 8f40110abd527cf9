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
reason, interrupted) lives in memory and in ``job.json`` beside the plan: who asked, when,
for what, and which worker runs it (host, process id and a token of the thread). A job
left queued or running by a worker that is gone (the server restarted or was killed) is
marked ``interrupted``, with when, as soon as a runner starts on the folder or reads the
job: its worker is gone when it ran in this process and its thread is no longer
registered, or when its process no longer exists on this host (a job of another host is
left as it is: nothing here can tell). ``job.json`` keeps the request, so the page can
offer to run it again.
The route audits the request in the users store when there is one (local single-user mode
keeps no audit log, as elsewhere). Messages never hold a value from a record: a failure
shows the one-line :class:`EveryfamilyError` text, anything else a fixed sentence.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
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
#: States of a job that has not finished.
UNFINISHED = ("queued", "running")
#: Tokens of the jobs whose worker thread runs in this process now (see :func:`_alive`).
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()


def _worker_id(token: str) -> str:
    """Who runs a job: this host, this process and the job's own token."""
    return f"{socket.gethostname()}|{os.getpid()}|{token}"


def _alive(worker: str | None) -> bool:
    """Whether the worker of an unfinished job may still run it (module docstring). A
    job.json without a worker (written before workers were recorded) has none."""
    if not worker:
        return False
    host, _, rest = worker.partition("|")
    pid_text, _, token = rest.partition("|")
    if host != socket.gethostname():
        return True  # another machine's worker: nothing here can tell
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        with _LIVE_LOCK:
            return token in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds that id
    except OSError:
        return False
    return True


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
    #: host|process id|token of the worker (see :func:`_alive`)
    worker: str | None = None
    #: when a restart was found to have stopped this job (state ``interrupted``)
    interrupted_at: str | None = None
    #: the form's request, to run it again (PlanRequest's fields)
    request: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("worker")  # the server's host and process: not the page's business
        return out

    def rerun_fields(self) -> list[tuple[str, str]]:
        """The form fields that run this job's request again (empty without one)."""
        r = self.request or {}
        if r.get("kind") not in KINDS:
            return []
        out = [("kind", str(r["kind"])), ("name", str(r.get("name") or ""))]
        if r["kind"] == "optimise":
            out.append(("budget", f"{float(r.get('budget') or 0):.0f}"))
            if r.get("keep_sites"):
                out.append(("keep_sites", "1"))
        out += [("close", str(c)) for c in r.get("close") or ()]
        out += [("open", str(o)) for o in r.get("open") or ()]
        return out


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


def _read_job(path: Path) -> PlanJob | None:
    """A job.json as a PlanJob; None when missing or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PlanJob(**data)
    except (OSError, ValueError, TypeError):
        return None


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
        self.recover()

    def recover(self) -> tuple[str, ...]:
        """Mark every job of the folder left queued or running by a worker that is gone as
        interrupted (module docstring); returns the users' folders whose job it marked."""
        root = self.out_dir / RUNS_DIR
        marked: list[str] = []
        for path in sorted(root.glob("*/job.json")) if root.is_dir() else ():
            job = _read_job(path)
            if job is not None and self._interrupt_if_gone(job) is not job:
                marked.append(job.user)
        return tuple(marked)

    def _interrupt_if_gone(self, job: PlanJob) -> PlanJob:
        """The job as it is, or marked interrupted (and saved) when its worker is gone."""
        if job.state not in UNFINISHED or _alive(job.worker):
            return job
        now = datetime.now(UTC).isoformat(timespec="seconds")
        done = replace(
            job,
            state="interrupted",
            step="stopped",
            interrupted_at=now,
            message="the dashboard stopped while this plan ran (a restart); run it again",
        )
        with contextlib.suppress(OSError):  # a read-only folder: shown, not recorded
            self._save(done)
        return done

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
        job = _read_job(self.folder(user) / "job.json")
        return None if job is None else self._interrupt_if_gone(job)

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
        token = uuid.uuid4().hex
        job = PlanJob(
            slug,
            "queued",
            "waiting to start",
            request.kind,
            request.name,
            now,
            worker=_worker_id(token),
            request=asdict(request),
        )
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
        with _LIVE_LOCK:
            _LIVE.add(token)
        self._save(job)
        t = threading.Thread(target=self._work, args=(slug, folder, token), daemon=True)
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
        tmp.write_text(json.dumps(asdict(job), indent=2), encoding="utf-8")
        tmp.replace(path)

    def _work(self, slug: str, folder: Path, token: str) -> None:
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
            with _LIVE_LOCK:
                _LIVE.discard(token)
