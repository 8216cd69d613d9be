"""Air, water and noise evaluation use-cases: hourly rows -> hourly and daily AQI, annual
evaluation, water class and noise compliance. Tables come from :mod:`greenpark.data.environment`;
every formula from the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from greenpark.core import airquality as aq
from greenpark.core.aqi import AqiEdition, aqi, aqi_arrays, edition_for
from greenpark.core.noise import noise_exceedance_db
from greenpark.core.water import CLASSES, exceedance_multiple, section_class
from greenpark.data.environment import (
    aqi_categories,
    aqi_edition,
    aqi_editions,
    gb3095_in_force,
    gb3096_limits,
    gb3838_item,
    gb3838_items,
)
from greenpark.services.tabular import CellError, TableRejected, read_sheets

POLLUTANTS = ("so2", "no2", "co", "o3", "pm10", "pm25")
HOURLY_COLUMNS = ("time", *POLLUTANTS)


class AirDataRejected(TableRejected):
    """An environmental-data upload was refused; nothing was imported."""


def pick_edition(edition: str | None, day: date) -> AqiEdition:
    return aqi_edition(edition) if edition else edition_for(day, list(aqi_editions()))


def aqi_one(
    values: dict[str, float | None], period: str, day: date, edition: str | None = None
) -> dict[str, Any]:
    """One hour's or day's AQI as the CLI and API return it."""
    if period not in ("hour", "day"):
        raise ValueError("period must be hour or day")
    result = aqi(values, pick_edition(edition, day), period)
    return result.as_dict(aqi_categories())


@dataclass
class HourlySeries:
    days: list[date]
    values: dict[str, np.ndarray]  # pollutant -> (days, 24)


def read_hourly_csv(filename: str, content: bytes) -> HourlySeries:
    """Hourly rows ``time,so2,no2,co,o3,pm10,pm25`` from a .csv or .xlsx file (Beijing time, ug/m3,
    CO mg/m3; empty = missing). Every bad cell is reported with file, sheet, row and column;
    nothing is returned then."""
    return _read_hourly_rows(filename, *first_sheet_text(filename, content))


def first_sheet_text(
    filename: str, content: bytes
) -> tuple[str, list[str], list[tuple[int, dict[str, str]]]]:
    """The first sheet of an upload (or its CSV table) with every cell as text (dates as
    ``YYYY-MM-DD HH:MM:SS``): (sheet name, header, [(row number, {column: text})])."""
    sh = read_sheets(filename, content, AirDataRejected)[0]

    def text(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, datetime):
            return v.isoformat(sep=" ")
        return str(v)

    return sh.title, sh.header, [(i, {h: text(v) for h, v in r.items()}) for i, r in sh.records()]


def _read_hourly_rows(
    filename: str, sheet: str, header: list[str], data: list[tuple[int, dict[str, Any]]]
) -> HourlySeries:
    errors = [CellError(filename, sheet, 1, c, "missing column") for c in HOURLY_COLUMNS if c not in header]
    errors += [
        CellError(filename, sheet, 1, c, f"unknown column; expected {', '.join(HOURLY_COLUMNS)}")
        for c in header
        if c and c not in HOURLY_COLUMNS
    ]
    if errors:
        raise AirDataRejected(errors)
    rows: list[tuple[datetime, dict[str, float]]] = []
    seen: set[datetime] = set()
    for i, r in data:
        try:
            t = datetime.fromisoformat(str(r["time"]).strip())
            if t.minute or t.second:
                errors.append(CellError(filename, sheet, i, "time", "hourly data must be on the hour"))
            if t in seen:
                errors.append(CellError(filename, sheet, i, "time", "this hour appears twice"))
            seen.add(t)
        except ValueError:
            errors.append(
                CellError(filename, sheet, i, "time", f"{r['time']!r} is not a date-time (YYYY-MM-DD HH:MM)")
            )
            continue
        vals: dict[str, float] = {}
        for p in POLLUTANTS:
            cell = str(r.get(p) or "").strip()
            if not cell:
                vals[p] = np.nan
                continue
            try:
                v = float(cell)
            except ValueError:
                errors.append(CellError(filename, sheet, i, p, f"{cell!r} is not a number"))
                continue
            if v < 0 or not np.isfinite(v):
                errors.append(CellError(filename, sheet, i, p, "must be a non-negative number"))
            vals[p] = v
        rows.append((t, vals))
    if errors:
        raise AirDataRejected(errors)
    if not rows:
        raise AirDataRejected([CellError(filename, sheet, 2, "", "no data rows")])
    days = sorted({t.date() for t, _ in rows})
    index = {d: k for k, d in enumerate(days)}
    arrays = {p: np.full((len(days), 24), np.nan) for p in POLLUTANTS}
    for t, vals in rows:
        for p, v in vals.items():
            arrays[p][index[t.date()], t.hour] = v
    return HourlySeries(days, arrays)


def daily_statistics(series: HourlySeries) -> dict[str, np.ndarray]:
    """Daily means (≥ 20 h), O3 daily max 1-h (≥ 20 h, an assumption: Table 4 gives no rule for it)
    and daily max 8-h (GB 3095 Table 4 / HJ 663), with the hour counts."""
    out: dict[str, np.ndarray] = {}
    for p in ("so2", "no2", "co", "pm10", "pm25"):
        out[p], out[f"{p}_hours"] = aq.daily_mean(series.values[p])
    o3 = series.values["o3"]
    out["o3"], out["o3_hours"] = aq.daily_max_1h(o3)
    out["o3_8h"], out["o3_8h_windows"] = aq.daily_max_8h(o3)
    return out


def hourly_and_daily_aqi(
    series: HourlySeries, edition: str | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """AQI of every hour and every day of a station's hourly series."""
    cats = aqi_categories()
    hourly_rows: list[dict[str, Any]] = []
    daily_rows: list[dict[str, Any]] = []
    daily = daily_statistics(series)
    o3_8h_moving, _ = aq.moving_8h_mean(series.values["o3"].reshape(-1))
    o3_8h_moving = o3_8h_moving.reshape(len(series.days), 24)
    for k, d in enumerate(series.days):
        ed = pick_edition(edition, d)
        hv = {p: series.values[p][k] for p in POLLUTANTS}
        if "o3_8h" in ed.hourly_pollutants:
            hv["o3_8h"] = o3_8h_moving[k]
        h = aqi_arrays(hv, ed, "hour")
        for hour in range(24):
            a = h["aqi"][hour]
            hourly_rows.append({
                "time": f"{d.isoformat()} {hour:02d}:00",
                "aqi": None if np.isnan(a) else int(a),
                "level": int(h["level"][hour]) or None,
                "category": cats[int(h["level"][hour])].name_zh if h["level"][hour] else "",
                "primary": "/".join(p for p, m in h["primary"].items() if m[hour]),
                **{f"iaqi_{p}": (None if np.isnan(v[hour]) else int(v[hour])) for p, v in h["iaqi"].items()},
                "edition": ed.name,
            })  # fmt: skip
        dv = {p: np.array([daily[p][k]]) for p in ed.daily_pollutants}
        dd = aqi_arrays(dv, ed, "day")
        a = dd["aqi"][0]
        daily_rows.append({
            "date": d.isoformat(),
            "aqi": None if np.isnan(a) else int(a),
            "level": int(dd["level"][0]) or None,
            "category": cats[int(dd["level"][0])].name_zh if dd["level"][0] else "",
            "primary": "/".join(p for p, m in dd["primary"].items() if m[0]),
            **{f"{p}": (None if np.isnan(daily[p][k]) else round(float(daily[p][k]), 3)) for p in (*POLLUTANTS, "o3_8h")},
            "hours_min": int(min(daily[f"{p}_hours"][k] for p in ("so2", "no2", "co", "pm10", "pm25", "o3"))),
            "edition": ed.name,
        })  # fmt: skip
    return hourly_rows, daily_rows


