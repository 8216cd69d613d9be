"""JSON API for environmental quality (AQI, annual air evaluation, water class, noise)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from greenpark.services import air
from greenpark.services.demo import plan_table
from greenpark.services.inventory import get_park
from greenpark.web.deps import DB, Public

router = APIRouter(prefix="/api/env", tags=["environment"])


@router.get("/aqi")
def aqi_api(
    _: Public,
    so2: float | None = None, no2: float | None = None, pm10: float | None = None, co: float | None = None,
    o3: float | None = None, o3_8h: float | None = None, pm25: float | None = None, so2_24h: float | None = None,
    period: Annotated[str, Query(pattern="^(hour|day)$")] = "day",
    on: Annotated[date | None, Query(alias="date")] = None,
    edition: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """AQI per HJ 633 (edition by date unless named). Concentrations in ug/m3, CO in mg/m3. Who: anyone."""
    values = {
        "so2": so2,
        "no2": no2,
        "pm10": pm10,
        "co": co,
        "o3": o3,
        "o3_8h": o3_8h,
        "pm25": pm25,
        "so2_24h": so2_24h,
    }
    try:
        return air.aqi_one(
            {k: v for k, v in values.items() if v is not None}, period, on or date.today(), edition
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/water-class")
def water_class_api(
    _: Public, water_body: str = "river", target: str | None = None,
    codmn: float | None = None, nh3n: float | None = None, tp: float | None = None, do: float | None = None,
    cod: float | None = None, bod5: float | None = None, ph: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """GB 3838-2002 class from item concentrations [mg/L]. Who: anyone."""
    items = {
        k: v
        for k, v in {
            "codmn": codmn,
            "nh3n": nh3n,
            "tp": tp,
            "do": do,
            "cod": cod,
            "bod5": bod5,
            "ph": ph,
        }.items()
        if v is not None
    }
    if not items:
        raise HTTPException(422, "give at least one item")
    try:
        return air.water_class(items, water_body, target)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/noise")
def noise_api(_: Public, zone_class: str, leq: float, period: str = "day") -> dict[str, Any]:
    """GB 3096-2008 compliance of an equivalent level [dB(A)]. Who: anyone."""
    try:
        return air.noise_check(zone_class, leq, period)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/stations")
def stations_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """Air stations with published annual values (the plan's station table). Who: anyone."""
    rows = plan_table(db, get_park(db).id, "air_quality_annual")
    return [
        {"station": s, "years": sorted(int(r["year"]) for r in rows if r["station"] == s)}
        for s in sorted({r["station"] for r in rows})
    ]


@router.get("/air/annual")
def air_annual_api(_: Public, db: DB, station: str, year: int) -> dict[str, Any]:
    """Annual evaluation (HJ 663-2013) and daily AQI calendar of a station. Who: anyone."""
    try:
        return air.station_year_view(db, station, year)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/water-sections")
def water_sections_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """The park's water sections and their target classes (the plan's Table 1.5.1). Who: anyone."""
    return [dict(r) for r in plan_table(db, get_park(db).id, "water_sections")]


@router.get("/noise-zones")
def noise_zones_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """The park's noise zones (Table 1.5.2) with their GB 3096-2008 limits. Who: anyone."""
    from greenpark.data.environment import gb3096_limits

    lim = gb3096_limits()
    return [
        {**r, "day_db": lim[r["zone_class"]][0], "night_db": lim[r["zone_class"]][1]}
        for r in plan_table(db, get_park(db).id, "noise_zones")
    ]
