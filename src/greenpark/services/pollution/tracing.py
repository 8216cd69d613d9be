"""River-section tracing (企业排口联动溯源): when a section's water quality worsens, rank the outlets
upstream of it by the load they discharged in the preceding window, with the data behind it.

Upstream of a section (river R, km k): every outlet on R above k, and every outlet on a tributary
(recursively) that joins R above k. Load of an outlet and item over the window = Σ hourly mean
concentration (mg/L) × hourly flow (m³) / 1000 = kg, from the hourly roll-ups (flow w00000 in L/s,
HJ 212-2017 Table B.1: m³/h = L/s × 3.6).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.i18n import Msg
from greenpark.services.environment import air
from greenpark.services.environment.monitoring import get_point
from greenpark.services.pollution.sources import pollutant_name
from greenpark.store import models as m

#: GB 3838 item -> HJ 212-2017 code of the same substance in waste water.
ITEM_CODES = {"cod": "w01018", "nh3n": "w21003", "tp": "w21011", "tn": "w21001"}
FLOW_CODE = "w00000"
M3_PER_HOUR_PER_L_S = 3.6
BEIJING = timedelta(hours=8)


class TracingError(ValueError):
    pass


def upstream_outlets(session: Session, river_id: int, km: float) -> list[tuple[m.Outlet, float]]:
    """Outlets upstream of (river, km) with their distance along the water (km) to the section."""
    out: list[tuple[m.Outlet, float]] = []
    for o in session.scalars(
        select(m.Outlet).where(m.Outlet.river_id == river_id, m.Outlet.river_km.is_not(None))
    ):
        assert o.river_km is not None
        if o.river_km <= km:
            out.append((o, km - o.river_km))
    for trib in session.scalars(select(m.River).where(m.River.parent_id == river_id)):
        if trib.confluence_km is None or trib.confluence_km > km:
            continue
        # the tributary's mouth: as far down as anything on it is known to be
        marks = [o.river_km for o in session.scalars(select(m.Outlet).where(m.Outlet.river_id == trib.id))]
        marks += list(session.scalars(select(m.RiverSection.km).where(m.RiverSection.river_id == trib.id)))
        mouth = max((x for x in marks if x is not None), default=0.0)
        for o, d in upstream_outlets(session, trib.id, mouth):
            out.append((o, d + km - trib.confluence_km))
    return out


def worsening(session: Session, point: m.MonitoringPoint, on: date) -> dict[str, Any]:
    """What got worse at the section on ``on``: its class against the previous sample day and the
    items over the target class."""
    days = sorted(
        set(session.scalars(select(m.WaterSample.sampled_on).where(m.WaterSample.point_id == point.id,
                                                                   m.WaterSample.sampled_on <= on)))
    )  # fmt: skip
    if not days or days[-1] != on:
        raise TracingError(Msg("no samples at {section} on {date}", section=point.name, date=on.isoformat()))

    def cls(d: date) -> dict[str, Any]:
        samples = session.scalars(
            select(m.WaterSample).where(m.WaterSample.point_id == point.id, m.WaterSample.sampled_on == d)
        ).all()
        return air.water_class(
            {s.item: s.value for s in samples}, point.water_body or "river", point.target_class
        )

    now = cls(on)
    before = cls(days[-2]) if len(days) > 1 else None
    classes = ["I", "II", "III", "IV", "V", "劣V"]
    dropped = bool(before and classes.index(now["class"]) > classes.index(before["class"]))
    over = sorted(now.get("exceedance", {}))
    return {
        "date": on.isoformat(), "class": now["class"], "previous_date": days[-2].isoformat() if before else None,
        "previous_class": before["class"] if before else None, "class_dropped": dropped,
        "target": point.target_class, "items_over_target": over, "exceedance": now.get("exceedance", {}),
        "worsened": dropped or bool(over),
    }  # fmt: skip


def trace(session: Session, section: str, on: date | None = None, window_hours: int = 24,
          items: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Rank the outlets upstream of ``section`` by their load of each item in the ``window_hours``
    before the end of the sample day ``on`` (default: the latest sample day)."""
    point = get_point(session, section, "water")
    rs = session.scalars(select(m.RiverSection).where(m.RiverSection.point_id == point.id)).first()
    if rs is None:
        raise TracingError(
            Msg("{section} is not placed on a river (add it to the sections sheet)", section=point.name)
        )
    if on is None:
        on = session.scalar(
            select(m.WaterSample.sampled_on)
            .where(m.WaterSample.point_id == point.id)
            .order_by(m.WaterSample.sampled_on.desc())
            .limit(1)
        )
        if on is None:
            raise TracingError(Msg("no samples at {section}", section=point.name))
    change = worsening(session, point, on)
    wanted = items or [i for i in change["items_over_target"] if i in ITEM_CODES] or list(ITEM_CODES)[:3]
    bad = [i for i in wanted if i not in ITEM_CODES]
    if bad:
        raise TracingError(
            Msg(
                "cannot trace {items}: known items {known}", items=", ".join(bad), known=", ".join(ITEM_CODES)
            )
        )
    end_utc = datetime(on.year, on.month, on.day) + timedelta(days=1) - BEIJING
    start_utc = end_utc - timedelta(hours=window_hours)
    river = session.get(m.River, rs.river_id)
    ranking: list[dict[str, Any]] = []
    for outlet, distance in upstream_outlets(session, rs.river_id, rs.km):
        ent = session.get(m.Enterprise, outlet.enterprise_id)
        point_ids = list(
            session.scalars(select(m.SourcePoint.id).where(m.SourcePoint.outlet_id == outlet.id))
        )
        hourly: dict[str, dict[datetime, float]] = defaultdict(dict)
        for roll in session.scalars(
            select(m.SourceRollup).where(
                m.SourceRollup.point_id.in_(point_ids), m.SourceRollup.period == "hour",
                m.SourceRollup.start_utc >= start_utc, m.SourceRollup.start_utc < end_utc,
                m.SourceRollup.code.in_([FLOW_CODE, *(ITEM_CODES[i] for i in wanted)]),
            )
        ):  # fmt: skip
            if roll.avg is not None:
                hourly[roll.code][roll.start_utc] = roll.avg
        flow = hourly.get(FLOW_CODE, {})
        loads = {}
        for item in wanted:
            conc = hourly.get(ITEM_CODES[item], {})
            hours = sorted(set(conc) & set(flow))
            kg = sum(conc[h] * flow[h] * M3_PER_HOUR_PER_L_S / 1000 for h in hours)
            loads[item] = {
                "kg": round(kg, 3), "hours": len(hours),
                "mean_mg_l": round(sum(conc[h] for h in hours) / len(hours), 3) if hours else None,
            }  # fmt: skip
        water_m3 = sum(v * M3_PER_HOUR_PER_L_S for v in flow.values())
        ranking.append({
            "enterprise": ent.name if ent else "", "enterprise_id": outlet.enterprise_id, "outlet": outlet.name,
            "outlet_id": outlet.id, "distance_km": round(distance, 2), "water_m3": round(water_m3, 1),
            "hours_with_flow": len(flow), "loads": loads,
        })  # fmt: skip
    key = wanted[0]
    ranking.sort(key=lambda r: -r["loads"][key]["kg"])
    total = sum(r["loads"][key]["kg"] for r in ranking) or 1.0
    for k, r in enumerate(ranking, start=1):
        r["rank"], r["share"] = k, round(r["loads"][key]["kg"] / total, 4)
    return {
        "section": point.name, "river": river.name if river else "", "km": rs.km, "change": change,
        "items": wanted, "item_names": {i: pollutant_name(ITEM_CODES[i]) for i in wanted}, "ranked_by": key,
        "window": {"start_utc": start_utc.isoformat() + "Z", "end_utc": end_utc.isoformat() + "Z",
                   "hours": window_hours},
        "method": Msg("load (kg) = Σ hourly mean concentration (mg/L) × hourly flow (m³) ÷ 1000; hourly flow (m³) "
                      "= {flow} (L/s) × 3.6", flow=pollutant_name(FLOW_CODE)),
        "ranking": ranking,
    }  # fmt: skip
