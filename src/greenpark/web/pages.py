"""Server-rendered pages (zh-CN by default, English with ?lang=en). Charts fetch the JSON API."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark import __version__
from greenpark.i18n import N_, catalogue, labels, tr
from greenpark.i18n import render as render_msg
from greenpark.services.carbon.factors import FactorLibrary, check_factor_sets, factor_set_summary
from greenpark.services.carbon.inventory_cache import scope_years
from greenpark.services.carbon.io import ImportRejected, import_file
from greenpark.services.carbon.snapshots import restatements
from greenpark.services.park import auth
from greenpark.services.park.parks import ParkError, all_parks, find_park, get_park
from greenpark.services.plan.reproduce import reproduce
from greenpark.services.pollution.sources import note_label
from greenpark.services.tabular import column_label
from greenpark.store import models as m
from greenpark.store.db import session_scope
from greenpark.web.deps import (
    CHOSEN_PARK,
    DB,
    CurrentPrincipal,
    Principal,
    client_address,
    csrf_token,
    end_browser_session,
    start_browser_session,
    throttle_message,
)
from greenpark.web.i18n import allowed, lang_of, menu_for
from greenpark.web.uploads import upload
from greenpark.web.validation import OptCode, OptYear
from greenpark.web.warm import warm

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
ROLE_LABELS = {
    auth.Role.ADMIN: N_("Administrator"),
    auth.Role.PARK_STAFF: N_("Park staff"),
    auth.Role.ZONE_STAFF: N_("Zone staff"),
    auth.Role.VERIFIER: N_("Verifier"),
    auth.Role.BUREAU: N_("Bureau"),
    auth.Role.ENTERPRISE: N_("Enterprise user"),
    auth.Role.PUBLIC: N_("Public"),
}
BEIJING = timedelta(hours=8)
#: Changes with the package version and the static files, so browsers fetch new scripts.
ASSET_VERSION = __version__


def _parks(request: Request, p: Principal, lang: str) -> tuple[str, list[dict[str, str]]]:
    """The working park's name, and the parks the caller may switch to (none when only one)."""
    with session_scope(request.app.state.database_url) as s:
        parks = all_parks(s)
        name = next(((q.name_en if lang == "en" else q.name_zh) for q in parks if q.code == p.park_code), "")
        if not p.may_switch_park or len(parks) < 2:
            return name, []
        return name, [{"code": q.code, "name": q.name_en if lang == "en" else q.name_zh} for q in parks]


def _context(request: Request, p: Principal, lang: str) -> dict[str, Any]:
    park_name, parks = _parks(request, p, lang)
    return {
        "park_name": park_name,
        "parks": parks,
        "_": lambda msgid, **params: tr(msgid, lang, **params),
        "r": lambda value: render_msg(value, lang),  # a message from a service, in the page's language
        "bj": lambda t: (t + BEIJING).strftime("%Y-%m-%d %H:%M") if t else "–",  # UTC → Beijing time
        "lang": lang,
        "user": p,
        "role_label": tr(ROLE_LABELS[p.role], lang),
        "menu": menu_for(p.role, request.url.path),
        "csrf": csrf_token(request),
        "path": request.url.path,
        "lang_url": request.url.path
        + "?"
        + urlencode({**request.query_params, "lang": "en" if lang == "zh" else "zh"}),
        "asset_version": ASSET_VERSION,
        "label": lambda table, code: labels.label(getattr(labels, table), code, lang),
        "unit": lambda u: labels.unit(u, lang),
        "num": lambda v, digits=0: _number(v, digits, lang),
    }


