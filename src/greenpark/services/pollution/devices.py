"""Devices seen by the ingestion server: status overview, unknown devices and their adoption,
a device's new access password (a confirmed, audited re-key), commands for a device (time sync),
and an outlet's time series for its page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.i18n import Msg
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.services.pollution import ingest
from greenpark.services.pollution.sources import adopt_device, note_label, pollutant_name, settings
from greenpark.store import models as m

#: Longest PW greenpark stores. HJ 212-2017 §6.3.2 Table 3 gives the field 9 characters with
#: "PW=" (6 for the value) and HJ/T 212-2005 6, but loggers in the field use longer ones; 16 is
#: the column's width and what the enterprise-file import accepts.
PW_MAX_CHARS = 16
#: Characters a PW cannot hold: the data segment's separators (HJ 212-2017 §6.3.2).
PW_FORBIDDEN = frozenset(";,=&")


def iso(t: datetime | None) -> str | None:
    return t.isoformat() + "Z" if t else None


def overview(
    session: Session,
    now: datetime | None = None,
    enterprise_id: int | None = None,
    enterprise_ids: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """Every monitoring point with its status colour: red (exceedance or offline), orange
    (pre-alarm or other open alarm), green (reporting, within limits), grey (never reported);
    last hourly value of each channel against its limit."""
    now = now or m.utcnow()
    cfg = settings(session)
    offline_after = timedelta(minutes=float(cfg["offline_minutes"]))
    open_alarms: dict[int, list[str]] = defaultdict(list)
    for point_id, rule in session.execute(
        select(m.Alarm.point_id, m.Alarm.rule).where(m.Alarm.status != "closed")
    ):
        open_alarms[point_id].append(rule)
    out = []
    stmt = (
        select(m.SourcePoint, m.Outlet, m.Enterprise)
        .join(m.Outlet, m.Outlet.id == m.SourcePoint.outlet_id)
        .join(m.Enterprise, m.Enterprise.id == m.Outlet.enterprise_id)
        .order_by(m.Enterprise.code, m.Outlet.code)
    )
    stmt = stmt.where(m.Enterprise.park_id == get_park(session).id)
    if enterprise_id is not None:
        stmt = stmt.where(m.Enterprise.id == enterprise_id)
    if enterprise_ids is not None:
        stmt = stmt.where(m.Enterprise.id.in_(sorted(enterprise_ids)))
    for p, o, e in session.execute(stmt):
        latest_hour = session.scalar(
            select(func.max(m.SourceRollup.start_utc)).where(
                m.SourceRollup.point_id == p.id, m.SourceRollup.period == "hour"
            )
        )
        channels = []
        chans = session.scalars(
            select(m.Channel).where(m.Channel.point_id == p.id).order_by(m.Channel.id)
        ).all()
        rolls = {}
        if latest_hour is not None:
            rolls = {
                r.code: r
                for r in session.scalars(
                    select(m.SourceRollup).where(
                        m.SourceRollup.point_id == p.id, m.SourceRollup.period == "hour",
                        m.SourceRollup.start_utc == latest_hour,
                    )
                )
            }  # fmt: skip
        for c in chans:
            r = rolls.get(c.code)
            value = (r.zs_avg if c.use_zs and r.zs_avg is not None else r.avg) if r else None
            channels.append({
                "code": c.code, "name": c.name, "label": pollutant_name(c.code), "unit": c.unit, "value": value,
                "converted": bool(c.use_zs),
                "limit": c.limit_value, "ratio": (value / c.limit_value) if value is not None and c.limit_value else None,
                "flags": r.flags if r else "",
            })  # fmt: skip
        online = p.last_seen_utc is not None and now - p.last_seen_utc <= offline_after
        rules = open_alarms.get(p.id, [])
        if p.last_seen_utc is None:
            status = "never"
        elif "exceedance" in rules or not online:
            status = "red"
        elif rules:
            status = "orange"
        else:
            status = "green"
        out.append({
            "point_id": p.id, "mn": p.mn, "edition": p.edition, "maker": p.maker, "enterprise": e.name,
            "enterprise_id": e.id, "outlet": o.name, "outlet_id": o.id, "outlet_code": o.code, "medium": o.medium,
            "latitude": o.latitude, "longitude": o.longitude, "last_seen_utc": iso(p.last_seen_utc),
            "online": online, "status": status, "open_alarms": rules, "latest_hour_utc": iso(latest_hour),
            "channels": channels, "data_note": p.data_note,
        })  # fmt: skip
    return out


def series(session: Session, outlet_id: int, hours: int = 48, now: datetime | None = None) -> dict[str, Any]:
    """An outlet's hourly series per channel (with limit and flags) for its page."""
    o = session.get(m.Outlet, outlet_id)
    if o is None:
        raise LookupError(f"no outlet {outlet_id}")
    e = session.get(m.Enterprise, o.enterprise_id)
    points = session.scalars(select(m.SourcePoint).where(m.SourcePoint.outlet_id == o.id)).all()
    ids = [p.id for p in points]
    end = session.scalar(
        select(func.max(m.SourceRollup.start_utc)).where(
            m.SourceRollup.point_id.in_(ids), m.SourceRollup.period == "hour"
        )
    ) or (now or m.utcnow())
    start = end - timedelta(hours=hours)
    chans = []
    for p in points:
        for c in session.scalars(select(m.Channel).where(m.Channel.point_id == p.id).order_by(m.Channel.id)):
            rows = session.scalars(
                select(m.SourceRollup)
                .where(m.SourceRollup.point_id == p.id, m.SourceRollup.period == "hour", m.SourceRollup.code == c.code,
                       m.SourceRollup.start_utc > start)
                .order_by(m.SourceRollup.start_utc)
            ).all()  # fmt: skip
            chans.append({
                "code": c.code, "name": c.name, "label": pollutant_name(c.code), "unit": c.unit, "limit": c.limit_value,
                "limit_standard": c.limit_standard, "converted": bool(c.use_zs),
                "pre_alarm": (c.limit_value * (c.pre_alarm_ratio or float(settings(session)["pre_alarm_ratio"])))
                if c.limit_value else None,
                "points": [[iso(r.start_utc), r.avg, r.zs_avg, r.flags, r.origin] for r in rows],
            })  # fmt: skip
    return {
        "outlet_id": o.id, "outlet": o.name, "medium": o.medium, "enterprise": e.name if e else "",
        "enterprise_id": o.enterprise_id, "points": [{"id": p.id, "mn": p.mn, "edition": p.edition, "pw_failures": p.pw_failures,
        "pw_failure_utc": iso(p.pw_failure_utc), "pw_failure_peer": p.pw_failure_peer,
        "last_seen_utc": iso(p.last_seen_utc), "data_note": p.data_note, "data_note_label": note_label(p.data_note)}
        for p in points],
        "start_utc": iso(start), "end_utc": iso(end), "channels": chans,
    }  # fmt: skip


