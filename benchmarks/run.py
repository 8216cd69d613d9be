"""greenpark benchmarks (issue 2): `make bench` or `.venv/bin/python benchmarks/run.py`.

A synthetic park of 1 000 enterprises x 60 months x 15 carriers (900 000 activity rows) in a SQLite
file, then:

1. the full inventory with lineage, computed from the database: the park for each of the five
   years, broken down by carrier, sector, zone and enterprise (target <= 2 s for all 900 000 rows);
2. the cockpit API over a real socket (uvicorn on 127.0.0.1) — cold first request, then the 95th
   percentile of repeated requests across scopes and years (target <= 150 ms).

Prints the figures and writes them to benchmarks/out/results.json. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import numpy as np
from sqlalchemy import func, insert, select

from greenpark.demo import XIANNING, load_reference
from greenpark.services.carbon.inventory import compute_inventory
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"
CARRIERS = [
    ("raw_coal", "t"),
    ("washed_coal", "t"),
    ("coke", "t"),
    ("crude_oil", "t"),
    ("fuel_oil", "t"),
    ("gasoline", "t"),
    ("kerosene", "t"),
    ("diesel", "t"),
    ("lpg", "t"),
    ("refinery_gas", "t"),
    ("natural_gas", "10^4 m3"),
    ("coke_oven_gas", "10^4 m3"),
    ("oil_products", "t"),
    ("electricity", "10^4 kWh"),
    ("heat", "GJ"),
]
YEARS = range(2020, 2025)
ZONES = ["core", "xianan", "chibi", "jiayu", "tongcheng"]
SECTORS = ["industry", "industry", "industry", "commercial", "transport"]


def build(url: str, n_enterprises: int, seed: int) -> None:
    import yaml

    upgrade(url)
    with session_scope(url) as s:
        if s.scalar(select(func.count()).select_from(m.ActivityRecord)):
            print("  (database exists; reusing it)")
            return
        load_reference(s)
        meta = yaml.safe_load((XIANNING / "park.yaml").read_text(encoding="utf-8"))
        park = m.Park(
            code="bench",
            name_zh="基准测试园区",
            name_en="Benchmark park",
            accounting_profile_json=json.dumps(meta["accounting_profile"]),
        )
        s.add(park)
        s.flush()
        zones = []
        for code in ZONES:
            z = m.Zone(park_id=park.id, code=code, name_zh=code, name_en=code)
            s.add(z)
            zones.append(z)
        s.flush()
        rng = np.random.default_rng(seed)
        ents = []
        for i in range(n_enterprises):
            e = m.Enterprise(
                park_id=park.id, zone_id=zones[i % len(zones)].id, code=f"B{i:04d}", name=f"企业{i:04d}"
            )
            s.add(e)
            ents.append(e)
        s.flush()
        park_id = park.id
        ent_rows = [(e.id, e.zone_id, e.code, SECTORS[i % len(SECTORS)]) for i, e in enumerate(ents)]
        econ = []
        for z in zones:
            for y in YEARS:
                for ind in ("gdp", "industrial_value_added"):
                    econ.append(
                        {
                            "natural_key": f"{park_id}|zone:{z.code}|{y}|{ind}|current",
                            "park_id": park_id,
                            "zone_id": z.id,
                            "year": y,
                            "indicator": ind,
                            "value_10k_yuan": float(rng.uniform(2e5, 8e5)),
                            "price_basis": "current",
                            "source_ref": "synthetic",
                            "note": "",
                        }
                    )
        for y in YEARS:
            for ind in ("gdp", "industrial_value_added"):
                econ.append(
                    {
                        "natural_key": f"{park_id}|park|{y}|{ind}|current",
                        "park_id": park_id,
                        "zone_id": None,
                        "year": y,
                        "indicator": ind,
                        "value_10k_yuan": float(rng.uniform(2e6, 4e6)),
                        "price_basis": "current",
                        "source_ref": "synthetic",
                        "note": "",
                    }
                )
        s.execute(insert(m.EconomicRecord), econ)
    t0 = time.perf_counter()
    batch: list[dict[str, object]] = []
    total = 0
    with session_scope(url) as s:
        for eid, zid, code, sector in ent_rows:
            scale = rng.lognormal(0, 1)
            for y in YEARS:
                for month in range(1, 13):
                    q = rng.uniform(0.5, 1.5, len(CARRIERS)) * scale * 10
                    for (carrier, unit), qty in zip(CARRIERS, q, strict=True):
                        batch.append(
                            {
                                "natural_key": f"{park_id}|enterprise:{code}|{y}|{month}|{sector}|all|{carrier}|synthetic",
                                "park_id": park_id,
                                "zone_id": zid,
                                "enterprise_id": eid,
                                "year": y,
                                "month": month,
                                "sector": sector,
                                "boundary": "all",
                                "carrier_code": carrier,
                                "quantity": float(qty),
                                "unit": unit,
                                "energy_tce": None,
                                "tce_basis": "calorific",
                                "source_ref": "synthetic",
                                "quality": "estimated",
                                "note": "",
                            }
                        )
            if len(batch) >= 60_000:
                s.execute(insert(m.ActivityRecord), batch)
                total += len(batch)
                batch = []
                print(f"\r  inserted {total:,} rows", end="", flush=True)
        if batch:
            s.execute(insert(m.ActivityRecord), batch)
            total += len(batch)
        s.execute(m.Park.__table__.update().values(data_revision=1))
    print(f"\r  inserted {total:,} activity rows in {time.perf_counter() - t0:.1f} s")


def bench_inventory(url: str, repeats: int) -> dict[str, object]:
    times = []
    rows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = 0
        with session_scope(url) as s:
            for y in YEARS:
                r = compute_inventory(
                    s, scope_code="park", year=y, by=("enterprise", "zone"), park_code="bench"
                )
                rows += r["totals"]["records"]
                assert len(r["by_enterprise"]) > 0 and r["by_carrier"][0]["lineage"]["factors"]
        times.append(time.perf_counter() - t0)
    one_year = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with session_scope(url) as s:
            compute_inventory(s, scope_code="park", year=2024, by=("enterprise", "zone"), park_code="bench")
        one_year.append(time.perf_counter() - t0)
    return {
        "rows": rows,
        "all_years_s": {"min": min(times), "median": statistics.median(times)},
        "one_year_s": {"min": min(one_year), "median": statistics.median(one_year)},
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_cockpit(url: str, requests: int) -> dict[str, object]:
    port = _free_port()
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    log = (OUT / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenpark.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        targets = [f"/api/cockpit?scope={s}&year={y}" for s in ("park", *ZONES) for y in YEARS]
        with httpx.Client(base_url=base, timeout=60) as c:
            t0 = time.perf_counter()
            assert c.get(targets[0]).status_code == 200
            cold = time.perf_counter() - t0
            warm_first = []
            for t in targets[1:]:  # first visit of every scope and year (fills the cache)
                t0 = time.perf_counter()
                c.get(t).raise_for_status()
                warm_first.append(time.perf_counter() - t0)
            lat = []
            for i in range(requests):
                t0 = time.perf_counter()
                c.get(targets[i % len(targets)]).raise_for_status()
                lat.append(time.perf_counter() - t0)
        lat.sort()
        return {
            "cold_first_request_s": cold,
            "first_visit_other_scopes_p95_s": sorted(warm_first)[int(0.95 * (len(warm_first) - 1))],
            "requests": requests,
            "p50_s": lat[len(lat) // 2],
            "p95_s": lat[int(0.95 * (len(lat) - 1))],
            "max_s": lat[-1],
        }
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20211)
    ap.add_argument("--fresh", action="store_true", help="rebuild the synthetic database")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    db = OUT / f"bench-{args.enterprises}.sqlite"
    if args.fresh and db.exists():
        db.unlink()
    url = f"sqlite:///{db}"
    print(f"synthetic park: {args.enterprises} enterprises x 60 months x {len(CARRIERS)} carriers -> {db}")
    build(url, args.enterprises, args.seed)
    print("inventory with lineage from the database …")
    inv = bench_inventory(url, args.repeats)
    print(
        f"  all five years ({inv['rows']:,} rows): median {inv['all_years_s']['median']:.2f} s, best {inv['all_years_s']['min']:.2f} s   (target <= 2 s)"
    )
    print(f"  one year: median {inv['one_year_s']['median']:.2f} s")
    print("cockpit API over HTTP …")
    ck = bench_cockpit(url, args.requests)
    print(
        f"  cold first request {ck['cold_first_request_s']:.2f} s; first visit of other scopes/years p95 {ck['first_visit_other_scopes_p95_s'] * 1000:.0f} ms"
    )
    print(
        f"  {ck['requests']} requests: p50 {ck['p50_s'] * 1000:.1f} ms, p95 {ck['p95_s'] * 1000:.1f} ms, max {ck['max_s'] * 1000:.1f} ms   (target p95 <= 150 ms)"
    )
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor(),
        },
        "enterprises": args.enterprises,
        "inventory": inv,
        "cockpit": ck,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    (OUT / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
