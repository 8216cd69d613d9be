"""Cleaned 15-minute slots and their hourly, daily and monthly roll-ups, each with its coverage.

:func:`clean_meter` reads a meter's raw readings over a range (and a day before it, for the
baseline), cleans them with ``core.meters`` and writes the range's 15-minute slots (replacing what
was there: cleaning again after late readings arrive gives the same answer as cleaning once).
:func:`series` sums slots into hours, days or months of Beijing time; a figure's coverage is the
readings received over those expected in it, so every figure says how complete it is."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from greenpark.core.meters import Flag, counter_steps, interval_steps, to_slots
from greenpark.services.energy.meters import counter_spec
from greenpark.services.pollution.ingest import BEIJING as BEIJING  # Beijing time, UTC+8 all year
from greenpark.services.pollution.ingest import beijing_day_start_utc
from greenpark.store import models as m
from greenpark.store.bulk import insert_many

SLOT_S = 900
LOOKBACK = timedelta(days=1)
STEPS = ("15min", "hour", "day", "month")


def _epoch(t: datetime) -> float:
    return t.replace(tzinfo=UTC).timestamp()


def _naive(s: float) -> datetime:
    return datetime.fromtimestamp(s, UTC).replace(tzinfo=None)


def floor_slot(t: datetime) -> datetime:
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


@dataclass(frozen=True)
class Cleaned:
    meter: str
    slots: int
    energy: float
    flagged: int
    pending_from: datetime | None


@dataclass(frozen=True)
class SlotRow:
    start_utc: datetime
    energy: float
    flags: int
    received: int
    expected: float


def compute_slots(
    session: Session, meter: m.EnergyMeter, start_utc: datetime, end_utc: datetime
) -> tuple[list[SlotRow], datetime | None]:
    """``meter``'s cleaned 15-minute slots in [start, end) (UTC, naive), computed from its readings
    (and a day before, for the baseline) and written nowhere; with the time of an unresolved drop."""
    start, end = floor_slot(start_utc), floor_slot(end_utc + timedelta(seconds=SLOT_S - 1))
    q = (
        select(m.MeterReading.at_utc, m.MeterReading.value)
        .where(
            m.MeterReading.meter_id == meter.id,
            m.MeterReading.at_utc >= start - LOOKBACK,
            m.MeterReading.at_utc < end,
        )
        .order_by(m.MeterReading.at_utc)
    )
    rows = session.execute(q).all()
    t = np.fromiter((_epoch(a) for a, _ in rows), np.float64, len(rows))
    v = np.fromiter((x for _, x in rows), np.float64, len(rows))
    if meter.kind == "interval":
        steps = interval_steps(t, v * meter.multiplier, meter.reading_interval_s, meter.max_rate_per_h)
    else:
        steps = counter_steps(t, v, counter_spec(meter))
    sl = to_slots(steps, _epoch(start), _epoch(end), SLOT_S, meter.reading_interval_s)
    if meter.kind == "interval":  # a period that did not arrive is a gap, never assumed
        sl.flags[sl.received == 0] |= int(Flag.GAP)
    first_reading = _epoch(rows[0][0]) if rows else None
    now = _epoch(m.utcnow())
    out = []
    for k in range(len(sl.energy)):
        s0 = sl.start_s + k * SLOT_S
        if first_reading is None or s0 + SLOT_S <= first_reading:
            continue  # before the meter's first reading: not a slot of this meter yet
        # the slot under way expects only the readings of its time so far
        expected = (
            float(sl.expected) * min(1.0, max(0.0, (now - s0) / SLOT_S))
            if s0 + SLOT_S > now
            else float(sl.expected)
        )
        out.append(SlotRow(_naive(s0), float(sl.energy[k]), int(sl.flags[k]), int(sl.received[k]), expected))
    pending = _naive(steps.pending_from) if steps.pending_from is not None else None
    return out, pending


def clean_meter(session: Session, meter: m.EnergyMeter, start_utc: datetime, end_utc: datetime) -> Cleaned:
    """Clean ``meter``'s readings and (re)write its stored 15-minute slots in [start, end) (UTC,
    naive): what the accounts book from (reading pages compute theirs without writing)."""
    start, end = floor_slot(start_utc), floor_slot(end_utc + timedelta(seconds=SLOT_S - 1))
    slots, pending = compute_slots(session, meter, start_utc, end_utc)
    session.execute(
        delete(m.MeterSlot).where(
            m.MeterSlot.meter_id == meter.id, m.MeterSlot.start_utc >= start, m.MeterSlot.start_utc < end
        )
    )
    out = [(meter.id, r.start_utc, r.energy, r.flags, r.received, r.expected) for r in slots]
    insert_many(session.connection(), m.MeterSlot.__table__, ("meter_id", "start_utc", "energy", "flags", "received", "expected"), out)  # type: ignore[arg-type]  # fmt: skip
    return Cleaned(
        meter=meter.code,
        slots=len(out),
        energy=float(sum(r.energy for r in slots)),
        flagged=sum(1 for r in slots if r.flags),
        pending_from=pending,
    )


def _period_key(start_utc: datetime, step: str) -> datetime:
    """The Beijing-time start of the period a slot falls in (returned as Beijing wall time)."""
    local = start_utc + BEIJING
    if step == "15min":
        return local
    if step == "hour":
        return local.replace(minute=0)
    if step == "day":
        return local.replace(hour=0, minute=0)
    return local.replace(day=1, hour=0, minute=0)


def series(
    session: Session, meter: m.EnergyMeter, start_utc: datetime, end_utc: datetime, step: str
) -> list[dict[str, Any]]:
    """The meter's stored slots summed per period (see :func:`aggregate`)."""
    q = (
        select(
            m.MeterSlot.start_utc,
            m.MeterSlot.energy,
            m.MeterSlot.flags,
            m.MeterSlot.received,
            m.MeterSlot.expected,
        )
        .where(
            m.MeterSlot.meter_id == meter.id,
            m.MeterSlot.start_utc >= start_utc,
            m.MeterSlot.start_utc < end_utc,
        )
        .order_by(m.MeterSlot.start_utc)
    )
    return aggregate([SlotRow(*r) for r in session.execute(q)], meter.unit, step)