def unknown_devices(session: Session) -> list[dict[str, Any]]:
    """Unregistered MNs that sent frames, newest first (a registered MN with a wrong PW is not
    one of them: that is the ``wrong_password`` alarm)."""
    return [
        {"mn": u.mn, "reason": u.reason, "status": u.status, "frames": u.frames, "pw_seen": u.pw_seen,
         "first_seen_utc": iso(u.first_seen_utc), "last_seen_utc": iso(u.last_seen_utc), "last_peer": u.last_peer,
         "last_cn": u.last_cn}
        for u in session.scalars(
            select(m.UnknownDevice)
            .where(m.UnknownDevice.reason != "bad_pw")  # rows from before wrong PWs became alarms
            .order_by(m.UnknownDevice.last_seen_utc.desc())
        )
    ]  # fmt: skip


def adopt(session: Session, mn: str, outlet_id: int, by: str = "") -> tuple[int, int]:
    """Register an unknown device under an outlet and store what it already sent; returns
    (frames stored, frames refused).

    Raises
    ------
    DeviceConflict  (:mod:`greenpark.services.pollution.sources`) the MN is already registered.
    LookupError     no unknown device with this MN, or no such outlet.
    """
    adopt_device(session, mn, outlet_id, by)
    session.flush()
    return ingest.replay_frames(session, mn)


