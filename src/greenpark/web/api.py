"""JSON API. Every route declares who may call it through its principal dependency."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from greenpark.services.carbon.cockpit import cockpit
from greenpark.services.carbon.factors import FactorLibrary, factor_set_summary
from greenpark.services.carbon.inventory import list_records, record_dict
from greenpark.services.carbon.inventory_cache import cached_inventory, inventory_view
from greenpark.services.carbon.io import ImportRejected, import_file, inventory_workbook, template_workbook
from greenpark.services.carbon.snapshots import restatements
from greenpark.services.park import auth
from greenpark.services.park.parks import ParkError, get_park
from greenpark.services.park.published import published_table, published_tables
from greenpark.services.plan.reproduce import reproduce
from greenpark.services.tabular import column_label, table_workbook
from greenpark.store import models as m
from greenpark.web.deps import (
    DB,
    Importer,
    Public,
    SignedIn,
    client_address,
    csrf_token,
    end_browser_session,
    start_browser_session,
    throttle_message,
)
from greenpark.web.i18n import LocalizedJSON, LocalizedRoute
from greenpark.web.scope import (
    CoreScope,
    EnterpriseByCode,
    OwnEnterprises,
    ParkScope,
    authorize_breakdown,
    authorize_records,
    may_see_records,
)
from greenpark.web.uploads import upload
from greenpark.web.validation import Id, InModel, OptCode, OptYear, PathCode, Year
from greenpark.web.warm import warm

router = APIRouter(prefix="/api", route_class=LocalizedRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class LoginIn(InModel):
    username: Annotated[str, Field(max_length=64)]
    password: Annotated[str, Field(max_length=1024)]


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    enterprise_id: int | None
    csrf_token: str | None = None


class TokenIn(InModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    days: Annotated[int, Field(ge=1, le=auth.MAX_TOKEN_DAYS)] = auth.DEFAULT_TOKEN_DAYS


class CellErrorOut(BaseModel):
    file: str
    sheet: str
    row: int
    column: str
    reason: str


class ImportOut(BaseModel):
    ok: bool
    file: str
    rows: dict[str, int] = {}
    changed: dict[str, int] = {}
    already_imported: bool = False
    errors: list[CellErrorOut] = []
    errors_total: int = 0


Boundary = Annotated[Literal["all", "above_scale"], Query(description="all, or above-scale industry")]
By = Annotated[list[Literal["carrier", "sector", "zone", "enterprise", "month"]], Query(max_length=5)]


@router.get("/health", tags=["system"])
def health(_: Public) -> dict[str, str]:
    """Liveness check. Who: anyone."""
    return {"status": "ok"}


@router.post("/auth/login", tags=["auth"], response_model=UserOut)
def login(body: LoginIn, request: Request, db: DB) -> Any:
    """Start a session (cookie). Who: anyone with an account. Failed logins are throttled per
    username and per address (429 with Retry-After)."""
    try:
        user = auth.login(db, body.username, body.password, client_address(request))
    except auth.LoginThrottled as exc:
        db.commit()
        return LocalizedJSON(
            {"detail": throttle_message(exc, "en")},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after_s)},
        )
    if user is None:
        db.commit()  # the failed attempt counts
        raise HTTPException(401, "wrong username or password")
    start_browser_session(request, db, user)
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        enterprise_id=user.enterprise_id,
        csrf_token=csrf_token(request),
    )


@router.post("/auth/logout", tags=["auth"])
def logout(request: Request, db: DB, _: SignedIn) -> dict[str, bool]:
    """End the session on the server (the cookie is worth nothing afterwards). Who: signed-in users."""
    end_browser_session(request, db)
    return {"ok": True}


@router.get("/auth/me", tags=["auth"], response_model=UserOut)
def me(p: Public, request: Request) -> UserOut:
    """The caller. Who: anyone (the anonymous public gets role public)."""
    return UserOut(
        username=p.username,
        display_name=p.display_name,
        role=p.role.value,
        enterprise_id=p.enterprise_id,
        csrf_token=csrf_token(request) if p.authenticated and not p.via_token else None,
    )


@router.post("/auth/tokens", tags=["auth"])
def create_token(body: TokenIn, p: SignedIn, db: DB) -> dict[str, Any]:
    """Create an API token for the caller, valid ``days`` days (shown once). Who: signed-in users."""
    user = db.get(m.AppUser, p.user_id)
    assert user is not None
    try:
        token = auth.create_api_token(db, user, body.name, body.days, by=p.username)
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"token": token, "days": body.days}


@router.get("/auth/tokens", tags=["auth"])
def my_tokens(p: SignedIn, db: DB) -> list[dict[str, Any]]:
    """The caller's own tokens (never the secret) with their state. Who: signed-in users."""
    return auth.tokens(db, user_id=p.user_id)


