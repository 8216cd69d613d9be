"""MRV web routes (issue 13): the key-unit register, the data quality control plan (DQCP) and the
monthly evidence of an enterprise — JSON API under ``/api/mrv`` and the pages ``/mrv/units`` and
``/mrv/enterprise``.

Who may do what is said once, in :mod:`greenpark.services.mrv.access`; the routes here only build
the :class:`Actor` (:func:`mrv_actor`) and turn the services' refusals into HTTP answers
(:func:`mrv_errors`): ``AccessDenied`` → 403, ``NotFound`` → 404, ``ValueError`` → 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.mrv import attachments, dqcp, evidence, register
from greenpark.services.mrv.access import AccessDenied, Actor, NotFound, readable_enterprises
from greenpark.services.mrv.rules import shipped_rules
from greenpark.store import models as m
from greenpark.web.deps import DB, CurrentPrincipal, SignedIn
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.pages import render
from greenpark.web.scope import MrvEnterprise, MrvEnterpriseFilter, mrv_actor, resolve_mrv_enterprise
from greenpark.web.uploads import upload
from greenpark.web.validation import INT32_MAX, InModel, InputError, OptYear, check_json, check_text

router = APIRouter(route_class=LocalizedRoute, tags=["mrv"])


@contextmanager
def mrv_errors() -> Iterator[None]:
    """Answer a service's refusal: AccessDenied → 403, NotFound → 404, ValueError → 422 (with the
    service's reason)."""
    try:
        yield
    except AccessDenied as exc:
        raise HTTPException(403, str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


# --------------------------------------------------------------------------- helpers


def _year_now() -> int:
    return evidence.beijing_today().year


def _working_year(db: Session, actor: Actor) -> int:
    """The year the evidence page opens on: this year, or last year when only last year's register
    obliges the enterprise user (its months are what it still has to hand in) — for an officer, when
    only last year's register names any unit."""
    year, own = _year_now(), actor.enterprise_id
    now = register.unit_obligations(db, actor.park_id, year)
    if own is None:  # an officer: this year once its register names units, else last year's
        return year if now or not register.unit_obligations(db, actor.park_id, year - 1) else year - 1
    if own in now:
        return year
    return year - 1 if own in register.unit_obligations(db, actor.park_id, year - 1) else year


def _enterprise_id(db: Session, actor: Actor, enterprise: str | None, enterprise_id: int | None) -> int:
    """The enterprise a form or body names, in reach (an enterprise user: its own by default)."""
    found = resolve_mrv_enterprise(db, actor, enterprise_id, enterprise, own_by_default=True)
    if found is None:
        raise HTTPException(422, "name the enterprise (enterprise_id or enterprise)")
    return found


# --------------------------------------------------------------------------- the key-unit register


class DecisionIn(InModel):
    enterprise: str | None = Field(None, min_length=1, max_length=64)
    enterprise_id: int | None = Field(None, ge=1, le=INT32_MAX)
    year: int = Field(ge=1900, le=2200)
    kind: Literal["key_energy_user", "key_carbon_emitter"]
    decision: Literal["designate", "exempt"]
    reason: str = Field(max_length=register.REASON_MAX)


@router.get("/api/mrv/units")
def units_api(p: SignedIn, db: DB, year: OptYear = None, every: bool = False) -> dict[str, Any]:
    """The key-unit register of a year: each enterprise's energy and CO₂ with where they come from,
    its reasons, kinds and obligations, and the officers' decisions of the year. ``every``: every
    enterprise, also those without a reason. Who: signed-in users of the park (each sees the
    enterprises it may read)."""
    actor = mrv_actor(p)
    y = year or _year_now() - 1
    with mrv_errors():
        rows = register.register(db, actor, y, every=every)
        return {
            "year": y, "units": rows, "counts": register.kinds_summary(rows),
            "decisions": register.decisions(db, actor, y), "rules": shipped_rules()["key_units"],
        }  # fmt: skip


@router.post("/api/mrv/units/decisions")
def unit_decision_api(p: SignedIn, db: DB, body: DecisionIn) -> dict[str, Any]:
    """Designate or exempt an enterprise as a key unit of a kind for a year, with a reason. Who:
    park staff and admins."""
    actor = mrv_actor(p)
    with mrv_errors():
        eid = _enterprise_id(db, actor, body.enterprise, body.enterprise_id)
        return register.decide(
            db, actor, eid, body.year, body.kind, body.decision == "designate", body.reason
        )


class DeadlinesIn(InModel):
    evidence_days_after_month_end: int | None = Field(None, ge=1, le=120)
    report_due_month_day: str | None = Field(None, pattern=r"^\d{2}-\d{2}$")
    verification_due_month_day: str | None = Field(None, pattern=r"^\d{2}-\d{2}$")
    reminder_days_before: list[int] | None = Field(None, max_length=5)


@router.get("/api/mrv/settings/deadlines")
def deadlines_api(p: SignedIn, db: DB) -> dict[str, Any]:
    """The park's deadlines of the cycle (its own, over the shipped defaults). Who: signed-in users."""
    with mrv_errors():
        return register.park_deadlines(db, mrv_actor(p))


@router.put("/api/mrv/settings/deadlines")
def set_deadlines_api(p: SignedIn, db: DB, body: DeadlinesIn) -> dict[str, Any]:
    """Set the park's own deadlines. Who: park staff and admins."""
    with mrv_errors():
        return register.set_park_deadlines(db, mrv_actor(p), body.model_dump(exclude_none=True))


# --------------------------------------------------------------------------- data quality control plans


@router.get("/api/mrv/options")
def options_api(p: SignedIn, db: DB) -> dict[str, Any]:
    """What the forms offer: the enterprises the caller may pick, the carriers with their units, the
    plan's parameters, methods and revision triggers. Who: signed-in users."""
    actor = mrv_actor(p)
    readable = readable_enterprises(db, actor)
    ents = db.execute(
        select(m.Enterprise.id, m.Enterprise.code, m.Enterprise.name)
        .where(m.Enterprise.park_id == actor.park_id).order_by(m.Enterprise.code)
    ).all()  # fmt: skip
    carriers = db.scalars(select(m.Carrier).order_by(m.Carrier.code))
    return {
        "enterprises": [{"id": i, "code": c, "name": n} for i, c, n in ents if i in readable],
        "carriers": [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "unit": c.unit} for c in carriers],
        "parameters": dqcp.parameters(), "methods": list(dqcp.METHODS), "triggers": dqcp.triggers(),
        "own_enterprise_id": actor.enterprise_id, "year": _working_year(db, actor), "today": evidence.beijing_today().isoformat(),
    }  # fmt: skip


