"""Third-party verification of an enterprise's annual GHG report, after the 2021 guide
(《企业温室气体排放报告核查指南（试行）》, 环办气候函〔2021〕130号, 4.1 and 5).

The cycle of one verification (``MrvVerification.stage``)::

    assigned ─(declare: no conflict)→ declared ─(document review)→ doc_review ─(site visit)→ site_visit
      │                                   non-conformities: open → answered → closed | estimated
      └─(declare: conflict)→ withdrawn    ─(conclusion, every NCR settled; statement signed)→ concluded
    concluded ─(officer notifies)→ notified ─(appeal ≤ 7 working days)→ appealed ─(decision ≤ 10)→ closed
                                         └─(window passes)→ closed

Who does what (:mod:`.access`): park officers register bodies and their verifier members
(``body.manage``), assign (``verification.assign``), notify the result (``verification.notify``),
decide appeals and close (``appeal.decide``); a verifier of the assigned body declares its conflict
of interest, reviews, visits, opens and settles non-conformities and concludes
(``verification.work``, and only on a verification of its body); the enterprise answers
non-conformities (``ncr.respond``) and appeals (``appeal.file``). Every act is appended to the
cycle's log (:mod:`.log`) with its figures and comments, and the people who must act are told
(:mod:`.notify`). Functions with deadlines take ``today`` so that tests are deterministic.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.core.mrv import add_working_days
from greenpark.i18n import N_, Msg
from greenpark.services.mrv import attachments, keys, log, notify, rules, statement
from greenpark.services.mrv.access import (
    OFFICERS,
    Actor,
    NotFound,
    enterprise_in_reach,
    readable_enterprises,
    require,
    verification_in_reach,
)
from greenpark.services.park import audit
from greenpark.services.park.auth import Role
from greenpark.store import models as m
from greenpark.store.db import hold
from greenpark.store.models import utcnow

#: Labels of the checklist items (rules.yaml doc_review_items, site_visit_items; 2021 guide 4.2).
ITEM_LABELS = {
    "basic_info": N_("Basic information of the reporting entity"),
    "boundary": N_("Accounting boundary"),
    "methods": N_("Accounting methods"),
    "activity_data": N_("Activity data and their sources"),
    "emission_factors": N_("Emission factors and their sources"),
    "emissions": N_("Emissions"),
    "production_data": N_("Production data"),
    "quality_assurance": N_("Quality assurance and document keeping"),
    "dqcp_execution": N_("Data quality control plan and its execution"),
    "facilities_match_ledger": N_("Emission facilities match the equipment ledger"),
    "meters_and_calibration": N_("Meters and their calibration"),
    "records_and_invoices": N_("Records, ledgers and invoices"),
    "sampling_and_lab": N_("Sampling and laboratory tests"),
    "interviews": N_("Interviews with the responsible staff"),
}
RESULTS = ("conforms", "nonconform", "na")
STAGES = ("assigned", "declared", "doc_review", "site_visit", "concluded", "notified", "appealed", "closed", "withdrawn")  # fmt: skip
#: Stages in which the verifier works on the evidence (review, visit, non-conformities).
WORKING = ("declared", "doc_review", "site_visit")
NOTE_MAX = 20_000


def _today(today: date | None) -> date:
    """The date deadlines are counted in: ``today`` when given (tests), else today in Beijing."""
    from greenpark.services.mrv.evidence import beijing_today

    return today if today is not None else beijing_today()


def _link(v: m.MrvVerification) -> str:
    return f"/mrv/verification?id={v.id}"


def _text(value: str, what: str, *, required: bool = True, limit: int = NOTE_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValueError(Msg("{what} is required", what=what))
    if len(value) > limit:
        raise ValueError(Msg("{what} is longer than {n} characters", what=what, n=limit))
    return value


def _finite(value: float | None, what: str) -> float:
    if value is None or value != value or value in (float("inf"), float("-inf")) or value < 0 or value > 1e10:
        raise ValueError(Msg("{what} must be a number between 0 and 10 000 000 000", what=what))
    return float(value)


def _log(session: Session, actor: Actor, action: str, entity: str, entity_id: int, v: m.MrvVerification,
         **payload: Any) -> None:  # fmt: skip
    log.append(session, actor=actor.username, action=action, entity=entity, entity_id=entity_id,
               park_id=v.park_id, enterprise_id=v.enterprise_id, payload={"verification": v.id, **payload})  # fmt: skip


# ---------------------------------------------------------------- bodies


def get_body(session: Session, park_id: int, code: str) -> m.MrvBody:
    b = session.scalars(select(m.MrvBody).where(m.MrvBody.park_id == park_id, m.MrvBody.code == code)).first()
    if b is None:
        raise NotFound(f"no verification body {code!r}")
    return b


def _body_members(session: Session, body_id: int) -> list[m.AppUser]:
    q = (select(m.AppUser).join(m.MrvBodyMember, m.MrvBodyMember.user_id == m.AppUser.id)
         .where(m.MrvBodyMember.body_id == body_id).order_by(m.AppUser.username))  # fmt: skip
    return list(session.scalars(q))


def body_dict(session: Session, b: m.MrvBody, members: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id, "code": b.code, "name": b.name, "uscc": b.uscc, "accreditation": b.accreditation,
        "contact": b.contact, "public_key_pem": b.public_key_pem,
    }  # fmt: skip
    if members:
        out["members"] = [{"username": u.username, "display_name": u.display_name} for u in _body_members(session, b.id)]  # fmt: skip
    return out


def bodies(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The park's verification bodies with their members and public keys. Who: officers, zone
    officers and a bureau see every body of the park; a verifier the bodies it belongs to; an
    enterprise the bodies assigned to verify it."""
    q = select(m.MrvBody).where(m.MrvBody.park_id == actor.park_id).order_by(m.MrvBody.code)
    if actor.role == Role.VERIFIER:
        from greenpark.services.mrv.access import body_ids

        q = q.where(m.MrvBody.id.in_(body_ids(session, actor)))
    elif actor.role == Role.ENTERPRISE:
        mine = select(m.MrvVerification.body_id).where(m.MrvVerification.enterprise_id == actor.enterprise_id)
        q = q.where(m.MrvBody.id.in_(mine))
    elif actor.role not in OFFICERS | {Role.ZONE_STAFF, Role.BUREAU}:
        return []
    return [body_dict(session, b) for b in session.scalars(q)]


