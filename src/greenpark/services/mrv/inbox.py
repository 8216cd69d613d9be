"""Each user's inbox in the cycle: the tasks the cycle's state asks of them now, their stored
messages, reminders before deadlines, and the delivery of messages by e-mail and group robot.

- :func:`tasks` derives what the user must do today from the state (nothing is stored): an
  enterprise's monthly evidence and annual report due or overdue, a returned report, open
  non-conformities, an open appeal window; an officer's reports to review, verifications to assign
  and to notify, appeals to decide, enterprises overdue; a verifier's assignments to declare,
  review and conclude, and answered non-conformities to close.
- :func:`messages` / :func:`mark_read`: the stored :class:`~greenpark.store.models.Notification`
  rows of the user (each reader sees only their own).
- :func:`remind` (run daily: ``greenpark mrv remind``) stores reminders ``reminder_days_before``
  each deadline and a notice when a deadline has passed, once each (idempotent keys).
- :func:`deliver` sends the messages not yet sent by e-mail (users with an address, when the house
  has SMTP settings) and to the park's group robots, outside any transaction, recording each
  outcome on the message; a failure is recorded and retried on the next run, up to
  :data:`MAX_ATTEMPTS`, and never stops the others.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from greenpark.core.mrv import month_end
from greenpark.i18n import N_, Msg, tr
from greenpark.services.mrv import access, rules, status
from greenpark.services.mrv.access import Actor
from greenpark.services.mrv.notify import body_users, notify, officers
from greenpark.services.notifications import email, robots, webhooks
from greenpark.services.park.auth import Role
from greenpark.store import models as m

#: Attempts of one message on one channel before it is given up.
MAX_ATTEMPTS = 5
#: An overdue notice is made only for deadlines passed within this many days (a first run of
#: :func:`remind` on an old cycle does not flood the inboxes).
OVERDUE_NOTICE_DAYS = 31
OFFICERS = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF})

T_EVIDENCE = N_("Monthly evidence for {period} is due on {due}")
T_EVIDENCE_LATE = N_("Monthly evidence for {period} was due on {due}")
T_REPORT = N_("The annual GHG report for {year} is due on {due}")
T_REPORT_LATE = N_("The annual GHG report for {year} was due on {due}")
T_RETURNED = N_("Your {year} report (version {version}) was returned: answer with a new version")
T_NCR = N_("Non-conformity {number} of the {year} verification awaits your answer")
T_APPEAL_WINDOW = N_("You may appeal the {year} verification result until {due}")
T_REVIEW = N_("Review the {year} report of {enterprise} (version {version})")
T_ASSIGN = N_("Assign a verification body for the {year} report of {enterprise}")
T_NOTIFY = N_("Notify {enterprise} of its {year} verification result")
T_APPEAL = N_("Decide the appeal of {enterprise} on its {year} verification")
T_OVERDUE = N_("Overdue monthly evidence or reports of {year}: enterprises {n}")
T_DECLARE = N_("Declare conflicts of interest for verifying {enterprise} ({year})")
T_DOC_REVIEW = N_("Document review of {enterprise} ({year})")
T_SITE = N_("Site visit and conclusion for {enterprise} ({year})")
T_CLOSE_NCR = N_("Non-conformity {number} of {enterprise} was answered: close it or estimate")
T_REMIND_EVIDENCE = N_("Reminder: monthly evidence for {period} is due on {due}")
T_REMIND_REPORT = N_("Reminder: the annual GHG report for {year} is due on {due}")
T_REMIND_VERIFICATION = N_("Reminder: the verification of {enterprise} ({year}) is due on {due}")
T_REMIND_APPEAL = N_("Reminder: the appeal of {enterprise} ({year}) must be decided by {due}")
T_OVERDUE_EVIDENCE = N_("Monthly evidence for {period} is overdue (due {due})")
OPEN_IN = N_("Open in greenpark:")
T_OVERDUE_REPORT = N_("The annual GHG report for {year} is overdue (due {due})")


def _task(kind: str, msgid: str, params: dict[str, Any], due: date | None, today: date, link: str,
          enterprise_id: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {"kind": kind, "msgid": msgid, "params": params, "title": Msg(msgid, **params),
            "due": due.isoformat() if due else None, "overdue": bool(due and today > due), "link": link,
            "enterprise_id": enterprise_id}  # fmt: skip


def _latest_reports(
    session: Session, park_id: int, enterprise_ids: list[int], year: int
) -> dict[int, m.MrvReport]:
    out: dict[int, m.MrvReport] = {}
    if not enterprise_ids:
        return out
    q = select(m.MrvReport).where(m.MrvReport.park_id == park_id, m.MrvReport.year == year,
                                  m.MrvReport.enterprise_id.in_(enterprise_ids))  # fmt: skip
    for r in session.scalars(q):
        if r.enterprise_id not in out or out[r.enterprise_id].version < r.version:
            out[r.enterprise_id] = r
    return out


def _live_verifications(session: Session, park_id: int, enterprise_ids: list[int] | None = None,
                        body_ids: frozenset[int] | None = None) -> list[m.MrvVerification]:  # fmt: skip
    q = select(m.MrvVerification).where(
        m.MrvVerification.park_id == park_id, m.MrvVerification.stage != "withdrawn"
    )
    if enterprise_ids is not None:
        q = q.where(m.MrvVerification.enterprise_id.in_(enterprise_ids))
    if body_ids is not None:
        q = q.where(m.MrvVerification.body_id.in_(body_ids))
    return list(session.scalars(q.order_by(m.MrvVerification.id)))


def _evidence_months(today: date, days_after: int) -> list[tuple[int, int, date]]:
    """The months whose evidence may be asked for today: closed months of this year and last."""
    out = []
    for year in (today.year - 1, today.year):
        for mo in range(1, 13):
            if month_end(year, mo) < today:
                out.append((year, mo, status.month_due(year, mo, days_after)))
    return out


def tasks(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """What ``actor`` must do now in the cycle, most urgent first (overdue, then by due date).

    Each task: ``kind`` (due | returned | assigned | overdue), ``msgid`` and ``params`` (its title,
    ``title`` rendered), ``due`` (ISO date or None), ``overdue``, ``link`` (the page to do it on)."""
    if actor.role == Role.ENTERPRISE:
        out = _enterprise_tasks(session, actor, today)
    elif actor.role in OFFICERS:
        out = _officer_tasks(session, actor, today)
    elif actor.role == Role.VERIFIER:
        out = _verifier_tasks(session, actor, today)
    else:
        out = []
    # overdue first, then what came back to be corrected, then by due date
    return sorted(out, key=lambda t: (not t["overdue"], t["kind"] != "returned", t["due"] or "9999"))


def _enterprise_tasks(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    ent = actor.enterprise_id
    if ent is None:
        return []
    access.enterprise_in_reach(session, actor, ent)
    dl = rules.deadlines(session, actor.park_id)
    out = []
    months = _evidence_months(today, int(dl["evidence_days_after_month_end"]))
    for year in sorted({y for y, _m, _d in months}):
        if "monthly_evidence" not in status.obligations(session, actor.park_id, year).get(ent, ()):
            continue
        handed = status.evidence_months(session, actor.park_id, [ent], year, today)
        for y, mo, due in months:
            if y != year or (ent, mo) in handed:
                continue
            late = today > due
            params = {"period": f"{y}-{mo:02d}", "due": due.isoformat()}
            out.append(_task("overdue" if late else "due", T_EVIDENCE_LATE if late else T_EVIDENCE, params, due,
                             today, f"/mrv/enterprise?year={y}&month={mo}", ent))  # fmt: skip
    year = today.year - 1
    due = status.month_day(str(dl["report_due_month_day"]), today.year)
    latest = _latest_reports(session, actor.park_id, [ent], year).get(ent)
    if latest is None and "annual_report" in status.obligations(session, actor.park_id, year).get(ent, ()):
        late = today > due
        out.append(_task("overdue" if late else "due", T_REPORT_LATE if late else T_REPORT,
                         {"year": year, "due": due.isoformat()}, due, today, f"/mrv/reports?year={year}", ent))  # fmt: skip
    for y in (year, today.year):
        r = latest if y == year else _latest_reports(session, actor.park_id, [ent], y).get(ent)
        if r is not None and r.status == "returned":
            out.append(_task("returned", T_RETURNED, {"year": y, "version": r.version}, None, today,
                             f"/mrv/reports?year={y}&report={r.id}", ent))  # fmt: skip
    for v in _live_verifications(session, actor.park_id, [ent]):
        for n in session.scalars(select(m.MrvNonConformity).where(m.MrvNonConformity.verification_id == v.id, m.MrvNonConformity.status == "open")):  # fmt: skip
            out.append(_task("assigned", T_NCR, {"number": n.number, "year": v.year}, n.due_date, today,
                             f"/mrv/verification?id={v.id}", ent))  # fmt: skip
        if v.stage == "notified" and v.appeal_due_date is not None and today <= v.appeal_due_date:
            out.append(_task("due", T_APPEAL_WINDOW, {"year": v.year, "due": v.appeal_due_date.isoformat()},
                             v.appeal_due_date, today, f"/mrv/verification?id={v.id}", ent))  # fmt: skip
    return out


def _officer_tasks(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    readable = sorted(access.readable_enterprises(session, actor))
    if not readable:
        return []
    dl = rules.deadlines(session, actor.park_id)
    names = {k: v for k, v in session.execute(select(m.Enterprise.id, m.Enterprise.name).where(m.Enterprise.id.in_(readable)))}  # fmt: skip
    out = []
    year = today.year - 1
    staff = actor.role in access.OFFICERS
    live = _live_verifications(session, actor.park_id, readable)
    verified_ents = {(v.enterprise_id, v.year) for v in live}
    for y in (year, today.year):
        for ent, r in _latest_reports(session, actor.park_id, readable, y).items():
            p = {"year": y, "enterprise": names.get(ent, ""), "version": r.version}
            link = f"/mrv/reports?year={y}&report={r.id}"
            if r.status == "submitted":
                out.append(_task("assigned", T_REVIEW, p, None, today, link, ent))
            elif r.status == "accepted" and staff and (ent, y) not in verified_ents:
                due = status.month_day(str(dl["verification_due_month_day"]), y + 1)
                out.append(_task("assigned", T_ASSIGN, p, due, today, f"/mrv/verification?year={y}", ent))
    if staff:
        for v in live:
            p = {"year": v.year, "enterprise": names.get(v.enterprise_id, "")}
            if v.stage == "concluded":
                out.append(_task("assigned", T_NOTIFY, p, None, today, f"/mrv/verification?id={v.id}", v.enterprise_id))  # fmt: skip
        ids = [v.id for v in live]
        if ids:
            q = select(m.MrvAppeal).where(
                m.MrvAppeal.verification_id.in_(ids), m.MrvAppeal.decided_utc.is_(None)
            )
            by_id = {v.id: v for v in live}
            for a in session.scalars(q):
                v = by_id[a.verification_id]
                p = {"year": v.year, "enterprise": names.get(v.enterprise_id, "")}
                out.append(_task("assigned", T_APPEAL, p, a.decision_due_date, today,
                                 f"/mrv/verification?id={v.id}", v.enterprise_id))  # fmt: skip
    for y in sorted({year, today.year}):  # last year's reports and this year's months, each on its board
        board = status.status(session, actor, y, today)
        late = {r["enterprise_id"] for r in board["months"] if r["missing"]}
        late |= {r["enterprise_id"] for r in board["reports"] if r["overdue"]}
        if late:
            out.append(
                _task("overdue", T_OVERDUE, {"n": len(late), "year": y}, None, today, f"/mrv/status?year={y}")
            )
            out[-1]["overdue"] = True
    return out


def _verifier_tasks(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    bodies = access.body_ids(session, actor)
    if not bodies:
        return []
    live = _live_verifications(session, actor.park_id, body_ids=bodies)
    names = {k: v for k, v in session.execute(select(m.Enterprise.id, m.Enterprise.name).where(m.Enterprise.id.in_([v.enterprise_id for v in live] or [0])))}  # fmt: skip
    out = []
    what = {"assigned": T_DECLARE, "declared": T_DOC_REVIEW, "doc_review": T_DOC_REVIEW, "site_visit": T_SITE}
    for v in live:
        p = {"year": v.year, "enterprise": names.get(v.enterprise_id, "")}
        link = f"/mrv/verification?id={v.id}"
        if v.stage in what:
            out.append(_task("assigned", what[v.stage], p, v.due_date, today, link, v.enterprise_id))
        q = select(m.MrvNonConformity).where(m.MrvNonConformity.verification_id == v.id, m.MrvNonConformity.status == "answered")  # fmt: skip
        for n in session.scalars(q):
            out.append(
                _task("assigned", T_CLOSE_NCR, {**p, "number": n.number}, None, today, link, v.enterprise_id)
            )
    return out


# stored messages


def render_subject(subject_json: str, lang: str) -> str:
    s = json.loads(subject_json)
    return tr(s.get("msgid", ""), lang, **s.get("params", {}))


def messages(
    session: Session, actor: Actor, unread_only: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """The actor's own stored messages, newest first."""
    if actor.user_id is None:
        return []
    n = m.Notification
    q = select(n).where(n.user_id == actor.user_id).order_by(n.created_utc.desc(), n.id.desc()).limit(limit)
    if unread_only:
        q = q.where(n.read_utc.is_(None))
    out = []
    for x in session.scalars(q):
        s = json.loads(x.subject_json)
        out.append({"id": x.id, "kind": x.kind, "msgid": s.get("msgid", ""), "params": s.get("params", {}),
                    "title": Msg(s.get("msgid", ""), **s.get("params", {})), "link": x.link,
                    "created_utc": x.created_utc.isoformat(timespec="seconds") + "Z", "read": x.read_utc is not None,
                    "email_status": x.email_status, "robot_status": x.robot_status})  # fmt: skip
    return out


