"""The officers' status board of the cycle: enterprises × months of evidence and enterprises ×
report stages, with what is overdue — read by park staff, admins and a bureau (the whole park) and
zone staff (their zone); exportable as a workbook or CSV.

Who is on the board: the enterprises whose obligations (the key-unit register of the year) include
``monthly_evidence`` (the months) or ``annual_report`` (the reports), and any enterprise that has
handed something in for the year all the same.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Integer, case, func, literal, select
from sqlalchemy.orm import Session

from greenpark.core.mrv import evidence_due_date
from greenpark.i18n import N_, Msg
from greenpark.services.mrv import access, rules
from greenpark.services.mrv.access import AccessDenied, Actor
from greenpark.services.park.auth import Role
from greenpark.store import models as m

#: Who may read the board (zone staff: their zone's enterprises).
READERS = frozenset({Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.BUREAU})
#: A month's evidence: handed in by its due date, after it, not handed in and past due, not yet due.
MONTH_STATES = ("on_time", "late", "missing", "not_due")
#: The stages of a year's report, in the cycle's order.
STAGES = ("no_report", "submitted", "returned", "accepted", "assigned", "declared", "doc_review", "site_visit",
          "concluded", "notified", "appealed", "closed", "verified")  # fmt: skip
STAGE_LABELS = {
    "no_report": N_("no report"), "submitted": N_("submitted"), "returned": N_("returned"),
    "accepted": N_("accepted"), "assigned": N_("verification assigned"), "declared": N_("conflicts declared"),
    "doc_review": N_("document review"), "site_visit": N_("site visit"), "concluded": N_("concluded"),
    "notified": N_("result notified"), "appealed": N_("appealed"), "closed": N_("closed"), "verified": N_("verified"),
}  # fmt: skip
MONTH_LABELS = {
    "on_time": N_("on time"),
    "late": N_("late"),
    "missing": N_("missing"),
    "not_due": N_("not due"),
}


def month_due(year: int, month: int, days_after: int) -> date:
    return evidence_due_date(year, month, days_after)


def month_day(deadline: str, year: int) -> date:
    """``"MM-DD"`` of a year (a deadline of the rules)."""
    mm, dd = (int(x) for x in deadline.split("-"))
    return date(year, mm, dd)


def obligations(session: Session, park_id: int, year: int) -> dict[int, frozenset[str]]:
    """Each enterprise's obligations for the year (enterprise id → obligations) from the key-unit
    register (:func:`.register.register_rows`: thresholds, tags of the enterprise file, officers'
    decisions); enterprises without any are left out."""
    from greenpark.services.mrv.register import unit_obligations

    return unit_obligations(session, park_id, year)


def evidence_masks(
    session: Session, park_id: int, enterprise_ids: Iterable[int], year: int
) -> dict[int, tuple[int, int]]:
    """Enterprise → (the months with evidence, the months handed in late) as bit masks (bit ``m``
    for month ``m``), for the enterprises with evidence. A month is late as :func:`.evidence.evidence_grid`
    judges it (by its first submission: a later version can only be later). Grouped in the database
    to a row an enterprise — the board reads 12 000 months at once."""
    wanted = set(enterprise_ids)
    if not wanted:
        return {}
    e = m.MrvEvidence
    per_month = (
        select(e.enterprise_id, e.month, func.min(case((e.late.is_(True), 1), else_=0)).label("late"))
        .where(e.park_id == park_id, e.year == year, e.month.between(1, 12))
        .group_by(e.enterprise_id, e.month)
        .subquery()
    )
    bit = literal(1, Integer).op("<<")(per_month.c.month)
    q = select(per_month.c.enterprise_id, func.sum(bit), func.sum(per_month.c.late * bit)).group_by(
        per_month.c.enterprise_id
    )
    return {ent: (int(handed), int(late)) for ent, handed, late in session.execute(q) if ent in wanted}


def evidence_months(session: Session, park_id: int, enterprise_ids: list[int] | frozenset[int], year: int,
                    today: date) -> dict[tuple[int, int], bool]:  # fmt: skip
    """(enterprise, month) → handed in on time (True) or late (False), for the months with evidence
    (:func:`evidence_masks`)."""
    return {
        (ent, mo): not late >> mo & 1
        for ent, (handed, late) in evidence_masks(session, park_id, enterprise_ids, year).items()
        for mo in range(1, 13)
        if handed >> mo & 1
    }


def month_state(handed_in: bool | None, due: date, today: date) -> str:
    """``on_time`` | ``late`` | ``missing`` | ``not_due`` (``handed_in``: True on time, False late,
    None nothing handed in)."""
    if handed_in is True:
        return "on_time"
    if handed_in is False:
        return "late"
    return "missing" if today > due else "not_due"


def _check_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise AccessDenied(f"the role {actor.role.value} may not read the status board")


def status(session: Session, actor: Actor, year: int, today: date) -> dict[str, Any]:
    """The board for ``year`` as of ``today`` (officers and a bureau; zone staff see their zone).

    Returns ``{"year", "today", "deadlines", "months": [{enterprise_id, code, name, zone, cells:
    [{month, state, due}], late, missing}], "reports": [{enterprise_id, code, name, zone, stage,
    report_id, version, verification_id, due, overdue, why}], "counts": {"months": {state: n},
    "stages": {stage: n}, "overdue": n}}``. Equal cells are one dict shared by the rows: read them,
    do not change them."""
    _check_reader(actor)
    readable = access.readable_enterprises(session, actor)
    dl = rules.deadlines(session, actor.park_id)
    obl = obligations(session, actor.park_id, year)
    e_ = m.Enterprise
    q = select(e_.id, e_.code, e_.name, e_.zone_id).where(e_.park_id == actor.park_id).order_by(e_.code)
    ents = {e.id: e for e in session.execute(q) if e.id in readable}
    zones = {k: v for k, v in session.execute(select(m.Zone.id, m.Zone.code).where(m.Zone.park_id == actor.park_id))}  # fmt: skip
    # the zone's names, for people (核心区, not core)
    zone_names = {k: {"zh": zh, "en": en} for k, zh, en in session.execute(
        select(m.Zone.id, m.Zone.name_zh, m.Zone.name_en).where(m.Zone.park_id == actor.park_id))}  # fmt: skip

    masks = evidence_masks(session, actor.park_id, ents, year)
    month_ents = [i for i in ents if "monthly_evidence" in obl.get(i, ()) or i in masks]
    dues = [month_due(year, mo, int(dl["evidence_days_after_month_end"])) for mo in range(1, 13)]
    due_iso = [d.isoformat() for d in dues]
    # a month without evidence is missing or not yet due, the same for every enterprise; the 48
    # possible cells are made once and shared by the rows (12 000 dicts made a call slower by half)
    unhanded = [month_state(None, due, today) for due in dues]
    cell = {(mo, st): {"month": mo, "state": st, "due": due_iso[mo - 1]} for mo in range(1, 13) for st in MONTH_STATES}  # fmt: skip
    months, month_counts = [], dict.fromkeys(MONTH_STATES, 0)
    for i in month_ents:
        e = ents[i]
        handed, late = masks.get(i, (0, 0))
        states = [
            unhanded[mo - 1] if not handed >> mo & 1 else "late" if late >> mo & 1 else "on_time"
            for mo in range(1, 13)
        ]
        for st in states:
            month_counts[st] += 1
        months.append({"enterprise_id": i, "code": e.code, "name": e.name, "zone": zones.get(e.zone_id or 0, ""),
                       "zone_name": zone_names.get(e.zone_id or 0, {"zh": "", "en": ""}),
                       "cells": [cell[mo, st] for mo, st in enumerate(states, 1)],
                       "late": states.count("late"), "missing": states.count("missing")})  # fmt: skip

    stages = report_stages(session, actor.park_id, list(ents), year, today, dl)
    report_ents = [i for i in ents if "annual_report" in obl.get(i, ()) or i in stages]
    reports, stage_counts, overdue = [], dict.fromkeys(STAGES, 0), 0
    report_due = month_day(str(dl["report_due_month_day"]), year + 1)
    labels = {k: Msg(v) for k, v in STAGE_LABELS.items()}
    for i in report_ents:
        e = ents[i]
        s = stages.get(i) or {"stage": "no_report", "report_id": None, "version": None, "verification_id": None,
                              "due": report_due.isoformat(), "overdue": today > report_due,
                              "why": "report_overdue" if today > report_due else "", "submitted_late": False}  # fmt: skip
        stage_counts[s["stage"]] += 1
        overdue += bool(s["overdue"])
        reports.append({"enterprise_id": i, "code": e.code, "name": e.name, "zone": zones.get(e.zone_id or 0, ""),
                       "zone_name": zone_names.get(e.zone_id or 0, {"zh": "", "en": ""}),
                        "stage_label": labels[s["stage"]], **s})  # fmt: skip
    overdue += month_counts["missing"]
    return {"year": year, "today": today.isoformat(), "deadlines": dl, "stages": list(STAGES),
            "months": months, "reports": reports,
            "counts": {"months": month_counts, "stages": stage_counts, "overdue": overdue}}  # fmt: skip


def report_stages(session: Session, park_id: int, enterprise_ids: list[int], year: int, today: date,
                  dl: dict[str, Any]) -> dict[int, dict[str, Any]]:  # fmt: skip
    """Where each enterprise's report of ``year`` stands (only enterprises with a report):
    enterprise id → {stage, report_id, version, verification_id, due, overdue, why, submitted_late}
    (``submitted_late``: the year's first version came after the report's deadline)."""
    if not enterprise_ids:
        return {}
    r, v = m.MrvReport, m.MrvVerification
    latest: dict[int, tuple[int, int, str]] = {}
    first: dict[int, date] = {}  # when the year's first version came in
    q = select(r.enterprise_id, r.id, r.version, r.status, r.submitted_utc).where(
        r.park_id == park_id, r.year == year
    )
    for ent, r_id, r_version, st, at in session.execute(q):
        if at is not None and (ent not in first or at.date() < first[ent]):
            first[ent] = at.date()
        if ent in latest and latest[ent][1] >= r_version:
            continue
        latest[ent] = (r_id, r_version, st)
    verif: dict[int, tuple[int, str, date | None]] = {}
    qv = select(v.enterprise_id, v.id, v.stage, v.due_date).where(v.park_id == park_id, v.year == year, v.stage != "withdrawn")  # fmt: skip
    for ent, v_id, stage, v_due in session.execute(qv):
        if ent not in verif or verif[ent][0] < v_id:
            verif[ent] = (v_id, stage, v_due)
    appeal_due: dict[int, date] = {}
    ncr_late: set[int] = set()
    if verif:
        # the park's and year's verifications as a subquery: a list of a thousand ids is slow to send
        vids = select(v.id).where(v.park_id == park_id, v.year == year).scalar_subquery()
        a = m.MrvAppeal
        q_appeals = select(a.verification_id, a.decision_due_date).where(a.verification_id.in_(vids), a.decided_utc.is_(None))  # fmt: skip
        appeal_due = {k: d for k, d in session.execute(q_appeals)}
        n = m.MrvNonConformity
        ncr_late = set(session.scalars(select(n.verification_id).where(
            n.verification_id.in_(vids), n.status == "open", n.due_date.is_not(None), n.due_date < today)))  # fmt: skip
    report_due = month_day(str(dl["report_due_month_day"]), year + 1)
    verification_due = month_day(str(dl["verification_due_month_day"]), year + 1)
    wanted = set(enterprise_ids)
    out: dict[int, dict[str, Any]] = {}
    for ent in (set(latest) | set(verif)) & wanted:
        rid: int | None = None
        version: int | None = None
        vid: int | None = None
        rstatus, vstage, vdue = "", "", None
        if ent in latest:
            rid, version, rstatus = latest[ent]
        if ent in verif:
            vid, vstage, vdue = verif[ent]
        due, why = report_due, ""
        if vid is not None:
            stage = "verified" if rstatus == "verified" and vstage == "closed" else vstage
            due = vdue or verification_due
            if vstage in ("assigned", "declared", "doc_review", "site_visit") and today > due:
                why = "verification_overdue"
            elif vid in ncr_late:
                why = "ncr_overdue"
            elif vstage == "appealed" and vid in appeal_due:
                due = appeal_due[vid]
                why = "appeal_decision_overdue" if today > due else ""
        else:
            stage = rstatus if rstatus in STAGES else "submitted"
            if stage == "returned" and today > report_due:
                why = "report_overdue"
        if stage not in STAGES:
            stage = "submitted"
        out[ent] = {"stage": stage, "report_id": rid, "version": version, "verification_id": vid,
                    "due": due.isoformat(), "overdue": bool(why), "why": why,
                    "submitted_late": ent in first and first[ent] > report_due}  # fmt: skip
    return out


def board_json(board: dict[str, Any], lang: str) -> bytes:
    """The board as the API's JSON (as :class:`~greenpark.web.i18n.LocalizedJSON` writes it), its
    messages — the stages' labels — in ``lang``. Only the labels are rendered, once a stage: walking
    the board's 12 000 cells and 1 000 rows for messages took as long as building it."""
    from greenpark.i18n import render, tr

    labels = {k: tr(v, lang) for k, v in STAGE_LABELS.items()}
    out = {k: v if k in ("months", "reports") else render(v, lang) for k, v in board.items()}
    out["reports"] = [{**r, "stage_label": labels[r["stage"]]} for r in board["reports"]]
    return json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