@router.get("/api/mrv/dqcp")
def dqcp_api(
    p: SignedIn, db: DB, eid: MrvEnterprise, version: Annotated[int | None, Query(ge=1, le=10_000)] = None
) -> dict[str, Any]:
    """An enterprise's plan: every version (newest first) and one with its parameters (default: the
    current; null when none was filed). Who: those who may read the enterprise's cycle records."""
    actor = mrv_actor(p)
    with mrv_errors():
        versions = dqcp.list_plans(db, actor, eid)
        plan = dqcp.show_plan(db, actor, eid, version) if versions or version else None
        return {"enterprise_id": eid, "versions": versions, "plan": plan}


@router.get("/api/mrv/dqcp/diff")
def dqcp_diff_api(
    p: SignedIn, db: DB, old: Annotated[int, Query(ge=1, le=10_000)], new: Annotated[int, Query(ge=1, le=10_000)],
    eid: MrvEnterprise,
) -> dict[str, Any]:  # fmt: skip
    """What changed between two versions of an enterprise's plan. Who: as GET /api/mrv/dqcp."""
    actor = mrv_actor(p)
    with mrv_errors():
        return dqcp.diff_plans(db, actor, eid, old, new)


class FacilityIn(InModel):
    code: str = Field("", max_length=400)
    name: str = Field("", max_length=400)
    location: str = Field("", max_length=400)
    sources: str = Field("", max_length=400)


