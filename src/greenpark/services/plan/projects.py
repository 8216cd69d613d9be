"""The plan's tasks (Table 4.3.1) and construction projects (Table 4.3.2): the task tree, projects as
the plan gives them (with its flags), progress updates with an audit trail, planned vs actual
schedule, overdue and stalled detection, and expected effects rolled up per indicator."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.i18n import N_, Msg
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.store import models as m

#: The plan covers 2021–2025 and gives each project a cycle but no start date: projects are
#: scheduled from the plan's first day unless an officer sets their start (an assumption, shown).
PLAN_START = date(2021, 1, 1)
STATUSES = ("not_started", "in_progress", "done", "suspended")
STALLED_AFTER_DAYS = 90
#: What the plan's own rows get wrong (``projects.csv`` ``flag``), as message ids.
FLAG_TEXT = {
    "duplicate_of_17": N_("listed twice in the plan (same as project 17)"),
    "duplicate_of_10": N_("listed twice in the plan (same as project 10)"),
    "name_owner_swapped": N_("name and owner look swapped in the plan"),
    "stray_text": N_("the plan's row has stray text"),
}


class ProjectError(ValueError):
    pass


def _joined(errors: list[Msg]) -> Msg:
    """Several refusals as one message (each rendered in the reader's language)."""
    out = errors[0]
    for e in errors[1:]:
        out = Msg("{first}; {then}", first=out, then=e)
    return out


#: The fields of a project that a progress report changes, kept in the project's history.
PROGRESS_FIELDS = ("status", "percent", "spent_10k_yuan", "last_update", "actual_start", "actual_end")


def task_tree(session: Session) -> list[dict[str, Any]]:
    """Task group → action → measures (with departments), in the plan's order."""
    park = get_park(session)
    groups: dict[int, dict[str, Any]] = {}
    for r in session.scalars(
        select(m.PlanMeasure)
        .where(m.PlanMeasure.park_id == park.id)
        .order_by(m.PlanMeasure.group_seq, m.PlanMeasure.action_seq, m.PlanMeasure.measure_seq)
    ):
        g = groups.setdefault(r.group_seq, {"seq": r.group_seq, "name": r.task_group, "actions": {}})
        a = g["actions"].setdefault(r.action_seq, {"seq": r.action_seq, "name": r.action, "measures": []})
        a["measures"].append({"seq": r.measure_seq, "name": r.measure, "text": r.text,
                              "departments": [d for d in r.departments.replace("，", "、").split("、") if d]})  # fmt: skip
    return [{**g, "actions": list(g["actions"].values())} for g in groups.values()]


def get_project(session: Session, seq: int) -> m.Project:
    park = get_park(session)
    p = session.scalars(select(m.Project).where(m.Project.park_id == park.id, m.Project.seq == seq)).first()
    if p is None:
        raise ProjectError(Msg("no project {seq}", seq=seq))
    return p


def planned_percent(p: m.Project, on: date) -> float | None:
    """Share of the planned window elapsed on ``on`` (linear schedule), 0–100."""
    if p.planned_start is None or p.planned_end is None or p.planned_end <= p.planned_start:
        return None
    span = (p.planned_end - p.planned_start).days
    return max(0.0, min(100.0, 100.0 * (on - p.planned_start).days / span))


def condition(p: m.Project, today: date, stalled_after_days: int = STALLED_AFTER_DAYS) -> list[str]:
    """``overdue`` (past its planned end and not done), ``behind`` (more than 15 points behind the
    linear schedule), ``stalled`` (in progress with no report for ``stalled_after_days``)."""
    out = []
    if p.status != "done" and p.planned_end is not None and today > p.planned_end:
        out.append("overdue")
    plan = planned_percent(p, today)
    if p.status not in ("done",) and plan is not None and p.percent < plan - 15:
        out.append("behind")
    if p.status == "in_progress" and (
        p.last_update is None or (today - p.last_update).days > stalled_after_days
    ):
        out.append("stalled")
    return out


def update(session: Session, seq: int, on: date, status: str, percent: float, spent_10k_yuan: float,
           milestone: str = "", note: str = "", by: str = "", attachment: tuple[str, bytes] | None = None,
           today: date | None = None, *, batch: str = "") -> m.ProjectUpdate:  # fmt: skip
    """Record a progress report (validated); the project's current state follows the latest report.
    The report is kept in the project's reports; what it changes in the project (status, percent,
    spending, dates) in the project's history too, with ``by`` and ``batch``."""
    p = get_project(session, seq)
    today = today or date.today()
    errors: list[Msg] = []
    if status not in STATUSES:
        errors.append(Msg("status must be one of {allowed}", allowed=", ".join(STATUSES)))
    if not 0 <= percent <= 100:
        errors.append(Msg("percent complete must be between 0 and 100"))
    if spent_10k_yuan < 0:
        errors.append(Msg("investment spent cannot be negative"))
    if on > today:
        errors.append(Msg("a progress report cannot be dated in the future"))
    if status == "done" and percent < 100:
        errors.append(Msg("a finished project is 100 % complete"))
    if percent < p.percent and not note.strip():
        errors.append(Msg("percent goes back from {old} to {new}: say why in the note", old=f"{p.percent:g}",
                          new=f"{percent:g}"))  # fmt: skip
    if attachment is not None and len(attachment[1]) > 10 << 20:
        errors.append(Msg("attachments are limited to 10 MB"))
    if errors:
        raise ProjectError(_joined(errors))
    u = m.ProjectUpdate(project_id=p.id, on_date=on, status=status, percent=percent, spent_10k_yuan=spent_10k_yuan,
                        milestone=milestone, note=note, by=by,
                        attachment_name=attachment[0] if attachment else "",
                        attachment=attachment[1] if attachment else None)  # fmt: skip
    session.add(u)
    before = audit.values(p, PROGRESS_FIELDS)
    if p.last_update is None or on >= p.last_update:
        p.status, p.percent, p.spent_10k_yuan, p.last_update = status, percent, spent_10k_yuan, on
        if status in ("in_progress", "done") and p.actual_start is None:
            p.actual_start = on
        if status == "done":
            p.actual_end = on
    with audit.Changes(session, by, batch, p.park_id) as hist:
        hist.record("project", str(seq), before, audit.values(p, PROGRESS_FIELDS))
    session.flush()
    return u


def link_effect(session: Session, seq: int, indicator_code: str, effect: float, unit: str,
                note: str = "", *, by: str = "", batch: str = "") -> m.ProjectEffect:  # fmt: skip
    """A project's expected effect on an indicator (e.g. t CO₂ avoided per year); a new or changed
    effect is kept in its history (``project_effect`` ``SEQ|INDICATOR|UNIT``)."""
    from greenpark.services.plan.indicators import get_indicator

    p = get_project(session, seq)
    get_indicator(session, indicator_code)  # must exist
    e = session.scalars(
        select(m.ProjectEffect).where(m.ProjectEffect.project_id == p.id, m.ProjectEffect.indicator_code == indicator_code,
                                      m.ProjectEffect.unit == unit)
    ).first() or m.ProjectEffect(project_id=p.id, indicator_code=indicator_code, unit=unit)  # fmt: skip
    before = audit.values(e, ("effect", "note")) if e.id is not None else None
    e.effect, e.note = effect, note
    session.add(e)
    with audit.Changes(session, by, batch, p.park_id) as hist:
        hist.record(
            "project_effect", f"{seq}|{indicator_code}|{unit}", before, {"effect": effect, "note": note}
        )
    session.flush()
    return e


def effects_by_indicator(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Expected effects summed per indicator and unit, with the projects behind them."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for e, p in session.execute(
        select(m.ProjectEffect, m.Project).join(m.Project, m.Project.id == m.ProjectEffect.project_id)
    ):
        row = out[e.indicator_code].setdefault(e.unit, {"unit": e.unit, "total": 0.0, "projects": []})
        row["total"] += e.effect
        row["projects"].append({"seq": p.seq, "name": p.name, "effect": e.effect, "status": p.status})
    return {k: list(v.values()) for k, v in out.items()}


def project_dict(p: m.Project, today: date) -> dict[str, Any]:
    return {
        "seq": p.seq, "group": p.task_group, "name": p.name, "owner": p.owner, "cycle": p.cycle_text,
        "investment_10k_yuan": p.investment_10k_yuan, "investment_text": p.investment_text, "content": p.content,
        "benefit": p.benefit, "flag": p.flag, "flag_text": Msg(FLAG_TEXT[p.flag]) if p.flag in FLAG_TEXT else p.flag, "note": p.note,
        "planned_start": p.planned_start.isoformat() if p.planned_start else None,
        "planned_end": p.planned_end.isoformat() if p.planned_end else None,
        "status": p.status, "percent": p.percent, "planned_percent": planned_percent(p, today),
        "spent_10k_yuan": p.spent_10k_yuan, "actual_start": p.actual_start.isoformat() if p.actual_start else None,
        "actual_end": p.actual_end.isoformat() if p.actual_end else None,
        "last_update": p.last_update.isoformat() if p.last_update else None, "condition": condition(p, today),
        "schedule_assumed": p.planned_start == PLAN_START,
    }  # fmt: skip


def list_projects(session: Session, today: date | None = None) -> list[dict[str, Any]]:
    today = today or date.today()
    park = get_park(session)
    return [
        project_dict(p, today)
        for p in session.scalars(
            select(m.Project).where(m.Project.park_id == park.id).order_by(m.Project.seq)
        )
    ]


def attachment(session: Session, seq: int, update_id: int) -> tuple[str, bytes]:
    """The file attached to one progress report of a project: (name, content)."""
    p = get_project(session, seq)
    u = session.get(m.ProjectUpdate, update_id)
    if u is None or u.project_id != p.id or u.attachment is None:
        raise ProjectError(Msg("project {seq} has no report {id} with an attachment", seq=seq, id=update_id))
    return u.attachment_name or "attachment", u.attachment


def history(session: Session, seq: int) -> list[dict[str, Any]]:
    """Every report of a project, newest first: who reported what, and when."""
    p = get_project(session, seq)
    return [
        {"id": u.id, "on": u.on_date.isoformat(), "status": u.status, "percent": u.percent, "spent_10k_yuan": u.spent_10k_yuan,
         "milestone": u.milestone, "note": u.note, "by": u.by, "at_utc": u.at_utc.isoformat() + "Z",
         "attachment": u.attachment_name}
        for u in session.scalars(
            select(m.ProjectUpdate).where(m.ProjectUpdate.project_id == p.id)
            .order_by(m.ProjectUpdate.on_date.desc(), m.ProjectUpdate.id.desc())
        )
    ]  # fmt: skip