EXPORT_MONTH_HEADER = (N_("Enterprise code"), N_("Enterprise"), N_("Zone"))


def _tables(board: dict[str, Any], lang: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    from greenpark.i18n import tr

    head = [tr(h, lang) for h in EXPORT_MONTH_HEADER]
    months = [f"{board['year']}-{mo:02d}" for mo in range(1, 13)]
    month_rows = [[r["code"], r["name"], r["zone_name"][lang] or r["zone"], *[tr(MONTH_LABELS[c["state"]], lang) for c in r["cells"]]]
                  for r in board["months"]]  # fmt: skip
    stage_head = [*head, tr(N_("Stage"), lang), tr(N_("Report version"), lang), tr(N_("Due"), lang), tr(N_("Overdue"), lang)]  # fmt: skip
    report_rows = [[r["code"], r["name"], r["zone_name"][lang] or r["zone"], tr(STAGE_LABELS[r["stage"]], lang), r["version"], r["due"],
                    tr(N_("yes"), lang) if r["overdue"] else tr(N_("submitted late"), lang) if r["submitted_late"] else ""]
                   for r in board["reports"]]  # fmt: skip
    return [(tr(N_("Monthly evidence"), lang), [*head, *months], month_rows),
            (tr(N_("Annual reports"), lang), stage_head, report_rows)]  # fmt: skip


def workbook(board: dict[str, Any], lang: str = "zh") -> bytes:
    """The board as a workbook: a sheet of months (late and missing cells coloured) and a sheet of
    report stages (overdue rows in red)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from greenpark.services.tabular import export_text, workbook_bytes

    fills = {"late": PatternFill("solid", fgColor="F5CBA7"), "missing": PatternFill("solid", fgColor="E6B0AA"),
             "on_time": PatternFill("solid", fgColor="ABEBC6")}  # fmt: skip
    wb = Workbook()
    wb.remove(wb.active)
    for k, (title, head, rows) in enumerate(_tables(board, lang)):
        ws = wb.create_sheet(title[:31])
        ws.append(head)
        for c in ws[1]:
            c.font = Font(bold=True)
        for i, row in enumerate(rows):
            ws.append([export_text(v) for v in row])
            if k == 0:
                for mo, cell in enumerate(board["months"][i]["cells"]):
                    if cell["state"] in fills:
                        ws.cell(row=i + 2, column=4 + mo).fill = fills[cell["state"]]
            elif board["reports"][i]["overdue"]:
                for c in ws[i + 2]:
                    c.font = Font(color="C0392B", bold=True)
        ws.freeze_panes = "D2"
    return workbook_bytes(wb)


def board_csv(board: dict[str, Any], lang: str = "zh") -> bytes:
    """The board as CSV (UTF-8 with a byte-order mark): the months table, a blank line, the
    reports table."""
    from greenpark.services.tabular import csv_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for k, (title, head, rows) in enumerate(_tables(board, lang)):
        if k:
            w.writerow([])
        w.writerow([title])
        w.writerow(head)
        w.writerows([csv_text(v) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