def add_body(
    session: Session, actor: Actor, *, code: str, name: str, uscc: str = "", accreditation: str = "",
    contact: str = "",
) -> m.MrvBody:  # fmt: skip
    """Register a verification body with a new signing key. Who: park officers (``body.manage``)."""
    require(session, actor, "body.manage")
    code = _text(code, Msg("Code"), limit=64)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", code):
        raise ValueError(Msg("a body's code is letters, digits, '-', '_' or '.' (it is part of its address)"))
    name = _text(name, Msg("Name"), limit=200)
    uscc = _text(uscc, "USCC", required=False, limit=18)
    if session.scalars(select(m.MrvBody.id).where(m.MrvBody.park_id == actor.park_id, m.MrvBody.code == code)).first():  # fmt: skip
        raise ValueError(Msg("a verification body {code} exists already", code=code))
    pem, enc = keys.new_body_key()
    b = m.MrvBody(park_id=actor.park_id, code=code, name=name, uscc=uscc,
                  accreditation=_text(accreditation, "accreditation", required=False, limit=200),
                  contact=_text(contact, "contact", required=False, limit=200), public_key_pem=pem, private_key_enc=enc)  # fmt: skip
    session.add(b)
    session.flush()
    values = {
        "code": code,
        "name": name,
        "uscc": uscc,
        "accreditation": b.accreditation,
        "contact": b.contact,
    }
    audit.record(session, actor.username, "create", "mrv_body", key=code, new=values, park_id=actor.park_id)
    log.append(session, actor=actor.username, action="body.add", entity="mrv_body", entity_id=b.id,
               park_id=actor.park_id, payload={**values, "public_key_sha256": hashlib.sha256(pem.encode()).hexdigest()})  # fmt: skip
    return b


def add_member(session: Session, actor: Actor, body_code: str, username: str) -> m.MrvBodyMember:
    """Make a verifier user of the park a member of a body. Who: park officers."""
    require(session, actor, "body.manage")
    b = get_body(session, actor.park_id, body_code)
    user = session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
    if user is None or user.park_id != actor.park_id:
        raise ValueError(Msg("no user {username} in this park", username=username))
    if user.role != Role.VERIFIER.value:
        raise ValueError(Msg("{username} is not a verifier (role verifier needed)", username=username))
    found = session.scalars(select(m.MrvBodyMember).where(m.MrvBodyMember.body_id == b.id, m.MrvBodyMember.user_id == user.id)).first()  # fmt: skip
    if found is not None:
        return found
    mem = m.MrvBodyMember(body_id=b.id, user_id=user.id)
    session.add(mem)
    session.flush()
    audit.record(session, actor.username, "create", "mrv_body_member", key=f"{b.code}|{username}",
                 new={"body": b.code, "user": username}, park_id=actor.park_id)  # fmt: skip
    log.append(session, actor=actor.username, action="body.member", entity="mrv_body", entity_id=b.id,
               park_id=actor.park_id, payload={"body": b.code, "user": username})  # fmt: skip
    return mem


def body_public_key(session: Session, park_id: int, code: str) -> str:
    """A body's public key (PEM): public, for anyone to check its statements."""
    return get_body(session, park_id, code).public_key_pem


# ---------------------------------------------------------------- reading


def _latest_report(session: Session, enterprise_id: int, year: int) -> m.MrvReport | None:
    q = (select(m.MrvReport).where(m.MrvReport.enterprise_id == enterprise_id, m.MrvReport.year == year)
         .order_by(m.MrvReport.version.desc()).limit(1))  # fmt: skip
    return session.scalars(q).first()


def assignable(session: Session, actor: Actor, year: int) -> list[dict[str, Any]]:
    """Enterprises whose latest report of ``year`` is accepted and that have no verification under
    way (the officer's assign form). Who: officers."""
    require(session, actor, "verification.assign")
    ents = readable_enterprises(session, actor)
    out = []
    for e in session.scalars(
        select(m.Enterprise).where(m.Enterprise.id.in_(ents)).order_by(m.Enterprise.code)
    ):
        r = _latest_report(session, e.id, year)
        if r is None or r.status != "accepted" or _active(session, e.id, year) is not None:
            continue
        out.append({"enterprise_id": e.id, "code": e.code, "name": e.name, "report_id": r.id,
                    "version": r.version, "total_co2_t": r.total_co2_t})  # fmt: skip
    return out


def _active(session: Session, enterprise_id: int, year: int) -> m.MrvVerification | None:
    q = select(m.MrvVerification).where(
        m.MrvVerification.enterprise_id == enterprise_id, m.MrvVerification.year == year,
        m.MrvVerification.stage != "withdrawn",
    )  # fmt: skip
    return session.scalars(q).first()


def _loads(text: str) -> Any:
    return json.loads(text or "[]")


def _report_brief(r: m.MrvReport | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"id": r.id, "version": r.version, "status": r.status, "total_co2_t": r.total_co2_t,
            "submitted_utc": r.submitted_utc.isoformat(timespec="seconds") + "Z", "guideline": r.guideline}  # fmt: skip


