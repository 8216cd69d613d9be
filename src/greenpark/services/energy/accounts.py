"""Metered energy into the accounts (issue 14 §4): an enterprise's month of cleaned meter energy
becomes activity records of quality ``metered``, with lineage back to its meters and their coverage.

- **What counts.** Every active counted meter of the enterprise read in the field (counter, interval,
  manual; a sub-meter under a counted meter is not counted, a virtual meter is computed) whose
  purpose is ``energy``. Feedstock (原料用能) and new renewables are summed apart and returned, not
  booked: the dual-control rules exclude them from assessed energy (research note §1.9, [V]), and the
  inventory has no column for them yet.
- **Units.** A meter's energy in its own unit (kWh, m³, GJ …) is converted to its carrier's unit of
  account (10⁴ kWh, 10⁴ m³ …) with ``core.units.conversion_factor``; a meter whose unit does not
  convert is named, not guessed.
- **Lineage.** ``source_ref`` names the meters and the month's coverage (readings received over
  expected); ``note`` each meter's energy and coverage.
- **Never twice.** If the enterprise has records of another quality for that year and month (a
  monthly import, a verified figure), the meters' figure is *not* added to them: it is returned
  beside them as a reconciliation (metered vs recorded, difference), so the two are shown, not
  summed. Booking a month again replaces its metered records (same natural keys).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from greenpark.core.units import UnitError, conversion_factor
from greenpark.services.carbon import records
from greenpark.services.energy.rollup import BEIJING, clean_meter, series
from greenpark.store import models as m

QUALITY = "metered"
DEFAULT_SECTOR = "industry"
BOOKED_KINDS = ("counter", "interval", "manual")


@dataclass(frozen=True)
class MonthRange:
    year: int
    month: int

    @property
    def start_utc(self) -> datetime:
        return datetime(self.year, self.month, 1) - BEIJING

    @property
    def end_utc(self) -> datetime:
        y, mo = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(y, mo, 1) - BEIJING


def _sector(session: Session, ent: m.Enterprise, year: int) -> str:
    ar = m.ActivityRecord
    row = session.execute(
        select(ar.sector, func.count()).where(ar.enterprise_id == ent.id, ar.year == year, ar.sector.is_not(None))
        .group_by(ar.sector).order_by(func.count().desc())
    ).first()  # fmt: skip
    return str(row[0]) if row else DEFAULT_SECTOR


def book_month(
    session: Session, park: m.Park, year: int, month: int, *, by: str, enterprise_id: int | None = None
) -> list[dict[str, Any]]:
    """Book the month's metered energy of the park's enterprises (or one); one result per enterprise."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError("year 2000–2100 and month 1–12")
    rng = MonthRange(year, month)
    now = m.utcnow()
    if rng.start_utc >= now:
        raise ValueError(f"{year}-{month:02d} has not begun")
    end = min(rng.end_utc, now)
    carriers = {c.code: c for c in session.scalars(select(m.Carrier))}
    q = select(m.EnergyMeter).where(
        m.EnergyMeter.park_id == park.id, m.EnergyMeter.active.is_(True), m.EnergyMeter.counted.is_(True),
        m.EnergyMeter.kind.in_(BOOKED_KINDS),
    ).order_by(m.EnergyMeter.enterprise_id, m.EnergyMeter.code)  # fmt: skip
    if enterprise_id is not None:
        q = q.where(m.EnergyMeter.enterprise_id == enterprise_id)
    by_ent: dict[int, list[m.EnergyMeter]] = defaultdict(list)
    for meter in session.scalars(q):
        by_ent[meter.enterprise_id].append(meter)
    out = []
    for eid, meters in by_ent.items():
        ent = session.get(m.Enterprise, eid)
        if ent is None:
            continue
        out.append(_book_enterprise(session, park, ent, meters, rng, end, carriers, by))
    if any(r["booked"] for r in out):
        park.data_revision = (park.data_revision or 0) + 1
    return out


