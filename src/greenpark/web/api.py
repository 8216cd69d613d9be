"""JSON API. Every route declares who may call it through its principal dependency."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from greenpark.services import auth
from greenpark.services.cockpit import cached_inventory, cockpit, warm
from greenpark.services.demo import PLAN_TABLES, plan_table
from greenpark.services.factors import FactorLibrary, factor_set_summary
from greenpark.services.inventory import InventoryError, get_park, list_records, record_dict, resolve_scope
from greenpark.services.io import ImportRejected, import_file, inventory_workbook, template_workbook
from greenpark.services.reproduce import reproduce
from greenpark.services.snapshots import restatements
from greenpark.store import models as m
from greenpark.web.deps import DB, Importer, Principal, Public, SignedIn, csrf_token

router = APIRouter(prefix="/api")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class LoginIn(BaseModel):
    username: str
    password: str


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    enterprise_id: int | None
    csrf_token: str | None = None


class TokenIn(BaseModel):
    name: str


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


def _scope_guard(db: DB, p: Principal, scope: str, by: tuple[str, ...] = ()) -> None:
    """Park and zone figures are public; enterprise figures only for their enterprise and readers."""
    park = get_park(db)
    try:
        sc = resolve_scope(db, park, scope)
    except InventoryError as exc:
        raise HTTPException(404, str(exc)) from None
    if sc.kind == "enterprise" and not p.can_read_enterprise(sc.enterprise_id):
        raise HTTPException(403 if p.authenticated else 401, "you may not read this enterprise's data")
    if "enterprise" in by and p.role not in auth.READ_ALL:
        raise HTTPException(
            403 if p.authenticated else 401,
            "a breakdown by enterprise needs a park-staff, verifier or admin login",
        )


@router.get("/health", tags=["system"])
def health(_: Public) -> dict[str, str]:
    """Liveness check. Who: anyone."""
    return {"status": "ok"}


@router.post("/auth/login", tags=["auth"], response_model=UserOut)
def login(body: LoginIn, request: Request, db: DB) -> UserOut:
    """Start a session (cookie). Who: anyone with an account."""
    user = auth.authenticate(db, body.username, body.password)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    request.session.clear()
    request.session["uid"] = user.id
    token = csrf_token(request)
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        enterprise_id=user.enterprise_id,
        csrf_token=token,
    )


@router.post("/auth/logout", tags=["auth"])
def logout(request: Request, _: SignedIn) -> dict[str, bool]:
    """End the session. Who: signed-in users."""
    request.session.clear()
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
def create_token(body: TokenIn, p: SignedIn, db: DB) -> dict[str, str]:
    """Create an API token for the caller (shown once). Who: signed-in users."""
    user = db.get(m.AppUser, p.user_id)
    assert user is not None
    return {"token": auth.create_api_token(db, user, body.name)}


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
def cockpit_api(_: Public, db: DB, scope: str = "core", year: int | None = None) -> dict[str, Any]:
    """Energy and carbon picture of a park or zone across years. Who: anyone."""
    if scope not in ("park",) and db.scalars(select(m.Zone.id).where(m.Zone.code == scope)).first() is None:
        raise HTTPException(404, f"unknown park or zone {scope!r}")
    return cockpit(db, scope, year)


@router.get("/inventory", tags=["inventory"])
def inventory_api(
    p: Public,
    db: DB,
    year: int,
    scope: str = "park",
    boundary: str = "all",
    by: list[str] = Query(default=[]),  # noqa: B008
) -> dict[str, Any]:
    """Inventory with lineage. Who: anyone for the park and zones; an enterprise's own users and
    park staff, verifiers and admins for an enterprise; breakdown by enterprise for the latter."""
    _scope_guard(db, p, scope, tuple(by))
    try:
        return cached_inventory(db, get_park(db), scope, year, boundary, tuple(sorted(by)))
    except InventoryError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/inventory/records", tags=["inventory"])
def inventory_records(
    p: SignedIn,
    db: DB,
    year: int,
    scope: str = "park",
    boundary: str = "all",
    carrier: str | None = None,
    sector: str | None = None,
) -> list[dict[str, Any]]:
    """The records behind an inventory figure. Who: signed-in users (enterprise users: own only)."""
    _scope_guard(db, p, scope)
    if p.role is auth.Role.ENTERPRISE:
        park = get_park(db)
        if resolve_scope(db, park, scope).enterprise_id != p.enterprise_id:
            raise HTTPException(403, "enterprise users may only drill into their own enterprise")
    return list_records(db, scope_code=scope, year=year, boundary=boundary, carrier=carrier, sector=sector)


@router.get("/inventory/export.xlsx", tags=["inventory"])
def inventory_export(p: Public, db: DB, year: int, scope: str = "park", boundary: str = "all") -> Response:
    """The inventory as an Excel workbook (records included for signed-in readers). Who: as /inventory."""
    _scope_guard(db, p, scope)
    park = get_park(db)
    try:
        res = cached_inventory(db, park, scope, year, boundary)
    except InventoryError as exc:
        raise HTTPException(422, str(exc)) from None
    records = None
    if p.authenticated and (
        p.role in auth.READ_ALL or resolve_scope(db, park, scope).enterprise_id == p.enterprise_id
    ):
        records = list_records(db, scope_code=scope, year=year, boundary=boundary, limit=100_000)
    name = f"greenpark-inventory-{scope}-{year}-{boundary}.xlsx"
    return Response(
        inventory_workbook(res, records),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/enterprises", tags=["park"])
def enterprises(p: SignedIn, db: DB) -> list[dict[str, Any]]:
    """Enterprises. Who: readers see all; an enterprise user sees only their own."""
    stmt = select(m.Enterprise).order_by(m.Enterprise.code)
    if p.role not in auth.READ_ALL:
        stmt = stmt.where(m.Enterprise.id == p.enterprise_id)
    return [_enterprise(e) for e in db.scalars(stmt)]


@router.get("/enterprises/{code}", tags=["park"])
def enterprise(code: str, p: SignedIn, db: DB) -> dict[str, Any]:
    """One enterprise. Who: readers, and that enterprise's own users."""
    e = db.scalars(select(m.Enterprise).where(m.Enterprise.code == code)).first()
    if e is None or not p.can_read_enterprise(e.id):
        raise HTTPException(
            404 if e is None else 403, "no such enterprise" if e is None else "not your enterprise"
        )
    return _enterprise(e)


