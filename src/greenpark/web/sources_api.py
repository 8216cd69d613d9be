"""JSON API for pollution-source monitoring: the enterprise file, devices and their data, unknown
devices, alarms, settings and river tracing. Enterprise users see their own enterprise only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import func, select

from greenpark.i18n import Msg, message_of
from greenpark.services.environment import monitoring
from greenpark.services.environment.monitoring import MonitoringError
from greenpark.services.park import audit
from greenpark.services.park.auth import WRITE_ALL as STAFF_ROLES
from greenpark.services.park.auth import Role
from greenpark.services.park.parks import all_parks
from greenpark.services.pollution import alarms, devices, sources, tracing
from greenpark.services.tabular import TableRejected, column_label
from greenpark.store import models as m
from greenpark.web.deps import DB, Officer, ReadAll, SignedIn, Staff
from greenpark.web.history_api import request_batch
from greenpark.web.i18n import LocalizedJSON, LocalizedRoute
from greenpark.web.scope import (
    EnterpriseById,
    OwnEnterprises,
    ReadableAlarm,
    ReadableChannel,
    ReadableOutlet,
    ReadablePoint,
)
from greenpark.web.uploads import upload
from greenpark.web.validation import INT32_MAX, Code, InModel, JsonObject, JsonRows, OptCode, PathCode

router = APIRouter(prefix="/api", tags=["pollution sources"], route_class=LocalizedRoute)


def _rejected(db: DB, exc: TableRejected) -> LocalizedJSON:
    db.rollback()
    return LocalizedJSON(
        {"ok": False, "errors": [e.__dict__ | {"text": e.message(), "column_label": column_label(e.column)} for e in exc.errors], "errors_total": exc.total,
         "message": "nothing was imported"},
        status_code=422,
    )  # fmt: skip


@router.get("/sources/overview")
def overview_api(p: SignedIn, db: DB, own: OwnEnterprises) -> dict[str, Any]:
    """Every monitoring point: status colour, last hourly values against limits, open alarms.
    Who: signed-in users (enterprise users: their own points)."""
    points = devices.overview(db, enterprise_ids=own)
    counts = {k: sum(1 for x in points if x["status"] == k) for k in ("red", "orange", "green", "never")}
    unknown = (
        db.scalar(
            select(func.count(m.UnknownDevice.id)).where(
                m.UnknownDevice.status == "pending", m.UnknownDevice.reason != "bad_pw"
            )
        )
        or 0
    )
    return {"points": points, "counts": counts, "unknown_pending": unknown if p.role in STAFF_ROLES else None}


@router.get("/sources/outlets/{outlet_id}/series")
def series_api(
    _: SignedIn, db: DB, outlet: ReadableOutlet, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 48
) -> Any:
    """Hourly series of an outlet's channels with limits and flags. Who: signed-in users (own enterprise)."""
    out = devices.series(db, outlet.id, hours)
    out["commands"] = [c for pt in out["points"] for c in devices.commands(db, pt["id"])][:20]
    return out


@router.get("/sources/enterprises")
def enterprises_api(_: SignedIn, db: DB, own: OwnEnterprises) -> list[dict[str, Any]]:
    """Enterprises with the size of their file. Who: signed-in users (own enterprise)."""
    out = []
    for e in db.scalars(
        select(m.Enterprise).where(m.Enterprise.id.in_(sorted(own))).order_by(m.Enterprise.code)
    ):
        n_out = db.scalar(select(func.count(m.Outlet.id)).where(m.Outlet.enterprise_id == e.id)) or 0
        out.append({"id": e.id, "code": e.code, "name": e.name, "tags": [t for t in e.tags.split(",") if t],
                    "outlets": n_out})  # fmt: skip
    return out


