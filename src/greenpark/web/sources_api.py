"""JSON API for pollution-source monitoring: the enterprise file, devices and their data, unknown
devices, alarms, settings and river tracing. Enterprise users see their own enterprise only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select

from greenpark.services import alarms, devices, sources, tracing
from greenpark.services.monitoring import MonitoringError
from greenpark.store import models as m
from greenpark.web.deps import DB, Principal, ReadAll, SignedIn, Staff

router = APIRouter(prefix="/api", tags=["pollution sources"])


def _own(p: Principal) -> int | None:
    """The enterprise an enterprise user is limited to (None: may read all)."""
    return None if p.can_read_enterprise(-1) else (p.enterprise_id if p.enterprise_id is not None else -2)


def _check(p: Principal, enterprise_id: int | None) -> None:
    if not p.can_read_enterprise(enterprise_id):
        raise HTTPException(403, "you may only see your own enterprise")


def _rejected(errors: list[Any]) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "errors": [e.__dict__ for e in errors], "message": "nothing was imported"},
        status_code=422,
    )


@router.get("/sources/overview")
def overview_api(p: SignedIn, db: DB) -> dict[str, Any]:
    """Every monitoring point: status colour, last hourly values against limits, open alarms.
    Who: signed-in users (enterprise users: their own points)."""
    points = devices.overview(db, enterprise_id=_own(p))
    counts = {k: sum(1 for x in points if x["status"] == k) for k in ("red", "orange", "green", "never")}
    unknown = (
        db.scalar(select(func.count(m.UnknownDevice.id)).where(m.UnknownDevice.status == "pending")) or 0
    )
    return {"points": points, "counts": counts, "unknown_pending": unknown if _own(p) is None else None}


@router.get("/sources/outlets/{outlet_id}/series")
def series_api(
    p: SignedIn, db: DB, outlet_id: int, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 48
) -> Any:
    """Hourly series of an outlet's channels with limits and flags. Who: signed-in users (own enterprise)."""
    outlet = db.get(m.Outlet, outlet_id)
    if outlet is None:
        raise HTTPException(404, f"no outlet {outlet_id}")
    _check(p, outlet.enterprise_id)
    out = devices.series(db, outlet_id, hours)
    out["commands"] = [c for pt in out["points"] for c in devices.commands(db, pt["id"])][:20]
    return out


@router.get("/sources/enterprises")
def enterprises_api(p: SignedIn, db: DB) -> list[dict[str, Any]]:
    """Enterprises with the size of their file. Who: signed-in users (own enterprise)."""
    own = _own(p)
    out = []
    for e in db.scalars(select(m.Enterprise).order_by(m.Enterprise.code)):
        if own is not None and e.id != own:
            continue
        n_out = db.scalar(select(func.count(m.Outlet.id)).where(m.Outlet.enterprise_id == e.id)) or 0
        out.append({"id": e.id, "code": e.code, "name": e.name, "tags": [t for t in e.tags.split(",") if t],
                    "outlets": n_out})  # fmt: skip
    return out


