"""Save every main page, API answer and export of a run folder, and compare two saves: the
check that a refactor of web/ leaves the dashboard's output unchanged (issue 19).

    python -m tests.web.snapshot_pages save OUT_DIR DEST   # with the code before, then after
    python -m tests.web.snapshot_pages compare BEFORE AFTER

Paths are discovered from the run's own API (levels, areas, groups, sites, overlays), so any
run folder works. Differences that carry no meaning are named, not hidden: the order of the
routes in /openapi.json and on /api, and the creation time inside an Excel file.
Not a test (it needs two versions of the code); nothing here is collected by pytest.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import zipfile
from pathlib import Path

ROLES = ("viewer", "admin")


def _paths(client: object) -> list[str]:
    get = client.get  # type: ignore[attr-defined]
    by_level: dict[str, list[str]] = {}
    for a in get("/api/areas").json()["areas"]:
        by_level.setdefault(a["level"], []).append(a["code"])
    codes = [code for cs in by_level.values() for code in cs[:3]]
    sites = [s["site_id"] for s in get("/api/map/sites").json()["sites"]][:4]
    opts = get("/api/map/options").json()
    paths = ["/", "/map", "/findings", "/centres", "/quality", "/outreach", "/records", "/admin",
             "/api", "/api/overview", "/api/findings", "/api/areas", "/api/centres",
             "/api/quality", "/api/map/options", "/api/map/sites", "/api/admin/run",
             "/api/outreach", "/api/records", "/export/findings.csv", "/export/centres.xlsx",
             "/export/completeness.csv", "/export/map.geojson", "/openapi.json", "/nope",
             "/api/map/values?measure=bogus"]  # fmt: skip
    for lv in by_level:
        paths += [f"/api/reach?level={lv}", f"/api/reach?level={lv}&dimension=ethnicity"]
    for lv in opts["levels"]:
        paths += [f"/map?level={lv['key']}", f"/api/map/geometry/{lv['key']}"]
    for d in opts["dimensions"]:
        for g in d["groups"][:2]:
            for m in ("registered_rate", "engaged_rate"):
                q = f"dimension={d['key']}&group={g['key']}&measure={m}"
                paths += [f"/api/map/values?{q}", f"/map?{q}"]
    paths += [f"/api/map/overlay/{o['key']}" for o in opts["overlays"]]
    for code in codes:
        paths += [f"/areas/{code}", f"/api/areas/{code}", f"/export/area_groups.csv?area={code}",
                  f"/records?area={code}"]  # fmt: skip
    for s in sites:
        paths += [f"/centres/{s}", f"/api/centres/{s}", f"/api/centres/{s}/areas",
                  f"/export/centre_misses.csv?site={s}", f"/export/centres/{s}/areas.csv",
                  f"/areas/{codes[0]}?service={s}", f"/outreach?site={s}"]  # fmt: skip
    return paths


def save(out_dir: Path, dest: Path) -> int:
    from fastapi.testclient import TestClient

    from everyfamily.web import create_app
    from everyfamily.web.access import StaticPolicy

    dest.mkdir(parents=True, exist_ok=True)
    paths = _paths(TestClient(create_app(out_dir, policy=StaticPolicy("admin"))))
    for role in ROLES:
        client = TestClient(create_app(out_dir, policy=StaticPolicy(role)))
        for p in paths:
            r = client.get(p, follow_redirects=False)
            head = {k: v for k, v in r.headers.items() if k not in ("date", "content-length")}
            name = f"{role}__{hashlib.sha1(p.encode()).hexdigest()[:12]}.txt"
            meta = f"{p}\n{r.status_code}\n{json.dumps(head, sort_keys=True)}\n".encode()
            (dest / name).write_bytes(meta + r.content)
    return len(paths) * len(ROLES)


def _same_apart_from_order_or_time(path: str, x: bytes, y: bytes) -> str | None:
    bx, by = x.split(b"\n", 3)[3], y.split(b"\n", 3)[3]
    if path == "/openapi.json":
        jx, jy = json.loads(bx), json.loads(by)
        same = json.dumps(jx, sort_keys=True) == json.dumps(jy, sort_keys=True)
        return "the same routes in another order" if same else None
    if path == "/api":
        rows = re.compile(rb"<tr>.*?</tr>", re.S)
        same = sorted(rows.findall(bx)) == sorted(rows.findall(by))
        same = same and rows.sub(b"", bx) == rows.sub(b"", by)
        return "the same rows in another order" if same else None
    if path.split("?")[0].endswith(".xlsx"):
        zx, zy = zipfile.ZipFile(io.BytesIO(bx)), zipfile.ZipFile(io.BytesIO(by))
        names = [n for n in zx.namelist() if n != "docProps/core.xml"]
        same = names == [n for n in zy.namelist() if n != "docProps/core.xml"] and all(
            zx.read(n) == zy.read(n) for n in names
        )
        return "the same sheets (only the file's creation time differs)" if same else None
    return None


def compare(before: Path, after: Path) -> int:
    """Print each file that differs and why; return the number of real differences."""
    real = 0
    for f in sorted(before.iterdir()):
        x, y = f.read_bytes(), (after / f.name).read_bytes()
        if x == y:
            continue
        path = x.split(b"\n", 1)[0].decode()
        why = _same_apart_from_order_or_time(path, x, y)
        print(f"{f.name} {path}: {why or 'DIFFERENT'}")
        real += why is None
    print(f"{len(list(before.iterdir()))} responses compared, {real} real differences")
    return real


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "save":
        print(save(Path(sys.argv[2]), Path(sys.argv[3])), "responses saved")
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(1 if compare(Path(sys.argv[2]), Path(sys.argv[3])) else 0)
    else:
        sys.exit(__doc__)