@router.get("/sources/enterprises/{enterprise_id}")
def enterprise_api(_: SignedIn, db: DB, e: EnterpriseById) -> dict[str, Any]:
    """One enterprise's file (一企一档). Who: signed-in users (own enterprise)."""
    try:
        return sources.enterprise_file(db, e.id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


class ChannelPatch(InModel):
    limit_value: Annotated[float | None, Field(ge=0, le=1e9)] = None
    limit_standard: Annotated[str | None, Field(max_length=200)] = None
    pre_alarm_ratio: Annotated[float | None, Field(gt=0, le=1)] = None
    use_zs: bool | None = None
    flat_line_readings: Annotated[int | None, Field(ge=2, le=10_000)] = None


@router.patch("/sources/channels/{channel_id}")
def channel_patch_api(p: Staff, db: DB, channel: ReadableChannel, body: ChannelPatch) -> Any:
    """Edit a channel's limit and alarm settings (fields sent are changed; null clears); every
    change is kept with who, when and the old value. Who: admins and park staff."""
    try:
        ch = sources.update_channel(db, channel.id, body.model_dump(exclude_unset=True), by=p.username,
                                    batch=request_batch(p))  # fmt: skip
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except sources.SourceFileRejected as exc:
        return _rejected(db, exc)
    except ValueError as exc:
        raise HTTPException(422, message_of(exc)) from None
    return sources.channel_dict(ch)


@router.post("/sources/import")
def sources_import_api(p: Staff, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Import an enterprise-file workbook (all or nothing; errors name file, sheet, row, column).
    Who: admins and park staff."""
    name, content = upload(file)
    try:
        counts = sources.import_sources(db, name, content, by=p.username)
    except sources.SourceFileRejected as exc:
        return _rejected(db, exc)
    return {"ok": True, "imported": counts}


@router.get("/sources/schema")
def sources_schema_api(p: SignedIn) -> dict[str, Any]:
    """The tables of the enterprise file and their columns. Who: signed-in users."""
    return sources.schema()


@router.put("/sources/{kind}")
def sources_put_api(p: Staff, db: DB, kind: PathCode, rows: JsonRows) -> Any:
    """Add or change rows of one table (rivers, sections, outlets, points, channels, permits,
    contacts), matched on their natural keys and validated like the import (all or nothing).
    Who: admins and park staff."""
    try:
        counts = sources.save_rows(db, kind, rows, source=request_batch(p), by=p.username)
    except sources.SourceFileRejected as exc:
        return _rejected(db, exc)
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


class AdoptIn(InModel):
    outlet_id: Annotated[int, Field(ge=1, le=INT32_MAX)]


@router.post("/sources/unknown/{mn}/adopt")
def adopt_api(
    p: Staff, db: DB, mn: Annotated[str, Path(min_length=1, max_length=32)], body: AdoptIn
) -> dict[str, Any]:
    """Register an unknown device under an outlet and store what it already sent. A registered MN
    is never adopted (a wrong PW is an alarm; re-keying is its own action). Who: admins and park staff."""
    try:
        ok, refused = devices.adopt(db, mn, body.outlet_id, p.username)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except sources.DeviceConflict as exc:
        raise HTTPException(409, message_of(exc)) from None
    return {"ok": True, "mn": mn, "frames_stored": ok, "frames_refused": refused}


class RekeyIn(InModel):
    pw: Annotated[str, Field(min_length=1, max_length=16)]
    confirm_mn: Annotated[str, Field(min_length=1, max_length=32)]


@router.post("/sources/points/{point_id}/rekey")
def rekey_api(p: Staff, db: DB, point: ReadablePoint, body: RekeyIn) -> dict[str, Any]:
    """Give a registered device the new access password its logger now sends. The caller repeats
    the device's MN to confirm; the change is kept in the audit trail (without the PW); the
    wrong-PW count starts again. Who: admins and park staff."""
    try:
        devices.rekey_device(db, point.id, body.pw, body.confirm_mn, p.username)
    except ValueError as exc:
        raise HTTPException(422, message_of(exc)) from None
    return {"ok": True, "mn": point.mn}


@router.post("/sources/points/{point_id}/time-sync")
def time_sync_api(p: Staff, db: DB, point: ReadablePoint) -> dict[str, Any]:
    """Queue a 1012 (set device time) for the server to send when the device is connected.
    Who: admins and park staff."""
    cmd = devices.request_command(db, point.mn, "1012", p.username)
    return {"ok": True, "id": cmd.id, "qn": cmd.qn, "status": cmd.status}


# alarms


@router.get("/alarms")
def alarms_api(
    _: SignedIn, db: DB, own: OwnEnterprises,
    status: Annotated[Literal["open", "acknowledged", "closed", "active", "all"], Query()] = "active",
    rule: OptCode = None,
    severity: Annotated[Literal["info", "warning", "critical"] | None, Query()] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Alarms, newest first (status: open, acknowledged, closed, active = not closed, all).
    Who: signed-in users (enterprise users: their own)."""
    return alarms.list_alarms(
        db, None if status == "all" else status, rule, None, severity, enterprise_ids=own
    )


@router.get("/alarms/{alarm_id}")
def alarm_api(_: SignedIn, db: DB, a: ReadableAlarm) -> dict[str, Any]:
    """One alarm with its history. Who: signed-in users (own enterprise)."""
    return alarms.alarm_dict(db, a, with_log=True)


class NoteIn(InModel):
    note: Annotated[str, Field(max_length=2000)] = ""


@router.post("/alarms/{alarm_id}/ack")
def alarm_ack_api(p: Officer, db: DB, alarm: ReadableAlarm, body: NoteIn) -> dict[str, Any]:
    """Acknowledge an open alarm. Who: admins, park staff, and a zone's officers in their zone."""
    try:
        a = alarms.acknowledge(db, alarm.id, p.username, body.note)
    except alarms.AlarmError as exc:
        raise HTTPException(409, message_of(exc)) from None
    return alarms.alarm_dict(db, a, with_log=True)


@router.post("/alarms/{alarm_id}/close")
def alarm_close_api(p: Officer, db: DB, alarm: ReadableAlarm, body: NoteIn) -> dict[str, Any]:
    """Close an alarm with a note. Who: admins, park staff, and a zone's officers in their zone."""
    try:
        a = alarms.close(db, alarm.id, p.username, body.note)
    except alarms.AlarmNoteMissing as exc:
        raise HTTPException(422, message_of(exc)) from None
    except alarms.AlarmError as exc:
        raise HTTPException(409, message_of(exc)) from None
    return alarms.alarm_dict(db, a, with_log=True)


@router.get("/settings/monitoring")
def settings_api(p: Staff, db: DB) -> dict[str, Any]:
    """Alarm thresholds, raw-frame retention and webhook. Who: admins and park staff."""
    return sources.settings(db)


@router.put("/settings/monitoring")
def settings_put_api(p: Staff, db: DB, body: JsonObject) -> dict[str, Any]:
    """Change settings (only the keys sent), each checked against its range; every change is kept
    with who, when and the old value. ``webhook_allow_private`` is for admins only.
    Who: admins and park staff; with several parks in the house, only a house-wide admin (the
    settings are the house's: they hold for every park's devices)."""
    if "webhook_allow_private" in body and p.role is not Role.ADMIN:
        raise HTTPException(403, Msg("only an admin may allow webhooks to private addresses"))
    if not p.may_switch_park and len(all_parks(db)) > 1:
        raise HTTPException(
            403, Msg("the monitoring settings hold for every park: only an admin of all parks changes them")
        )
    try:
        sources.set_settings(db, body, p.username)
    except ValueError as exc:
        db.rollback()
        raise HTTPException(422, message_of(exc)) from None
    return sources.settings(db)


@router.get("/settings/monitoring/spec")
def settings_spec_api(_: Staff, db: DB) -> list[dict[str, Any]]:
    """Each setting with its value, default, kind and range. Who: admins and park staff."""
    return sources.settings_spec(db)


@router.get("/settings/monitoring/history")
def settings_history_api(_: Staff, db: DB) -> list[dict[str, Any]]:
    """Who changed which setting or channel limit, when, from what to what. Who: admins and park staff."""
    return audit.changes(db, entity="setting") + audit.changes(db, entity="channel")


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


@router.get("/tracing/sections/{code}/samples")
def tracing_samples_api(p: ReadAll, db: DB, code: PathCode) -> dict[str, Any]:
    """A section's water samples, one row per sampling day (newest first) with its GB 3838 class
    and each item's value. Who: admins, park staff, verifiers."""
    try:
        return monitoring.section_samples(db, code)
    except MonitoringError as exc:
        raise HTTPException(404, message_of(exc)) from None


@router.get("/tracing")
def tracing_api(
    p: ReadAll, db: DB, section: Code, on: Annotated[date | None, Query(alias="date")] = None,
    window_hours: Annotated[int, Query(ge=1, le=24 * 14)] = 24,
) -> dict[str, Any]:  # fmt: skip
    """Rank the outlets upstream of a section by their load before its water got worse.
    Who: admins, park staff, verifiers (the ranking names every upstream enterprise)."""
    try:
        return tracing.trace(db, section, on, window_hours)
    except (tracing.TracingError, MonitoringError) as exc:
        raise HTTPException(404, message_of(exc)) from None
