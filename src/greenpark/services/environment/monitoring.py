"""Monitoring points and their data in the store: air stations (hourly), water sections (samples),
noise points (equivalent levels). Times are stored in UTC and evaluated by Beijing day."""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import date, datetime, timedelta
from threading import Lock
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.services import illustrative
from greenpark.services.environment import air
from greenpark.services.environment.air_synthetic import (
    ILLUSTRATIVE_SYNTHETIC_LABEL,
    SYNTHETIC_LABEL,
    synthetic_year,
)
from greenpark.services.park.parks import get_park
from greenpark.services.tabular import CellError
from greenpark.store import models as m
from greenpark.store.bulk import insert_many

#: Beijing time is UTC+8 all year (HJ 212 DataTime and Chinese monitoring data are Beijing time).
BEIJING_OFFSET = timedelta(hours=8)
COLUMNS = {
    "so2": "so2_ug_m3",
    "no2": "no2_ug_m3",
    "co": "co_mg_m3",
    "o3": "o3_ug_m3",
    "pm10": "pm10_ug_m3",
    "pm25": "pm25_ug_m3",
}


class MonitoringError(ValueError):
    pass


def get_point(session: Session, key: str, kind: str | None = None) -> m.MonitoringPoint:
    """A point by code or name."""
    park = get_park(session)
    stmt = select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id)
    if kind:
        stmt = stmt.where(m.MonitoringPoint.kind == kind)
    for p in session.scalars(stmt):
        if key in (p.code, p.name):
            return p
    known = ", ".join(p.code for p in session.scalars(stmt))
    raise MonitoringError(f"unknown {kind or 'monitoring'} point {key!r}; known: {known}")


def points(session: Session, kind: str | None = None) -> list[m.MonitoringPoint]:
    """The park's points of ``kind``, in the order pages list them: air stations with data before
    those without, operating before decommissioned, the latest data first (:func:`air_stations`);
    other points in the order they were created."""
    park = get_park(session)
    stmt = (
        select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id).order_by(m.MonitoringPoint.id)
    )
    if kind:
        stmt = stmt.where(m.MonitoringPoint.kind == kind)
    found = list(session.scalars(stmt))
    if kind != "air":
        return found
    latest = {p.id: _latest_hour(session, p) for p in found}

    def order(p: m.MonitoringPoint) -> tuple[bool, bool, float]:
        last = latest[p.id]
        return last is None, is_decommissioned(p), -(last.timestamp() if last else 0.0)

    return sorted(found, key=order)


#: Words that mark a station as no longer operating (the plan's station table writes "(停用)").
DECOMMISSIONED_MARKS = ("停用", "decommissioned")


def is_decommissioned(point: m.MonitoringPoint) -> bool:
    """Whether a station no longer operates: its name or source says so (the plan's station table
    names the demo's 长江产业园 station "(停用)")."""
    text = f"{point.name} {point.source_ref}".lower()
    return any(mark in text for mark in DECOMMISSIONED_MARKS)


def _latest_hour(session: Session, point: m.MonitoringPoint) -> datetime | None:
    latest: datetime | None = session.scalar(
        select(func.max(m.AirHour.hour_utc)).where(m.AirHour.point_id == point.id)
    )
    return latest


def air_stations(session: Session) -> list[dict[str, Any]]:
    """The air stations as the environment page lists them (the first is the one it opens on):
    operating stations with the latest data first, decommissioned ones after (stations without any
    data last). Each says whether it
    is decommissioned, its years with data, its latest year, and whether its data are synthetic or
    illustrative (``data_note``)."""
    out = []
    for p in points(session, "air"):
        years = station_years(session, p)
        gone = is_decommissioned(p)
        out.append({
            "code": p.code, "station": p.name, "years": years, "data_note": p.data_note,
            "status": "decommissioned" if gone else "operating", "decommissioned": gone,
            "latest_year": years[-1] if years else None,
            "illustrative": illustrative.is_illustrative(p.source_ref), "source_ref": p.source_ref,
        })  # fmt: skip
    return out


