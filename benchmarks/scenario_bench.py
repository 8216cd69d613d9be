"""Roadmap benchmark (issue 6): `.venv/bin/python benchmarks/scenario_bench.py [--repeats 7]`.

On the demo park (core area, base year 2020), for each preset:

- the Monte Carlo itself: 10 000 paths from the base year to 2060 (every uncertain driver drawn,
  the paths perturbed, the accounting model, peak / plateau / neutrality statistics, percentile
  bands and probabilities), in process, warm — `services.scenarios.simulate`;
- the same through the service as the API calls it cold (spec resolution, validation, cached base year);
- a deterministic run.

Target: 10 000 paths with peak statistics ≤ 1 s on the 2-vCPU machine. Writes
benchmarks/out/scenarios.json. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from greenpark.demo import load_demo
from greenpark.services.roadmap import scenarios
from greenpark.store.db import session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--paths", type=int, default=10_000)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    res: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "paths": args.paths, "repeats": args.repeats, "scenarios": {},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'sc.sqlite'}"
        upgrade(url)
        with session_scope(url) as s:
            load_demo(s, synthetic_air=False)
        with session_scope(url) as s:
            base = scenarios.base_year(s, "core")
            for code in ("baseline", "peak-2030", "peak-2025"):
                spec, _ = scenarios.resolved_spec(s, code)
                scenarios.simulate(base, spec, args.paths, 1)  # warm numpy
                mc = []
                for k in range(args.repeats):
                    t = time.perf_counter()
                    out = scenarios.simulate(base, spec, args.paths, 2060 + k)
                    mc.append(time.perf_counter() - t)
                svc = []
                for k in range(3):
                    t = time.perf_counter()
                    scenarios.montecarlo(s, code, args.paths, 9000 + k)  # a new seed: not cached
                    svc.append(time.perf_counter() - t)
                det = []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    scenarios.evaluate(s, base, spec, [code])
                    det.append(time.perf_counter() - t)
                res["scenarios"][code] = {  # type: ignore[index]
                    "uncertain_drivers": len(spec.get("uncertainty", [])),
                    "years": len(out["years"]),
                    "monte_carlo_s": {"median": round(statistics.median(mc), 3), "max": round(max(mc), 3)},
                    "monte_carlo_service_s": {"median": round(statistics.median(svc), 3)},
                    "deterministic_ms": {"median": round(1000 * statistics.median(det), 1)},
                    "p_peak_by_2030": out["p_peak_by_2030"], "p_neutral_by_2060": out["p_neutral_by_2060"],
                }  # fmt: skip
    print(json.dumps(res, indent=2))
    (OUT / "scenarios.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
