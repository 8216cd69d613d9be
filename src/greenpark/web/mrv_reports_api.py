"""The annual GHG report on the web (issue 13 §2–3): the JSON API under ``/api/mrv/reports`` and the
page ``/mrv/reports``.

There is no route that changes a submitted report's figures: a correction is a new version (POST
again). Who may do what is said in :mod:`greenpark.services.mrv.access`; the routes build the
actor (:func:`greenpark.web.mrv_api.mrv_actor`) and answer the services' refusals (403, 404, 422).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from greenpark.services.mrv import report_workbook as rw
from greenpark.services.mrv import reports as rp
from greenpark.services.mrv.access import Actor, enterprise_in_reach
from greenpark.web.deps import DB, CurrentPrincipal, SignedIn
from greenpark.web.i18n import LocalizedJSON, LocalizedRoute
from greenpark.web.mrv_api import mrv_errors
from greenpark.web.pages import render
from greenpark.web.scope import MrvEnterprise, MrvEnterpriseFilter, mrv_actor, resolve_mrv_enterprise
from greenpark.web.uploads import rejected, upload
from greenpark.web.validation import INT32_MAX, Id, InModel, OptYear, ShortText, Text

router = APIRouter(route_class=LocalizedRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Source = Literal["measured", "default"]
Quantity = Annotated[float, Field(ge=0, le=rp.QUANTITY_MAX)]
OptValue = Annotated[float | None, Field(default=None, ge=0, le=1e6)]
Status = Annotated[Literal["submitted", "returned", "accepted", "verified", "superseded"] | None, Query()]


class CombustionBody(InModel):
    carrier: Annotated[str, Field(min_length=1, max_length=32)]
    quantity: Quantity
    ncv_source: Source = "default"
    ncv_gj_per_unit: OptValue = None
    carbon_content_source: Source = "default"
    carbon_content_tc_per_gj: OptValue = None
    oxidation_source: Source = "default"
    oxidation_fraction: OptValue = None


class ProcessBody(InModel):
    source: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Quantity
    factor_source: Source = "default"
    factor: OptValue = None


class PurchasedBody(InModel):
    quantity: Quantity
    item: Annotated[str, Field(max_length=64)] = ""
    factor_source: Source = "default"
    factor: OptValue = None


class OutputBody(InModel):
    product: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Quantity
    unit: Annotated[str, Field(min_length=1, max_length=32)]


class ReportBody(InModel):
    """A report as the page's form sends it."""

    enterprise: Annotated[str | None, Field(default=None, min_length=1, max_length=64)] = None
    year: Annotated[int, Field(ge=2000, le=2100)]
    combustion: Annotated[list[CombustionBody], Field(default_factory=list, max_length=200)]
    process: Annotated[list[ProcessBody], Field(default_factory=list, max_length=200)]
    electricity: Annotated[list[PurchasedBody], Field(default_factory=list, max_length=200)]
    heat: Annotated[list[PurchasedBody], Field(default_factory=list, max_length=200)]
    output: Annotated[list[OutputBody], Field(default_factory=list, max_length=200)]
    contact: ShortText = ""
    guideline: Annotated[str, Field(max_length=64)] = ""
    note: Text = ""


class ReviewBody(InModel):
    decision: Literal["accept", "return"]
    comment: Text = ""


def _body_enterprise(db: DB, actor: Actor, code: str | None) -> int:
    found = resolve_mrv_enterprise(db, actor, None, code, own_by_default=True)
    if found is None:
        raise HTTPException(422, "name the enterprise")
    return found


@router.get("/api/mrv/reports", tags=["mrv"])
def reports_api(
    p: SignedIn, db: DB, ent: MrvEnterpriseFilter, year: OptYear = None, status: Status = None
) -> list[dict[str, Any]]:
    """The annual reports the caller may read (every version, newest first): ``id``, ``enterprise``,
    ``year``, ``version``, ``status``, ``totals`` (t CO₂, whole tonnes) and review. Who: signed-in
    users, within their scope (an enterprise: its own)."""
    actor = mrv_actor(p)
    with mrv_errors():
        return rp.list_reports(db, actor, year=year, enterprise_id=ent, status=status)