@router.get("/sources/enterprises/{enterprise_id}")
def enterprise_api(p: SignedIn, db: DB, enterprise_id: int) -> dict[str, Any]:
    """One enterprise's file (一企一档). Who: signed-in users (own enterprise)."""
    _check(p, enterprise_id)
    try:
        return sources.enterprise_file(db, enterprise_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


class ChannelPatch(BaseModel):
    limit_value: float | None = None
    limit_standard: str | None = None
    pre_alarm_ratio: float | None = None
    use_zs: bool | None = None
    flat_line_readings: int | None = None


@router.patch("/sources/channels/{channel_id}")
def channel_patch_api(p: Staff, db: DB, channel_id: int, body: ChannelPatch) -> Any:
    """Edit a channel's limit and alarm settings (fields sent are changed; null clears).
    Who: admins and park staff."""
    try:
        ch = sources.update_channel(db, channel_id, body.model_dump(exclude_unset=True))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except sources.SourceFileRejected as exc:
        db.rollback()
        return _rejected(exc.errors)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return sources.channel_dict(ch)


@router.post("/sources/import")
async def sources_import_api(p: Staff, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Import an enterprise-file workbook (all or nothing; errors name file, sheet, row, column).
    Who: admins and park staff."""
    content = await file.read()
    try:
        counts = sources.import_sources(db, file.filename or "upload.xlsx", content)
    except sources.SourceFileRejected as exc:
        db.rollback()
        return _rejected(exc.errors)
    return {"ok": True, "imported": counts}


@router.get("/sources/schema")
def sources_schema_api(p: SignedIn) -> dict[str, Any]:
    """The tables of the enterprise file and their columns. Who: signed-in users."""
    return sources.schema()


@router.put("/sources/{kind}")
def sources_put_api(p: Staff, db: DB, kind: str, rows: list[dict[str, Any]]) -> Any:
    """Add or change rows of one table (rivers, sections, outlets, points, channels, permits,
    contacts), matched on their natural keys and validated like the import (all or nothing).
    Who: admins and park staff."""
    try:
        counts = sources.save_rows(db, kind, rows)
    except sources.SourceFileRejected as exc:
        db.rollback()
        return _rejected(exc.errors)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "saved": counts[kind]}


@router.get("/sources/export.xlsx")
def sources_export_api(p: Staff, db: DB) -> Response:
    """The enterprise file as xlsx in the import format. Who: admins and park staff."""
    return Response(
        sources.source_workbook(db),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="greenpark-enterprise-file.xlsx"'},
    )


@router.get("/sources/unknown")
def unknown_api(p: Staff, db: DB) -> list[dict[str, Any]]:
    """Devices that connected with an unregistered MN or a wrong PW. Who: admins and park staff."""
    return devices.unknown_devices(db)


class AdoptIn(BaseModel):
    outlet_id: int


@router.post("/sources/unknown/{mn}/adopt")
def adopt_api(p: Staff, db: DB, mn: str, body: AdoptIn) -> dict[str, Any]:
    """Register an unknown device under an outlet and store what it already sent.
    Who: admins and park staff."""
    try:
        ok, refused = devices.adopt(db, mn, body.outlet_id, p.username)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "mn": mn, "frames_stored": ok, "frames_refused": refused}


@router.post("/sources/points/{point_id}/time-sync")
def time_sync_api(p: Staff, db: DB, point_id: int) -> dict[str, Any]:
    """Queue a 1012 (set device time) for the server to send when the device is connected.
    Who: admins and park staff."""
    point = db.get(m.SourcePoint, point_id)
    if point is None:
        raise HTTPException(404, f"no point {point_id}")
    cmd = devices.request_command(db, point.mn, "1012", p.username)
    return {"ok": True, "id": cmd.id, "qn": cmd.qn, "status": cmd.status}


# alarms


@router.get("/alarms")
def alarms_api(
    p: SignedIn, db: DB, status: str | None = "active", rule: str | None = None, severity: str | None = None,
    enterprise_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Alarms, newest first (status: open, acknowledged, closed, active = not closed, all).
    Who: signed-in users (enterprise users: their own)."""
    own = _own(p)
    if own is not None:
        enterprise_id = own
    return alarms.list_alarms(db, None if status == "all" else status, rule, enterprise_id, severity)


@router.get("/alarms/{alarm_id}")
def alarm_api(p: SignedIn, db: DB, alarm_id: int) -> dict[str, Any]:
    """One alarm with its history. Who: signed-in users (own enterprise)."""
    a = db.get(m.Alarm, alarm_id)
    if a is None:
        raise HTTPException(404, f"no alarm {alarm_id}")
    out = alarms.alarm_dict(db, a, with_log=True)
    _check(p, out["enterprise_id"])
    return out


class NoteIn(BaseModel):
    note: str = ""


@router.post("/alarms/{alarm_id}/ack")
def alarm_ack_api(p: Staff, db: DB, alarm_id: int, body: NoteIn) -> dict[str, Any]:
    """Acknowledge an open alarm. Who: admins and park staff."""
    try:
        a = alarms.acknowledge(db, alarm_id, p.username, body.note)
    except alarms.AlarmError as exc:
        raise HTTPException(409 if "no alarm" not in str(exc) else 404, str(exc)) from None
    return alarms.alarm_dict(db, a, with_log=True)


@router.post("/alarms/{alarm_id}/close")
def alarm_close_api(p: Staff, db: DB, alarm_id: int, body: NoteIn) -> dict[str, Any]:
    """Close an alarm with a note. Who: admins and park staff."""
    try:
        a = alarms.close(db, alarm_id, p.username, body.note)
    except alarms.AlarmError as exc:
        raise HTTPException(409 if "no alarm" not in str(exc) else 404, str(exc)) from None
    return alarms.alarm_dict(db, a, with_log=True)


@router.get("/settings/monitoring")
def settings_api(p: Staff, db: DB) -> dict[str, Any]:
    """Alarm thresholds, raw-frame retention and webhook. Who: admins and park staff."""
    return sources.settings(db)


@router.put("/settings/monitoring")
def settings_put_api(p: Staff, db: DB, body: dict[str, Any]) -> dict[str, Any]:
    """Change settings (only the keys sent). Who: admins and park staff."""
    try:
        for k, v in body.items():
            sources.set_setting(db, k, v, p.username)
    except ValueError as exc:
        db.rollback()
        raise HTTPException(422, str(exc)) from None
    return sources.settings(db)


# tracing


@router.get("/tracing/sections")
def tracing_sections_api(p: ReadAll, db: DB) -> list[dict[str, Any]]:
    """Water sections placed on rivers (they can be traced). Who: admins, park staff, verifiers."""
    out = []
    for s, pt, r in db.execute(
        select(m.RiverSection, m.MonitoringPoint, m.River)
        .join(m.MonitoringPoint, m.MonitoringPoint.id == m.RiverSection.point_id)
        .join(m.River, m.River.id == m.RiverSection.river_id)
        .order_by(m.River.id, m.RiverSection.km)
    ):
        last = db.scalar(select(func.max(m.WaterSample.sampled_on)).where(m.WaterSample.point_id == pt.id))
        out.append({"code": pt.code, "name": pt.name, "river": r.name, "km": s.km, "target_class": pt.target_class,
                    "latest_sample": last.isoformat() if last else None, "data_note": pt.data_note})  # fmt: skip
    return out


@router.get("/tracing")
def tracing_api(
    p: ReadAll, db: DB, section: str, on: Annotated[date | None, Query(alias="date")] = None,
    window_hours: Annotated[int, Query(ge=1, le=24 * 14)] = 24,
) -> dict[str, Any]:  # fmt: skip
    """Rank the outlets upstream of a section by their load before its water got worse.
    Who: admins, park staff, verifiers (the ranking names every upstream enterprise)."""
    try:
        return tracing.trace(db, section, on, window_hours)
    except (tracing.TracingError, MonitoringError) as exc:
        raise HTTPException(404, str(exc)) from None