def _number(v: Any, digits: int, lang: str) -> str:
    """A number as people write it: thousands grouped, the digits asked for, "–" for none."""
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def render(request: Request, name: str, p: Principal, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """A page in the request's language; a page the caller's role may not use gives the error page
    with the way out instead (log in, or back to what the role can use)."""
    lang = lang_of(request)
    if not allowed(p.role, request.url.path):
        return error_page(request, p, 401 if not p.authenticated else 403)
    ctx = {**_context(request, p, lang), **ctx}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


ERRORS = {
    400: (N_("The request was not understood"), N_("Something in the address or the form is not valid.")),
    401: (N_("Please log in"), N_("This page is for signed-in users. Log in to continue.")),
    403: (N_("Not allowed"), N_("Your role may not use this page. The menu shows what you can use.")),
    404: (
        N_("Page not found"),
        N_("There is no page at this address. It may have moved, or the link is wrong."),
    ),
    405: (N_("Not possible here"), N_("This address does not accept that kind of request.")),
    413: (N_("Too large"), N_("The file or the form is larger than greenpark accepts.")),
    422: (N_("Not accepted"), N_("Something in the form is not valid.")),
    429: (N_("Too many attempts"), N_("Wait a little and try again.")),
    500: (N_("Something went wrong"), N_("greenpark could not finish this page; the error is logged.")),
}


def error_page(request: Request, p: Principal, status: int, detail: str = "") -> HTMLResponse:
    """The page a person sees for an error: what happened, in their language, and the way out."""
    lang = lang_of(request)
    title, text = ERRORS.get(status, ERRORS[500 if status >= 500 else 400])
    ctx = {**_context(request, p, lang), "status": status, "title": tr(title, lang), "text": tr(text, lang),
           "detail": detail, "next": request.url.path if request.method == "GET" else "/"}  # fmt: skip
    return templates.TemplateResponse(request, "error.html", ctx, status_code=status)


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


def _illustrative_devices(db: Session, p: Principal) -> bool:
    """Whether the park's devices carry a note greenpark wrote (illustrative or simulated data)."""
    if p.park_id is None:
        return False
    notes = db.scalars(
        select(m.SourcePoint.data_note)
        .join(m.Outlet, m.Outlet.id == m.SourcePoint.outlet_id)
        .join(m.Enterprise, m.Enterprise.id == m.Outlet.enterprise_id)
        .where(m.Enterprise.park_id == p.park_id, m.SourcePoint.data_note != "")
        .limit(20)
    )
    return any(note_label(n) is not None for n in notes)


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    return render(request, "monitoring.html", p, illustrative_devices=_illustrative_devices(db, p))


@router.get("/monitoring/outlet/{outlet_id}", response_class=HTMLResponse)
def outlet_page(request: Request, p: CurrentPrincipal, outlet_id: int) -> HTMLResponse:
    return render(request, "outlet.html", p, outlet_id=outlet_id)


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "alarms.html", p)


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises_page(request: Request, p: CurrentPrincipal, db: DB) -> HTMLResponse:
    return render(request, "enterprises.html", p, enterprise_id=request.query_params.get("id", ""),
                  illustrative_devices=_illustrative_devices(db, p))  # fmt: skip


@router.get("/tracing", response_class=HTMLResponse)
def tracing_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "tracing.html", p)


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(
    request: Request, p: CurrentPrincipal, db: DB, scope: OptCode = None, year: OptYear = None
) -> HTMLResponse:
    """The inventory page, on ``scope`` and ``year`` when given (links from an import), else an
    enterprise user's own enterprise or the core area, on the latest year."""
    park = _park_or_none(db)
    scopes: list[dict[str, Any]] = []
    years: list[int] = []
    own = None
    if park is not None:
        en = lang_of(request) == "en"
        scopes = [{"code": "park", "name": park.name_en if en else park.name_zh, "data": False}] + [
            {"code": z.code, "name": z.name_en if en else z.name_zh, "data": False} for z in park.zones
        ]
        if p.whole_park or p.role is auth.Role.ZONE_STAFF:
            scopes += [
                {"code": e.code, "name": e.name, "data": True}
                for e in db.scalars(
                    select(m.Enterprise)
                    .where(m.Enterprise.id.in_(sorted(p.readable)))
                    .order_by(m.Enterprise.code)
                )
            ]
        elif p.enterprise_id:
            e = db.get(m.Enterprise, p.enterprise_id)
            if e:
                scopes.append({"code": e.code, "name": e.name, "data": True})
                own = e.code
        years = scope_years(db, park, "park")
    codes = [s["code"] for s in scopes]
    chosen = scope if scope in codes else own or ("core" if "core" in codes else codes[0] if codes else "")
    return render(request, "inventory.html", p, park=park, scopes=scopes, years=years, chosen=chosen,
                  year=year if year in years else (years[-1] if years else None))  # fmt: skip


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
    if p.role not in (auth.Role.ADMIN, auth.Role.PARK_STAFF, auth.Role.ZONE_STAFF, auth.Role.ENTERPRISE):
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
            filename=name, batches=_batches(db, p), column_label=column_label,
        )  # fmt: skip
    db.commit()
    background.add_task(warm, request.app.state.database_url)
    return render(request, "import.html", p, result=res, errors=None, batches=_batches(db, p))