@router.get("/api/mrv/reports/defaults", tags=["mrv"])
def report_defaults_api(p: SignedIn, db: DB, year: Annotated[int, Query(ge=2000, le=2100)]) -> Any:
    """What a report of ``year`` takes by default from the factor library: per fuel NCV, carbon
    content (tC/GJ), oxidation and the set named; the grid factor of the year (or the latest
    earlier year, said so); the heat factor; the process sources. Who: signed-in users."""
    mrv_actor(p)
    with mrv_errors():
        return rp.report_defaults(db, year).as_dict()


@router.get("/api/mrv/reports/template.xlsx", tags=["mrv"])
def report_template_api(
    p: SignedIn,
    db: DB,
    year: Annotated[int, Query(ge=2000, le=2100)],
    ent_id: MrvEnterprise,
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
) -> Response:
    """The Excel form of an enterprise's report of ``year``, prefilled (identity, the latest
    version's lines, the Σ of the monthly evidence as a hint). Who: anyone who may read the
    enterprise's records."""
    actor = mrv_actor(p)
    with mrv_errors():
        body = rw.report_template(db, actor, ent_id, year, lang)
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="ghg-report-{year}.xlsx"'})  # fmt: skip


@router.get("/api/mrv/reports/{report_id}", tags=["mrv"])
def report_api(p: SignedIn, db: DB, report_id: Id) -> dict[str, Any]:
    """One report: its lines (with measured/default and the factor's reference), its checks, and
    every version of its enterprise and year. Who: readers of the enterprise (404 otherwise)."""
    actor = mrv_actor(p)
    with mrv_errors():
        return rp.report_detail(db, actor, report_id)


@router.post("/api/mrv/reports", tags=["mrv"])
def submit_report_api(p: SignedIn, db: DB, body: ReportBody) -> Any:
    """Submit a report from the page's form as the enterprise's next version (422 with every bad
    field: ``errors`` [{section, row, field, text}]). Who: the enterprise, park staff, admins."""
    actor = mrv_actor(p)
    with mrv_errors():
        ent_id = _body_enterprise(db, actor, body.enterprise)
        inp = rp.ReportInput.from_dict(body.model_dump(exclude={"enterprise", "year"}))
        problems = rp.input_problems(inp, rp.report_defaults(db, body.year))
        if problems:
            return LocalizedJSON({"ok": False, "errors": [
                {"section": s, "row": i + 1, "field": f, "text": t} for s, i, f, t in problems]}, status_code=422)  # fmt: skip
        r = rp.submit_report(db, actor, ent_id, body.year, inp, source="page")
        return rp.submitted_dict(r, enterprise_in_reach(db, actor, ent_id))


@router.post("/api/mrv/reports/upload", tags=["mrv"])
def upload_report_api(p: SignedIn, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Submit a filled Excel form (422 naming every bad cell by file, sheet, row and column;
    nothing stored then). Who: the enterprise, park staff, admins."""
    actor = mrv_actor(p)
    name, content = upload(file)
    with mrv_errors():
        try:
            r = rw.submit_workbook(db, actor, name, content)
        except rw.ReportWorkbookRejected as exc:
            return rejected(db, name, exc)
        return rp.submitted_dict(r, enterprise_in_reach(db, actor, r.enterprise_id))


@router.post("/api/mrv/reports/{report_id}/review", tags=["mrv"])
def review_report_api(p: SignedIn, db: DB, report_id: Id, body: ReviewBody) -> Any:
    """Accept a submitted report, or return it with a comment (required). Who: park staff, admins,
    zone staff of the enterprise's zone."""
    actor = mrv_actor(p)
    with mrv_errors():
        r = rp.review_report(db, actor, report_id, accept=body.decision == "accept", comment=body.comment)
        return rp.summary(r)


@router.get("/mrv/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(
    request: Request, p: CurrentPrincipal, report: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None
) -> HTMLResponse:
    """The reports page: an enterprise's reports and the form; the park's list and the review."""
    return render(request, "mrv_reports.html", p, report_id=report or "")
