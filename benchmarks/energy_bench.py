"""Energy platform benchmark (issue 14 §8): `.venv/bin/python benchmarks/energy_bench.py`.

1. **MQTT ingestion.** A fresh database (SQLite file; PostgreSQL too with ``--postgres``) with the
   demo park and ``--meters`` simulated meters (default 10 000) behind one gateway. greenpark's
   subscriber runs as its own process (`greenpark energy listen`, QoS 1, acknowledged after
   commit) on the local Mosquitto broker; `greenpark energy simulate` publishes as fast as it can
   (``--readings`` in all, 500 a message, QoS 1; ``--rate`` to pace it, e.g. at the target), both on a Mosquitto broker the benchmark starts
   with the settings docs/energy.md asks of a park's broker (``max_queued_messages 0``: keep what a
   busy subscriber has not taken; ``max_inflight_messages 200``). Measured from the store: readings stored per
   second between the first and the last commit, and how long after the last publish the last one
   was committed. Latency: a probe meter is published every 0.2 s during the load with its reading
   time set to the real time of publishing; its readings' commit time minus that time gives
   p50/p99 from publish to commit (the broker and the queue included).
2. **Cleaning and roll-up.** One year of 15-minute counter readings for ``--clean-meters`` meters
   (default 1 000: 35 million readings) with faults, cleaned by ``core.meters`` and rolled up to
   months, in one process from arrays (the store's part is measured in 1.).

Writes benchmarks/out/energy.json. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, select, text

from greenpark.core.meters import CounterSpec, counter_steps, to_slots
from greenpark.demo import load_demo
from greenpark.services.energy import meters
from greenpark.services.energy.mqtt import readings_topic
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.store.migrate import upgrade

OUT = Path(__file__).parent / "out"
GP = [sys.executable, "-m", "greenpark.cli.main"]


def _machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _prepare(url: str, n: int) -> str:
    upgrade(url)
    with session_scope(url) as s:
        load_demo(s, synthetic_air=False)
        e = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E05")).one()
        meters.add_gateway(s, e, "GW-SIM", "bench")
        meters.add_meter(
            s,
            e,
            meters.MeterFields(
                code="PROBE", name="probe", carrier="electricity", unit="kWh", gateway="GW-SIM"
            ),
        )
        park = s.scalars(select(m.Park)).one().code
    # the simulated meters in bulk (simulate would make them one by one)
    eng = create_engine(url)
    with eng.begin() as c:
        row = c.execute(text("SELECT id, park_id FROM energy_gateway WHERE code = 'GW-SIM'")).one()
        ent = c.execute(text("SELECT enterprise_id FROM energy_gateway WHERE code = 'GW-SIM'")).scalar_one()
        now = datetime.now(UTC).replace(tzinfo=None)
        c.execute(
            m.EnergyMeter.__table__.insert(),
            [dict(park_id=row.park_id, enterprise_id=ent, code=f"SIM-{i:05d}", name=f"bench {i}", carrier_code="electricity",
                  unit="kWh", kind="counter", multiplier=1.0, max_rate_per_h=2000.0, reading_interval_s=300,
                  accuracy_class="", level="plant", formula="", counted=True, purpose="energy", gateway_id=row.id,
                  synthetic=True, active=True, note="", register_json="", created_utc=now, updated_utc=now)
             for i in range(1, n + 1)],
        )  # fmt: skip
    eng.dispose()
    return park


def _probe(park: str, stop: threading.Event, port: int) -> int:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{uuid.uuid4().hex[:6]}")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    k = 0
    while not stop.is_set():
        t = datetime.now(UTC).isoformat()
        body = json.dumps({"readings": [{"meter": "PROBE", "t": t, "v": float(k)}]})
        pub.publish(readings_topic(park, "GW-SIM"), body, qos=1)
        k += 1
        time.sleep(0.2)
    pub.disconnect()
    pub.loop_stop()
    return k


def _broker(tmp: str) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = int(so.getsockname()[1])
    conf = Path(tmp) / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                    "max_inflight_messages 200\npersistence false\n")  # fmt: skip
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    return proc, port


def ingest(
    url: str, n_meters: int, n_readings: int, port: int, rate: float = 1_000_000.0
) -> dict[str, object]:
    park = _prepare(url, n_meters)
    env = {**os.environ, "GREENPARK_DATABASE_URL": url}
    listener = subprocess.Popen([*GP, "energy", "listen", "--seconds", "0", "--port", str(port)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    time.sleep(3)
    stop = threading.Event()
    probes = threading.Thread(target=_probe, args=(park, stop, port), daemon=True)
    probes.start()
    duration = max(0.1, n_readings / rate)
    t0 = time.monotonic()
    sim = subprocess.run([*GP, "energy", "simulate", "--meters", str(n_meters), "--rate", str(rate), "--duration",
                          str(duration), "--port", str(port), "--json"], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    published_s = time.monotonic() - t0
    sent = json.loads(sim.stdout)["readings"]
    eng = create_engine(url)
    deadline = time.monotonic() + 600
    stored = 0
    while time.monotonic() < deadline:
        with eng.connect() as c:
            stored = c.execute(
                select(func.count()).select_from(m.MeterReading).where(m.MeterReading.source == "mqtt")
            ).scalar_one()
        if stored >= sent:
            break
        time.sleep(0.5)
    drained = time.monotonic()
    stop.set()
    probes.join()
    time.sleep(1)
    listener.terminate()
    listener.wait(30)
    with eng.connect() as c:
        first, last = c.execute(
            select(func.min(m.MeterReading.received_utc), func.max(m.MeterReading.received_utc)).where(
                m.MeterReading.source == "mqtt", m.MeterReading.meter_id != select(m.EnergyMeter.id).where(m.EnergyMeter.code == "PROBE").scalar_subquery()
            )
        ).one()  # fmt: skip
        probe_rows = c.execute(
            select(m.MeterReading.at_utc, m.MeterReading.received_utc).join(m.EnergyMeter).where(m.EnergyMeter.code == "PROBE")
        ).all()  # fmt: skip
    eng.dispose()
    span = (last - first).total_seconds() if first and last else None
    lat = sorted((r - a).total_seconds() * 1000 for a, r in probe_rows)
    return {
        "backend": url.split(":")[0], "meters": n_meters, "rate_asked": rate, "published": sent, "stored": stored,
        "publish_s": round(published_s, 2), "store_span_s": round(span, 2) if span else None,
        "stored_per_s": round(stored / span) if span else None,
        "drained_after_publish_s": round(drained - t0 - published_s, 2),
        "probe_latency_ms": {"n": len(lat), "p50": round(statistics.median(lat), 1) if lat else None,
                             "p99": round(lat[int(0.99 * (len(lat) - 1))], 1) if lat else None},
    }  # fmt: skip


def clean(n_meters: int) -> dict[str, object]:
    rng = np.random.default_rng(3)
    step = 900.0
    t = np.arange(0, 365 * 86400, step)
    total = 0
    t0 = time.perf_counter()
    months = np.array(
        [datetime(2025, mo, 1, tzinfo=UTC).timestamp() for mo in range(1, 13)]
        + [datetime(2026, 1, 1, tzinfo=UTC).timestamp()]
    )
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    for k in range(n_meters):
        v = np.cumsum(rng.uniform(0, 50, len(t)))
        if k % 10 == 0:  # one meter in ten with faults: a glitch, a spike, a reset and an outage
            v = v.copy()
            v[1000] = 0.0
            v[2000] = 1.8e21
            v[5000:] -= v[5000] - 3.0
            keep = np.ones(len(t), bool)
            keep[8000:8040] = False
            tt, vv = t[keep] + start, v[keep]
        else:
            tt, vv = t + start, v
        steps = counter_steps(tt, vv, CounterSpec(max_rate_per_h=400.0))
        slots = to_slots(steps, start, start + 365 * 86400, step, step)
        idx = np.searchsorted(months, slots.start_s + step * np.arange(len(slots.energy)), side="right") - 1
        np.bincount(idx, weights=slots.energy, minlength=12)
        total += len(tt)
    took = time.perf_counter() - t0
    return {
        "meters": n_meters,
        "readings": total,
        "seconds": round(took, 2),
        "readings_per_s": round(total / took),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=10_000)
    ap.add_argument("--readings", type=int, default=1_000_000)
    ap.add_argument("--clean-meters", type=int, default=1000)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument(
        "--rate", type=float, default=1_000_000.0, help="readings/s published (default: as fast as it can)"
    )
    args = ap.parse_args()
    out: dict[str, object] = {"machine": _machine(), "when": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory() as tmp:
        broker, port = _broker(tmp)
        try:
            out["ingest_sqlite"] = ingest(
                f"sqlite:///{tmp}/bench.sqlite", args.meters, args.readings, port, args.rate
            )
            print(json.dumps(out["ingest_sqlite"], indent=2))
            if args.postgres:
                out["ingest_postgresql"] = _postgres(args, port)
        finally:
            broker.terminate()
    out["clean"] = clean(args.clean_meters)
    print(json.dumps(out["clean"], indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / "energy.json").write_text(json.dumps(out, indent=2))


def _postgres(args: argparse.Namespace, port: int) -> dict[str, object]:
    base = os.environ.get("GREENPARK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"gp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        res = ingest(base.rsplit("/", 1)[0] + "/" + name, args.meters, args.readings, port, args.rate)
        print(json.dumps(res, indent=2))
        return res
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
