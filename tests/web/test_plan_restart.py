"""Plans from the page survive a restart honestly (issue 17): a job left queued or running
by a server that is gone is marked "interrupted" (with when) as soon as a new app starts
on the folder, shown as such on /plan/mine, and can be run again from there.

The restart is real: the dashboard runs as its own process (``everyfamily serve``), a plan
is started through its form, the process is killed (SIGKILL: no shutdown handler runs)
while the plan runs, and a new app instance is created on the same folder."""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from everyfamily.web import create_app
from everyfamily.web.access import StaticPolicy
from everyfamily.web.plan_runs import RUNS_DIR, PlanJob, PlanRunner

from .conftest import free_port


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert m, "the plan form carries a CSRF token"
    return m.group(1)


def _job_file(out: Path, user: str = "local") -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (out / RUNS_DIR / user / "job.json").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture()
def demo_copy(demo_outputs: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(demo_outputs, out, ignore=shutil.ignore_patterns(RUNS_DIR))
    return out


def _serve(out: Path, port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("everyfamily")
    proc = subprocess.Popen(
        [str(exe), "serve", str(out), "--port", str(port), "--role", "analyst"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/plan", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "the dashboard process stopped"
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the dashboard process did not start")


def test_a_plan_cut_off_by_a_restart_is_interrupted_and_can_run_again(demo_copy: Path) -> None:
    port = free_port()
    proc = _serve(demo_copy, port)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as web:
            token = _csrf(web.get("/plan").text)
            r = web.post(
                "/plan/run",
                data={"csrf": token, "kind": "optimise", "budget": "2000000", "name": "Cut"},
            )
            assert r.status_code == 303
        before = _job_file(demo_copy)
        assert before["state"] in ("queued", "running")
        assert f"|{proc.pid}|" in str(before["worker"])
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # the killed server left its job unfinished on disk
    assert _job_file(demo_copy)["state"] in ("queued", "running")

    app = create_app(demo_copy, policy=StaticPolicy("analyst"))  # the restart
    on_disk = _job_file(demo_copy)
    assert on_disk["state"] == "interrupted" and on_disk["interrupted_at"]
    client = TestClient(app)
    state = client.get("/api/plan/run").json()
    assert state["state"] == "interrupted" and state["scenario"] == "Cut"
    assert "worker" not in state  # the server's host and process stay off the page
    page = client.get("/plan/mine").text
    assert 'data-state="interrupted"' in page and "Interrupted:" in page
    assert 'http-equiv="refresh"' not in page  # an interrupted job no longer refreshes
    form = re.search(
        r'<form method="post" action="/plan/run" id="plan-rerun">(.*?)</form>', page, re.S
    )
    assert form, "the interrupted job can be run again"
    fields = [
        (k, html_lib.unescape(v))
        for k, v in re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(1))
    ]
    assert ("kind", "optimise") in fields and ("budget", "2000000") in fields
    r = client.post("/plan/run", data=dict(fields), follow_redirects=False)
    assert r.status_code == 303
    job = app.state.plan_runner.wait(None, timeout=300)
    assert job is not None and job.state == "done", job
    plan = json.loads((demo_copy / RUNS_DIR / "local" / "plan" / "plan.json").read_text("utf-8"))
    got = {s["id"]: s for s in plan["scenarios"]}["from_the_page"]
    assert got["name"] == "Cut" and got["kind"] == "optimised"
    assert got["cost_per_year"] <= 2_000_000


def _write_job(out: Path, worker: str | None, state: str = "running") -> None:
    folder = out / RUNS_DIR / "local"
    folder.mkdir(parents=True, exist_ok=True)
    job = PlanJob("local", state, "solving", "optimise", "x", "2026-01-01T00:00:00+00:00")
    data = {**job.to_json(), "worker": worker}
    (folder / "job.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_job_of_a_live_process_is_left_running(tmp_path: Path) -> None:
    """Another process on this host (a second server worker, say) still runs its job: it
    stays running; once that process is gone, the next look marks it interrupted."""
    import socket

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_job(tmp_path, f"{socket.gethostname()}|{other.pid}|abc")
        runner = PlanRunner(tmp_path, {}, None)
        job = runner.job(None)
        assert job is not None and job.state == "running"
    finally:
        os.kill(other.pid, signal.SIGKILL)
        other.wait(timeout=30)
    job = runner.job(None)
    assert job is not None and job.state == "interrupted" and job.interrupted_at
    # a job written before workers were recorded has no worker to wait for
    _write_job(tmp_path, None, state="queued")
    runner = PlanRunner(tmp_path, {}, None)  # a runner starting on the folder marks it
    assert _job_file(tmp_path)["state"] == "interrupted"
    _write_job(tmp_path, None, state="queued")
    assert runner.recover() == ("local",)
    # a finished job is never touched
    _write_job(tmp_path, None, state="done")
    assert runner.recover() == ()
    assert _job_file(tmp_path)["state"] == "done"
