"""Who may read what, in one place: the park's and its zones' figures are public; an enterprise's
data are for that enterprise's own users and for readers of the whole park (park staff,
verifiers, admins).

Every route that takes a scope, an enterprise, an outlet or an alarm gets it through one of the
dependencies below, which resolve it and apply the rule before the route runs; a route never
reads a ``scope`` or an enterprise id itself (``tests/test_scope.py`` walks every route and
fails if one does, and calls each with anonymous, public and another enterprise's users).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query
from sqlalchemy import select

from greenpark.services.auth import READ_ALL, Role
from greenpark.services.inventory import InventoryError, Scope, get_park, resolve_scope
from greenpark.store import models as m
from greenpark.web.deps import DB, CurrentPrincipal, Principal
from greenpark.web.validation import INT32_MAX, Id, PathCode


def authorize_enterprise(p: Principal, enterprise_id: int | None) -> None:
    """Raise 401 (anonymous) or 403 unless ``p`` may read this enterprise's data."""
    if p.can_read_enterprise(enterprise_id):
        return
    if not p.authenticated:
        raise HTTPException(401, "log in to see an enterprise's data")
    raise HTTPException(403, "you may only see your own enterprise's data")


def authorize_scope(db: DB, p: Principal, code: str) -> Scope:
    """Resolve ``park``, a zone or an enterprise code, and apply the rule (404 if unknown)."""
    try:
        sc = resolve_scope(db, get_park(db), code)
    except InventoryError as exc:
        raise HTTPException(404, str(exc)) from None
    if sc.kind == "enterprise":
        authorize_enterprise(p, sc.enterprise_id)
    return sc


def _scope_param(default: str) -> Callable[..., Scope]:
    def readable_scope(
        p: CurrentPrincipal,
        db: DB,
        scope: Annotated[
            str, Query(min_length=1, max_length=100, description="park, a zone code or an enterprise code")
        ] = default,
    ) -> Scope:
        return authorize_scope(db, p, scope)

    readable_scope.scope_guard = True  # type: ignore[attr-defined]
    return readable_scope


#: A readable scope from the ``scope`` query parameter (default: the whole park).
ParkScope = Annotated[Scope, Depends(_scope_param("park"))]
#: The same, defaulting to the core zone (the plan's accounting boundary).
CoreScope = Annotated[Scope, Depends(_scope_param("core"))]


def _missing(p: Principal, what: str) -> HTTPException:
    # the anonymous learn nothing about which ids exist
    return (
        HTTPException(401, "log in to see an enterprise's data")
        if not p.authenticated
        else HTTPException(404, what)
    )


def readable_enterprise(enterprise_id: Id, p: CurrentPrincipal, db: DB) -> m.Enterprise:
    e = db.get(m.Enterprise, enterprise_id)
    if e is None:
        raise _missing(p, f"no enterprise {enterprise_id}")
    authorize_enterprise(p, e.id)
    return e


def readable_enterprise_code(code: PathCode, p: CurrentPrincipal, db: DB) -> m.Enterprise:
    e = db.scalars(select(m.Enterprise).where(m.Enterprise.code == code)).first()
    if e is None:
        raise _missing(p, f"no enterprise {code!r}")
    authorize_enterprise(p, e.id)
    return e


def readable_outlet(outlet_id: Id, p: CurrentPrincipal, db: DB) -> m.Outlet:
    o = db.get(m.Outlet, outlet_id)
    if o is None:
        raise _missing(p, f"no outlet {outlet_id}")
    authorize_enterprise(p, o.enterprise_id)
    return o


def readable_point(point_id: Id, p: CurrentPrincipal, db: DB) -> m.SourcePoint:
    pt = db.get(m.SourcePoint, point_id)
    if pt is None:
        raise _missing(p, f"no monitoring point {point_id}")
    outlet = db.get(m.Outlet, pt.outlet_id)
    authorize_enterprise(p, outlet.enterprise_id if outlet else None)
    return pt


def readable_channel(channel_id: Id, p: CurrentPrincipal, db: DB) -> m.Channel:
    ch = db.get(m.Channel, channel_id)
    if ch is None:
        raise _missing(p, f"no channel {channel_id}")
    readable_point(ch.point_id, p, db)
    return ch


def readable_alarm(alarm_id: Id, p: CurrentPrincipal, db: DB) -> m.Alarm:
    a = db.get(m.Alarm, alarm_id)
    if a is None:
        raise _missing(p, f"no alarm {alarm_id}")
    point = db.get(m.SourcePoint, a.point_id)
    outlet = db.get(m.Outlet, point.outlet_id) if point else None
    authorize_enterprise(p, outlet.enterprise_id if outlet else None)
    return a


def enterprise_filter(
    p: CurrentPrincipal,
    enterprise_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> int | None:
    """The enterprise a listing is limited to: an enterprise user's own (whatever was asked), or
    the one a reader asked for, or None for all."""
    if p.can_read_enterprise(-1):
        return enterprise_id
    if p.enterprise_id is None:
        raise HTTPException(403 if p.authenticated else 401, "log in to see an enterprise's data")
    return p.enterprise_id


_GUARDS: tuple[Any, ...] = (
    readable_enterprise,
    readable_enterprise_code,
    readable_outlet,
    readable_point,
    readable_channel,
    readable_alarm,
    enterprise_filter,
)
for _dep in _GUARDS:
    _dep.scope_guard = True  # marks the dependencies that apply the rule (tests/test_scope.py)

EnterpriseById = Annotated[m.Enterprise, Depends(readable_enterprise)]
EnterpriseByCode = Annotated[m.Enterprise, Depends(readable_enterprise_code)]
ReadableOutlet = Annotated[m.Outlet, Depends(readable_outlet)]
ReadableAlarm = Annotated[m.Alarm, Depends(readable_alarm)]
ReadablePoint = Annotated[m.SourcePoint, Depends(readable_point)]
ReadableChannel = Annotated[m.Channel, Depends(readable_channel)]
OwnEnterprises = Annotated[int | None, Depends(enterprise_filter)]


def may_see_records(p: Principal, sc: Scope) -> bool:
    """Single records (who reported what) are for readers of the whole park, and for an
    enterprise's users within their own enterprise; park and zone totals are public."""
    return p.role in READ_ALL or (
        p.role is Role.ENTERPRISE and sc.kind == "enterprise" and sc.enterprise_id == p.enterprise_id
    )


def authorize_records(p: Principal, sc: Scope) -> None:
    if not may_see_records(p, sc):
        raise HTTPException(
            401 if not p.authenticated else 403,
            "the records behind a figure are for park staff, verifiers, "
            "admins, and an enterprise's users within their own enterprise",
        )


def authorize_breakdown(p: Principal, by: Sequence[str]) -> None:
    """A breakdown by enterprise names every enterprise: readers of the whole park only."""
    if "enterprise" in by and p.role not in READ_ALL:
        raise HTTPException(
            401 if not p.authenticated else 403,
            "a breakdown by enterprise needs a park-staff, verifier or admin login",
        )