def _ncr_dict(session: Session, n: m.MrvNonConformity) -> dict[str, Any]:
    files = attachments.of_owner(session, "ncr", [n.id])[n.id]
    return {
        "id": n.id, "number": n.number, "clause": n.clause, "description": n.description, "status": n.status,
        "opened_by": n.opened_by, "opened_utc": _iso(n.opened_utc), "due_date": _d(n.due_date),
        "response": n.response, "responded_by": n.responded_by, "responded_utc": _iso(n.responded_utc),
        "closed_by": n.closed_by, "closed_utc": _iso(n.closed_utc), "close_note": n.close_note,
        "estimate_co2_t": n.estimate_co2_t, "estimate_reasoning": n.estimate_reasoning,
        "attachments": files,
    }  # fmt: skip


def _bj_day(t: datetime) -> date:
    """The Beijing date of a stored UTC time (the statement's dates, like its conclusion date)."""
    return (t + timedelta(hours=8)).date()


def _iso(t: Any) -> str | None:
    return None if t is None else t.isoformat(timespec="seconds") + "Z"


def _d(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _ncrs(session: Session, vid: int) -> list[m.MrvNonConformity]:
    q = select(m.MrvNonConformity).where(m.MrvNonConformity.verification_id == vid).order_by(m.MrvNonConformity.number)  # fmt: skip
    return list(session.scalars(q))


def _appeal(session: Session, vid: int) -> m.MrvAppeal | None:
    q = select(m.MrvAppeal).where(m.MrvAppeal.verification_id == vid).order_by(m.MrvAppeal.id.desc())
    return session.scalars(q).first()


def summary(session: Session, v: m.MrvVerification) -> dict[str, Any]:
    ent = session.get(m.Enterprise, v.enterprise_id)
    body = session.get(m.MrvBody, v.body_id)
    open_ncrs = sum(1 for n in _ncrs(session, v.id) if n.status in ("open", "answered"))
    reported = v.reported_total_co2_t
    if reported is None:  # before the conclusion: the total of the report assigned
        reported = session.scalar(
            select(m.MrvReport.total_co2_t).where(m.MrvReport.id == v.initial_report_id)
        )
    return {
        "id": v.id, "enterprise_id": v.enterprise_id, "enterprise": ent.name if ent else "",
        "enterprise_code": ent.code if ent else "", "year": v.year, "stage": v.stage,
        "body": body.code if body else "", "body_name": body.name if body else "", "due_date": _d(v.due_date),
        "conclusion": v.conclusion, "reported_total_co2_t": reported,
        "verified_total_co2_t": v.verified_total_co2_t, "open_ncrs": open_ncrs,
        "appeal_due_date": _d(v.appeal_due_date), "assigned_utc": _iso(v.assigned_utc),
    }  # fmt: skip


def list_verifications(session: Session, actor: Actor, year: int | None = None) -> list[dict[str, Any]]:
    """The verifications in the actor's reach (a verifier: those of its bodies; an enterprise: its
    own; officers: the park's or the zone's)."""
    from greenpark.services.mrv.access import body_ids

    q = select(m.MrvVerification).where(m.MrvVerification.park_id == actor.park_id)
    if actor.role == Role.VERIFIER:
        q = q.where(
            m.MrvVerification.body_id.in_(body_ids(session, actor)), m.MrvVerification.stage != "withdrawn"
        )
    else:
        q = q.where(m.MrvVerification.enterprise_id.in_(readable_enterprises(session, actor)))
    if year is not None:
        q = q.where(m.MrvVerification.year == year)
    return [summary(session, v) for v in session.scalars(q.order_by(m.MrvVerification.year.desc(), m.MrvVerification.id))]  # fmt: skip


def detail(session: Session, actor: Actor, vid: int) -> dict[str, Any]:
    """One verification with its checklists, non-conformities, appeal and log (in reach only)."""
    v = verification_in_reach(session, actor, vid)
    ent = session.get(m.Enterprise, v.enterprise_id)
    assert ent is not None
    appeal = _appeal(session, v.id)
    dl = rules.deadlines(session, v.park_id)
    return {
        **summary(session, v),
        "enterprise_uscc": ent.uscc,
        "initial_report": _report_brief(session.get(m.MrvReport, v.initial_report_id)),
        "final_report": _report_brief(session.get(m.MrvReport, v.final_report_id) if v.final_report_id else None),
        "latest_report": _report_brief(_latest_report(session, v.enterprise_id, v.year)),
        "assigned_by": v.assigned_by, "coi_declared_by": v.coi_declared_by, "coi_declared_utc": _iso(v.coi_declared_utc),
        "coi_statement": v.coi_statement,
        "doc_review": _loads(v.doc_review_json), "doc_review_by": v.doc_review_by, "doc_review_utc": _iso(v.doc_review_utc),
        "site_visit_date": _d(v.site_visit_date), "site_visit_team": v.site_visit_team,
        "site_visit_record": v.site_visit_record, "site_visit": _loads(v.site_visit_json),
        "verified_energy_tce": v.verified_energy_tce, "differences": _loads(v.differences_json),
        "concluded_by": v.concluded_by, "concluded_utc": _iso(v.concluded_utc),
        "statement_sha256": v.statement_sha256, "has_statement": v.statement_docx is not None,
        "notified_utc": _iso(v.notified_utc),
        "appeal": None if appeal is None else {
            "id": appeal.id, "filed_by": appeal.filed_by, "filed_utc": _iso(appeal.filed_utc), "grounds": appeal.grounds,
            "decision_due_date": _d(appeal.decision_due_date), "decision": appeal.decision,
            "decision_note": appeal.decision_note, "revised_total_co2_t": appeal.revised_total_co2_t,
            "decided_by": appeal.decided_by, "decided_utc": _iso(appeal.decided_utc),
        },
        "ncrs": [_ncr_dict(session, n) for n in _ncrs(session, v.id)],
        "checklists": {"doc_review": rules.shipped_rules()["doc_review_items"],
                       "site_visit": rules.shipped_rules()["site_visit_items"]},
        "item_labels": ITEM_LABELS,
        "appeal_working_days": dl["appeal_working_days"],
        "appeal_open": v.stage == "notified" and v.appeal_due_date is not None and _today(None) <= v.appeal_due_date,
        "log": _log_entries(session, v),
    }  # fmt: skip


def _log_entries(session: Session, v: m.MrvVerification) -> list[dict[str, Any]]:
    """The log of one verification and its non-conformities, newest first."""
    rows = log.entries(session, entity="mrv_verification", entity_id=v.id)
    for n in _ncrs(session, v.id):
        rows += log.entries(session, entity="mrv_nonconformity", entity_id=n.id)
    return sorted(rows, key=lambda e: -int(e["seq"]))


# ---------------------------------------------------------------- the officer's acts


def assign(
    session: Session,
    actor: Actor,
    *,
    enterprise_id: int,
    year: int,
    body_code: str,
    today: date | None = None,
) -> m.MrvVerification:
    """Assign the verification of an enterprise's report of ``year`` to a body: the report is the
    latest version, which must be accepted; due by the park's ``verification_due_month_day`` of
    year+1. The body's verifiers and the enterprise are told. Who: park officers."""
    require(session, actor, "verification.assign", enterprise_id)
    ent = enterprise_in_reach(session, actor, enterprise_id)
    body = get_body(session, actor.park_id, body_code)
    report = _latest_report(session, enterprise_id, year)
    if report is None:
        raise ValueError(Msg("{enterprise} has no report for {year}", enterprise=ent.name, year=year))
    hold(session, report)  # two assignments at once: the second sees the first
    if report.status != "accepted":
        raise ValueError(Msg("the latest report of {enterprise} for {year} (version {version}) is {status}, not accepted",
                             enterprise=ent.name, year=year, version=report.version, status=report.status))  # fmt: skip
    if _active(session, enterprise_id, year) is not None:
        raise ValueError(
            Msg("{enterprise} already has a verification for {year}", enterprise=ent.name, year=year)
        )
    if not _body_members(session, body.id):
        raise ValueError(Msg("the body {code} has no verifier yet", code=body.code))
    dl = rules.deadlines(session, actor.park_id)
    month, day = (int(x) for x in str(dl["verification_due_month_day"]).split("-"))
    # the rule's date, but never less than the minimum from today: a late assignment is not born overdue
    due = max(
        date(year + 1, month, day), _today(None) + timedelta(days=int(dl.get("verification_min_days", 30)))
    )
    v = m.MrvVerification(
        park_id=actor.park_id, enterprise_id=enterprise_id, year=year, body_id=body.id, initial_report_id=report.id,
        stage="assigned", assigned_by=actor.username, due_date=due,
    )  # fmt: skip
    session.add(v)
    session.flush()
    _log(session, actor, "verification.assign", "mrv_verification", v.id, v, body=body.code, year=year,
         report_id=report.id, report_version=report.version, reported_total_co2_t=report.total_co2_t,
         due_date=v.due_date)  # fmt: skip
    params = {"enterprise": ent.name, "year": year, "body": body.name, "due": v.due_date.isoformat()}  # type: ignore[union-attr]
    notify.notify(session, notify.body_users(session, body.id), park_id=v.park_id, key=f"verification.assign.{v.id}",
                  kind="assigned", msgid=N_("Verify {enterprise}'s report of {year} by {due}: declare any conflict of interest first"),
                  params=params, link=_link(v))  # fmt: skip
    notify.notify(session, notify.enterprise_users(session, enterprise_id), park_id=v.park_id,
                  key=f"verification.assign.ent.{v.id}", kind="notice",
                  msgid=N_("{body} will verify your report of {year}"), params=params, link=_link(v))  # fmt: skip
    return v


def _officer_v(session: Session, actor: Actor, vid: int, act: str) -> m.MrvVerification:
    v = verification_in_reach(session, actor, vid)
    require(session, actor, act, v.enterprise_id)
    hold(session, v)
    return v


def notify_result(
    session: Session, actor: Actor, vid: int, *, today: date | None = None
) -> m.MrvVerification:
    """Tell the enterprise the concluded result; the appeal window (``appeal_working_days``
    working days on the Chinese calendar) starts today. Who: park officers."""
    v = _officer_v(session, actor, vid, "verification.notify")
    if v.stage != "concluded":
        raise ValueError(
            Msg("only a concluded verification can be notified (this one is {stage})", stage=v.stage)
        )
    day = _today(today)
    v.stage, v.notified_utc = "notified", utcnow()
    v.appeal_due_date = add_working_days(day, int(rules.deadlines(session, v.park_id)["appeal_working_days"]))
    _log(session, actor, "verification.notify", "mrv_verification", v.id, v, notified_on=day,
         appeal_due_date=v.appeal_due_date, conclusion=v.conclusion, verified_total_co2_t=v.verified_total_co2_t)  # fmt: skip
    notify.notify(session, notify.enterprise_users(session, v.enterprise_id), park_id=v.park_id,
                  key=f"verification.notified.{v.id}", kind="notice",
                  msgid=N_("Verification of {year}: {conclusion}, verified {total} t CO₂; you may appeal until {due}"),
                  params={"year": v.year, "conclusion": v.conclusion, "total": round(v.verified_total_co2_t or 0),
                          "due": v.appeal_due_date.isoformat()}, link=_link(v))  # fmt: skip
    return v


def decide_appeal(
    session: Session, actor: Actor, vid: int, *, decision: str, note: str, revised_total_co2_t: float | None = None,
    today: date | None = None,
) -> m.MrvAppeal:  # fmt: skip
    """Decide the appeal: ``upheld`` (the result stands) or ``revised`` (a revised verified total).
    Who: park officers."""
    v = _officer_v(session, actor, vid, "appeal.decide")
    appeal = _appeal(session, v.id)
    if v.stage != "appealed" or appeal is None or appeal.decision:
        raise ValueError(Msg("there is no appeal to decide"))
    if decision not in ("upheld", "revised"):
        raise ValueError(Msg("the decision is upheld or revised"))
    note = _text(note, Msg("The reasons of the decision"))
    if decision == "revised":
        revised_total_co2_t = _finite(revised_total_co2_t, Msg("Revised total"))
    else:
        revised_total_co2_t = None
    appeal.decision, appeal.decision_note, appeal.revised_total_co2_t = decision, note, revised_total_co2_t
    appeal.decided_by, appeal.decided_utc = actor.username, utcnow()
    day = _today(today)
    old = v.verified_total_co2_t
    if revised_total_co2_t is not None:
        v.verified_total_co2_t = revised_total_co2_t
    _log(session, actor, "appeal.decide", "mrv_verification", v.id, v, decision=decision, note=note,
         revised_total_co2_t=revised_total_co2_t, previous_verified_total_co2_t=old, decided_on=day,
         decision_due_date=appeal.decision_due_date, late=day > appeal.decision_due_date)  # fmt: skip
    params = {"year": v.year, "decision": decision, "total": round(v.verified_total_co2_t or 0)}
    notify.notify(session, notify.enterprise_users(session, v.enterprise_id) + notify.body_users(session, v.body_id),
                  park_id=v.park_id, key=f"appeal.decided.{appeal.id}", kind="notice",
                  msgid=N_("The appeal on the verification of {year} was decided: {decision}, verified {total} t CO₂"),
                  params=params, link=_link(v))  # fmt: skip
    if decision == "revised" and v.conclusion == "pass":
        _apply_verified(session, v)
    return appeal


def _close(session: Session, actor_name: str, v: m.MrvVerification, why: str) -> None:
    v.stage = "closed"
    log.append(session, actor=actor_name, action="verification.close", entity="mrv_verification", entity_id=v.id,
               park_id=v.park_id, enterprise_id=v.enterprise_id, payload={"verification": v.id, "why": why})  # fmt: skip


def _closable(session: Session, v: m.MrvVerification, day: date) -> str | None:
    """Why ``v`` may be closed on ``day`` (None: not yet)."""
    if v.stage == "notified" and v.appeal_due_date is not None and day > v.appeal_due_date:
        return "appeal window passed"
    if v.stage == "appealed":
        appeal = _appeal(session, v.id)
        if appeal is not None and appeal.decision:
            return "appeal decided"
    return None


def close(session: Session, actor: Actor, vid: int, *, today: date | None = None) -> m.MrvVerification:
    """Close a verification once its appeal window passed without appeal, or its appeal was
    decided. Who: park officers."""
    v = _officer_v(session, actor, vid, "appeal.decide")
    why = _closable(session, v, _today(today))
    if why is None:
        if v.stage == "notified" and v.appeal_due_date is not None:
            raise ValueError(Msg("the appeal window is open until {due}", due=v.appeal_due_date.isoformat()))
        raise ValueError(Msg("this verification cannot be closed now (it is {stage})", stage=v.stage))
    _close(session, actor.username, v, why)
    return v


def close_due(session: Session, today: date | None = None) -> list[int]:
    """Close every verification whose appeal window passed without appeal or whose appeal was
    decided (the scheduler's job; logged as ``system``). Returns the ids closed."""
    day = _today(today)
    q = select(m.MrvVerification).where(m.MrvVerification.stage.in_(("notified", "appealed")))
    closed = []
    for v in list(session.scalars(q)):
        hold(session, v)  # a close by hand meanwhile
        why = _closable(session, v, day)
        if why is not None:
            _close(session, "system", v, why)
            closed.append(v.id)
    return closed


# ---------------------------------------------------------------- the verifier's acts


def _verifier_v(session: Session, actor: Actor, vid: int, stages: tuple[str, ...]) -> m.MrvVerification:
    require(session, actor, "verification.work")
    v = verification_in_reach(session, actor, vid)
    hold(session, v)
    if v.stage == "assigned" and "assigned" not in stages:
        raise ValueError(Msg("declare any conflict of interest first"))
    if v.stage not in stages:
        raise ValueError(Msg("not possible at this stage ({stage})", stage=v.stage))
    return v


def declare(
    session: Session, actor: Actor, vid: int, *, statement_text: str, no_conflict: bool
) -> m.MrvVerification:
    """The conflict-of-interest declaration of the assignment (before anything else). A declared
    conflict withdraws the body: the officers are told to assign another. Who: a verifier of the body."""
    v = _verifier_v(session, actor, vid, ("assigned",))
    text = _text(statement_text, Msg("The declaration"))
    v.coi_declared_by, v.coi_declared_utc, v.coi_statement = actor.username, utcnow(), text
    v.stage = "declared" if no_conflict else "withdrawn"
    _log(
        session,
        actor,
        "verification.declare",
        "mrv_verification",
        v.id,
        v,
        no_conflict=no_conflict,
        statement=text,
    )
    if not no_conflict:
        ent = session.get(m.Enterprise, v.enterprise_id)
        notify.notify(session, notify.officers(session, v.park_id), park_id=v.park_id,
                      key=f"verification.withdrawn.{v.id}", kind="returned",
                      msgid=N_("The verifier declared a conflict of interest on {enterprise} {year}: assign another body"),
                      params={"enterprise": ent.name if ent else "", "year": v.year}, link=_link(v))  # fmt: skip
    return v


def _checklist(items: list[dict[str, Any]], codes: list[str], what: str) -> list[dict[str, Any]]:
    given = {}
    for x in items:
        code = str(x.get("item", ""))
        if code not in codes:
            raise ValueError(Msg("{what}: unknown item {item}", what=what, item=code))
        result = str(x.get("result", ""))
        if result not in RESULTS:
            raise ValueError(
                Msg("{what}: the result of {item} is conforms, nonconform or na", what=what, item=code)
            )
        label = Msg("The note on {item}", item=Msg(ITEM_LABELS.get(code, code)))
        note = _text(str(x.get("note", "")), label, required=result == "nonconform", limit=4000)
        given[code] = {"item": code, "result": result, "note": note}
    missing = [c for c in codes if c not in given]
    if missing:
        raise ValueError(Msg("{what}: no result for {items}", what=what, items=", ".join(missing)))
    return [given[c] for c in codes]


def doc_review(session: Session, actor: Actor, vid: int, items: list[dict[str, Any]]) -> m.MrvVerification:
    """Record the document review (文件评审表): a result ``conforms | nonconform | na`` with a note
    for every item of rules.yaml ``doc_review_items`` (a note is required for a non-conformity).
    Who: a verifier of the body, after the declaration and before the conclusion."""
    v = _verifier_v(session, actor, vid, WORKING)
    checked = _checklist(items, list(rules.shipped_rules()["doc_review_items"]), Msg("Document review"))
    v.doc_review_json = json.dumps(checked, ensure_ascii=False)
    v.doc_review_by, v.doc_review_utc = actor.username, utcnow()
    if v.stage == "declared":
        v.stage = "doc_review"
    _log(session, actor, "verification.doc_review", "mrv_verification", v.id, v, items=checked)
    return v


def site_visit(
    session: Session,
    actor: Actor,
    vid: int,
    *,
    visit_date: date,
    team: str,
    record: str,
    items: list[dict[str, Any]],
) -> m.MrvVerification:
    """Record the site visit (现场核查, 查、问、看、验): date, team, the record and the site checklist
    (rules.yaml ``site_visit_items``). Who: a verifier of the body, after the document review."""
    v = _verifier_v(session, actor, vid, ("doc_review", "site_visit"))
    checked = _checklist(items, list(rules.shipped_rules()["site_visit_items"]), Msg("Site visit"))
    if not v.year < visit_date.year <= _today(None).year + 1:
        raise ValueError(
            Msg("the site visit's date {day} is not after the reporting year", day=visit_date.isoformat())
        )
    declared = (v.coi_declared_utc + timedelta(hours=8)).date() if v.coi_declared_utc else None  # Beijing
    if declared is not None and visit_date < declared:
        raise ValueError(Msg("the site visit's date {day} is before the declaration of {declared}",
                             day=visit_date.isoformat(), declared=declared.isoformat()))  # fmt: skip
    v.site_visit_date, v.site_visit_team = visit_date, _text(team, Msg("The site team"), limit=400)
    v.site_visit_record = _text(record, Msg("The site visit record"))
    v.site_visit_json = json.dumps(checked, ensure_ascii=False)
    v.stage = "site_visit"
    _log(session, actor, "verification.site_visit", "mrv_verification", v.id, v, date=visit_date, team=v.site_visit_team,
         record=v.site_visit_record, items=checked)  # fmt: skip
    return v


def open_ncr(
    session: Session, actor: Actor, vid: int, *, clause: str, description: str, due_date: date | None = None
) -> m.MrvNonConformity:
    """Open a non-conformity (不符合项) for the enterprise to answer. Who: a verifier of the body."""
    v = _verifier_v(session, actor, vid, WORKING)
    number = (session.scalar(select(func.max(m.MrvNonConformity.number)).where(m.MrvNonConformity.verification_id == v.id)) or 0) + 1  # fmt: skip
    n = m.MrvNonConformity(verification_id=v.id, number=number, clause=_text(clause, "clause", required=False, limit=200),
                           description=_text(description, Msg("The description")), opened_by=actor.username,
                           due_date=due_date, status="open")  # fmt: skip
    session.add(n)
    session.flush()
    _log(session, actor, "ncr.open", "mrv_nonconformity", n.id, v, number=number, clause=n.clause,
         description=n.description, due_date=due_date)  # fmt: skip
    notify.notify(session, notify.enterprise_users(session, v.enterprise_id), park_id=v.park_id, key=f"ncr.open.{n.id}",
                  kind="due", msgid=N_("Non-conformity #{number} of the verification of {year}: answer by {due}"),
                  params={"number": number, "year": v.year, "due": _d(due_date) or "–"}, link=_link(v))  # fmt: skip
    return n


def _ncr(session: Session, actor: Actor, ncr_id: int) -> tuple[m.MrvNonConformity, m.MrvVerification]:
    n = session.get(m.MrvNonConformity, ncr_id)
    if n is None:
        raise NotFound("no such non-conformity")
    v = verification_in_reach(session, actor, n.verification_id)
    hold(session, n)
    session.refresh(v)
    return n, v


def answer_ncr(
    session: Session,
    actor: Actor,
    ncr_id: int,
    *,
    response: str,
    files: list[tuple[str, bytes]] | None = None,
) -> m.MrvNonConformity:
    """The enterprise's answer to a non-conformity with its evidence (``(filename, content)``
    files as :mod:`.attachments` accepts them: at most 10 MiB each, kept with their SHA-256).
    Who: the enterprise (or a park officer for it)."""
    n, v = _ncr(session, actor, ncr_id)
    require(session, actor, "ncr.respond", v.enterprise_id)
    if n.status not in ("open", "answered") or v.stage not in WORKING:
        raise ValueError(Msg("this non-conformity is {status}: it cannot be answered", status=n.status))
    n.response, n.responded_by, n.responded_utc = _text(response, Msg("The answer")), actor.username, utcnow()
    n.status = "answered"
    stored = []
    for name, content in files or []:
        a = attachments.add(session, actor, enterprise_id=v.enterprise_id, owner_kind="ncr", owner_id=n.id,
                            filename=name, content=content)  # fmt: skip
        stored.append({"filename": a.filename, "size_bytes": a.size_bytes, "sha256": a.sha256})
    session.flush()
    _log(
        session,
        actor,
        "ncr.answer",
        "mrv_nonconformity",
        n.id,
        v,
        number=n.number,
        response=n.response,
        files=stored,
    )
    notify.notify(session, notify.body_users(session, v.body_id), park_id=v.park_id,
                  key=f"ncr.answer.{n.id}.{n.responded_utc.isoformat()}", kind="due",
                  msgid=N_("The enterprise answered non-conformity #{number} ({year})"),
                  params={"number": n.number, "year": v.year}, link=_link(v))  # fmt: skip
    return n


def close_ncr(session: Session, actor: Actor, ncr_id: int, *, note: str) -> m.MrvNonConformity:
    """Close an answered non-conformity as remedied. Who: a verifier of the body."""
    n, v = _ncr(session, actor, ncr_id)
    _verifier_v(session, actor, v.id, WORKING)
    if n.status != "answered":
        raise ValueError(
            Msg("only an answered non-conformity can be closed (this one is {status})", status=n.status)
        )
    n.status, n.closed_by, n.closed_utc, n.close_note = (
        "closed",
        actor.username,
        utcnow(),
        _text(note, Msg("The note")),
    )
    _log(session, actor, "ncr.close", "mrv_nonconformity", n.id, v, number=n.number, note=n.close_note)
    return n


def estimate_ncr(
    session: Session, actor: Actor, ncr_id: int, *, estimate_co2_t: float, reasoning: str
) -> m.MrvNonConformity:
    """Settle a non-conformity that was not remedied with a conservative estimate of the emissions
    concerned and its reasoning (2021 guide 4.1 step 6: 保守性原则 — never underestimate). Who: a
    verifier of the body."""
    n, v = _ncr(session, actor, ncr_id)
    _verifier_v(session, actor, v.id, WORKING)
    if n.status not in ("open", "answered"):
        raise ValueError(Msg("this non-conformity is {status} already", status=n.status))
    n.estimate_co2_t = _finite(estimate_co2_t, Msg("The conservative estimate"))
    n.estimate_reasoning = _text(reasoning, Msg("The reasoning of the conservative estimate"))
    n.status, n.closed_by, n.closed_utc = "estimated", actor.username, utcnow()
    _log(session, actor, "ncr.estimate", "mrv_nonconformity", n.id, v, number=n.number,
         estimate_co2_t=n.estimate_co2_t, reasoning=n.estimate_reasoning)  # fmt: skip
    notify.notify(session, notify.enterprise_users(session, v.enterprise_id), park_id=v.park_id, key=f"ncr.estimate.{n.id}",
                  kind="notice", msgid=N_("Non-conformity #{number} ({year}) was settled by a conservative estimate of {t} t CO₂"),
                  params={"number": n.number, "year": v.year, "t": round(n.estimate_co2_t)}, link=_link(v))  # fmt: skip
    return n


def _differences(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, x in enumerate(items, 1):
        item = _text(str(x.get("item", "")), Msg("Difference {i}: the item", i=i), limit=200)
        reported = _finite(x.get("reported_t"), Msg("Difference {i}: reported", i=i))
        verified = _finite(x.get("verified_t"), Msg("Difference {i}: verified", i=i))
        reason = _text(str(x.get("reason", "")), Msg("Difference {i}: the reason", i=i), limit=4000)
        out.append({"item": item, "reported_t": reported, "verified_t": verified, "reason": reason})
    return out


def conclude(
    session: Session, actor: Actor, vid: int, *, conclusion: str, verified_total_co2_t: float,
    differences: list[dict[str, Any]], verified_energy_tce: float | None = None, lang: str = "zh",
    today: date | None = None,
) -> m.MrvVerification:  # fmt: skip
    """The conclusion (核查结论): ``pass`` or ``fail``, the verified total and the reason for every
    difference from the initially reported total; refused while a non-conformity is open or
    answered but not closed or estimated. The final report is the enterprise's latest version of
    the year, which the park must have accepted; on ``pass`` it becomes ``verified`` and the figure flows into the park inventory.
    The statement (.docx in ``lang``) is built and signed with the body's key. Who: a verifier of
    the body, after the site visit."""
    v = _verifier_v(session, actor, vid, ("site_visit",))
    if conclusion not in ("pass", "fail"):
        raise ValueError(Msg("the conclusion is pass or fail"))
    if lang not in ("zh", "en"):
        raise ValueError(Msg("the statement's language is zh or en"))
    pending = [n.number for n in _ncrs(session, v.id) if n.status in ("open", "answered")]
    if pending:
        raise ValueError(Msg("non-conformities still to close or estimate: {numbers}",
                             numbers=", ".join(f"#{x}" for x in pending)))  # fmt: skip
    verified = _finite(verified_total_co2_t, Msg("The verified total"))
    energy = None if verified_energy_tce is None else _finite(verified_energy_tce, "energy_tce")
    diffs = _differences(differences)
    initial = session.get(m.MrvReport, v.initial_report_id)
    final = _latest_report(session, v.enterprise_id, v.year)
    assert initial is not None and final is not None
    if final.status != "accepted":  # a version sent during the verification counts once the park accepted it
        raise ValueError(Msg("version {version} of the report is {status}: the park reviews it before the conclusion",
                             version=final.version, status=final.status))  # fmt: skip
    reported = initial.total_co2_t
    if abs(verified - reported) >= 0.5 and not diffs:
        raise ValueError(Msg("the verified total differs from the reported {reported} t: give the reason for each difference",
                             reported=round(reported)))  # fmt: skip
    day = _today(today)
    v.conclusion, v.final_report_id = conclusion, final.id
    v.reported_total_co2_t, v.verified_total_co2_t, v.verified_energy_tce = reported, verified, energy
    v.differences_json = json.dumps(diffs, ensure_ascii=False)
    v.concluded_by, v.concluded_utc, v.stage = actor.username, utcnow(), "concluded"
    content = _statement(session, v, initial, final, day, lang)
    body = session.get(m.MrvBody, v.body_id)
    assert body is not None and body.private_key_enc is not None
    v.statement_docx, v.statement_sha256 = content, statement.sha256(content)
    v.statement_signature_b64 = keys.sign_b64(keys.body_private_key(body.private_key_enc), content)
    if conclusion == "pass":
        final.status = "verified"
    _log(session, actor, "verification.conclude", "mrv_verification", v.id, v, conclusion=conclusion,
         reported_total_co2_t=reported, verified_total_co2_t=verified, verified_energy_tce=energy, differences=diffs,
         initial_report_id=initial.id, final_report_id=final.id, statement_sha256=v.statement_sha256,
         statement_signature_b64=v.statement_signature_b64, lang=lang)  # fmt: skip
    ent = session.get(m.Enterprise, v.enterprise_id)
    notify.notify(session, notify.officers(session, v.park_id), park_id=v.park_id, key=f"verification.concluded.{v.id}",
                  kind="due", msgid=N_("The verification of {enterprise} {year} is concluded ({conclusion}): notify the enterprise"),
                  params={"enterprise": ent.name if ent else "", "year": v.year, "conclusion": conclusion}, link=_link(v))  # fmt: skip
    if conclusion == "pass":
        _apply_verified(session, v)
    return v


def _apply_verified(session: Session, v: m.MrvVerification) -> None:
    # the verified figure into the park inventory, with its lineage
    from greenpark.services.mrv import inventory_flow  # type: ignore[attr-defined,unused-ignore]

    inventory_flow.apply_verified(session, v)


def _statement(session: Session, v: m.MrvVerification, initial: m.MrvReport, final: m.MrvReport, day: date,
               lang: str) -> bytes:  # fmt: skip
    body = session.get(m.MrvBody, v.body_id)
    ent = session.get(m.Enterprise, v.enterprise_id)
    assert body is not None and ent is not None
    names = []
    for username in dict.fromkeys([v.coi_declared_by, v.doc_review_by, v.concluded_by]):
        u = (
            session.scalars(select(m.AppUser).where(m.AppUser.username == username)).first()
            if username
            else None
        )
        if u is not None:
            names.append(u.display_name or u.username)
    data = statement.StatementData(
        body_name=body.name, body_uscc=body.uscc, body_accreditation=body.accreditation, enterprise_name=ent.name,
        enterprise_uscc=ent.uscc, year=v.year, guideline=final.guideline or initial.guideline,
        initial_version=initial.version, initial_date=_bj_day(initial.submitted_utc), final_version=final.version,
        final_date=_bj_day(final.submitted_utc), reported_total_co2_t=v.reported_total_co2_t or 0.0,
        verified_total_co2_t=v.verified_total_co2_t or 0.0, differences=_loads(v.differences_json),
        doc_review=_loads(v.doc_review_json), doc_review_date=_bj_day(v.doc_review_utc) if v.doc_review_utc else None,
        site_visit_date=v.site_visit_date, site_visit_team=v.site_visit_team,
        ncrs=[_ncr_dict(session, n) for n in _ncrs(session, v.id)], conclusion=v.conclusion, concluded_on=day,
        verifiers=names,
    )  # fmt: skip
    return statement.build(data, lang)


def statement_files(session: Session, actor: Actor, vid: int) -> tuple[bytes, bytes, str, str]:
    """The signed statement of a concluded verification: (docx bytes, raw signature, the body's
    public key PEM, the body's code). Who: anyone the verification is in reach of."""
    import base64

    v = verification_in_reach(session, actor, vid)
    if v.statement_docx is None:
        raise NotFound("no statement yet")
    body = session.get(m.MrvBody, v.body_id)
    assert body is not None
    return v.statement_docx, base64.b64decode(v.statement_signature_b64), body.public_key_pem, body.code


# ---------------------------------------------------------------- the enterprise's appeal


def file_appeal(
    session: Session, actor: Actor, vid: int, *, grounds: str, today: date | None = None
) -> m.MrvAppeal:
    """Ask the park to review a notified result, within ``appeal_working_days`` working days of
    the notice (inclusive of the due date); the decision is due ``appeal_decision_working_days``
    working days after filing. Who: the enterprise (or an officer for it)."""
    v = verification_in_reach(session, actor, vid)
    require(session, actor, "appeal.file", v.enterprise_id)
    hold(session, v)
    if v.stage != "notified" or v.appeal_due_date is None:
        raise ValueError(
            Msg("only a notified result can be appealed (this verification is {stage})", stage=v.stage)
        )
    day = _today(today)
    if day > v.appeal_due_date:
        raise ValueError(Msg("the appeal window closed on {due}", due=v.appeal_due_date.isoformat()))
    text = _text(grounds, Msg("The grounds of the appeal"))
    due = add_working_days(day, int(rules.deadlines(session, v.park_id)["appeal_decision_working_days"]))
    appeal = m.MrvAppeal(verification_id=v.id, filed_by=actor.username, grounds=text, decision_due_date=due)
    session.add(appeal)
    v.stage = "appealed"
    session.flush()
    _log(session, actor, "appeal.file", "mrv_verification", v.id, v, appeal_id=appeal.id, grounds=text,
         filed_on=day, decision_due_date=due)  # fmt: skip
    ent = session.get(m.Enterprise, v.enterprise_id)
    notify.notify(session, notify.officers(session, v.park_id), park_id=v.park_id, key=f"appeal.filed.{appeal.id}",
                  kind="due", msgid=N_("{enterprise} appealed the verification of {year}: decide by {due}"),
                  params={"enterprise": ent.name if ent else "", "year": v.year, "due": due.isoformat()}, link=_link(v))  # fmt: skip
    return appeal