def upsert_point(session: Session, park: m.Park, code: str, **fields: Any) -> m.MonitoringPoint:
    """Create or update a point; a field given as None is left as it is."""
    p = session.scalars(
        select(m.MonitoringPoint).where(m.MonitoringPoint.park_id == park.id, m.MonitoringPoint.code == code)
    ).first()
    if p is None:
        p = m.MonitoringPoint(park_id=park.id, code=code)
        session.add(p)
    for k, v in fields.items():
        if v is not None:
            setattr(p, k, v)
    session.flush()
    return p


def synthetic_note_may_change(point: m.MonitoringPoint) -> bool:
    """Whether a station's data note may be (re)set to a synthetic label: it is empty or still says
    its data are synthetic (an import of measured data changes the note, and it stays)."""
    return point.data_note in (None, "", SYNTHETIC_LABEL, ILLUSTRATIVE_SYNTHETIC_LABEL)


def synthetic_air_year(
    session: Session, point: m.MonitoringPoint, year: int, annual: dict[str, float], seed: int
) -> int:
    """A SYNTHETIC hourly year of an air station shaped to match the given annual values (so that a
    park's pages can be explored before its measured data arrive; stored with source "synthetic"),
    unless the station already has data that year. Returns the hours stored."""
    if _has_air_year(session, point, year):
        return 0
    return _store_series(session, point, synthetic_year(year, annual, seed=seed), source="synthetic")


