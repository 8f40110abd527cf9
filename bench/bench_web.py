"""Benchmark: the dashboard's JSON API under concurrent load on loopback.

Usage: ``python bench/bench_web.py [--clients N] [--seconds D] [--out DIR] [--full]``
(default 20 clients for 10 s; ``--full`` runs 60 s, the issue's target duration). The
server is ``everyfamily serve DIR`` in its own process (as a council would run it); the
clients are asyncio + httpx in this process, each sending its next request as soon as the
last one answered. DIR defaults to ./demo-output when it holds a run, otherwise the
Knowsley demo is run once into a temporary folder first (about a minute and a half).

The baseline, measured in the same run with the same clients, is ``/health`` (no data):
the ratio is what the real endpoints cost over the bare server. Target: p95 <= 150 ms.

Prints one JSON line: {"bench", "metric", "value", "baseline", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 150.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _endpoints(base: str) -> list[str]:
    """The main API endpoints the pages use, with real parameters from the run."""
    options = httpx.get(f"{base}/api/map/options", timeout=60).json()
    areas = httpx.get(f"{base}/api/areas", timeout=60).json()["areas"]
    small = [a["code"] for a in areas if a["level"] == options["small_level"]][:6]
    sites = [s["key"] for s in options["services"] if s["key"] != "any"][:3]
    urls = [
        "/api/overview",
        "/api/findings",
        "/api/centres",
        "/api/quality",
        "/api/map/sites",
        "/api/map/geometry/" + options["small_level"],
        "/api/reach?level=ward&dimension=all",
    ]
    for m in ("registered_rate", "engaged_rate", "known_completeness"):
        urls.append(f"/api/map/values?measure={m}")
    for d in options["dimensions"][1:4]:
        for g in d["groups"][:2]:
            urls.append(f"/api/map/values?dimension={d['key']}&group={g['key']}")
    for s in sites:
        urls.append(f"/api/map/values?service={s}")
        urls.append(f"/api/centres/{s}")
    urls += [f"/api/areas/{c}" for c in small]
    return urls


async def _load(
    base: str, urls: list[str], clients: int, seconds: float
) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    sent = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(k: int) -> None:
            nonlocal errors, sent
            i = k
            while time.perf_counter() < stop:
                url = urls[i % len(urls)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    await r.aread()
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                sent += 1
                errors += 0 if ok else 1

        await asyncio.gather(*(worker(k) for k in range(clients)))
    return latencies, errors, sent


def _demo_dir(given: Path | None) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    if given is not None:
        return given, None
    default = ROOT / "demo-output"
    if (default / "run.json").is_file():
        return default, None
    tmp = tempfile.TemporaryDirectory(prefix="everyfamily-bench-web-")
    out = Path(tmp.name) / "demo"
    subprocess.run(
        [sys.executable, "-m", "everyfamily", "demo", "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out, tmp


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench_web")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=None, help="a run's output folder")
    ap.add_argument("--full", action="store_true", help="60 s, the issue's target")
    args = ap.parse_args(argv)
    seconds = 60.0 if args.full else args.seconds
    out_dir, tmp = _demo_dir(args.out)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "everyfamily", "serve", str(out_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.2)
        urls = _endpoints(base)
        for u in urls:  # warm the caches once, as any first visitor would
            httpx.get(base + u, timeout=60)
        base_lat, base_err, base_n = asyncio.run(
            _load(base, ["/health"], args.clients, min(seconds, 10.0))
        )
        lat, err, n = asyncio.run(_load(base, urls, args.clients, seconds))
    finally:
        server.terminate()
        server.wait(timeout=20)
        if tmp is not None:
            tmp.cleanup()
    p95 = float(np.percentile(lat, 95))
    p95_base = float(np.percentile(base_lat, 95))
    print(
        json.dumps(
            {
                "bench": "web",
                "metric": "api_p95_ms",
                "value": round(p95, 1),
                "baseline": round(p95_base, 1),
                "ratio": round(p95 / p95_base, 2) if p95_base else None,
                "target_p95_ms": TARGET_P95_MS,
                "meets_target": p95 <= TARGET_P95_MS,
                "p50_ms": round(float(np.percentile(lat, 50)), 1),
                "p99_ms": round(float(np.percentile(lat, 99)), 1),
                "requests": n,
                "errors": err,
                "requests_per_s": round(n / seconds, 1),
                "baseline_requests": base_n,
                "baseline_errors": base_err,
                "clients": args.clients,
                "seconds": seconds,
                "endpoints": len(urls),
                "out_dir": str(out_dir),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
