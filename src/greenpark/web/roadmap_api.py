"""JSON API of the carbon-peak roadmap: scenarios (run, Monte Carlo, compare, decompose, edit,
IAMC exchange), the inventory's history and its LMDI, forest sinks and their projects."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from greenpark.i18n import message_of
from greenpark.services.carbon import sinks
from greenpark.services.carbon.io import ImportRejected
from greenpark.services.roadmap import iamc, scenarios
from greenpark.services.roadmap.decomposition import decompose_table
from greenpark.web.deps import DB, Public, SignedIn, Staff
from greenpark.web.history_api import request_batch
from greenpark.web.i18n import LocalizedJSON, LocalizedRoute
from greenpark.web.scope import CoreScope
from greenpark.web.uploads import rejected, upload
from greenpark.web.validation import INT32_MAX, Code, Codes, InModel, OptCode, PathCode, Year

router = APIRouter(prefix="/api", tags=["roadmap"], route_class=LocalizedRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fail(exc: scenarios.ScenarioError, status: int = 422) -> HTTPException:
    return HTTPException(status, {"errors": exc.errors})


@router.get("/scenarios")
def scenarios_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """The scenarios (presets and officers' own). Who: anyone."""
    return scenarios.list_scenarios(db)


@router.get("/scenarios/compare")
def compare_api(_: Public, db: DB, codes: Codes = "baseline,peak-2030,peak-2025") -> dict[str, Any]:
    """Scenarios side by side (comma-separated codes). Who: anyone."""
    try:
        return scenarios.compare(db, [c for c in codes.split(",") if c])
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.get("/scenarios/history")
def history_api(_: Public, db: DB, sc: CoreScope) -> dict[str, Any]:
    """The scope's inventory CO₂ by year (estimated years marked) and the LMDI of the park's
    above-scale industry over its inventory years. Who: anyone for the park and zones; an
    enterprise's own users and readers of the whole park for an enterprise."""
    out = scenarios.history(db, sc.code)
    try:
        out["decomposition"] = scenarios.history_decomposition(db, "park", "above_scale")
    except scenarios.ScenarioError as exc:
        out["decomposition"] = {"error": message_of(exc)}
    return out


@router.get("/scenarios/export.{fmt}")
def export_api(_: Public, db: DB, fmt: Literal["csv", "xlsx"], codes: Codes = "baseline,peak-2030,peak-2025",
               long: bool = False) -> Response:  # fmt: skip
    """Scenarios in the IAMC format (csv or xlsx; ``long`` for year/value columns). Who: anyone."""
    try:
        body = iamc.export(db, [c for c in codes.split(",") if c], fmt, long)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None
    return Response(body, media_type=XLSX if fmt == "xlsx" else "text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="greenpark-scenarios.{fmt}"'})  # fmt: skip


class SpecIn(InModel):
    code: Annotated[str, Field(max_length=64)] = ""
    name_zh: Annotated[str, Field(max_length=200)] = ""
    name_en: Annotated[str, Field(max_length=200)] = ""
    parent: Annotated[str, Field(max_length=64)] = ""
    note: Annotated[str, Field(max_length=2000)] = ""
    drivers: dict[str, Any] = Field(default_factory=dict)
    uncertainty: Annotated[list[dict[str, Any]] | None, Field(max_length=100)] = None
    end_year: Annotated[int | None, Field(ge=2020, le=2100)] = None
    plateau_delta: Annotated[float | None, Field(ge=0, le=1)] = None


@router.post("/scenarios/preview")
def preview_api(_: SignedIn, db: DB, body: SpecIn) -> dict[str, Any]:
    """Run an unsaved scenario (the editor's re-run). Who: signed-in users."""
    spec: dict[str, Any] = {k: v for k, v in body.model_dump().items() if v not in (None, "")}
    spec.setdefault("drivers", {})
    try:
        return scenarios.preview(db, spec)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.post("/scenarios/import")
def import_api(p: Staff, db: DB, code: Annotated[str, Form(min_length=1, max_length=64)],
               scenario: Annotated[str, Form(max_length=200)] = "", name_zh: Annotated[str, Form(max_length=200)] = "",
               file: UploadFile = File(...)) -> Any:  # noqa: B008  # fmt: skip
    """Driver paths from an IAMC file as a new scenario; a bad cell rejects it. Who: admins and park staff."""
    name, content = upload(file)
    try:
        return iamc.import_scenario(db, name, content, code, scenario or None, name_zh, p.username)
    except ImportRejected as exc:
        return rejected(db, name, exc)
    except scenarios.ScenarioError as exc:
        db.rollback()
        raise _fail(exc) from None


@router.get("/scenarios/{code}")
def show_api(_: Public, db: DB, code: PathCode) -> dict[str, Any]:
    """A scenario's own drivers, the resolved spec and its inheritance. Who: anyone."""
    try:
        return scenarios.show(db, code)
    except scenarios.ScenarioError as exc:
        raise _fail(exc, 404) from None


@router.put("/scenarios/{code}")
def save_api(p: Staff, db: DB, code: PathCode, body: SpecIn) -> dict[str, Any]:
    """Create or replace an officer's scenario (presets are read-only). Who: admins and park staff."""
    try:
        sc = scenarios.save_scenario(db, code, body.name_zh, body.parent, body.drivers, body.uncertainty,
                                     body.name_en, body.note, p.username, body.end_year, body.plateau_delta)  # fmt: skip
    except scenarios.ScenarioError as exc:
        db.rollback()
        raise _fail(exc) from None
    return {"ok": True, "code": sc.code}


@router.delete("/scenarios/{code}")
def delete_api(_: Staff, db: DB, code: PathCode) -> dict[str, Any]:
    """Delete an officer's scenario. Who: admins and park staff."""
    try:
        scenarios.delete_scenario(db, code)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None
    return {"ok": True}


@router.get("/scenarios/{code}/run")
def run_api(_: Public, db: DB, code: PathCode) -> dict[str, Any]:
    """A deterministic run with every series, the checks and the lineage. Who: anyone."""
    try:
        return scenarios.run(db, code)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.get("/scenarios/{code}/montecarlo")
def montecarlo_api(_: Public, db: DB, code: PathCode, paths: Annotated[int, Query(ge=1, le=20_000)] = 10_000,
                   seed: Annotated[int, Query(ge=0, le=INT32_MAX)] = 2060) -> dict[str, Any]:  # fmt: skip
    """Monte Carlo: bands, peak-year distribution and probabilities (seeded). Who: anyone."""
    try:
        return scenarios.public(scenarios.montecarlo(db, code, paths, seed))
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.get("/scenarios/{code}/decompose")
def decompose_api(
    _: Public,
    db: DB,
    code: PathCode,
    against: Code = "baseline",
    year: Annotated[int, Query(ge=2000, le=2100)] = 2030,
) -> dict[str, Any]:
    """LMDI of the scenario against another in one year. Who: anyone."""
    try:
        return scenarios.decompose_against(db, code, against, year)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.get("/scenarios/{code}/wedge")
def wedge_api(_: Public, db: DB, code: PathCode, against: Code = "baseline") -> dict[str, Any]:
    """LMDI effects against another scenario for every year. Who: anyone."""
    try:
        return scenarios.wedge(db, code, against)
    except scenarios.ScenarioError as exc:
        raise _fail(exc) from None


@router.get("/sinks")
def sinks_api(_: Public, db: DB, year: Year = 2020, zone: OptCode = None) -> dict[str, Any]:
    """The forest sink of a year by the gain–loss and stock-difference methods. Who: anyone."""
    try:
        out = sinks.annual_sink(db, year, zone)
    except sinks.SinkError as exc:
        raise HTTPException(422, message_of(exc)) from None
    out["years"] = sinks.sink_years(db)
    return out


@router.get("/sinks/projects")
def sink_projects_api(_: Public, db: DB) -> dict[str, Any]:
    """The sink projects' ledger: estimated, verified, issued, retired credits. Who: anyone."""
    return sinks.ledger(db)


@router.get("/sinks/parameters")
def sink_parameters_api(_: Public, db: DB) -> dict[str, Any]:
    """The current forest parameter set, row by row with source and status. Who: anyone."""
    try:
        return sinks.parameters(db)
    except sinks.SinkError as exc:
        raise HTTPException(422, message_of(exc)) from None


class ParameterChanges(InModel):
    changes: Annotated[list[dict[str, Any]], Field(max_length=1000)]


@router.put("/sinks/parameters")
def edit_sink_parameters_api(p: Staff, db: DB, body: ParameterChanges) -> dict[str, Any]:
    """Save edited forest parameters as a new version of the set (each with its source and status).
    Who: admins and park staff."""
    try:
        return sinks.edit_parameters(db, body.changes, p.username, batch=request_batch(p))
    except sinks.SinkError as exc:
        db.rollback()
        raise HTTPException(422, message_of(exc)) from None


@router.post("/sinks/import")
def sinks_import_api(p: Staff, db: DB, kind: Annotated[Literal["stands", "projects", "periods"], Form()],
                     file: UploadFile = File(...)) -> Any:  # noqa: B008  # fmt: skip
    """Forest land (kind=stands), projects (projects) or monitoring periods (periods); all or
    nothing. Who: admins and park staff."""
    fn = {"stands": sinks.import_stands, "projects": sinks.import_projects, "periods": sinks.import_periods}[
        kind
    ]
    name, content = upload(file)
    try:
        n = fn(db, name, content, p.username)
    except ImportRejected as exc:
        return rejected(db, name, exc)
    return {"ok": True, "rows": n}


@router.post("/lmdi")
def lmdi_api(_: SignedIn, year_from: Annotated[int, Form(ge=1900, le=2200)], year_to: Annotated[int, Form(ge=1900, le=2200)],
             detail: Annotated[bool, Form()] = False, file: UploadFile = File(...)) -> Any:  # noqa: B008  # fmt: skip
    """LMDI of an uploaded table ``subcategory, year, <factors…>`` (upload limits as every import;
    nothing is stored). Who: signed-in users."""
    name, content = upload(file)
    try:
        return decompose_table(name, content, year_from, year_to, detail)
    except ImportRejected as exc:
        return LocalizedJSON(
            {"ok": False, "file": name, "errors": [str(e) for e in exc.errors]}, status_code=422
        )
