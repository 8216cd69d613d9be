"""Server-rendered pages (zh-CN by default, English with ?lang=en). Charts fetch the JSON API."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from greenpark.services import auth
from greenpark.services.cockpit import scope_years, warm
from greenpark.services.factors import FactorLibrary, check_factor_sets, factor_set_summary
from greenpark.services.inventory import InventoryError, get_park
from greenpark.services.io import ImportRejected, import_file
from greenpark.services.reproduce import reproduce
from greenpark.services.snapshots import restatements
from greenpark.store import models as m
from greenpark.web.deps import (
    DB,
    CurrentPrincipal,
    Principal,
    client_address,
    csrf_token,
    end_browser_session,
    start_browser_session,
    throttle_message,
)
from greenpark.web.i18n import lang_of, translator
from greenpark.web.uploads import upload

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def render(request: Request, name: str, p: Principal, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "user": p,
            "csrf": csrf_token(request),
            "path": request.url.path,
            **ctx,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def _check_form_csrf(request: Request, token: str) -> None:
    if not secrets.compare_digest(token or "", str(request.session.get("csrf", ""))):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page")


@router.get("/", response_class=HTMLResponse)
def cockpit_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    park = _park_or_none(db)
    return render(request, "cockpit.html", p, park=park)


@router.get("/sankey", response_class=HTMLResponse)
def sankey_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    return render(request, "sankey.html", p, park=_park_or_none(db))


@router.get("/environment", response_class=HTMLResponse)
def environment_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "environment.html", p)


@router.get("/indicators", response_class=HTMLResponse)
def indicators_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "indicators.html", p, code=request.query_params.get("code", ""))


@router.get("/roadmap", response_class=HTMLResponse)
def roadmap_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "roadmap.html", p)


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "projects.html", p)


@router.get("/land", response_class=HTMLResponse)
def land_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "land.html", p)


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "monitoring.html", p)


@router.get("/monitoring/outlet/{outlet_id}", response_class=HTMLResponse)
def outlet_page(request: Request, p: CurrentPrincipal, outlet_id: int) -> HTMLResponse:
    return render(request, "outlet.html", p, outlet_id=outlet_id)


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "alarms.html", p)


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "enterprises.html", p, enterprise_id=request.query_params.get("id", ""))


@router.get("/tracing", response_class=HTMLResponse)
def tracing_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "tracing.html", p)


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    park = _park_or_none(db)
    scopes: list[dict[str, str]] = []
    years: list[int] = []
    if park is not None:
        en = lang_of(request) == "en"
        scopes = [{"code": "park", "name": park.name_en if en else park.name_zh}] + [
            {"code": z.code, "name": z.name_en if en else z.name_zh} for z in park.zones
        ]
        if p.role in auth.READ_ALL:
            scopes += [
                {"code": e.code, "name": e.name}
                for e in db.scalars(
                    select(m.Enterprise).where(m.Enterprise.park_id == park.id).order_by(m.Enterprise.code)
                )
            ]
        elif p.enterprise_id:
            e = db.get(m.Enterprise, p.enterprise_id)
            if e:
                scopes.append({"code": e.code, "name": e.name})
        years = scope_years(db, park, "park")
    return render(request, "inventory.html", p, park=park, scopes=scopes, years=years)


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    return render(request, "import.html", p, result=None, errors=None, batches=_batches(db, p))


@router.post("/import", response_class=HTMLResponse)
def import_post(
    request: Request,
    background: BackgroundTasks,
    p: CurrentPrincipal,
    db: DB,
    csrf_token_field: str = Form("", alias="csrf_token", max_length=200),
    file: UploadFile = File(...),  # noqa: B008
) -> HTMLResponse:
    """The import page's own form: checked with the form's CSRF token (an HTML form cannot send the
    API's header); parsed in a worker thread, never on the event loop."""
    _check_form_csrf(request, csrf_token_field)
    if p.role not in (auth.Role.ADMIN, auth.Role.PARK_STAFF, auth.Role.ENTERPRISE):
        raise HTTPException(
            403 if p.authenticated else 401, "log in as park staff, admin or an enterprise user to import"
        )
    name, content = upload(file)
    user = db.get(m.AppUser, p.user_id)
    try:
        res = import_file(db, name, content, user=user)
    except ImportRejected as exc:
        db.rollback()
        return render(
            request, "import.html", p, status_code=422, result=None, errors=exc.errors, errors_total=exc.total,
            filename=name, batches=_batches(db, p),
        )  # fmt: skip
    db.commit()
    background.add_task(warm, request.app.state.database_url)
    return render(request, "import.html", p, result=res, errors=None, batches=_batches(db, p))


def _batches(db: DB, p: Principal) -> list[m.ImportBatch]:
    if p.role in auth.WRITE_ALL:
        return list(db.scalars(select(m.ImportBatch).order_by(m.ImportBatch.id.desc()).limit(20)))
    if p.authenticated:
        return list(
            db.scalars(
                select(m.ImportBatch)
                .where(m.ImportBatch.user_id == p.user_id)
                .order_by(m.ImportBatch.id.desc())
                .limit(20)
            )
        )
    return []


@router.get("/factors", response_class=HTMLResponse)
def factors_page(
    request: Request, p: CurrentPrincipal, db: DB, code: str | None = None, version: str | None = None
) -> HTMLResponse:
    sets = [
        factor_set_summary(fs)
        for fs in db.scalars(select(m.FactorSet).order_by(m.FactorSet.code, m.FactorSet.id))
    ]
    lib = FactorLibrary.load(db, {code: version} if code and version else None)
    selected = None
    if code and code in lib.sets:
        selected = {**factor_set_summary(lib.sets[code]), "rows": [r.as_dict() for r in lib.rows[code]]}
    return render(
        request,
        "factors.html",
        p,
        sets=sets,
        selected=selected,
        checks=check_factor_sets(lib),
        restated=restatements(db),
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    """Users, roles, tokens, sessions and the audit trail. Who: admins."""
    if p.role is not auth.Role.ADMIN:
        raise HTTPException(403 if p.authenticated else 401, "administration is for admins")
    return render(request, "admin.html", p)


@router.get("/reproduce", response_class=HTMLResponse)
def reproduce_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    try:
        out = reproduce(db)
    except InventoryError:
        out = None
    return render(request, "reproduce.html", p, out=out)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "login.html", p, error=None)


@router.post("/login", response_model=None)
def login_post(
    request: Request,
    p: CurrentPrincipal,
    db: DB,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token_field: str = Form("", alias="csrf_token", max_length=200),
) -> Response:
    _check_form_csrf(request, csrf_token_field)
    lang = lang_of(request)
    try:
        user = auth.login(db, username, password, client_address(request))
    except auth.LoginThrottled as exc:
        db.commit()
        response = render(request, "login.html", p, status_code=429, error=throttle_message(exc, lang))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if user is None:
        db.commit()
        return render(request, "login.html", p, status_code=401, error=translator(lang)["bad_login"])
    start_browser_session(request, db, user)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", response_model=None)
def logout_post(
    request: Request, db: DB, csrf_token_field: str = Form("", alias="csrf_token", max_length=200)
) -> Response:
    _check_form_csrf(request, csrf_token_field)
    end_browser_session(request, db)
    return RedirectResponse("/", status_code=303)


@router.get("/api/docs", response_class=HTMLResponse)
def swagger_offline(request: Request) -> HTMLResponse:
    """Swagger UI from the app's own files (offline), started by a script file (no inline script)."""
    return templates.TemplateResponse(request, "swagger.html", {})


def _park_or_none(db: DB) -> m.Park | None:
    try:
        return get_park(db)
    except InventoryError:
        return None