def _book_enterprise(session: Session, park: m.Park, ent: m.Enterprise, meters: list[m.EnergyMeter], rng: MonthRange,
                     end: datetime, carriers: dict[str, m.Carrier], by: str) -> dict[str, Any]:  # fmt: skip
    sums: dict[tuple[str, str], float] = defaultdict(float)
    received: dict[tuple[str, str], float] = defaultdict(float)
    expected: dict[tuple[str, str], float] = defaultdict(float)
    used: dict[tuple[str, str], list[str]] = defaultdict(list)
    per_meter, problems = [], []
    for meter in meters:
        clean_meter(session, meter, rng.start_utc, end)
        s = series(session, meter, rng.start_utc, end, "month")
        energy = sum(x["energy"] for x in s)
        cov = s[0]["coverage_pct"] if len(s) == 1 else None
        carrier_row = carriers.get(meter.carrier_code)
        try:
            factor = conversion_factor(meter.unit, carrier_row.unit) if carrier_row else None
        except UnitError:
            factor = None
        if factor is None:
            problems.append(
                {
                    "meter": meter.code,
                    "reason": f"its unit {meter.unit} does not convert to the carrier's unit",
                }
            )
            continue
        key = (meter.carrier_code, meter.purpose)
        sums[key] += energy * factor
        slots = session.execute(
            select(func.sum(case((m.MeterSlot.received < m.MeterSlot.expected, m.MeterSlot.received), else_=m.MeterSlot.expected)),
                   func.sum(m.MeterSlot.expected))
            .where(m.MeterSlot.meter_id == meter.id, m.MeterSlot.start_utc >= rng.start_utc, m.MeterSlot.start_utc < end)
        ).one()  # fmt: skip
        expected[key] += float(slots[1] or 0.0)
        received[key] += float(slots[0] or 0.0)
        used[key].append(meter.code)
        per_meter.append({"meter": meter.code, "carrier": meter.carrier_code, "purpose": meter.purpose,
                          "energy": round(energy, 6), "unit": meter.unit, "coverage_pct": cov})  # fmt: skip
    ar = m.ActivityRecord
    others = session.execute(
        select(ar.carrier_code, func.sum(ar.quantity)).where(
            ar.enterprise_id == ent.id, ar.year == rng.year, ar.month == rng.month, ar.quality != QUALITY
        ).group_by(ar.carrier_code)
    ).all()  # fmt: skip
    recorded = {c: float(q or 0.0) for c, q in others}
    entity = records.EntityRef(ent.zone_id, ent.id, f"enterprise:{ent.code}")
    sector = _sector(session, ent, rng.year)
    rows: list[dict[str, Any]] = []
    apart: list[dict[str, Any]] = []
    reconciliation: list[dict[str, Any]] = []
    for (carrier, purpose), qty in sorted(sums.items()):
        cov = (
            round(100.0 * received[(carrier, purpose)] / expected[(carrier, purpose)], 1)
            if expected[(carrier, purpose)]
            else None
        )
        unit = carriers[carrier].unit
        if purpose != "energy":
            apart.append(
                {
                    "carrier": carrier,
                    "purpose": purpose,
                    "quantity": round(qty, 6),
                    "unit": unit,
                    "coverage_pct": cov,
                }
            )
            continue
        if recorded:
            rec = recorded.get(carrier)
            reconciliation.append({"carrier": carrier, "unit": unit, "metered": round(qty, 6), "recorded": rec,
                                   "difference": None if rec is None else round(qty - rec, 6)})  # fmt: skip
            continue
        ref = f"metered: {', '.join(used[(carrier, purpose)])}; coverage {cov} %"[:300]
        note = "; ".join(f"{p['meter']} {p['energy']:.3f} {p['unit']} ({p['coverage_pct']} %)" for p in per_meter
                         if p["carrier"] == carrier and p["purpose"] == purpose)  # fmt: skip
        rows.append({"entity": entity, "year": rng.year, "month": rng.month, "sector": sector, "boundary": "all",
                     "carrier": carrier, "quantity": qty, "unit": unit, "energy_tce": None, "tce_basis": "calorific",
                     "source_ref": ref, "quality": QUALITY, "note": f"计量数据（清洗后）/ metered (cleaned): {note}"[:2000]})  # fmt: skip
    written = (
        records.upsert_activity(session, park, rows, None, by=by, batch=f"metered {rng.year}-{rng.month:02d}")
        if rows
        else 0
    )
    return {
        "enterprise": ent.code, "year": rng.year, "month": rng.month, "booked": bool(rows), "changed": written,
        "records": [{"carrier": r["carrier"], "quantity": round(float(r["quantity"]), 6), "unit": r["unit"],
                     "source_ref": r["source_ref"]} for r in rows],
        "excluded_from_assessed": apart, "reconciliation": reconciliation, "meters": per_meter, "problems": problems,
    }  # fmt: skip