def annual_evaluation(series: HourlySeries, year: int, edition_day: date | None = None) -> dict[str, Any]:
    """Annual statistics, GB 3095 grade II compliance, composite index, good days (HJ 663-2013).

    Limits are those in force on ``edition_day`` (default: 31 December of the year).
    """
    day = edition_day or date(year, 12, 31)
    keep = [k for k, d in enumerate(series.days) if d.year == year]
    sub = HourlySeries([series.days[k] for k in keep], {p: v[keep] for p, v in series.values.items()})
    daily = daily_statistics(sub)
    months = np.array([d.month for d in sub.days])
    limits = gb3095_in_force(day)
    stats: dict[str, dict[str, Any]] = {}
    for p in ("so2", "no2", "pm10", "pm25"):
        valid, _per_month = aq.annual_mean_valid(daily[p], months)
        mean = float(np.nanmean(daily[p])) if np.any(~np.isnan(daily[p])) else float("nan")
        pct = 98 if p in ("so2", "no2") else 95
        lim = limits[(p, "annual")]
        hours = daily[f"{p}_hours"]
        stats[p] = {
            "invalid_days": int(np.sum((hours > 0) & (hours < aq.MIN_HOURS_DAILY_MEAN))),
            "annual_mean": mean, "valid": valid, "valid_days": int(np.sum(~np.isnan(daily[p]))),
            f"daily_p{pct}": aq.percentile_hj663(daily[p], pct),
            "limit_annual": lim.grade_2, "meets_limit": bool(valid and mean <= lim.grade_2), "unit": lim.unit,
        }  # fmt: skip
    co_p95 = aq.percentile_hj663(daily["co"], 95)
    o3_p90 = aq.percentile_hj663(daily["o3_8h"], 90)
    stats["co"] = {
        "daily_p95": co_p95,
        "limit": limits[("co", "24h")].grade_2,
        "meets_limit": co_p95 <= limits[("co", "24h")].grade_2,
        "unit": "mg/m3",
    }
    stats["o3_8h"] = {
        "daily_max_8h_p90": o3_p90,
        "limit": limits[("o3", "8h_max")].grade_2,
        "meets_limit": o3_p90 <= limits[("o3", "8h_max")].grade_2,
        "unit": "ug/m3",
    }
    denominators = {"so2": limits[("so2", "annual")].grade_2, "no2": limits[("no2", "annual")].grade_2, "pm10": limits[("pm10", "annual")].grade_2,
                    "pm25": limits[("pm25", "annual")].grade_2, "co": limits[("co", "24h")].grade_2, "o3_8h": limits[("o3", "8h_max")].grade_2}  # fmt: skip
    conc = {p: stats[p]["annual_mean"] for p in ("so2", "no2", "pm10", "pm25")} | {
        "co": co_p95,
        "o3_8h": o3_p90,
    }
    index, parts = aq.composite_index(conc, denominators)
    _, daily_rows = hourly_and_daily_aqi(sub)
    levels = [r["level"] for r in daily_rows if r["level"]]
    by_level = {lv: levels.count(lv) for lv in range(1, 7)}
    good = sum(by_level[lv] for lv in (1, 2))
    return {
        "year": year,
        "standard": next(iter(limits.values())).standard
        + (f" ({next(iter(limits.values())).phase})" if next(iter(limits.values())).phase else ""),
        "aqi_editions": sorted({r["edition"] for r in daily_rows}),
        "statistics": stats,
        "attained": all(s["meets_limit"] for s in stats.values()),
        "composite_index": index,
        "composite_parts": parts,
        "composite_primary": max(parts, key=lambda k: parts[k]),
        "days_with_aqi": len(levels),
        "good_days": good,
        "good_ratio": good / len(levels) if levels else None,
        "days_by_level": by_level,
        "notes": [
            "O3 daily max 8-h needs >= 14 valid 8-hour means a day: rule recalled from HJ 663-2013, unconfirmed",
            "Days with some but too few hourly values (< 20) are counted in invalid_days and left out of every statistic",
        ]
        + (
            [
                "HJ 663-2026 (three-year moving evaluation, exception events) is not applied: its text was not "
                "available; HJ 663-2013 statistics are used with the GB 3095-2026 limits in force"
            ]
            if day >= date(2026, 3, 1)
            else []
        ),
    }