def aggregate(slots: list[SlotRow], unit: str, step: str) -> list[dict[str, Any]]:
    """Slots summed per period (Beijing time, labelled with the period's start) with coverage
    (received / expected readings, %) and what happened in it (flag names)."""
    if step not in STEPS:
        raise ValueError(f"step: one of {', '.join(STEPS)}")
    acc: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0, 0.0, 0.0])
    for r in slots:
        a = acc[_period_key(r.start_utc, step)]
        a[0] += r.energy
        a[1] = int(a[1]) | r.flags
        a[2] += min(r.received, r.expected)
        a[3] += r.expected
    return [
        {
            "start": k.isoformat(sep=" ", timespec="minutes"),
            "energy": round(e, 6),
            "unit": unit,
            "coverage_pct": round(100.0 * r / x, 1) if x else None,
            "flags": [f.name for f in Flag if f and int(fl) & f],
        }
        for k, (e, fl, r, x) in sorted(acc.items())
    ]


def overview(
    session: Session, park_id: int, enterprise_ids: frozenset[int] | None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Each meter (of these enterprises) with its last reading, and today's and this month's cleaned
    energy with their coverage and flags (Beijing days and months; cleaned again on reading)."""
    now = now or m.utcnow()
    today = beijing_day_start_utc(now)
    local = now + BEIJING
    month = datetime(local.year, local.month, 1) - BEIJING
    q = (
        select(m.EnergyMeter, m.Enterprise.code, m.Enterprise.name, m.Carrier.name_zh, m.Carrier.name_en)
        .join(m.Enterprise, m.Enterprise.id == m.EnergyMeter.enterprise_id)
        .join(m.Carrier, m.Carrier.code == m.EnergyMeter.carrier_code)
        .where(m.EnergyMeter.park_id == park_id, m.EnergyMeter.active.is_(True))
        .order_by(m.Enterprise.code, m.EnergyMeter.code)
    )
    if enterprise_ids is not None:
        q = q.where(m.EnergyMeter.enterprise_id.in_(enterprise_ids))
    found = list(session.execute(q))
    ids = [row[0].id for row in found]
    lasts: dict[int, datetime] = {}
    for i in range(0, len(ids), 10_000):  # each meter's last reading, one grouped query
        q_last = (
            select(m.MeterReading.meter_id, func.max(m.MeterReading.at_utc))
            .where(m.MeterReading.meter_id.in_(ids[i : i + 10_000]))
            .group_by(m.MeterReading.meter_id)
        )
        lasts.update({mid: at for mid, at in session.execute(q_last)})
    out = []
    for meter, ent_code, ent_name, carrier_zh, carrier_en in found:
        last = lasts.get(meter.id)
        row: dict[str, Any] = {
            "code": meter.code, "name": meter.name, "enterprise": ent_code, "enterprise_name": ent_name,
            "carrier": meter.carrier_code, "carrier_name_zh": carrier_zh, "carrier_name_en": carrier_en, "unit": meter.unit, "kind": meter.kind, "level": meter.level,
            "counted": meter.counted, "synthetic": meter.synthetic,
            "last_reading_utc": last.isoformat(timespec="seconds") + "Z" if last else None,
        }  # fmt: skip
        if meter.kind in ("counter", "interval") and last is not None:
            slots, pending = compute_slots(session, meter, month, now)
            for key, start in (("today", today), ("month", month)):
                agg = aggregate([r for r in slots if r.start_utc >= start], meter.unit, "month")
                row[f"{key}_energy"] = round(sum(x["energy"] for x in agg), 3) if agg else 0.0
                row[f"{key}_coverage_pct"] = agg[0]["coverage_pct"] if len(agg) == 1 else None
                row[f"{key}_flags"] = sorted({f for x in agg for f in x["flags"]})
            row["pending_from"] = pending.isoformat() + "Z" if pending else None
        out.append(row)
    return out