class ParameterIn(InModel):
    parameter: str = Field(max_length=32)
    item: str = Field("", max_length=64)
    unit: str = Field("", max_length=32)
    method: str = Field(max_length=32)
    meter: str = Field("", max_length=200)
    accuracy: str = Field("", max_length=64)
    calibration: str = Field("", max_length=200)
    monitoring_frequency: str = Field("", max_length=64)
    recording_frequency: str = Field("", max_length=64)
    missing_data_rule: str = Field(max_length=2_000)
    department: str = Field("", max_length=200)


class PlanIn(InModel):
    enterprise: str | None = Field(None, min_length=1, max_length=64)
    enterprise_id: int | None = Field(None, ge=1, le=INT32_MAX)
    guideline: str = Field("", max_length=64)
    boundary: str = Field("", max_length=20_000)
    facilities: list[FacilityIn] = Field(default_factory=list, max_length=dqcp.MAX_FACILITIES)
    parameters: list[ParameterIn] = Field(max_length=dqcp.MAX_PARAMETERS)
    revision_trigger: str = Field("", max_length=32)
    revision_note: str = Field("", max_length=20_000)
    valid_from: date | None = None


@router.post("/api/mrv/dqcp")
def file_dqcp_api(p: SignedIn, db: DB, body: PlanIn) -> dict[str, Any]:
    """File a new version of an enterprise's plan (a revision names its trigger and a note). Who:
    the enterprise's users, park staff and admins."""
    actor = mrv_actor(p)
    with mrv_errors():
        eid = _enterprise_id(db, actor, body.enterprise, body.enterprise_id)
        data = body.model_dump(exclude={"enterprise", "enterprise_id"})
        data["valid_from"] = body.valid_from.isoformat() if body.valid_from else None
        return dqcp.file_plan(db, actor, eid, data)


@router.get("/api/mrv/dqcp/template.xlsx")
def dqcp_template_api(p: SignedIn, db: DB, eid: MrvEnterprise) -> Response:
    """The plan's Excel form, filled in with the enterprise's current version (empty if none). Who:
    as GET /api/mrv/dqcp."""
    actor = mrv_actor(p)
    with mrv_errors():
        plan = dqcp.show_plan(db, actor, eid) if dqcp.list_plans(db, actor, eid) else None
        body = dqcp.plan_workbook(plan)
    return Response(body, media_type=attachments.ALLOWED[".xlsx"],
                    headers={"Content-Disposition": "attachment; filename=dqcp.xlsx"})  # fmt: skip


@router.post("/api/mrv/dqcp/upload")
def upload_dqcp_api(
    p: SignedIn, db: DB, file: UploadFile,
    enterprise_id: Annotated[int | None, Form(ge=1, le=INT32_MAX)] = None,
    enterprise: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, Any]:  # fmt: skip
    """File a new version of a plan from the Excel form (multipart: file). Who: as POST /api/mrv/dqcp."""
    actor = mrv_actor(p)
    name, content = upload(file)
    with mrv_errors():
        eid = _enterprise_id(db, actor, enterprise, enterprise_id)
        return dqcp.file_plan(db, actor, eid, dqcp.plan_from_workbook(name, content))


# --------------------------------------------------------------------------- monthly evidence


@router.get("/api/mrv/evidence")
def evidence_api(
    p: SignedIn, db: DB, eid: MrvEnterpriseFilter, year: OptYear = None, all_versions: bool = False
) -> list[dict[str, Any]]:
    """The monthly evidence of a year (the latest version of each month, or every version), of one
    enterprise or of every one the caller may read, with their files. Who: signed-in users, each
    in reach."""
    actor = mrv_actor(p)
    with mrv_errors():
        return evidence.list_evidence(db, actor, year or _year_now(), eid, all_versions=all_versions)