def water_class(values: dict[str, float], water_body: str, target: str | None = None) -> dict[str, Any]:
    """GB 3838-2002 class of a sample, with exceedance multiples against the target class."""
    if water_body not in ("river", "lake"):
        raise ValueError("water body must be river or lake")
    items = {}
    for k in values:
        w = gb3838_item(k, water_body)
        items[k] = (w.limits, w.kind, w.evaluated)
    out: dict[str, Any] = section_class(values, items)
    out["water_body"] = water_body
    out["standard"] = "GB 3838-2002"
    if target:
        if target not in CLASSES[:5]:
            raise ValueError(f"target class must be one of {', '.join(CLASSES[:5])}")
        t = CLASSES.index(target)
        out["target"] = target
        out["meets_target"] = CLASSES.index(out["class"]) <= t
        out["exceedance"] = {
            k: round(exceedance_multiple(v, items[k][0][t]), 4)
            for k, v in values.items()
            if items[k][1] == "max" and items[k][2] and v > items[k][0][t]
        }
    return out


def water_items() -> list[dict[str, Any]]:
    return [
        {"item": w.item, "name_zh": w.name_zh, "unit": w.unit, "water_body": w.water_body}
        for w in gb3838_items()
    ]


def noise_check(zone_class: str, leq_db: float, period: str) -> dict[str, Any]:
    limits = gb3096_limits()
    if zone_class not in limits:
        raise ValueError(f"zone class must be one of {', '.join(limits)}")
    if period not in ("day", "night"):
        raise ValueError("period must be day or night")
    day_db, night_db, name = limits[zone_class]
    limit = day_db if period == "day" else night_db
    over = noise_exceedance_db(leq_db, limit)
    return {"zone_class": zone_class, "zone": name, "period": period, "leq_db": leq_db, "limit_db": limit,
            "complies": over <= 0, "exceedance_db": max(over, 0.0), "standard": "GB 3096-2008"}  # fmt: skip


