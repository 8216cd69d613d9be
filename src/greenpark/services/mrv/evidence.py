"""Monthly evidence (月度存证): a month's energy by carrier and the plan's parameters (NCV, carbon
content, output…), with supporting files, due ``evidence_days_after_month_end`` natural days after
the month ends (the park's deadlines, :func:`greenpark.services.mrv.rules.deadlines`).

A submission after its due date is flagged late; a resubmission is a new version (the old one is
kept). A month's status: ``on_time`` or ``late`` (by its first submission), ``missing`` (overdue and
not submitted) or ``not_due``. Dates are Beijing dates; pass ``today`` to fix them (tests).

Who may: whoever may read an enterprise's cycle records reads its evidence; the enterprise's own
users, park staff and admins submit it (``evidence.submit``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core.mrv import evidence_due_date
from greenpark.services.mrv import attachments, log, rules
from greenpark.services.mrv.access import Actor, enterprise_in_reach, readable_enterprises, require
from greenpark.services.mrv.register import register_rows
from greenpark.services.park.audit import Changes
from greenpark.store import models as m

BEIJING = timedelta(hours=8)
STATUSES = ("on_time", "late", "missing", "not_due")
MAX_VALUE = 1e12
NOTE_MAX = 2_000


def beijing_today(now_utc: datetime | None = None) -> date:
    """Today's date in Beijing (the dates deadlines are counted in)."""
    now = now_utc or datetime.now(UTC).replace(tzinfo=None)
    return (now + BEIJING).date()


def due_date(session: Session, park_id: int, year: int, month: int) -> date:
    days = int(rules.deadlines(session, park_id)["evidence_days_after_month_end"])
    return evidence_due_date(year, month, days)