@router.get("/enterprises/{code}/activity", tags=["park"])
def enterprise_activity(code: str, p: SignedIn, db: DB, year: int | None = None) -> list[dict[str, Any]]:
    """An enterprise's activity records. Who: readers, and that enterprise's own users."""
    e = db.scalars(select(m.Enterprise).where(m.Enterprise.code == code)).first()
    if e is None or not p.can_read_enterprise(e.id):
        raise HTTPException(
            404 if e is None else 403, "no such enterprise" if e is None else "not your enterprise"
        )
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
def factor_set(code: str, _: Public, db: DB, version: str | None = None) -> dict[str, Any]:
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
def plan_api(table: str, _: Public, db: DB) -> list[dict[str, str]]:
    """A table of the plan, as given (indicators, tasks, projects, …). Who: anyone."""
    if table not in PLAN_TABLES:
        raise HTTPException(404, f"no plan table {table!r}; known: {', '.join(PLAN_TABLES)}")
    return plan_table(db, get_park(db).id, table)


@router.get("/template.xlsx", tags=["import"])
def template(_: SignedIn, db: DB) -> Response:
    """The Excel import template. Who: signed-in users."""
    return Response(
        template_workbook(db),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="greenpark-template.xlsx"'},
    )


@router.post("/import", tags=["import"], response_model=ImportOut)
async def import_api(
    p: Importer,
    db: DB,
    request: Request,
    background: BackgroundTasks,
    file: UploadFile = File(...),  # noqa: B008
) -> Any:
    """Import activity and economic data (xlsx or csv); a bad cell rejects the whole file.
    Who: admins and park staff; enterprise users for their own enterprise only."""
    content = await file.read()
    name = file.filename or "upload"
    user = db.get(m.AppUser, p.user_id)
    try:
        res = import_file(db, name, content, user=user)
    except ImportRejected as exc:
        from fastapi.responses import JSONResponse

        db.rollback()
        body = ImportOut(ok=False, file=name, errors=[CellErrorOut(**e.__dict__) for e in exc.errors])
        return JSONResponse(body.model_dump(), status_code=422)
    db.commit()
    background.add_task(warm, request.app.state.database_url)
    return ImportOut(
        ok=True, file=name, rows=res.rows, changed=res.changed, already_imported=res.already_imported
    )
