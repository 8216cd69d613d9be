"""Early warning: evaluate the rules of :mod:`greenpark.core.alarms` on the stored roll-ups and
readings (and the wrong-PW counters of the devices), keep one alarm per episode (open →
acknowledged → closed, history in the alarm log), and queue a notification for an optional
webhook in the alarm's own transaction (delivered after the commit by
:mod:`greenpark.services.notifications.webhooks`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.core import alarms as rules
from greenpark.i18n import Msg
from greenpark.services.park.parks import get_park
from greenpark.services.pollution.sources import pollutant_name, settings
from greenpark.store import models as m

RULES = {
    "exceedance": ("超标", "exceedance"),
    "pre_alarm": ("超标预警", "pre-alarm"),
    "missing_data": ("数据缺失", "missing data"),
    "offline": ("设备离线", "device offline"),
    "abnormal_flag": ("异常标记持续", "abnormal flags"),
    "flat_line": ("数值恒定（疑似造假）", "flat line (possible fraud)"),
    "concentration_collapse": ("浓度骤降而流量不变（疑似造假）", "concentration collapse at steady flow"),
    "held_below_limit": ("长期贴线排放（疑似造假）", "held just under the limit"),
    "long_maintenance": ("长时间维护标记（疑似造假）", "long maintenance"),
    "wrong_password": ("访问密码错误（疑似冒用）", "wrong access password"),
}
SEVERITIES = ("info", "warning", "critical")
STATUSES = ("open", "acknowledged", "closed")


#: A wrong-PW episode clears when no such frame has come for this long [min] (the setting
#: ``wrong_pw_quiet_minutes`` overrides it where the park has one).
WRONG_PW_QUIET_MINUTES = 60.0


class AlarmError(ValueError):
    """The alarm is not in a state for this (409)."""


class AlarmNoteMissing(AlarmError):
    """A required note is missing (422)."""


def _host(peer: str) -> str:
    """The address of ``host:port`` (IPv6 too)."""
    return peer.rpartition(":")[0] if ":" in peer else peer


def evaluate(session: Session, points: set[int] | None = None, now: datetime | None = None,
             hours: dict[int, set[datetime]] | None = None, device_rules: bool = True,
             listening_since: datetime | None = None) -> dict[str, int]:  # fmt: skip
    """Run every rule. Channel rules run on ``points`` (None: all active points); device rules
    (offline, missing data, wrong password) on all active points, since time alone can make them
    fire (or clear). ``hours`` are the hours (per point) that new data touched since the last run:
    each is judged for exceedance, not only the latest (a device sending its backlog must not hide
    an exceedance).
    ``device_rules`` False leaves the device rules to another process (server workers).
    ``listening_since``: when the ingestion server started listening. Until ``offline_minutes``
    have passed since then, devices may still be reconnecting and sending the hours they kept while
    greenpark was down (HJ 212 loggers resend them), so the device rules (offline, missing data)
    wait: a restart is not a flood of "missing data" alarms.
    Returns counts of alarms opened, updated and cleared."""
    now = now or m.utcnow()
    cfg = settings(session)
    if listening_since is not None and (now - listening_since).total_seconds() < 60 * float(
        cfg["offline_minutes"]
    ):
        device_rules = False
    counts = {"opened": 0, "updated": 0, "cleared": 0}
    active = session.scalars(select(m.SourcePoint).where(m.SourcePoint.active.is_(True))).all()
    window_h = int(max(48, cfg["near_limit_hours"], cfg["maintenance_window_hours"])) + 2
    # a few queries for all points, then the rules in memory
    last_hours: dict[int, datetime] = dict(
        session.execute(
            select(m.SourceRollup.point_id, func.max(m.SourceRollup.start_utc))
            .where(m.SourceRollup.period == "hour")
            .group_by(m.SourceRollup.point_id)
        ).all()
    )
    current: dict[int, dict[tuple[str, str], m.Alarm]] = defaultdict(dict)
    for a in session.scalars(select(m.Alarm).where(m.Alarm.status != "closed")):
        current[a.point_id][(a.rule, a.code)] = a
    open_keys = {(pid, rule, code) for pid, mine in current.items() for rule, code in mine}
    for p in active:
        findings: dict[tuple[str, str], list[rules.Finding | None]] = {}
        last_hour = last_hours.get(p.id)
        if device_rules and p.last_seen_utc is not None:
            minutes = (now - p.last_seen_utc).total_seconds() / 60
            findings[("offline", "")] = [rules.offline(minutes, float(cfg["offline_minutes"]))]
        if device_rules and last_hour is not None:
            complete = now.replace(minute=0, second=0, microsecond=0)
            gap = int((complete - last_hour).total_seconds() // 3600) - 1
            findings[("missing_data", "")] = [rules.missing_data(max(gap, 0), int(cfg["missing_hours"]))]
        if device_rules and (p.pw_failures or (p.id, "wrong_password", "") in open_keys):
            age = (now - p.pw_failure_utc).total_seconds() / 60 if p.pw_failure_utc else None
            own = (
                _host(p.last_peer) == _host(p.pw_failure_peer) if p.last_peer and p.pw_failure_peer else None
            )
            quiet = float(cfg.get("wrong_pw_quiet_minutes", WRONG_PW_QUIET_MINUTES))
            findings[("wrong_password", "")] = [
                rules.wrong_password(p.pw_failures or 0, age, quiet, p.pw_failure_peer, own)
            ]
        if (points is None or p.id in points) and last_hour is not None:
            new_hours = (hours or {}).get(p.id, set())
            for key, f in _channel_findings(session, p, last_hour, window_h, cfg, new_hours).items():
                findings[key] = f if isinstance(f, list) else [f]
        mine = current[p.id]
        for (rule, code), sequence in findings.items():
            for finding in sequence:
                after = _apply(session, p, rule, code, finding, now, cfg, counts, mine.get((rule, code)))
                if after is None or after.status == "closed":
                    mine.pop((rule, code), None)
                else:
                    mine[(rule, code)] = after
    session.flush()
    return counts


def _channel_findings(session: Session, p: m.SourcePoint, last_hour: datetime, window_h: int,
                      cfg: dict[str, Any], new_hours: set[datetime] | None = None,
                      ) -> dict[tuple[str, str], rules.Finding | list[rules.Finding | None] | None]:  # fmt: skip
    since = last_hour - timedelta(hours=window_h)
    hourly: dict[str, list[m.SourceRollup]] = defaultdict(list)
    for r in session.scalars(
        select(m.SourceRollup)
        .where(
            m.SourceRollup.point_id == p.id, m.SourceRollup.period == "hour", m.SourceRollup.start_utc > since
        )
        .order_by(m.SourceRollup.start_utc)
    ):
        hourly[r.code].append(r)
    channels = session.scalars(select(m.Channel).where(m.Channel.point_id == p.id)).all()
    flow = next((c for c in channels if c.is_flow), None)
    flow_rows = hourly.get(flow.code, []) if flow else []
    flow_latest = flow_rows[-1].avg if flow_rows and flow_rows[-1].start_utc == last_hour else None
    running = flow is None or (flow_latest is not None and flow_latest > 0)
    out: dict[tuple[str, str], rules.Finding | list[rules.Finding | None] | None] = {}
    deepest = max((ch.flat_line_readings or int(cfg["flat_line_readings"]) for ch in channels), default=0)
    recent_rows: list[tuple[datetime, str, float | None]] = []
    for kind in ("min", "rtd"):  # the newest rows of each kind, straight off the primary key
        recent_rows += [
            (t, c, v)
            for t, c, v in session.execute(
                select(m.SourceReading.time_utc, m.SourceReading.code, m.SourceReading.value)
                .where(m.SourceReading.point_id == p.id, m.SourceReading.kind == kind)
                .order_by(m.SourceReading.time_utc.desc())
                .limit(deepest * max(len(channels), 1))
            )
        ]
    recent_rows.sort(key=lambda r: r[0])

    def latest_readings(code: str, n: int) -> list[float | None]:
        return [v for _t, c, v in recent_rows if c == code][-n:]

    for ch in channels:
        rows = hourly.get(ch.code, [])
        if not rows:
            continue

        def val(r: m.SourceRollup, ch: m.Channel = ch) -> float | None:
            return r.zs_avg if ch.use_zs and r.zs_avg is not None else r.avg

        latest = rows[-1] if rows[-1].start_utc == last_hour else None
        ratio = ch.pre_alarm_ratio if ch.pre_alarm_ratio is not None else float(cfg["pre_alarm_ratio"])
        # the worst of the newly arrived hours, then the latest hour (opens and clears an episode
        # that lies wholly in a backlog)
        judged = [r for r in rows if r.start_utc in (new_hours or set())] or ([latest] if latest else [])
        ex: list[rules.Finding | None] = []
        pre: list[rules.Finding | None] = []
        if judged:
            worst = max(judged, key=lambda r: val(r) or 0.0)
            for r in [worst, latest] if latest is not None and worst is not latest else [worst]:
                level = rules.exceedance(val(r) if r is not None else None, ch.limit_value, ratio)
                if level is not None and r is not None:
                    hour_bj = (r.start_utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:00")
                    level = rules.Finding(level.rule, level.severity, level.value, level.threshold,
                                          Msg("{hour}: {what}", hour=hour_bj, what=level.message),
                                          {**level.evidence, "hour_beijing": hour_bj})  # fmt: skip
                ex.append(level if level and level.rule == "exceedance" else None)
                pre.append(level if level and level.rule == "pre_alarm" else None)
        out[("exceedance", ch.code)] = ex or [None]
        out[("pre_alarm", ch.code)] = pre or [None]
        flags = [r.flags for r in rows]
        out[("abnormal_flag", ch.code)] = rules.abnormal_flag_run(flags, int(cfg["abnormal_flag_hours"]))
        mw = int(cfg["maintenance_window_hours"])
        out[("long_maintenance", ch.code)] = rules.long_maintenance(
            [r.flags for r in rows if r.start_utc > last_hour - timedelta(hours=mw)],
            int(cfg["maintenance_hours"]),
        )
        n = ch.flat_line_readings or int(cfg["flat_line_readings"])
        recent = latest_readings(ch.code, n)
        out[("flat_line", ch.code)] = rules.flat_line(recent, n, running=running)
        if ch.limit_value is not None:
            values = [v for r in rows if (v := val(r)) is not None]
            out[("held_below_limit", ch.code)] = rules.held_below_limit(
                values, ch.limit_value, float(cfg["near_limit_low"]), float(cfg["near_limit_share"]),
                float(cfg["near_limit_max_cv"]), int(cfg["near_limit_hours"]),
            )  # fmt: skip
        if flow is not None and ch is not flow and latest is not None and flow_latest is not None:
            day_before = [r for r in rows[:-1] if r.start_utc >= last_hour - timedelta(hours=24)]
            flow_before = [
                r.avg for r in flow_rows[:-1] if r.start_utc >= last_hour - timedelta(hours=24) and r.avg
            ]
            out[("concentration_collapse", ch.code)] = rules.concentration_collapse(
                [r.avg for r in day_before if r.avg is not None], latest.avg, flow_before, flow_latest,
                float(cfg["collapse_ratio"]), float(cfg["collapse_flow_tolerance"]),
            )  # fmt: skip
    return out


def _apply(session: Session, p: m.SourcePoint, rule: str, code: str, finding: rules.Finding | None,
           now: datetime, cfg: dict[str, Any], counts: dict[str, int],
           current: m.Alarm | None) -> m.Alarm | None:  # fmt: skip
    """Open, update or clear the episode of (point, rule, code); returns the alarm now current."""
    if finding is not None:
        if current is None:
            a = m.Alarm(point_id=p.id, code=code, rule=rule, severity=finding.severity, status="open",
                        opened_utc=now, last_fired_utc=now, value=finding.value, threshold=finding.threshold,
                        message=str(finding.message), detail_json=_detail(finding))  # fmt: skip
            session.add(a)
            session.flush()
            session.add(
                m.AlarmLog(
                    alarm_id=a.id, at_utc=now, actor="system", action="open", note=str(finding.message)
                )
            )
            counts["opened"] += 1
            if cfg["webhook_url"]:
                from greenpark.services.notifications.webhooks import enqueue

                enqueue(session, a, str(cfg["webhook_url"]), alarm_dict(session, a))
            return a
        else:
            if current.cleared_utc is not None:
                session.add(m.AlarmLog(alarm_id=current.id, at_utc=now, actor="system", action="fire",
                                       note="fired again: " + str(finding.message)))  # fmt: skip
            current.cleared_utc = None
            current.last_fired_utc, current.value, current.threshold = now, finding.value, finding.threshold
            current.message, current.severity = str(finding.message), finding.severity
            current.detail_json = _detail(finding)
            counts["updated"] += 1
    elif current is not None and current.cleared_utc is None:
        current.cleared_utc = now
        session.add(m.AlarmLog(alarm_id=current.id, at_utc=now, actor="system", action="clear",
                               note="the condition no longer holds"))  # fmt: skip
        counts["cleared"] += 1
        if cfg["auto_close"]:
            current.status, current.closed_by, current.closed_utc = "closed", "system", now
            current.close_note = "closed automatically after the condition cleared"
            session.add(m.AlarmLog(alarm_id=current.id, at_utc=now, actor="system", action="close",
                                   note=current.close_note))  # fmt: skip
    return current


# Lifecycle


def acknowledge(session: Session, alarm_id: int, who: str, note: str = "") -> m.Alarm:
    a = _get(session, alarm_id)
    if a.status != "open":
        raise AlarmError(Msg("alarm {id} is {status}; only an open alarm can be acknowledged", id=alarm_id,
                             status=Msg(a.status)))  # fmt: skip
    now = m.utcnow()
    a.status, a.ack_by, a.ack_utc, a.ack_note = "acknowledged", who, now, note
    session.add(m.AlarmLog(alarm_id=a.id, at_utc=now, actor=who, action="ack", note=note))
    session.flush()
    return a


def close(session: Session, alarm_id: int, who: str, note: str) -> m.Alarm:
    a = _get(session, alarm_id)
    if a.status == "closed":
        raise AlarmError(Msg("alarm {id} is already closed", id=alarm_id))
    if not note.strip():
        raise AlarmNoteMissing(Msg("closing an alarm needs a note (what was found, what was done)"))
    now = m.utcnow()
    a.status, a.closed_by, a.closed_utc, a.close_note = "closed", who, now, note
    session.add(m.AlarmLog(alarm_id=a.id, at_utc=now, actor=who, action="close", note=note))
    session.flush()
    return a


def _get(session: Session, alarm_id: int) -> m.Alarm:
    a = session.get(m.Alarm, alarm_id)
    if a is None:
        raise AlarmError(f"no alarm {alarm_id}")
    return a


def list_alarms(session: Session, status: str | None = None, rule: str | None = None,
                enterprise_id: int | None = None, severity: str | None = None, limit: int = 500,
                enterprise_ids: Collection[int] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The park's alarms, newest first (``enterprise_ids``: only those enterprises')."""
    stmt = (
        select(m.Alarm)
        .join(m.SourcePoint, m.SourcePoint.id == m.Alarm.point_id)
        .join(m.Outlet, m.Outlet.id == m.SourcePoint.outlet_id)
        .join(m.Enterprise, m.Enterprise.id == m.Outlet.enterprise_id)
        .where(m.Enterprise.park_id == get_park(session).id)
        .order_by(m.Alarm.id.desc())
        .limit(limit)
    )
    if status:
        if status == "active":
            stmt = stmt.where(m.Alarm.status != "closed")
        else:
            stmt = stmt.where(m.Alarm.status == status)
    if rule:
        stmt = stmt.where(m.Alarm.rule == rule)
    if severity:
        stmt = stmt.where(m.Alarm.severity == severity)
    if enterprise_id is not None:
        stmt = stmt.where(m.Outlet.enterprise_id == enterprise_id)
    if enterprise_ids is not None:
        stmt = stmt.where(m.Outlet.enterprise_id.in_(sorted(enterprise_ids)))
    return [alarm_dict(session, a) for a in session.scalars(stmt)]