@router.delete("/auth/tokens/{token_id}", tags=["auth"])
def revoke_my_token(token_id: Id, p: SignedIn, db: DB) -> dict[str, Any]:
    """Revoke one of the caller's own tokens. Who: signed-in users."""
    try:
        auth.revoke_token(db, token_id, p.username, user_id=p.user_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "id": token_id}


@router.get("/park", tags=["park"])
def park_info(_: Public, db: DB) -> dict[str, Any]:
    """The park and its zones. Who: anyone."""
    park = get_park(db)
    return {
        "code": park.code,
        "name_zh": park.name_zh,
        "name_en": park.name_en,
        "area_km2": park.area_km2,
        "zones": [
            {"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en, "area_km2": z.area_km2}
            for z in park.zones
        ],
    }


@router.get("/cockpit", tags=["inventory"])
def cockpit_api(_: Public, db: DB, sc: CoreScope, year: OptYear = None) -> dict[str, Any]:
    """Energy and carbon picture of the park or a zone across years. Who: anyone."""
    if sc.kind == "enterprise":
        raise HTTPException(404, f"the cockpit shows the park or a zone, not an enterprise ({sc.code})")
    return cockpit(db, sc.code, year)


@router.get("/inventory", tags=["inventory"])
def inventory_api(
    p: Public,
    db: DB,
    sc: ParkScope,
    year: Year,
    boundary: Boundary = "all",
    by: By = [],  # noqa: B006
) -> dict[str, Any]:
    """Inventory with lineage. Who: anyone for the park and zones; an enterprise's own users and
    park staff, verifiers and admins for an enterprise; breakdown by enterprise for the latter."""
    authorize_breakdown(p, by)
    try:
        return inventory_view(db, get_park(db), sc.code, year, boundary, tuple(sorted(set(by))))
    except ParkError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/inventory/records", tags=["inventory"])
def inventory_records(
    p: SignedIn,
    db: DB,
    sc: ParkScope,
    year: Year,
    boundary: Boundary = "all",
    carrier: OptCode = None,
    sector: OptCode = None,
) -> list[dict[str, Any]]:
    """The records behind an inventory figure. Who: park staff, verifiers and admins; an
    enterprise's users for their own enterprise only."""
    authorize_records(p, sc)
    return list_records(db, scope_code=sc.code, year=year, boundary=boundary, carrier=carrier, sector=sector)


@router.get("/inventory/export.xlsx", tags=["inventory"])
def inventory_export(p: Public, db: DB, sc: ParkScope, year: Year, boundary: Boundary = "all") -> Response:
    """The inventory as an Excel workbook (records included for those who may see them). Who: as /inventory."""
    try:
        res = cached_inventory(db, get_park(db), sc.code, year, boundary)
    except ParkError as exc:
        raise HTTPException(422, str(exc)) from None
    records = None
    if may_see_records(p, sc):
        records = list_records(db, scope_code=sc.code, year=year, boundary=boundary, limit=100_000)
    name = f"greenpark-inventory-{sc.code}-{year}-{boundary}.xlsx"
    return Response(
        inventory_workbook(res, records),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/enterprises", tags=["park"])
def enterprises(p: SignedIn, db: DB, own: OwnEnterprises) -> list[dict[str, Any]]:
    """Enterprises. Who: readers see all; an enterprise user sees only their own."""
    stmt = select(m.Enterprise).where(m.Enterprise.id.in_(sorted(own))).order_by(m.Enterprise.code)
    return [_enterprise(e) for e in db.scalars(stmt)]


@router.get("/enterprises/{code}", tags=["park"])
def enterprise(e: EnterpriseByCode, _: SignedIn) -> dict[str, Any]:
    """One enterprise. Who: readers, and that enterprise's own users."""
    return _enterprise(e)


@router.get("/enterprises/{code}/activity", tags=["park"])
def enterprise_activity(
    e: EnterpriseByCode, _: SignedIn, db: DB, year: OptYear = None
) -> list[dict[str, Any]]:
    """An enterprise's activity records. Who: readers, and that enterprise's own users."""
    ar = m.ActivityRecord
    stmt = select(ar).where(ar.enterprise_id == e.id).order_by(ar.year, ar.month, ar.id).limit(10_000)
    if year is not None:
        stmt = stmt.where(ar.year == year)
    return [record_dict(r) for r in db.scalars(stmt)]


def _enterprise(e: m.Enterprise) -> dict[str, Any]:
    return {
        "code": e.code,
        "name": e.name,
        "uscc": e.uscc,
        "industry_code": e.industry_code,
        "zone_id": e.zone_id,
        "land_area_mu": e.land_area_mu,
        "tags": [t for t in e.tags.split(",") if t],
        "note": e.note,
    }


@router.get("/factor-sets", tags=["factors"])
def factor_sets(_: Public, db: DB) -> list[dict[str, Any]]:
    """All factor sets, current and superseded. Who: anyone."""
    return [
        factor_set_summary(fs)
        for fs in db.scalars(select(m.FactorSet).order_by(m.FactorSet.code, m.FactorSet.id))
    ]


@router.get("/factor-sets/{code}", tags=["factors"])
def factor_set(code: PathCode, _: Public, db: DB, version: OptCode = None) -> dict[str, Any]:
    """One factor set's rows with unit, source and status. Who: anyone."""
    lib = FactorLibrary.load(db, {code: version} if version else None)
    if code not in lib.sets:
        raise HTTPException(404, f"no factor set {code!r}" + (f" version {version!r}" if version else ""))
    return {**factor_set_summary(lib.sets[code]), "rows": [r.as_dict() for r in lib.rows[code]]}


@router.get("/restatements", tags=["factors"])
def restatements_api(_: Public, db: DB) -> list[dict[str, Any]]:
    """Results restated after a factor set got a new version, old beside new. Who: anyone."""
    return restatements(db)


@router.get("/reproduce", tags=["inventory"])
def reproduce_api(_: Public, db: DB) -> dict[str, Any]:
    """The plan's published figures beside greenpark's. Who: anyone."""
    return reproduce(db)


@router.get("/plan/{table}", tags=["plan"])
def plan_api(table: PathCode, _: Public, db: DB) -> list[dict[str, str]]:
    """A table of the plan, as given (indicators, tasks, projects, …). Who: anyone."""
    park = get_park(db)
    known = [t["name"] for t in published_tables(db, park.id)]
    if table not in known:
        raise HTTPException(404, f"no plan table {table!r}; known: {', '.join(known)}")
    return published_table(db, park.id, table)


@router.get("/template.xlsx", tags=["import"])
def template(_: SignedIn, db: DB) -> Response:
    """The Excel import template. Who: signed-in users."""
    return Response(
        template_workbook(db),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="greenpark-template.xlsx"'},
    )


@router.post("/import", tags=["import"], response_model=ImportOut)
def import_api(
    p: Importer,
    db: DB,
    request: Request,
    background: BackgroundTasks,
    file: UploadFile = File(...),  # noqa: B008
) -> Any:
    """Import activity and economic data (xlsx or csv, limits in docs/security.md); a bad cell
    rejects the whole file. Who: admins and park staff; enterprise users for their own enterprise
    only. (A plain function: FastAPI runs it in a worker thread, so parsing never blocks the server.)"""
    name, content = upload(file)
    user = db.get(m.AppUser, p.user_id)
    try:
        res = import_file(db, name, content, user=user)
    except ImportRejected as exc:
        db.rollback()
        errors = [
            e.__dict__ | {"text": e.message(), "column_label": column_label(e.column)} for e in exc.errors
        ]
        return LocalizedJSON({"ok": False, "file": name, "rows": {}, "changed": {}, "already_imported": False,
                              "errors": errors, "errors_total": exc.total}, status_code=422)  # fmt: skip
    background.add_task(warm, request.app.state.database_url)
    return ImportOut(
        ok=True, file=name, rows=res.rows, changed=res.changed, already_imported=res.already_imported
    )


class TableIn(InModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    columns: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]
    rows: Annotated[list[list[str | float | int | None]], Field(max_length=20_000)]


@router.post("/tables/export.xlsx", tags=["export"])
def table_export(_: Public, body: TableIn) -> Response:
    """A table as the page shows it, as an Excel workbook (every page's "export to Excel"). Who:
    anyone (the rows are what the caller already sees)."""
    from urllib.parse import quote

    return Response(
        table_workbook(body.title, body.columns, body.rows),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(body.title[:100])}.xlsx"},
    )
