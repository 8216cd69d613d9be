"""Indicator scorecard benchmark (issue 5): `.venv/bin/python benchmarks/indicators_bench.py`.

The demo park (its 14 indicator series of Table 3.3.1, computed ones from the engine) plus officers'
own indicators up to 20 in all, each with 30 years of reported values (1996–2025) and yearly
targets; then the scorecard (every indicator: history, target path, status, reachability with the
10 000-path bootstrap) measured as the server computes it for the page:

- in process, warm (the inventories behind computed indicators cached, as after start-up);
- over HTTP (uvicorn on loopback), `GET /api/indicators/scorecard`, p50/p95 of repeated requests.

Target: ≤ 300 ms server time. Writes benchmarks/out/indicators.json. Nothing here is a test.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
import numpy as np

from greenpark.demo import load_demo
from greenpark.services.plan import indicators
from greenpark.store.db import session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"


def build(url: str, n_indicators: int = 20, years: range = range(1996, 2026)) -> int:
    upgrade(url)
    with session_scope(url) as s:
        load_demo(s, synthetic_air=True)
    rng = np.random.default_rng(20)
    with session_scope(url) as s:
        existing = len(indicators.scorecard(s)["indicators"])
        for k in range(existing, n_indicators):
            code = f"c{k:02d}"
            indicators.add_indicator(s, code, f"自定义指标{k}", "%", "higher" if k % 2 else "lower", "expected",
                                     targets={2025: f"{50 + k}"})  # fmt: skip
        for ind in indicators.scorecard(s)["indicators"]:
            if ind["method"] != "reported":
                continue
            level = 10.0 + 5 * rng.random()
            for y in years:
                level *= 1 + rng.normal(0.03, 0.02)
                indicators.report(s, ind["code"], y, round(level, 3), source="benchmark (synthetic)")
        return len(indicators.scorecard(s)["indicators"])


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ind.sqlite'}"
        n = build(url)
        with session_scope(url) as s:
            indicators.scorecard(s)  # warm the inventories, as the server does at start-up
            times = []
            for _ in range(20):
                t = time.perf_counter()
                card = indicators.scorecard(s)
                times.append(time.perf_counter() - t)
        values = sum(len(c["history"]) for c in card["indicators"])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "GREENPARK_DATABASE_URL": url}
        proc = subprocess.Popen([sys.executable, "-m", "greenpark.cli.main", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            time.sleep(5)  # let the start-up warm-up finish
            http = []
            for _ in range(50):
                t = time.perf_counter()
                r = httpx.get(base + "/api/indicators/scorecard", timeout=30)
                http.append(time.perf_counter() - t)
                assert r.status_code == 200
        finally:
            proc.terminate()
            proc.wait(20)
    res = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "indicators": n, "values": values,
        "in_process_ms": {"median": round(1000 * statistics.median(times), 1), "max": round(1000 * max(times), 1)},
        "http_ms": {"p50": round(1000 * statistics.median(http), 1),
                    "p95": round(1000 * sorted(http)[int(0.95 * len(http)) - 1], 1)},
    }  # fmt: skip
    print(json.dumps(res, indent=2))
    (OUT / "indicators.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