def mark_read(session: Session, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the actor's messages read (those of ``ids``, or all); returns how many changed. Ids of
    other users' messages are ignored."""
    if actor.user_id is None:
        return 0
    n = m.Notification
    q = select(n).where(n.user_id == actor.user_id, n.read_utc.is_(None))
    if ids is not None:
        q = q.where(n.id.in_(ids or [0]))
    now = m.utcnow()
    rows = list(session.scalars(q))
    for x in rows:
        x.read_utc = now
    session.flush()
    return len(rows)


# reminders


def _threshold(days_left: int, before: list[int]) -> int | None:
    """The reminder a deadline ``days_left`` away is due for: the smallest of ``before`` that is
    at least ``days_left`` (None when it is further away or already passed)."""
    if days_left < 0:
        return None
    fits = [d for d in before if days_left <= d]
    return min(fits) if fits else None


def remind(session: Session, today: date, park_id: int | None = None) -> dict[str, int]:
    """Store the reminders due today (``reminder_days_before`` each deadline) and the notices of
    deadlines just passed, for every park (or one). Idempotent: running it twice a day, or every
    day, makes each reminder once. Returns counts ``{"reminders": n, "overdue": n}``."""
    parks = [park_id] if park_id is not None else list(session.scalars(select(m.Park.id).order_by(m.Park.id)))
    counts = {"reminders": 0, "overdue": 0}
    for pid in parks:
        _remind_park(session, pid, today, counts)
    return counts


def _remind_park(session: Session, park_id: int, today: date, counts: dict[str, int]) -> None:
    dl = rules.deadlines(session, park_id)
    before = sorted(int(d) for d in dl["reminder_days_before"])
    users_of: dict[int, list[m.AppUser]] = defaultdict(list)
    for u in session.scalars(select(m.AppUser).where(m.AppUser.active.is_(True), m.AppUser.role == Role.ENTERPRISE.value,
                                                     m.AppUser.enterprise_id.is_not(None))):  # fmt: skip
        assert u.enterprise_id is not None
        users_of[u.enterprise_id].append(u)

    def tell(users: list[m.AppUser], key: str, due: date, msgid_soon: str, msgid_late: str,
             params: dict[str, Any], link: str) -> None:  # fmt: skip
        left = (due - today).days
        d = _threshold(left, before)
        if d is not None:
            counts["reminders"] += len(notify(session, users, park_id=park_id, key=f"remind.{key}.d{d}", kind="reminder",
                                              msgid=msgid_soon, params=params, link=link))  # fmt: skip
        elif -OVERDUE_NOTICE_DAYS <= left < 0:
            counts["overdue"] += len(notify(session, users, park_id=park_id, key=f"overdue.{key}", kind="overdue",
                                            msgid=msgid_late, params=params, link=link))  # fmt: skip

    days_after = int(dl["evidence_days_after_month_end"])
    horizon = today + timedelta(days=max(before, default=0))
    for year in (today.year - 1, today.year):
        obl = status.obligations(session, park_id, year)
        evidence_ents = [e for e, o in obl.items() if "monthly_evidence" in o and users_of.get(e)]
        handed = status.evidence_months(session, park_id, evidence_ents, year, today)
        for mo in range(1, 13):
            due = status.month_due(year, mo, days_after)
            if due > horizon or due < today - timedelta(days=OVERDUE_NOTICE_DAYS):
                continue
            for ent in evidence_ents:
                if (ent, mo) not in handed:
                    tell(users_of[ent], f"evidence.{ent}.{year}-{mo:02d}", due, T_REMIND_EVIDENCE, T_OVERDUE_EVIDENCE,
                         {"period": f"{year}-{mo:02d}", "due": due.isoformat()}, f"/mrv/enterprise?year={year}&month={mo}")  # fmt: skip
    year = today.year - 1
    due = status.month_day(str(dl["report_due_month_day"]), today.year)
    if today - timedelta(days=OVERDUE_NOTICE_DAYS) <= due <= horizon:
        obl = status.obligations(session, park_id, year)
        ents = [e for e, o in obl.items() if "annual_report" in o and users_of.get(e)]
        have = set(session.scalars(select(m.MrvReport.enterprise_id).where(m.MrvReport.park_id == park_id, m.MrvReport.year == year)))  # fmt: skip
        for ent in ents:
            if ent not in have:
                tell(users_of[ent], f"report.{ent}.{year}", due, T_REMIND_REPORT, T_OVERDUE_REPORT,
                     {"year": year, "due": due.isoformat()}, f"/mrv/reports?year={year}")  # fmt: skip
    names = {k: v for k, v in session.execute(select(m.Enterprise.id, m.Enterprise.name).where(m.Enterprise.park_id == park_id))}  # fmt: skip
    verification_due = status.month_day(str(dl["verification_due_month_day"]), today.year)
    for v in _live_verifications(session, park_id):
        p = {"year": v.year, "enterprise": names.get(v.enterprise_id, "")}
        link = f"/mrv/verification?id={v.id}"
        if v.stage in ("assigned", "declared", "doc_review", "site_visit"):
            vdue = v.due_date or verification_due
            if _threshold((vdue - today).days, before) is not None:
                d = _threshold((vdue - today).days, before)
                counts["reminders"] += len(notify(session, body_users(session, v.body_id), park_id=park_id,
                                                  key=f"remind.verification.{v.id}.d{d}", kind="reminder",
                                                  msgid=T_REMIND_VERIFICATION, params={**p, "due": vdue.isoformat()},
                                                  link=link))  # fmt: skip
        if v.stage == "appealed":
            for a in session.scalars(select(m.MrvAppeal).where(m.MrvAppeal.verification_id == v.id, m.MrvAppeal.decided_utc.is_(None))):  # fmt: skip
                d = _threshold((a.decision_due_date - today).days, before)
                if d is not None:
                    firm = session.get(m.Enterprise, v.enterprise_id)
                    counts["reminders"] += len(notify(session, officers(session, park_id, firm.zone_id if firm else None),
                                                      park_id=park_id, key=f"remind.appeal.{a.id}.d{d}", kind="reminder",
                                                      msgid=T_REMIND_APPEAL,
                                                      params={**p, "due": a.decision_due_date.isoformat()}, link=link))  # fmt: skip


# delivery


def _attempts(status_text: str) -> int:
    """How many failed attempts a channel status records (``failed#3: …`` → 3)."""
    if status_text.startswith("failed#"):
        head = status_text[7:].partition(":")[0]
        return int(head) if head.isdigit() else MAX_ATTEMPTS
    return 0


def _failed(n: int, result: str) -> str:
    word = "gave up" if n >= MAX_ATTEMPTS else f"failed#{n}"
    return f"{word}: {result}"[:64]


def _texts(subject_json: str, link: str) -> tuple[str, str]:
    """A message's subject (Chinese) and body (Chinese, then English, then the page)."""
    zh, en = render_subject(subject_json, "zh"), render_subject(subject_json, "en")
    body = f"{zh}\n{en}\n"
    if link:
        body += f"\n{tr(OPEN_IN, 'zh')} {link}\n"
    return zh, body


def deliver(engine: Engine, limit: int = 200, timeout_s: float = 10.0) -> dict[str, int]:
    """Send the messages not yet sent by e-mail and to the park's group robots. Each send happens
    outside any transaction; each outcome is recorded on the message (``email_status`` /
    ``robot_status``: ``sent``, ``off`` when the channel is not set up, ``failed#n: …`` to retry,
    ``gave up: …`` after :data:`MAX_ATTEMPTS`). Returns counts per outcome."""
    n = m.Notification
    counts = {"email_sent": 0, "email_failed": 0, "robot_sent": 0, "robot_failed": 0}
    pending = or_(n.email_status == "", n.email_status.like("failed#%"))
    robot_pending = or_(n.robot_status == "", n.robot_status.like("failed#%"))
    with Session(engine) as s:
        smtp = email.smtp_settings(s)
        allow_private = webhooks.private_allowed(s)
        rows = s.execute(
            select(n.id, n.user_id, n.park_id, n.key, n.subject_json, n.link, n.email_status, n.robot_status)
            .where(or_(pending, robot_pending))
            .order_by(n.id)
            .limit(limit)
        ).all()
        addresses = {k: v for k, v in s.execute(select(m.AppUser.id, m.AppUser.email).where(m.AppUser.id.in_({r[1] for r in rows} or {0})))}  # fmt: skip
        park_robots = {pid: robots.robots(s, pid) for pid in {r[2] for r in rows if r[2] is not None}}
        off: list[tuple[int, str]] = []
        mail_jobs, robot_groups = [], defaultdict(list)
        for nid, uid, pid, key, subject_json, link, est, rst in rows:
            if est == "" or est.startswith("failed#"):
                if smtp is None or not addresses.get(uid):
                    off.append((nid, "email"))
                else:
                    mail_jobs.append((nid, addresses[uid], subject_json, link, _attempts(est)))
            if rst == "" or rst.startswith("failed#"):
                if not park_robots.get(pid or 0):
                    off.append((nid, "robot"))
                else:
                    # one group message per event, however many users it went to
                    robot_groups[(pid, key, subject_json, link)].append((nid, _attempts(rst)))
        for nid, channel in off:
            row = s.get(n, nid)
            if row is not None:
                setattr(row, f"{channel}_status", "off")
        s.commit()
    for nid, addr, subject_json, link, tried in mail_jobs:
        assert smtp is not None
        subject, body = _texts(subject_json, link)
        ok, result = email.attempt(smtp, addr, subject, body, timeout_s)
        counts["email_sent" if ok else "email_failed"] += 1
        _record(engine, [nid], "email_status", "sent" if ok else _failed(tried + 1, result))
    for (pid, _key, subject_json, link), members in robot_groups.items():
        subject, body = _texts(subject_json, link)
        results = [
            robots.send(r, subject, body, allow_private, timeout_s) for r in park_robots.get(pid or 0, [])
        ]
        ok = all(x[0] for x in results)
        result = "; ".join(x[1] for x in results if not x[0])
        counts["robot_sent" if ok else "robot_failed"] += 1
        tried = max(t for _n, t in members)
        _record(
            engine, [nid for nid, _t in members], "robot_status", "sent" if ok else _failed(tried + 1, result)
        )
    return counts


def _record(engine: Engine, ids: list[int], column: str, value: str) -> None:
    with Session(engine) as s:
        for x in s.scalars(select(m.Notification).where(m.Notification.id.in_(ids))):
            setattr(x, column, value)
        s.commit()