def _has_air_year(session: Session, point: m.MonitoringPoint, year: int) -> bool:
    start = datetime(year, 1, 1) - BEIJING_OFFSET
    stmt = (
        select(m.AirHour.id)
        .where(
            m.AirHour.point_id == point.id,
            m.AirHour.hour_utc >= start,
            m.AirHour.hour_utc < start + timedelta(days=1),
        )
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def _store_series(session: Session, point: m.MonitoringPoint, series: air.HourlySeries, source: str) -> int:
    """Upsert a series' hours; returns how many rows changed. The hours are laid out with numpy
    (one row per hour that has any value), so a synthetic year is a single bulk insert."""
    if not series.days:
        return 0
    first = datetime.combine(series.days[0], datetime.min.time()) - BEIJING_OFFSET
    last = datetime.combine(series.days[-1], datetime.min.time()) + timedelta(days=1) - BEIJING_OFFSET
    existing = {
        r.hour_utc: r
        for r in session.scalars(
            select(m.AirHour).where(
                m.AirHour.point_id == point.id, m.AirHour.hour_utc >= first, m.AirHour.hour_utc < last
            )
        )
    }
    stack = np.stack([np.asarray(series.values[p], dtype=float).reshape(-1) for p in COLUMNS], axis=1)
    keep = np.flatnonzero(~np.all(np.isnan(stack), axis=1))  # hours with at least one value
    cells = [[None if v != v else v for v in r] for r in stack[keep].tolist()]  # NaN (v != v) -> None
    starts = [datetime.combine(d, datetime.min.time()) - BEIJING_OFFSET for d in series.days]
    hour = timedelta(hours=1)
    columns = tuple(COLUMNS.values())
    changed = 0
    new_rows: list[tuple[Any, ...]] = []
    for k, row_vals in zip(keep.tolist(), cells, strict=True):
        t = starts[k // 24] + (k % 24) * hour
        row = existing.get(t)
        if row is None:
            new_rows.append((point.id, t, source, *row_vals))
            changed += 1
        elif any(getattr(row, c) != v for c, v in zip(columns, row_vals, strict=True)):
            for c, v in zip(columns, row_vals, strict=True):
                setattr(row, c, v)
            row.source = source
            changed += 1
    if new_rows:
        session.flush()
        cols = ("point_id", "hour_utc", "source", *columns)
        insert_many(session.connection(), m.AirHour.__table__, cols, new_rows)  # type: ignore[arg-type]
    if changed:
        point.data_revision = (point.data_revision or 0) + 1
    session.flush()
    return changed


def import_air_csv(session: Session, point_key: str, filename: str, content: bytes) -> dict[str, Any]:
    """Hourly CSV (Beijing time) into a station; all-or-nothing; re-import changes nothing."""
    point = get_point(session, point_key, "air")
    series = air.read_hourly_csv(filename, content)
    changed = _store_series(session, point, series, source=f"import:{filename[:50]}")
    if changed and point.data_note in (SYNTHETIC_LABEL, ILLUSTRATIVE_SYNTHETIC_LABEL):
        point.data_note = "measured data imported over the synthetic demo year where they overlap"
    return {"station": point.code, "days": len(series.days), "hours_changed": changed}


def air_series(session: Session, point: m.MonitoringPoint, year: int) -> air.HourlySeries:
    """A station's hours of a Beijing-time year as (days, 24) arrays."""
    start = datetime(year, 1, 1) - BEIJING_OFFSET
    end = datetime(year + 1, 1, 1) - BEIJING_OFFSET
    n_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    days = [date(year, 1, 1) + timedelta(days=k) for k in range(n_days)]
    values = {p: np.full((n_days, 24), np.nan) for p in COLUMNS}
    cols = [m.AirHour.hour_utc, *(getattr(m.AirHour, c) for c in COLUMNS.values())]
    for row in session.execute(
        select(*cols).where(
            m.AirHour.point_id == point.id, m.AirHour.hour_utc >= start, m.AirHour.hour_utc < end
        )
    ):
        local = row[0] + BEIJING_OFFSET
        k, h = (local.date() - days[0]).days, local.hour
        for i, p in enumerate(COLUMNS, start=1):
            if row[i] is not None:
                values[p][k, h] = row[i]
    return air.HourlySeries(days, values)


def station_years(session: Session, point: m.MonitoringPoint) -> list[int]:
    """Beijing-time years with at least one stored hour (one indexed look-up per candidate year)."""
    first, last = session.execute(
        select(func.min(m.AirHour.hour_utc), func.max(m.AirHour.hour_utc)).where(
            m.AirHour.point_id == point.id
        )
    ).one()
    if first is None:
        return []
    span = range((first + BEIJING_OFFSET).year, (last + BEIJING_OFFSET).year + 1)
    return [y for y in span if _has_air_in_year(session, point, y)]


def _has_air_in_year(session: Session, point: m.MonitoringPoint, year: int) -> bool:
    start = datetime(year, 1, 1) - BEIJING_OFFSET
    end = datetime(year + 1, 1, 1) - BEIJING_OFFSET
    stmt = select(m.AirHour.id).where(
        m.AirHour.point_id == point.id, m.AirHour.hour_utc >= start, m.AirHour.hour_utc < end
    )
    return session.scalars(stmt.limit(1)).first() is not None


_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = Lock()


def station_year_view(session: Session, point_key: str, year: int) -> dict[str, Any]:
    """Annual evaluation, daily AQI and limits of a stored station year (cached per data revision)."""
    point = get_point(session, point_key, "air")
    key = (str(session.get_bind().engine.url), point.id, point.data_revision, year)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    series = air_series(session, point, year)
    if not any(np.any(~np.isnan(v)) for v in series.values.values()):
        raise MonitoringError(f"no data for station {point.code} in {year}")
    view = air.year_view(series, year)
    view.update(station=point.name, code=point.code, data_source=point.data_note or "measured")
    with _LOCK:
        _CACHE[key] = view
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return view


def _point_and_date(
    session: Session,
    r: dict[str, str],
    where: tuple[str, int],
    column: str,
    kind: str,
    errors: list[CellError],
) -> tuple[m.MonitoringPoint, date] | None:
    """The point and date of one import row, or None with the cell errors recorded."""
    filename, row = where
    try:
        point = get_point(session, (r.get(column) or "").strip(), kind)
    except MonitoringError as exc:
        errors.append(CellError(filename, "", row, column, str(exc)))
        return None
    text = (r.get("date") or "").strip()
    if len(text) > 10 and text[10] in " T" and text[11:].strip("0:") == "":  # an Excel date cell
        text = text[:10]
    try:
        return point, date.fromisoformat(text)
    except ValueError:
        errors.append(CellError(filename, "", row, "date", "not a date (YYYY-MM-DD)"))
        return None


def import_water_csv(session: Session, filename: str, content: bytes) -> dict[str, Any]:
    """Water samples ``section,date,item,value`` (mg/L); every bad cell reported; all or nothing."""
    from greenpark.data.environment import gb3838_items

    known = {w.item for w in gb3838_items()}
    sheet, _header, data = air.first_sheet_text(filename, content)
    errors: list[CellError] = []
    rows = []
    for i, r in data:
        found = _point_and_date(session, r, (filename, i), "section", "water", errors)
        if found is None:
            continue
        point, on = found
        item = (r.get("item") or "").strip()
        if item not in known:
            errors.append(CellError(filename, sheet, i, "item", f"unknown GB 3838 item {item!r}"))
            continue
        try:
            value = float(r.get("value") or "")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError
        except ValueError:
            errors.append(CellError(filename, sheet, i, "value", "must be a non-negative number"))
            continue
        rows.append((point, on, item, value))
    if errors:
        raise air.AirDataRejected(errors)
    changed = 0
    for point, on, item, value in rows:
        s = session.scalars(
            select(m.WaterSample).where(
                m.WaterSample.point_id == point.id, m.WaterSample.sampled_on == on, m.WaterSample.item == item
            )
        ).first()
        if s is None:
            session.add(
                m.WaterSample(
                    point_id=point.id, sampled_on=on, item=item, value=value, source=f"import:{filename[:50]}"
                )
            )
            changed += 1
        elif s.value != value:
            s.value = value
            changed += 1
    session.flush()
    return {"rows": len(rows), "changed": changed}


def section_class_on(session: Session, section: str, on: date) -> dict[str, Any]:
    """GB 3838 class of a section from its samples of one day, against its target class."""
    point = get_point(session, section, "water")
    samples = session.scalars(
        select(m.WaterSample).where(m.WaterSample.point_id == point.id, m.WaterSample.sampled_on == on)
    ).all()
    if not samples:
        raise MonitoringError(f"no samples for {point.code} on {on}")
    out = air.water_class({s.item: s.value for s in samples}, point.water_body or "river", point.target_class)
    return {"section": point.name, "code": point.code, "date": on.isoformat(), **out}


def section_samples(session: Session, section: str, limit_days: int = 3660) -> dict[str, Any]:
    """A water section's samples, one row per sampling day (newest first): the GB 3838 class of the
    day and each item's value, with the items named in both languages (for the samples table)."""
    from greenpark.data.environment import gb3838_item

    point = get_point(session, section, "water")
    body = point.water_body or "river"
    by_day: OrderedDict[date, dict[str, float]] = OrderedDict()
    for s in session.scalars(
        select(m.WaterSample)
        .where(m.WaterSample.point_id == point.id)
        .order_by(m.WaterSample.sampled_on.desc(), m.WaterSample.item)
    ):
        if s.sampled_on not in by_day and len(by_day) >= limit_days:
            break
        by_day.setdefault(s.sampled_on, {})[s.item] = s.value
    codes = sorted({k for v in by_day.values() for k in v})
    items = []
    for k in codes:
        try:
            w = gb3838_item(k, body)
            items.append({"item": k, "name_zh": w.name_zh, "name_en": w.name_en, "unit": w.unit})
        except ValueError:
            items.append({"item": k, "name_zh": k, "name_en": k, "unit": ""})
    days = []
    for d, values in by_day.items():
        try:
            c = air.water_class(values, body, point.target_class)
        except ValueError:
            c = {}
        days.append({"date": d.isoformat(), "class": c.get("class"), "meets_target": c.get("meets_target"),
                     "exceedance": c.get("exceedance", {}), "values": values})  # fmt: skip
    return {"code": point.code, "section": point.name, "target_class": point.target_class, "water_body": body,
            "items": items, "days": days}  # fmt: skip


def import_noise_csv(session: Session, filename: str, content: bytes) -> dict[str, Any]:
    """Noise measurements ``point,date,period,leq_db`` (day/night, dB(A)); all or nothing."""
    sheet, _header, data = air.first_sheet_text(filename, content)
    errors: list[CellError] = []
    rows = []
    for i, r in data:
        found = _point_and_date(session, r, (filename, i), "point", "noise", errors)
        if found is None:
            continue
        point, on = found
        period = (r.get("period") or "").strip()
        if period not in ("day", "night"):
            errors.append(CellError(filename, sheet, i, "period", "must be day or night"))
            continue
        try:
            leq = float(r.get("leq_db") or "")
            if not 0 < leq < 200:
                raise ValueError
        except ValueError:
            errors.append(
                CellError(filename, sheet, i, "leq_db", "must be a level in dB(A) between 0 and 200")
            )
            continue
        rows.append((point, on, period, leq))
    if errors:
        raise air.AirDataRejected(errors)
    changed = 0
    for point, on, period, leq in rows:
        stmt = select(m.NoiseMeasurement).where(
            m.NoiseMeasurement.point_id == point.id,
            m.NoiseMeasurement.measured_on == on,
            m.NoiseMeasurement.period == period,
        )
        row = session.scalars(stmt).first()
        if row is None:
            session.add(
                m.NoiseMeasurement(
                    point_id=point.id,
                    measured_on=on,
                    period=period,
                    leq_db=leq,
                    source=f"import:{filename[:50]}",
                )
            )
            changed += 1
        elif row.leq_db != leq:
            row.leq_db = leq
            changed += 1
    session.flush()
    return {"rows": len(rows), "changed": changed}


def noise_point_on(session: Session, point_key: str, on: date) -> list[dict[str, Any]]:
    """GB 3096 compliance of a noise point's day and night levels on a date."""
    point = get_point(session, point_key, "noise")
    rows = session.scalars(
        select(m.NoiseMeasurement).where(
            m.NoiseMeasurement.point_id == point.id, m.NoiseMeasurement.measured_on == on
        )
    ).all()
    if not rows:
        raise MonitoringError(f"no noise measurement at {point.code} on {on}")
    return [
        {
            "point": point.code,
            "date": on.isoformat(),
            **air.noise_check(point.noise_zone_class or "", r.leq_db, r.period),
        }
        for r in rows
    ]


def latest_section_classes(session: Session) -> dict[str, dict[str, Any]]:
    """Each water section's class on its latest sampling day (for the page)."""
    out: dict[str, dict[str, Any]] = {}
    for p in points(session, "water"):
        last = session.scalars(
            select(m.WaterSample.sampled_on)
            .where(m.WaterSample.point_id == p.id)
            .order_by(m.WaterSample.sampled_on.desc())
            .limit(1)
        ).first()
        if last is not None:
            out[p.code] = section_class_on(session, p.code, last)
    return out


def latest_noise_levels(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Each noise point's levels on its latest measurement day, with compliance (for the page)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in points(session, "noise"):
        last = session.scalars(
            select(m.NoiseMeasurement.measured_on)
            .where(m.NoiseMeasurement.point_id == p.id)
            .order_by(m.NoiseMeasurement.measured_on.desc())
            .limit(1)
        ).first()
        if last is not None:
            out[p.code] = noise_point_on(session, p.code, last)
    return out
