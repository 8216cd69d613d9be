"""Reporting and verification cycle benchmark (issue 13 §6): `.venv/bin/python benchmarks/mrv_bench.py`.

A park of 1 000 reporting enterprises (key carbon emitters), each with 12 months of evidence for
2025 and a 2025 report, spread over every stage of the cycle (submitted, returned, accepted,
verification assigned … closed), inserted in bulk; those without a report the register can use
(none, returned: 167 of 1 000) have activity records instead, so the register computes their
carbon inventories (the demo park's accounting profile); then:

1. the status board over HTTP (uvicorn on loopback, `GET /api/mrv/status?year=2025` as a park
   officer): p50/p95 of repeated requests (target p95 <= 200 ms), on SQLite and PostgreSQL;
2. one annual report's consistency checks (`services/mrv/reports.run_checks`), median of repeats
   (target <= 100 ms);
3. the tamper-evident log of 1 000 000 chained entries (inserted with executemany), verified by
   `services/mrv/log.verify` (target <= 10 s; every entry hashed again, the ranges of entries walked
   by one process a core) — on SQLite and, when reachable, on PostgreSQL
   (`GREENPARK_BENCH_POSTGRES_URL`, default the test server; a database is created and dropped).

Writes benchmarks/out/mrv.json. Nothing here is a test. `--log-entries N` and `--enterprises N`
make a smaller run.
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
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import yaml
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from greenpark.demo import XIANNING, load_reference
from greenpark.services.mrv import log, reports
from greenpark.services.park import auth
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"
YEAR = 2025
PG_URL = os.environ.get("GREENPARK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Report status and verification stage of each share of the enterprises.
STAGES = [("submitted", None), ("returned", None), ("accepted", None), ("accepted", "assigned"),
          ("accepted", "declared"), ("accepted", "doc_review"), ("accepted", "site_visit"),
          ("accepted", "concluded"), ("accepted", "notified"), ("accepted", "appealed"),
          ("verified", "closed"), (None, None)]  # fmt: skip
PASSWORD = "bench-password-1"


def build_park(url: str, n: int) -> int:
    """The park, its officer, n enterprises with 12 months of evidence and a report in a stage."""
    upgrade(url)
    with session_scope(url) as s:
        load_reference(s)
        profile = yaml.safe_load((XIANNING / "park.yaml").read_text(encoding="utf-8"))["accounting_profile"]
        park = m.Park(code="bench", name_zh="基准园区", name_en="Benchmark park", province="hubei",
                      grid_region="central_china", accounting_profile_json=json.dumps(profile))  # fmt: skip
        s.add(park)
        s.flush()
        auth.create_user(s, "officer", PASSWORD, auth.Role.PARK_STAFF, park_id=park.id, by="bench")
        body = m.MrvBody(park_id=park.id, code="B1", name="核查机构")
        s.add(body)
        s.flush()
        park_id, body_id = park.id, body.id
        s.execute(insert(m.Enterprise), [{"park_id": park_id, "code": f"E{i:04d}", "name": f"企业{i:04d}",
                                          "tags": "key_carbon_emitter"} for i in range(n)])  # fmt: skip
        ents = list(
            s.scalars(
                select(m.Enterprise.id).where(m.Enterprise.park_id == park_id).order_by(m.Enterprise.id)
            )
        )
        at = datetime(YEAR, 2, 1)
        s.execute(insert(m.MrvEvidence), [
            {"park_id": park_id, "enterprise_id": e, "year": YEAR, "month": mo, "version": 1,
             "due_date": date(YEAR, mo, 28), "submitted_by": "bench", "submitted_utc": at + timedelta(days=30 * mo),
             "late": (e + mo) % 7 == 0, "note": ""}
            for e in ents for mo in range(1, 13)
        ])  # fmt: skip
        ev = {(e, mo): i for i, e, mo in s.execute(select(m.MrvEvidence.id, m.MrvEvidence.enterprise_id, m.MrvEvidence.month))}  # fmt: skip
        s.execute(insert(m.MrvEvidenceValue), [
            {"evidence_id": ev[(e, mo)], "parameter": "energy", "item": c, "value": q, "unit": u}
            for e in ents for mo in range(1, 13)
            for c, q, u in (("raw_coal", 900.0, "t"), ("electricity", 120.0, "10^4 kWh"))
        ])  # fmt: skip
        # the enterprises without a report the register can use (none, or returned) report activity
        # records instead: their figures come from the carbon inventory of each one's scope
        s.execute(insert(m.ActivityRecord), [
            {"natural_key": f"bench|{e}|{YEAR}|{c}", "park_id": park_id, "enterprise_id": e, "year": YEAR,
             "sector": "industry", "boundary": "all", "carrier_code": c, "quantity": q, "unit": u,
             "source_ref": "bench"}
            for k, e in enumerate(ents) if STAGES[k % len(STAGES)][0] in (None, "returned")
            for c, q, u in (("raw_coal", 10_800.0, "t"), ("electricity", 1_440.0, "10^4 kWh"))
        ])  # fmt: skip
        park.data_revision += 1
        for k, e in enumerate(ents):
            status, stage = STAGES[k % len(STAGES)]
            if status is None:
                continue
            r = m.MrvReport(park_id=park_id, enterprise_id=e, year=YEAR, version=1, status=status, submitted_by="bench",
                            combustion_co2_t=20_000.0, electricity_co2_t=8_000.0, total_co2_t=28_000.0,
                            total_excl_purchased_co2_t=20_000.0, energy_tce=12_000.0)  # fmt: skip
            s.add(r)
            s.flush()
            s.add_all([
                m.MrvReportLine(report_id=r.id, section="combustion", item="raw_coal", quantity=10_800.0, unit="t",
                                ncv_gj_per_unit=20.908, ncv_source="default", carbon_content_tc_per_gj=0.02608,
                                carbon_content_source="default", oxidation_fraction=0.94, oxidation_source="default",
                                co2_t=20_000.0),
                m.MrvReportLine(report_id=r.id, section="electricity", item="electricity", quantity=14_400.0,
                                unit="MWh", factor=0.5556, factor_unit="tCO2/MWh", co2_t=8_000.0),
            ])  # fmt: skip
            if stage is not None:
                v = m.MrvVerification(park_id=park_id, enterprise_id=e, year=YEAR, body_id=body_id,
                                      initial_report_id=r.id, stage=stage, assigned_by="bench",
                                      due_date=date(YEAR + 1, 6, 30), appeal_due_date=date(YEAR + 1, 7, 9))  # fmt: skip
                s.add(v)
                s.flush()
                if stage == "appealed":
                    s.add(m.MrvAppeal(verification_id=v.id, filed_by="bench", grounds="复核", decision_due_date=date(YEAR + 1, 7, 23)))  # fmt: skip
                if stage in ("doc_review", "site_visit"):
                    s.add(m.MrvNonConformity(verification_id=v.id, number=1, description="计量", opened_by="bench",
                                             due_date=date(YEAR + 1, 5, 1)))  # fmt: skip
    return park_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, most_s: float = 120.0) -> None:
    """Wait until the process has used under 5 % of a core for a second (at least 3 s, at most ``most_s``)."""
    time.sleep(2)
    end = time.monotonic() + most_s
    while time.monotonic() < end:
        before = process_cpu_s(pid)
        time.sleep(1)
        if not process_cpu_s(pid) - before >= 0.05:  # NaN (no /proc) counts as idle
            return


def status_board_http(url: str, repeats: int = 50) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "greenpark.cli.main", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        wait_idle(proc.pid)  # let the start-up warm-up (the cockpits' inventories) finish
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/auth/login", json={"username": "officer", "password": PASSWORD})
            assert r.status_code == 200, r.text
            params = {"year": YEAR, "today": "2026-04-15"}
            t = time.perf_counter()
            first = c.get("/api/mrv/status", params=params)
            cold = time.perf_counter() - t
            assert first.status_code == 200, first.text
            times = []
            cpu = process_cpu_s(proc.pid)
            for _ in range(repeats):
                t = time.perf_counter()
                r = c.get("/api/mrv/status", params=params)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200
            cpu = process_cpu_s(proc.pid) - cpu
            board = first.json()
    finally:
        proc.terminate()
        proc.wait(20)
    times.sort()
    return {"enterprises_months": len(board["months"]), "enterprises_reports": len(board["reports"]),
            "cold_ms": round(1000 * cold, 1), "p50_ms": round(1000 * statistics.median(times), 1),
            "p95_ms": round(1000 * times[int(0.95 * len(times)) - 1], 1),
            # the server's own CPU a request (user + system; its background threads included): what
            # the wall times come to on an idle machine, whatever else runs on it
            "server_cpu_ms_per_request": round(1000 * cpu / repeats, 1)}  # fmt: skip


def report_checks(url: str, repeats: int = 20) -> dict[str, float]:
    with session_scope(url) as s:
        report = s.scalars(select(m.MrvReport).where(m.MrvReport.status == "submitted").limit(1)).one()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            checks = reports.run_checks(s, report)
            times.append(time.perf_counter() - t)
            s.rollback()
    return {"checks": len(checks), "median_ms": round(1000 * statistics.median(times), 2),
            "max_ms": round(1000 * max(times), 2)}  # fmt: skip


def fill_log(url: str, n: int, batch: int = 50_000) -> float:
    """n chained entries, inserted with executemany in batches; returns the seconds it took."""
    from greenpark.core.mrv import log_entry_sha256

    t0 = time.perf_counter()
    with session_scope(url) as s:
        park_id = s.scalar(select(m.Park.id).limit(1))
    prev, start = log.GENESIS, datetime(YEAR, 1, 1)
    eng = create_engine(url)
    with eng.begin() as conn:
        rows = []
        for seq in range(1, n + 1):
            at = start + timedelta(seconds=seq)
            payload = json.dumps({"month": seq % 12 + 1, "energy_tce": round(seq * 0.37, 2)}, sort_keys=True)
            fields = log._fields(seq, at, park_id, None, "bench", "evidence.submit", "evidence", seq, payload)
            sha = log_entry_sha256(prev, fields)
            rows.append({"seq": seq, "at_utc": at, "park_id": park_id, "enterprise_id": None, "actor": "bench",
                         "action": "evidence.submit", "entity": "evidence", "entity_id": seq, "payload_json": payload,
                         "prev_sha256": prev, "sha256": sha})  # fmt: skip
            prev = sha
            if len(rows) == batch:
                conn.execute(insert(m.MrvLogEntry), rows)
                rows = []
        if rows:
            conn.execute(insert(m.MrvLogEntry), rows)
    eng.dispose()
    with session_scope(url) as s:
        log.sign_head(s)
    return time.perf_counter() - t0


def verify_log(url: str) -> dict[str, float]:
    """``log.verify`` as ``greenpark audit verify`` runs it (the ranges walked by one process a core)."""
    with session_scope(url) as s:
        t, cpu = time.perf_counter(), time.process_time()
        out = log.verify(s)
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
    assert out["ok"], out
    return {"entries": out["entries"], "verify_s": round(took, 2), "cpu_s_this_process": round(cpu, 2)}


def pg_database() -> str | None:
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"gp_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # the reason is printed
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); SQLite only")
        return None
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg(url: str) -> None:
    dispose_engine(url)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=1000)
    ap.add_argument("--log-entries", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    res: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "enterprises": args.enterprises, "log_entries": args.log_entries,
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'mrv.sqlite'}"
        t = time.perf_counter()
        build_park(url, args.enterprises)
        res["build_s"] = round(time.perf_counter() - t, 1)
        res["status_board_http"] = status_board_http(url)
        res["report_checks"] = report_checks(url)
        res["log_sqlite"] = {"fill_s": round(fill_log(url, args.log_entries), 1), **verify_log(url)}
        dispose_engine(url)
    pg = None if args.no_postgres else pg_database()
    if pg is not None:
        try:
            build_park(pg, args.enterprises)
            res["status_board_http_postgresql"] = status_board_http(pg)
            res["log_postgresql"] = {"fill_s": round(fill_log(pg, args.log_entries), 1), **verify_log(pg)}
        finally:
            drop_pg(pg)
    res["load_average_1_5_15_min"] = [round(x, 2) for x in os.getloadavg()]  # others' work on the machine
    print(json.dumps(res, indent=2, ensure_ascii=False))
    (OUT / "mrv.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
