"""The demo park's meters (issue 14), so that the energy pages are alive after ``make run``.

Four demo enterprises get a gateway and three meters each: the electricity incomer (a counter
behind a 200/5 A current transformer, multiplier 40), the compressed-air station under it (a
sub-meter, not counted again) and the natural-gas totaliser (which wraps at 1 000 000 m³). All are
marked synthetic; their last seven days of 5-minute readings are simulated once
(:mod:`greenpark.ingest.meter_sim`, with faults on E03's meters so the flags show), and ``serve
--simulate`` keeps them reporting live. Loaded once: meters that exist are left as they are.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.ingest.meter_sim import SimMeter, readings
from greenpark.services.energy import meters
from greenpark.services.energy.readings import ReadingIn, store_readings
from greenpark.store import models as m

#: (enterprise, incomer kWh/h at full load, compressed air kWh/h, gas m³/h)
DEMO = (("E01", 2000.0, 350.0, 120.0), ("E02", 900.0, 150.0, 40.0), ("E03", 1400.0, 260.0, 80.0),
        ("E04", 1100.0, 180.0, 60.0))  # fmt: skip
FAULTY = "E03"
INTERVAL_S = 300
BACKFILL = timedelta(days=7)
GAS_ROLLOVER_M3 = 1_000_000.0  # the demo's gas totaliser wraps here (a 6-digit register)


def _fields(code: str) -> list[tuple[meters.MeterFields, float]]:
    row = next(r for r in DEMO if r[0] == code)
    gw = f"GW-{code}"
    return [
        (meters.MeterFields(code=f"{code}-EL-IN", name="电力总进线（演示）", carrier="electricity", unit="kWh",
                            multiplier=40.0, max_rate_per_h=row[1] * 2, reading_interval_s=INTERVAL_S, level="plant",
                            accuracy_class="0.5S", gateway=gw, synthetic=True), row[1]),
        (meters.MeterFields(code=f"{code}-EL-AIR", name="空压站（演示）", carrier="electricity", unit="kWh",
                            max_rate_per_h=row[2] * 2, reading_interval_s=INTERVAL_S, level="equipment",
                            parent=f"{code}-EL-IN", counted=False, accuracy_class="1", gateway=gw, synthetic=True), row[2]),
        (meters.MeterFields(code=f"{code}-NG-01", name="天然气总表（演示）", carrier="natural_gas", unit="m3",
                            rollover=GAS_ROLLOVER_M3, max_rate_per_h=row[3] * 2, reading_interval_s=INTERVAL_S,
                            level="plant", accuracy_class="1.5", gateway=gw, synthetic=True), row[3]),
    ]  # fmt: skip


def sim_meters(session: Session, park_id: int) -> dict[str, list[SimMeter]]:
    """The demo's synthetic meters as simulators by their gateway's code, each counter continuing
    from its last reading."""
    out: dict[str, list[SimMeter]] = {}
    for code, *_ in DEMO:
        for f, base in _fields(code):
            meter = session.scalars(
                select(m.EnergyMeter).where(m.EnergyMeter.park_id == park_id, m.EnergyMeter.code == f.code)
            ).first()
            if meter is None or not meter.synthetic or meter.gateway_id is None:
                continue
            gateway = session.get(m.EnergyGateway, meter.gateway_id)
            last = session.scalar(
                select(m.MeterReading.value)
                .where(m.MeterReading.meter_id == meter.id)
                .order_by(m.MeterReading.at_utc.desc())
                .limit(1)
            )
            sim = SimMeter(f.code, base, f.multiplier, f.rollover)
            sim.value = float(last) if last is not None and last < 1e15 else 0.0
            out.setdefault(gateway.code if gateway else "", []).append(sim)
    return out


def load_demo_energy(session: Session, park: m.Park) -> int:
    """Make the demo meters and simulate their last week; returns the readings stored (0 when the
    meters exist already)."""
    ents = {e.code: e for e in session.scalars(select(m.Enterprise).where(m.Enterprise.park_id == park.id))}
    if session.scalar(
        select(func.count()).select_from(m.EnergyMeter).where(m.EnergyMeter.park_id == park.id)
    ):
        return 0
    stored = 0
    now = m.utcnow().replace(second=0, microsecond=0)
    start = (now - BACKFILL).replace(minute=0)
    for code, *_ in DEMO:
        ent = ents.get(code)
        if ent is None:
            continue
        meters.add_gateway(session, ent, f"GW-{code}", f"{ent.name} 数据网关（演示）")
        sims = []
        for f, base in _fields(code):
            meters.add_meter(session, ent, f)
            sim = SimMeter(f.code, base, f.multiplier, f.rollover)
            sim.rng.seed(f.code)
            if f.rollover:
                sim.value = f.rollover - base * 30  # wraps within the week: the flag shows
            else:  # a counter that has run for a while: 1 000 000 of its energy unit so far
                sim.value = 1_000_000.0 / f.multiplier
            sims.append(sim)
        batch: list[ReadingIn] = []
        for t, items in readings(sims, start, now, INTERVAL_S, faults=code == FAULTY):
            batch += [ReadingIn(str(x["meter"]), t, float(x["v"])) for x in items]  # type: ignore[arg-type]
        out = store_readings(session, park.id, batch, "simulated", enterprise_id=ent.id, now=now)
        stored += out.stored
    return stored