def _detail(finding: rules.Finding) -> str:
    """The finding's evidence, with its message kept as id and parameters (shown in any language)."""
    msg = finding.message
    message = _msg_json(msg) if isinstance(msg, Msg) else None
    return json.dumps({**finding.evidence, **({"_message": message} if message else {})}, default=str)


def _msg_json(msg: Msg) -> dict[str, Any]:
    return {
        "msgid": msg.msgid,
        "params": {k: _msg_json(v) if isinstance(v, Msg) else str(v) for k, v in msg.params.items()},
    }


def _msg_from(d: dict[str, Any]) -> Msg:
    return Msg(d["msgid"], **{k: _msg_from(v) if isinstance(v, dict) else v for k, v in d["params"].items()})


def _message(a: m.Alarm, detail: dict[str, Any]) -> str:
    """The alarm's message as a Msg when it was stored with its id (older alarms: the stored text)."""
    stored = detail.get("_message")
    return _msg_from(stored) if isinstance(stored, dict) else a.message


def alarm_dict(session: Session, a: m.Alarm, with_log: bool = False) -> dict[str, Any]:
    p = session.get(m.SourcePoint, a.point_id)
    o = session.get(m.Outlet, p.outlet_id) if p else None
    e = session.get(m.Enterprise, o.enterprise_id) if o else None
    ch = (
        session.scalars(
            select(m.Channel).where(m.Channel.point_id == a.point_id, m.Channel.code == a.code)
        ).first()
        if a.code
        else None
    )

    def iso(t: datetime | None) -> str | None:
        return t.isoformat() + "Z" if t else None

    detail = json.loads(a.detail_json or "{}")
    out: dict[str, Any] = {
        "id": a.id, "rule": a.rule, "rule_name": RULES.get(a.rule, (a.rule, a.rule)), "severity": a.severity,
        "status": a.status, "enterprise": e.name if e else None, "enterprise_id": e.id if e else None,
        "outlet": o.name if o else None, "outlet_id": o.id if o else None, "mn": p.mn if p else None,
        "point_id": a.point_id, "code": a.code, "channel": ch.name if ch else "",
        "channel_label": pollutant_name(a.code) if a.code else None, "unit": ch.unit if ch else "",
        "value": a.value, "threshold": a.threshold, "message": _message(a, detail),
        "evidence": {k: v for k, v in detail.items() if k != "_message"}, "opened_utc": iso(a.opened_utc),
        "last_fired_utc": iso(a.last_fired_utc), "cleared_utc": iso(a.cleared_utc), "ack_by": a.ack_by,
        "ack_utc": iso(a.ack_utc), "ack_note": a.ack_note, "closed_by": a.closed_by, "closed_utc": iso(a.closed_utc),
        "close_note": a.close_note,
    }  # fmt: skip
    if with_log:
        out["log"] = [
            {"at_utc": iso(x.at_utc), "actor": x.actor, "action": x.action, "note": x.note}
            for x in session.scalars(
                select(m.AlarmLog).where(m.AlarmLog.alarm_id == a.id).order_by(m.AlarmLog.id)
            )
        ]
    return out
