"""JSON API of the cross-park overview (the ``/parks`` page and a bureau's own tools)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from greenpark.services.park.auth import Role
from greenpark.services.portfolio.overview import overview
from greenpark.web.deps import DB, Principal, require
from greenpark.web.i18n import LocalizedRoute

router = APIRouter(prefix="/api/parks", tags=["park"], route_class=LocalizedRoute)

#: Who watches parks side by side: a city or provincial bureau, and the house's administrators.
Watcher = Annotated[Principal, Depends(require(Role.ADMIN, Role.BUREAU))]


@router.get("/overview")
def parks_overview_api(p: Watcher, db: DB) -> list[dict[str, Any]]:
    """Each park's latest year: energy, CO₂, energy per industrial value added against its targets,
    indicators at risk, open alarms, and why a figure is empty (docs/parks.md). Who: a bureau and
    admins; a house-wide account gets every park, an account of one park that park only."""
    return overview(db, None if p.home_park_id is None else [p.park_code])