def _number(v: Any, where: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {v!r} is not a number") from None
    if isinstance(v, bool) or not math.isfinite(x) or not 0 <= x <= MAX_VALUE:
        raise ValueError(f"{where}: must be a finite number from 0 to {MAX_VALUE:g}")
    return x


def _values(session: Session, energy: dict[str, Any], params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    carriers = {c.code: c.unit for c in session.scalars(select(m.Carrier))}
    allowed = rules.shipped_rules()["dqcp_parameters"]
    out = []
    for code, v in energy.items():
        if code not in carriers:
            raise ValueError(f"energy: {code!r} is not a carrier ({', '.join(sorted(carriers))})")
        out.append(
            {
                "parameter": "energy",
                "item": code,
                "value": _number(v, f"energy {code}"),
                "unit": carriers[code],
            }
        )
    for i, p in enumerate(params, 1):
        if not isinstance(p, dict):
            raise ValueError(f"parameter {i}: must be an object")
        name = str(p.get("parameter", "")).strip()
        if name not in allowed:
            raise ValueError(f"parameter {i}: {name!r} is not one of {', '.join(allowed)}")
        item, unit = str(p.get("item", "")).strip(), str(p.get("unit", "")).strip()
        if len(item) > 64 or len(unit) > 32:
            raise ValueError(f"parameter {i}: item at most 64 characters, unit at most 32")
        out.append(
            {
                "parameter": name,
                "item": item,
                "value": _number(p.get("value"), f"parameter {i}"),
                "unit": unit,
            }
        )
    if not out:
        raise ValueError("give the month's energy by carrier or at least one parameter")
    keys = [(v["parameter"], v["item"]) for v in out]
    if len(set(keys)) != len(keys):
        raise ValueError("a parameter is given twice for the same item")
    return out


def evidence_dict(
    e: m.MrvEvidence, code: str = "", files: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "id": e.id, "enterprise_id": e.enterprise_id, "enterprise": code, "year": e.year, "month": e.month,
        "version": e.version, "due_date": e.due_date.isoformat(), "late": e.late, "submitted_by": e.submitted_by,
        "submitted_utc": e.submitted_utc.isoformat(timespec="seconds"), "note": e.note,
        "values": [{"parameter": v.parameter, "item": v.item, "value": v.value, "unit": v.unit} for v in e.values],
        "attachments": files or [],
    }  # fmt: skip


def submit(
    session: Session,
    actor: Actor,
    enterprise_id: int,
    year: int,
    month: int,
    *,
    energy: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    files: Iterable[tuple[str, bytes]] = (),
    note: str = "",
    today: date | None = None,
) -> dict[str, Any]:
    """Submit (or resubmit, as a new version) a month's evidence with its files. The month may not
    be after the current one; the submission is late when ``today`` is after the due date."""
    require(session, actor, "evidence.submit", enterprise_id)
    ent = enterprise_in_reach(session, actor, enterprise_id)
    today = today or beijing_today()
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        raise ValueError("month must be 1–12 and year a calendar year")
    if (year, month) > (today.year, today.month):
        raise ValueError(f"{year}-{month:02d} has not begun: evidence is for past or current months")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValueError(f"the note is longer than {NOTE_MAX} characters")
    values = _values(session, energy or {}, parameters or [])
    files = list(files)
    if len(files) > attachments.MAX_FILES:
        raise ValueError(f"at most {attachments.MAX_FILES} files per month")
    for name, content in files:  # refuse before anything is stored
        attachments.check_file(name, content)
    ev = m.MrvEvidence
    prev = session.scalars(
        select(ev).where(ev.enterprise_id == enterprise_id, ev.year == year, ev.month == month)
        .order_by(ev.version.desc()).limit(1)
    ).first()  # fmt: skip
    due = due_date(session, actor.park_id, year, month)
    row = m.MrvEvidence(
        park_id=actor.park_id, enterprise_id=enterprise_id, year=year, month=month,
        version=1 if prev is None else prev.version + 1, due_date=due, submitted_by=actor.username,
        late=today > due, note=note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    for v in values:
        session.add(m.MrvEvidenceValue(evidence_id=row.id, **v))
    kept = [
        attachments.add(session, actor, enterprise_id=enterprise_id, owner_kind="evidence", owner_id=row.id,
                        filename=name, content=content)
        for name, content in files
    ]  # fmt: skip
    session.flush()
    session.refresh(row)
    out = evidence_dict(row, ent.code, [attachments.attachment_dict(a) for a in kept])
    log.append(session, actor=actor.username, action="evidence.submit", entity="mrv_evidence", entity_id=row.id,
               park_id=actor.park_id, enterprise_id=enterprise_id,
               payload={"year": year, "month": month, "version": row.version, "due_date": due.isoformat(),
                        "late": row.late, "values": out["values"], "note": note,
                        "files": [{"filename": a.filename, "sha256": a.sha256} for a in kept]})  # fmt: skip
    with Changes(session, by=actor.username, batch="mrv", park_id=actor.park_id) as ch:
        ch.record("mrv_evidence", f"{ent.code}|{year}-{month:02d}|v{row.version}", None,
                  {v["item"] if v["parameter"] == "energy" else f"{v['parameter']}:{v['item']}": v["value"]
                   for v in values} | {"late": row.late},
                  enterprise_id=enterprise_id, zone_id=ent.zone_id)  # fmt: skip
    return out


def list_evidence(
    session: Session, actor: Actor, year: int, enterprise_id: int | None = None, *, all_versions: bool = False
) -> list[dict[str, Any]]:
    """The evidence of a year the actor may read (one enterprise, or every one in reach): the latest
    version of each month, or every version; with their files (not their content)."""
    if enterprise_id is not None:
        enterprise_in_reach(session, actor, enterprise_id)
        ids = frozenset({enterprise_id})
    else:
        ids = readable_enterprises(session, actor)
    ev = m.MrvEvidence
    q = (select(ev, m.Enterprise.code).join(m.Enterprise, m.Enterprise.id == ev.enterprise_id)
         .where(ev.park_id == actor.park_id, ev.year == year)
         .order_by(m.Enterprise.code, ev.month, ev.version))  # fmt: skip
    if enterprise_id is not None:
        q = q.where(ev.enterprise_id == enterprise_id)
    rows = [(e, code) for e, code in session.execute(q) if e.enterprise_id in ids]
    if not all_versions:
        latest: dict[tuple[int, int], tuple[m.MrvEvidence, str]] = {}
        for e, code in rows:
            latest[(e.enterprise_id, e.month)] = (e, code)
        rows = list(latest.values())
    files = attachments.of_owner(session, "evidence", [e.id for e, _ in rows])
    return [evidence_dict(e, code, files[e.id]) for e, code in rows]


def evidence_grid(
    session: Session, park_id: int, year: int, enterprise_ids: Iterable[int], today: date | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The 12 months of each enterprise (unscoped: the caller chose readable enterprises):
    ``{enterprise_id: [{month, status, due_date, submitted_utc, version, late}, …]}`` with status
    ``on_time`` / ``late`` (by the month's first submission; ``version`` is the latest),
    ``missing`` (past due, nothing submitted) or ``not_due``."""
    today = today or beijing_today()
    wanted = set(enterprise_ids)
    days = int(rules.deadlines(session, park_id)["evidence_days_after_month_end"])
    dues = [evidence_due_date(year, mo, days) for mo in range(1, 13)]
    ev = m.MrvEvidence
    q = (select(ev.enterprise_id, ev.month, ev.version, ev.submitted_utc, ev.late)
         .where(ev.park_id == park_id, ev.year == year).order_by(ev.version))  # fmt: skip
    first: dict[tuple[int, int], tuple[Any, ...]] = {}
    last_version: dict[tuple[int, int], int] = {}
    for eid, month, version, submitted, late in session.execute(q):
        if eid not in wanted:
            continue
        first.setdefault((eid, month), (submitted, late))
        last_version[(eid, month)] = version
    out: dict[int, list[dict[str, Any]]] = {}
    for eid in wanted:
        months = []
        for mo in range(1, 13):
            due = dues[mo - 1]
            got = first.get((eid, mo))
            if got is not None:
                status = "late" if got[1] else "on_time"
                cell = {"month": mo, "status": status, "due_date": due.isoformat(),
                        "submitted_utc": got[0].isoformat(timespec="seconds"), "version": last_version[(eid, mo)],
                        "late": bool(got[1])}  # fmt: skip
            else:
                status = "missing" if today > due else "not_due"
                cell = {"month": mo, "status": status, "due_date": due.isoformat(), "submitted_utc": None,
                        "version": None, "late": False}  # fmt: skip
            months.append(cell)
        out[eid] = months
    return out


def monthly_status(
    session: Session, actor: Actor, year: int, today: date | None = None, *, enterprise_id: int | None = None
) -> list[dict[str, Any]]:
    """For each enterprise in the actor's reach that must give monthly evidence this year (the
    register's obligations), its 12 months (:func:`evidence_grid`) and counts by status. With
    ``enterprise_id``: that enterprise, whether or not the register obliges it."""
    if enterprise_id is not None:
        enterprise_in_reach(session, actor, enterprise_id)
        rows = register_rows(session, actor.park_id, year, [enterprise_id], every=True)
    else:
        readable = readable_enterprises(session, actor)
        rows = [r for r in register_rows(session, actor.park_id, year, readable)
                if "monthly_evidence" in r["obligations"]]  # fmt: skip
    grid = evidence_grid(session, actor.park_id, year, [r["enterprise_id"] for r in rows], today)
    out = []
    for r in rows:
        months = grid[r["enterprise_id"]]
        counts = {s: sum(1 for c in months if c["status"] == s) for s in STATUSES}
        out.append({"enterprise_id": r["enterprise_id"], "enterprise": r["enterprise"], "name": r["name"],
                    "obliged": "monthly_evidence" in r["obligations"], "months": months, "counts": counts})  # fmt: skip
    return out


def monthly_totals(session: Session, enterprise_id: int, year: int) -> dict[str, float]:
    """The year's energy by carrier (carrier code → quantity in the carrier's unit): the sum over the
    months of each month's latest version (unscoped: the caller read the enterprise)."""
    ev, val = m.MrvEvidence, m.MrvEvidenceValue
    q = (select(ev.id, ev.month).where(ev.enterprise_id == enterprise_id, ev.year == year)
         .order_by(ev.month, ev.version))  # fmt: skip
    latest: dict[int, int] = {}
    for eid, month in session.execute(q):
        latest[month] = eid
    totals: dict[str, float] = defaultdict(float)
    if not latest:
        return {}
    vq = select(val.item, val.value).where(
        val.evidence_id.in_(list(latest.values())), val.parameter == "energy"
    )
    for item, value in session.execute(vq):
        totals[item] += value
    return dict(totals)


def months_with_evidence(session: Session, enterprise_id: int, year: int) -> list[int]:
    """The months of the year that have evidence (any version; unscoped)."""
    ev = m.MrvEvidence
    q = select(ev.month).where(ev.enterprise_id == enterprise_id, ev.year == year).distinct()
    return sorted(session.scalars(q))