@router.get("/api/mrv/evidence/status")
def evidence_status_api(
    p: SignedIn, db: DB, eid: MrvEnterpriseFilter, year: OptYear = None
) -> dict[str, Any]:
    """The 12 months of a year by status (on time, late, missing and overdue, not yet due) with
    their due dates: of one enterprise, or of every enterprise in reach that the register obliges
    to give monthly evidence. Who: signed-in users, each in reach."""
    actor = mrv_actor(p)
    y = year or _year_now()
    with mrv_errors():
        rows = evidence.monthly_status(db, actor, y, enterprise_id=eid)
    return {"year": y, "today": evidence.beijing_today().isoformat(), "enterprises": rows}


@router.post("/api/mrv/evidence")
def submit_evidence_api(
    p: SignedIn, db: DB,
    year: Annotated[int, Form(ge=1900, le=2200)],
    month: Annotated[int, Form(ge=1, le=12)],
    values: Annotated[str, Form(max_length=200_000, description='JSON: {"energy": {carrier: quantity}, "parameters": [{parameter, item, value, unit}]}')] = "{}",
    note: Annotated[str, Form(max_length=evidence.NOTE_MAX)] = "",
    enterprise_id: Annotated[int | None, Form(ge=1, le=INT32_MAX)] = None,
    enterprise: Annotated[str | None, Form(max_length=64)] = None,
    files: list[UploadFile] | None = File(None),  # noqa: B008
) -> dict[str, Any]:  # fmt: skip
    """Submit a month's evidence (multipart: year, month, values as JSON, note, files ≤ 10 MiB each:
    pdf, jpg, png, xlsx, docx, csv); a resubmission is a new version. Who: the enterprise's users,
    park staff and admins."""
    actor = mrv_actor(p)
    try:
        parsed = check_json(json.loads(values or "{}"))
        check_text(note, "note")
    # bad JSON, a 5 000-digit number, nesting 3 000 deep: a reason, not a 500
    except (ValueError, RecursionError, InputError) as exc:
        raise HTTPException(422, f"values: {str(exc)[:200] or 'nested too deep'}") from None
    if (
        not isinstance(parsed, dict)
        or not isinstance(parsed.get("energy", {}), dict)
        or not isinstance(parsed.get("parameters", []), list)
    ):
        raise HTTPException(422, 'values: {"energy": {carrier: quantity}, "parameters": [...]}')
    uploaded = [upload(f, attachments.MAX_BYTES) for f in (files or []) if f.filename]
    with mrv_errors():
        eid = _enterprise_id(db, actor, enterprise, enterprise_id)
        return evidence.submit(db, actor, eid, year, month, energy=parsed.get("energy") or {},
                               parameters=parsed.get("parameters") or [], files=uploaded, note=note)  # fmt: skip


@router.get("/api/mrv/attachments/{attachment_id}/attachment")
def attachment_api(p: SignedIn, db: DB, attachment_id: Annotated[int, Path(ge=1, le=INT32_MAX)]) -> Response:
    """Download a supporting file of the cycle (always as a download). Who: those who may read its
    enterprise's cycle records; 404 for anyone else."""
    with mrv_errors():
        a = attachments.get(db, mrv_actor(p), attachment_id)
        name, content, digest = a.filename, a.content, a.sha256
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                             "X-Content-SHA256": digest})  # fmt: skip


# --------------------------------------------------------------------------- pages


@router.get("/mrv/units", response_class=HTMLResponse, include_in_schema=False)
def units_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    """The key-unit register, the officers' decisions and the park's deadlines. Who: officers and a
    bureau (the menu); only park staff and admins decide and set deadlines."""
    return render(request, "mrv_units.html", p)


@router.get("/mrv/enterprise", response_class=HTMLResponse, include_in_schema=False)
def enterprise_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    """An enterprise's data quality control plan and monthly evidence. Who: enterprise users (their
    own), officers (the enterprises they may read)."""
    return render(request, "mrv_enterprise.html", p)