def _batches(db: DB, p: Principal) -> list[dict[str, Any]]:
    """The last imports the caller may see (all for staff; one's own otherwise), newest first."""
    if not p.authenticated:
        return []
    stmt = (
        select(m.ImportBatch, m.AppUser.display_name)
        .outerjoin(m.AppUser, m.AppUser.id == m.ImportBatch.user_id)
        .order_by(m.ImportBatch.id.desc())
        .limit(200)
    )
    if p.role not in auth.WRITE_ALL:
        stmt = stmt.where(m.ImportBatch.user_id == p.user_id)
    return [
        {"id": b.id, "filename": b.filename, "kinds": [k for k in b.kind.split("+") if k], "rows": b.rows,
         "changed": b.rows_changed, "at": b.created_at, "by": by or ""}
        for b, by in db.execute(stmt)
    ]  # fmt: skip


@router.get("/factors", response_class=HTMLResponse)
def factors_page(
    request: Request, p: CurrentPrincipal, db: DB, code: OptCode = None, version: OptCode = None
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
        carriers={
            c.code: (c.name_zh if lang_of(request) == "zh" else c.name_en)
            for c in db.scalars(select(m.Carrier))
        },
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
    except ParkError:
        out = None
    return render(request, "reproduce.html", p, out=out)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "login.html", p, error=None, next=_safe_next(request.query_params.get("next")))


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or len(target) > 500
    ):
        return "/"
    return target


@router.post("/login", response_model=None)
def login_post(
    request: Request,
    p: CurrentPrincipal,
    db: DB,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=1024),
    csrf_token_field: str = Form("", alias="csrf_token", max_length=200),
    next_page: str = Form("/", alias="next", max_length=500),
) -> Response:
    _check_form_csrf(request, csrf_token_field)
    lang = lang_of(request)
    next_page = _safe_next(next_page)
    try:
        user = auth.login(db, username, password, client_address(request))
    except auth.LoginThrottled as exc:
        db.commit()
        response = render(
            request, "login.html", p, status_code=429, error=throttle_message(exc, lang), next=next_page
        )
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    if user is None:
        db.commit()
        return render(request, "login.html", p, status_code=401, error=tr("Wrong username or password", lang),
                      next=next_page)  # fmt: skip
    start_browser_session(request, db, user)
    return RedirectResponse(next_page, status_code=303)


@router.get("/park", response_model=None)
def switch_park(
    request: Request,
    p: CurrentPrincipal,
    db: DB,
    park: str = Query(..., min_length=1, max_length=32),
    next_page: str = Query("/", alias="next", max_length=500),
) -> Response:
    """The park switcher: a house-wide user (a bureau, the house's admin) or the public chooses the
    park the pages show; a user of one park stays in it (403)."""
    if not p.may_switch_park:
        raise HTTPException(403, "your account belongs to one park")
    try:
        find_park(db, park)
    except ParkError as exc:
        raise HTTPException(404, str(exc)) from None
    request.session[CHOSEN_PARK] = park
    return RedirectResponse(_safe_next(next_page), status_code=303)


@router.post("/logout", response_model=None)
def logout_post(
    request: Request, db: DB, csrf_token_field: str = Form("", alias="csrf_token", max_length=200)
) -> Response:
    _check_form_csrf(request, csrf_token_field)
    end_browser_session(request, db)
    return RedirectResponse("/", status_code=303)


@router.get("/i18n/{lang}.js")
def messages_script(lang: Literal["zh", "en"]) -> Response:
    """The catalogue for page scripts (``GP._``): the same translations as the pages'."""
    body = "window.GP_MESSAGES = " + json.dumps(catalogue(lang), ensure_ascii=False, sort_keys=True) + ";\n"
    body += (
        "window.GP_LABELS = " + json.dumps(labels.tables(lang), ensure_ascii=False, sort_keys=True) + ";\n"
    )
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/api/docs", response_class=HTMLResponse)
def swagger_offline(request: Request) -> HTMLResponse:
    """Swagger UI from the app's own files (offline), started by a script file (no inline script)."""
    return templates.TemplateResponse(request, "swagger.html", {})


def _park_or_none(db: DB) -> m.Park | None:
    try:
        return get_park(db)
    except ParkError:
        return None


@router.get("/parks", response_class=HTMLResponse)
def parks_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    """Every park side by side (drawn from /api/parks/overview). Who: a bureau and admins (the menu)."""
    return render(request, "parks.html", p)
