"""JSON API for environmental quality (AQI, annual air evaluation, water class, noise)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Query, UploadFile

from greenpark.services.environment import air, monitoring
from greenpark.web.deps import DB, Public, Staff
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.uploads import rejected, upload
from greenpark.web.validation import Code, Conc, OptCode, PathCode, Year

router = APIRouter(prefix="/api/env", tags=["environment"], route_class=LocalizedRoute)


@router.get("/aqi")
def aqi_api(
    _: Public,
    so2: Conc = None, no2: Conc = None, pm10: Conc = None, co: Conc = None,
    o3: Conc = None, o3_8h: Conc = None, pm25: Conc = None, so2_24h: Conc = None,
    period: Annotated[Literal["hour", "day"], Query()] = "day",
    on: Annotated[date | None, Query(alias="date")] = None,
    edition: OptCode = None,
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
    _: Public, water_body: Annotated[Literal["river", "lake"], Query()] = "river", target: OptCode = None,
    codmn: Conc = None, nh3n: Conc = None, tp: Conc = None, do: Conc = None,
    cod: Conc = None, bod5: Conc = None, ph: Annotated[float | None, Query(ge=0, le=14)] = None,
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
def noise_api(
    _: Public,
    zone_class: Code,
    leq: Annotated[float, Query(ge=0, le=200)],
    period: Annotated[Literal["day", "night"], Query()] = "day",
) -> dict[str, Any]:
    """GB 3096-2008 compliance of an equivalent level [dB(A)]. Who: anyone."""
    try:
        return air.noise_check(zone_class, leq, period)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/stations")
def stations_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """Air stations (operating ones with the latest data first; decommissioned ones say so) and
    the years they have data for. Who: anyone."""
    return monitoring.air_stations(db)


@router.get("/air/annual")
def air_annual_api(_: Public, db: DB, station: Code, year: Year) -> dict[str, Any]:
    """Annual evaluation (HJ 663-2013) and daily AQI calendar of a station (code or name). Who: anyone."""
    try:
        return monitoring.station_year_view(db, station, year)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/water-sections")
def water_sections_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """Water sections with water body and target class (the plan's Table 1.5.1). Who: anyone."""
    latest = monitoring.latest_section_classes(db)
    return [
        {
            "code": p.code,
            "name": p.name,
            "water_body": p.water_body,
            "target_class": p.target_class,
            "source_ref": p.source_ref,
            "latest": latest.get(p.code),
        }
        for p in monitoring.points(db, "water")
    ]


@router.get("/water-sections/{code}/class")
def water_section_class_api(
    code: PathCode, _: Public, db: DB, on: Annotated[date, Query(alias="date")]
) -> dict[str, Any]:
    """GB 3838 class of a section on a sampling day, against its target. Who: anyone."""
    try:
        return monitoring.section_class_on(db, code, on)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/noise-zones")
def noise_zones_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """The park's noise zones (Table 1.5.2) with their GB 3096-2008 limits. Who: anyone."""
    from greenpark.data.environment import gb3096_limits

    lim = gb3096_limits()
    latest = monitoring.latest_noise_levels(db)
    return [
        {
            "code": p.code,
            "zone_class": p.noise_zone_class,
            "description": p.name,
            "day_db": lim[p.noise_zone_class][0],
            "night_db": lim[p.noise_zone_class][1],
            "latest": latest.get(p.code, []),
        }
        for p in monitoring.points(db, "noise")
        if p.noise_zone_class
    ]


@router.post("/air/import")
def air_import_api(_: Staff, db: DB, station: Code, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Import hourly air data (CSV or xlsx: time,so2,no2,co,o3,pm10,pm25; Beijing time) into a
    station. A bad cell rejects the file. Who: admins and park staff."""
    name, content = upload(file)
    try:
        return monitoring.import_air_csv(db, station, name, content)
    except air.AirDataRejected as exc:
        return rejected(db, name, exc)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/water/import")
def water_import_api(_: Staff, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Import water samples (CSV or xlsx: section,date,item,value in mg/L); a bad cell rejects the
    file. Who: admins and park staff."""
    name, content = upload(file)
    try:
        return monitoring.import_water_csv(db, name, content)
    except air.AirDataRejected as exc:
        return rejected(db, name, exc)


@router.post("/noise/import")
def noise_import_api(_: Staff, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Import noise measurements (CSV or xlsx: point,date,period,leq_db); a bad cell rejects the
    file. Who: admins and park staff."""
    name, content = upload(file)
    try:
        return monitoring.import_noise_csv(db, name, content)
    except air.AirDataRejected as exc:
        return rejected(db, name, exc)
