"""The inventory cache: :func:`~greenpark.services.carbon.inventory.compute_inventory` remembered
until the park's records or the current factor sets change, and the questions every page asks of
a scope (its years, its years resting on illustrative records). The cockpit, the indicators and the
roadmap read inventories through it; warming it is the app's start-up job (``web/warm.py``)."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services import illustrative
from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.park.parks import ParkError, get_park
from greenpark.store import models as m

_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = Lock()
_CACHE_SIZE = 512


def fingerprint(session: Session, park: m.Park) -> tuple[Any, ...]:
    """Changes whenever the park's records or the current factor sets change."""
    sets = tuple(
        session.scalars(select(m.FactorSet.id).where(m.FactorSet.is_current).order_by(m.FactorSet.id))
    )
    bind = session.get_bind()
    return (str(bind.engine.url), park.id, park.data_revision, sets)


def cached_inventory(
    session: Session, park: m.Park, scope: str, year: int, boundary: str = "all", by: tuple[str, ...] = ()
) -> dict[str, Any]:
    """:func:`compute_inventory`, remembered until the data or the factor sets change."""
    key = (*fingerprint(session, park), scope, year, boundary, by)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = compute_inventory(
        session, scope_code=scope, year=year, boundary=boundary, by=by, park_code=park.code
    )
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def inventory_or_none(
    session: Session, scope: str, year: int, boundary: str = "all"
) -> dict[str, Any] | None:
    """:func:`cached_inventory` of the current park, or None when the scope or year has no inventory."""
    try:
        return cached_inventory(session, get_park(session), scope, year, boundary)
    except ParkError:
        return None


def scope_years(session: Session, park: m.Park, scope: str) -> list[int]:
    ar = m.ActivityRecord
    return sorted(session.scalars(select(ar.year).where(scope_filter(session, park, scope, ar)).distinct()))


def scope_filter(session: Session, park: m.Park, scope: str, model: Any) -> Any:
    """Records of ``model`` (activity or economic) that belong to ``scope`` (as :func:`scope_years`)."""
    cond = model.park_id == park.id
    if scope == "park":
        return cond
    zone = session.scalars(select(m.Zone).where(m.Zone.park_id == park.id, m.Zone.code == scope)).first()
    if zone is not None:
        return cond & (model.zone_id == zone.id)
    ent = session.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code == scope)
    ).first()
    return cond & (model.enterprise_id == (ent.id if ent else -1))


def inventory_view(
    session: Session, park: m.Park, scope: str, year: int, boundary: str = "all", by: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The inventory of a page (cached) and whether its year rests on illustrative records."""
    out = dict(cached_inventory(session, park, scope, year, boundary, by))
    out["illustrative"] = year in illustrative_years(session, park, scope)
    return out


def illustrative_years(session: Session, park: m.Park, scope: str) -> list[int]:
    """Years of ``scope`` whose activity or economic records include illustrative ones (the demo's
    continuation, marked in their source): results of those years rest on made-up figures."""
    years: set[int] = set()
    for model in (m.ActivityRecord, m.EconomicRecord):
        years |= set(
            session.scalars(
                select(model.year)
                .where(scope_filter(session, park, scope, model), illustrative.sql_filter(model.source_ref))
                .distinct()
            )
        )
    return sorted(years)