def station_annual_values(session: Any, station: str, year: int) -> dict[str, float]:
    """A station's published annual values (the plan's station table, loaded by the demo)."""
    from greenpark.services.park.parks import get_park
    from greenpark.services.park.published import published_table

    park = get_park(session)
    for r in published_table(session, park.id, "air_quality_annual"):
        if r["station"] == station and int(r["year"]) == year:
            return {
                "pm25": float(r["pm25_ug_m3"]), "pm10": float(r["pm10_ug_m3"]), "o3": float(r["o3_ug_m3"]),
                "no2": float(r["no2_ug_m3"]), "so2": float(r["so2_ug_m3"]), "co": float(r["co_mg_m3"]),
            }  # fmt: skip
    raise ValueError(f"no published values for station {station!r} in {year}")


def stations(session: Any) -> list[str]:
    from greenpark.services.park.parks import get_park
    from greenpark.services.park.published import published_table

    return sorted(
        {r["station"] for r in published_table(session, get_park(session).id, "air_quality_annual")}
    )


def composite_index_from_annual_values(values: dict[str, float], day: date) -> tuple[float, dict[str, float]]:
    """Composite index of published annual statistics with the GB 3095 grade II limits of ``day``."""
    lim = gb3095_in_force(day)
    s = {"so2": lim[("so2", "annual")].grade_2, "no2": lim[("no2", "annual")].grade_2, "pm10": lim[("pm10", "annual")].grade_2,
         "pm25": lim[("pm25", "annual")].grade_2, "co": lim[("co", "24h")].grade_2, "o3_8h": lim[("o3", "8h_max")].grade_2}  # fmt: skip
    conc = {
        "so2": values["so2"],
        "no2": values["no2"],
        "pm10": values["pm10"],
        "pm25": values["pm25"],
        "co": values["co"],
        "o3_8h": values["o3"],
    }
    return aq.composite_index(conc, s)


def year_view(series: HourlySeries, year: int) -> dict[str, Any]:
    """What the environment page shows for a station-year: annual evaluation, daily AQI calendar,
    daily limits and AQI categories."""
    evaluation = annual_evaluation(series, year)
    _, daily_rows = hourly_and_daily_aqi(HourlySeries(
        [d for d in series.days if d.year == year],
        {p: v[[k for k, d in enumerate(series.days) if d.year == year]] for p, v in series.values.items()},
    ))  # fmt: skip
    limits = gb3095_in_force(date(year, 12, 31))
    cats = aqi_categories()
    return {
        "year": year,
        "evaluation": evaluation,
        "daily": daily_rows,
        "categories": [
            {"level": c.level, "zh": c.name_zh, "en": c.name_en, "color": c.color} for c in cats.values()
        ],
        "daily_limits": {
            "so2": limits[("so2", "24h")].grade_2,
            "no2": limits[("no2", "24h")].grade_2,
            "pm10": limits[("pm10", "24h")].grade_2,
            "pm25": limits[("pm25", "24h")].grade_2,
            "co": limits[("co", "24h")].grade_2,
            "o3_8h": limits[("o3", "8h_max")].grade_2,
        },
    }
