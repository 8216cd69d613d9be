"""The FastAPI application: JSON API under /api, pages at /, assets under /static."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from greenpark import __version__
from greenpark.settings import Settings, get_settings
from greenpark.web import api, env_api, indicators_api, pages, plan_api, roadmap_api, sources_api

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="greenpark API",
        version=__version__,
        description="Energy, carbon and environment of an industrial park. Every route says who may call it.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.database_url = database_url or settings.effective_database_url
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="greenpark_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(env_api.router)
    app.include_router(sources_api.router)
    app.include_router(indicators_api.router)
    app.include_router(plan_api.router)
    app.include_router(roadmap_api.router)
    app.include_router(pages.router)
    return app