def check_pw(pw: str) -> str:
    """``pw`` if a data logger can send it as its access password: 1 to :data:`PW_MAX_CHARS`
    printable ASCII characters without spaces or the separators ``; , = &``; else ValueError."""
    if not 1 <= len(pw) <= PW_MAX_CHARS:
        raise ValueError(Msg("a PW has 1 to {n} characters", n=PW_MAX_CHARS))
    if any(not ("!" <= c <= "~") or c in PW_FORBIDDEN for c in pw):
        raise ValueError(Msg("a PW has printable ASCII characters only, without spaces or ; , = &"))
    return pw


def rekey_device(session: Session, point_id: int, new_pw: str, confirm_mn: str, by: str) -> m.SourcePoint:
    """Give a registered device a new access password (the PW its logger now sends), as its own
    confirmed and audited action: the caller repeats the device's MN, the PW is checked, the
    wrong-PW count starts again from zero (its alarm clears at the next evaluation), and the
    change is appended to the audit trail — without the PW, old or new.

    Raises
    ------
    LookupError  no monitoring point ``point_id``.
    ValueError   ``confirm_mn`` is not the point's MN, or ``new_pw`` is not a valid PW.
    """
    p = session.get(m.SourcePoint, point_id)
    if p is None:
        raise LookupError(f"no monitoring point {point_id}")
    if confirm_mn.strip() != p.mn:
        raise ValueError(
            Msg(
                "confirm by repeating the device's MN ({mn}); got {got}",
                mn=p.mn,
                got=repr(confirm_mn.strip()),
            )
        )
    check_pw(new_pw)
    failures, peer = p.pw_failures or 0, p.pw_failure_peer
    p.pw = new_pw
    p.pw_failures, p.pw_failure_utc, p.pw_failure_peer = 0, None, ""
    note = "PW changed" + (
        f"; {failures} wrong-PW frame(s) counted before, the last from {peer}" if failures else ""
    )
    e = audit.enterprise_of_outlet(session, p.outlet_id)
    audit.record(session, by, "rekey", "source_point", key=p.mn, field="pw", old=audit.HIDDEN, new=audit.HIDDEN,
                 note=note, park_id=e.park_id if e else None, enterprise_id=e.id if e else None,
                 zone_id=e.zone_id if e else None)  # fmt: skip
    session.flush()
    return p


def request_command(session: Session, mn: str, cn: str, by: str = "") -> m.DeviceCommand:
    """Queue a command (1012 set time, 1011 get time) for the server to send to a connected device."""
    if cn not in ("1011", "1012"):
        raise LookupError(f"greenpark sends 1011 and 1012, not {cn}")
    p = session.scalars(select(m.SourcePoint).where(m.SourcePoint.mn == mn)).first()
    if p is None:
        raise LookupError(f"no registered device with MN {mn}")
    now = m.utcnow() + timedelta(hours=8)
    seq = session.scalar(select(func.count(m.DeviceCommand.id))) or 0
    cmd = m.DeviceCommand(point_id=p.id, cn=cn, qn=now.strftime("%Y%m%d%H%M%S") + f"{seq % 1000:03d}",
                          requested_by=by)  # fmt: skip
    session.add(cmd)
    session.flush()
    return cmd


def commands(session: Session, point_id: int) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "cn": c.cn, "qn": c.qn, "requested_by": c.requested_by, "requested_utc": iso(c.requested_utc),
         "sent_utc": iso(c.sent_utc), "status": c.status, "result": c.result}
        for c in session.scalars(
            select(m.DeviceCommand).where(m.DeviceCommand.point_id == point_id).order_by(m.DeviceCommand.id.desc())
        )
    ]  # fmt: skip
