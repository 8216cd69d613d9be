"""JSON API for the plan's indicators: scorecard, one indicator, reachability, reported values."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from greenpark.services.plan import indicators
from greenpark.web.deps import DB, Public, SignedIn, Staff
from greenpark.web.history_api import request_batch
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.uploads import rejected, upload
from greenpark.web.validation import InModel, OptCode, OptYear, PathCode

router = APIRouter(prefix="/api/indicators", tags=["indicators"], route_class=LocalizedRoute)


@router.get("")
def indicators_api(_: Public, db: DB, year: OptYear = None) -> list[dict[str, Any]]:
    """Every indicator for a year: value, target, status (met, at_risk, missed, no_data). Who: anyone."""
    return indicators.evaluate(db, year)


@router.get("/scorecard")
def scorecard_api(_: Public, db: DB, year: OptYear = None) -> dict[str, Any]:
    """Every indicator with history, target path, status and reachability verdict. Who: anyone."""
    return indicators.scorecard(db, year)


@router.get("/reachability")
def reachability_api(
    _: Public, db: DB, code: OptCode = None, lang: Annotated[Literal["zh", "en"], Query()] = "zh"
) -> list[dict[str, Any]]:
    """Required vs observed rates to the 2025 targets, probability, verdict and text. Who: anyone."""
    try:
        rows = indicators.reachability(db, code)
    except indicators.IndicatorError as exc:
        raise HTTPException(404, str(exc)) from None
    for r in rows:
        r["text"] = indicators.reachability_text(r, "en" if lang == "en" else "zh")
    return rows


class IndicatorIn(InModel):
    code: Annotated[str, Field(min_length=1, max_length=16)]
    name_zh: Annotated[str, Field(min_length=1, max_length=200)]
    unit: Annotated[str, Field(max_length=32)] = ""
    direction: Annotated[str, Field(max_length=8)]
    kind: Annotated[str, Field(max_length=16)]
    name_en: Annotated[str, Field(max_length=200)] = ""
    department: Annotated[str, Field(max_length=200)] = ""
    baseline_year: Annotated[int | None, Field(ge=1900, le=2200)] = None
    baseline_value: Annotated[float | None, Field(ge=-1e15, le=1e15)] = None
    targets: Annotated[
        dict[Annotated[int, Field(ge=1900, le=2200)], Annotated[str, Field(max_length=64)]],
        Field(max_length=100, default_factory=dict),
    ]
    note: Annotated[str, Field(max_length=2000)] = ""


@router.post("")
def add_indicator_api(p: Staff, db: DB, body: IndicatorIn) -> dict[str, Any]:
    """Add an officer's own indicator (reported values). Who: admins and park staff."""
    try:
        ind = indicators.add_indicator(db, **body.model_dump(), by=p.username, batch=request_batch(p))
    except indicators.IndicatorError as exc:
        db.rollback()
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "code": ind.code}


@router.post("/values/import")
def import_values_api(p: Staff, db: DB, file: UploadFile = File(...)) -> Any:  # noqa: B008
    """Reported values from .xlsx or .csv (columns code, year, value, source, note); a bad cell
    rejects the whole file and names file, sheet, row and column. Who: admins and park staff."""
    from greenpark.services.carbon.io import ImportRejected

    name, content = upload(file)
    try:
        n = indicators.import_values(db, name, content, by=p.username)
    except ImportRejected as exc:
        return rejected(db, name, exc)
    return {"ok": True, "file": name, "rows": n}


@router.get("/report.{fmt}")
def report_export_api(_: SignedIn, db: DB, fmt: Literal["xlsx", "docx"], year: OptYear = None) -> Response:
    """The annual indicator progress report as xlsx or docx (Chinese). Who: signed-in users."""
    from greenpark.services.plan import report

    if fmt == "xlsx":
        body, mime = (
            report.workbook(db, year),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "docx":
        body, mime = (
            report.document(db, year),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    else:
        raise HTTPException(404, "report.xlsx or report.docx")
    return Response(body, media_type=mime,
                    headers={"Content-Disposition": f'attachment; filename="greenpark-indicators-{year or indicators.default_year(db)}.{fmt}"'})  # fmt: skip


@router.get("/{code}")
def indicator_api(_: Public, db: DB, code: PathCode) -> dict[str, Any]:
    """One indicator: history, targets, method, reachability and the generated text. Who: anyone."""
    try:
        return indicators.detail(db, code)
    except indicators.IndicatorError as exc:
        raise HTTPException(404, str(exc)) from None


class ValueIn(InModel):
    year: Annotated[int, Field(ge=1900, le=2200)]
    value: Annotated[float, Field(ge=-1e15, le=1e15)]
    source: Annotated[str, Field(max_length=200)] = ""
    note: Annotated[str, Field(max_length=2000)] = ""


@router.post("/{code}/values")
def report_api(p: Staff, db: DB, code: PathCode, body: ValueIn) -> dict[str, Any]:
    """Record a department's figure for a reported indicator. Who: admins and park staff."""
    try:
        v = indicators.report(db, code, body.year, body.value, body.source, body.note, p.username,
                              batch=request_batch(p))  # fmt: skip
    except indicators.IndicatorError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "code": code, "year": v.year, "value": v.value}
