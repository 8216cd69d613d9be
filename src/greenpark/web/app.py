"""The FastAPI application: JSON API under /api, pages at /, assets under /static."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from greenpark import __version__
from greenpark.settings import Settings, get_settings
from greenpark.store.db import session_scope
from greenpark.store.guard import FieldRejected
from greenpark.web import (
    admin_api,
    api,
    energy_api,
    env_api,
    history_api,
    inbox_api,
    indicators_api,
    mrv_api,
    mrv_reports_api,
    mrv_verify_api,
    overview_api,
    pages,
    parks_api,
    plan_api,
    roadmap_api,
    sources_api,
)
from greenpark.web.i18n import LanguageMiddleware, LocalizedJSON
from greenpark.web.security import EdgeGuard
from greenpark.web.validation import InputError

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("greenpark.web")


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="greenpark API",
        version=__version__,
        description="Energy, carbon and environment of an industrial park. Every route says who may call it.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=LocalizedJSON,
    )
    app.state.settings = settings
    app.state.database_url = database_url or settings.effective_database_url
    # the cookie is signed and carries only the server-side session's id and the CSRF token
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="greenpark_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(EdgeGuard, hsts=settings.secure_cookies)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (api, env_api, sources_api, indicators_api, plan_api, roadmap_api, admin_api, pages):
        app.include_router(module.router)
    app.include_router(history_api.router)
    app.include_router(overview_api.router)
    app.include_router(parks_api.router)
    for module in (mrv_api, mrv_reports_api, mrv_verify_api, inbox_api, energy_api):
        app.include_router(module.router)
    return app


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/static/", "/i18n/")) or path == "/api/docs"


def _page_for_error(request: Request, status: int, detail: str = "") -> Response:
    """A person gets a page in their language with the way out; the API keeps its JSON."""
    from greenpark.web.deps import ANONYMOUS, get_principal
    from greenpark.web.pages import error_page

    try:
        with session_scope(request.app.state.database_url) as db:
            p = get_principal(request, db)
    except Exception:
        p = ANONYMOUS
    return error_page(request, p, status, detail if status in (413, 422, 429) else "")


def _add_error_handlers(app: FastAPI) -> None:
    """Bad input that slipped past the route's own checks is still a 4xx with a reason; a page's
    error is a page, not JSON."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_page(request):
            return await run_in_threadpool(_page_for_error, request, exc.status_code, str(exc.detail))
        return LocalizedJSON(
            {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_page(request):
            in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
            return await run_in_threadpool(_page_for_error, request, 404 if in_path else 422)
        # the reasons without the input echoed back (it may be huge, or not even valid JSON: NaN)
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]  # fmt: skip
        return LocalizedJSON({"detail": detail}, status_code=422)

    @app.exception_handler(FieldRejected)
    async def field_rejected(_: Request, exc: FieldRejected) -> JSONResponse:
        return LocalizedJSON({"detail": str(exc)}, status_code=422)

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return LocalizedJSON({"detail": str(exc)}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.info("refused by a database constraint: %s", exc.orig)
        return LocalizedJSON({"detail": "conflicts with data already stored (a duplicate or a missing reference)"},
                            status_code=409)  # fmt: skip

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        log.info("refused by the database: %s", exc.orig)
        return LocalizedJSON(
            {"detail": "a value is out of range or too long for the database"}, status_code=422
        )

    @app.exception_handler(OverflowError)
    async def overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return LocalizedJSON({"detail": "a number is out of range"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        ref = secrets.token_hex(4)
        log.exception("internal error %s on %s %s", ref, request.method, request.url.path)
        if _is_page(request):
            return await run_in_threadpool(_page_for_error, request, 500)
        return LocalizedJSON({"detail": f"internal error (reference {ref}); it is logged"}, status_code=500)
