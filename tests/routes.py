"""The app's API routes, walked once for the structural tests (routers may be nested)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every JSON API route (pages are not in the schema)."""

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):  # an included router (FastAPI ≥ 0.160)
                yield from walk(r.original_router.routes)
            elif hasattr(r, "routes"):
                yield from walk(r.routes)

    out = [r for r in walk(app.router.routes) if r.path.startswith("/api/") and r.include_in_schema]
    assert len(out) > 50, "the route walk found too few routes"
    return out


def dependencies(d: Dependant) -> Iterator[Dependant]:
    for sub in d.dependencies:
        yield sub
        yield from dependencies(sub)


def guarded_by(route: APIRoute, attr: str) -> list[Any]:
    """The route's dependencies (at any depth) whose callable carries ``attr``."""
    return [d.call for d in dependencies(route.dependant) if hasattr(d.call, attr)]
