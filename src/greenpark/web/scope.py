"""Who may read what, in one place: every request works on one park (the signed-in user's, or
the one a house-wide user or the public chose; :mod:`greenpark.web.deps`); the park's and its
zones' figures are public; an enterprise's data are for that enterprise's own users, for its
zone's officers, and for readers of the whole park (park staff, verifiers, admins, a bureau). An
object of another park does not exist for the request (404).

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

from greenpark.services.carbon.inventory import Scope, resolve_scope
from greenpark.services.mrv.access import Actor, NotFound, enterprise_in_reach
from greenpark.services.park.auth import Role
from greenpark.services.park.parks import ParkError, get_park
from greenpark.store import models as m
from greenpark.web.deps import DB, CurrentPrincipal, Principal
from greenpark.web.validation import INT32_MAX, Id, PathCode


def authorize_enterprise(p: Principal, enterprise_id: int | None, db: DB | None = None) -> None:
    """Raise 401 (anonymous), 404 (another park's, when ``db`` can tell) or 403 unless ``p`` may
    read this enterprise's data."""
    if p.can_read_enterprise(enterprise_id):
        return
    if not p.authenticated:
        raise HTTPException(401, "log in to see an enterprise's data")
    elsewhere = p.whole_park or (
        db is not None
        and enterprise_id is not None
        and db.scalar(select(m.Enterprise.park_id).where(m.Enterprise.id == enterprise_id)) != p.park_id
    )
    if elsewhere:
        raise HTTPException(404, "not in this park")
    if p.role is Role.ZONE_STAFF:
        raise HTTPException(403, "you may only see your own zone's enterprises")
    raise HTTPException(403, "you may only see your own enterprise's data")


def authorize_scope(db: DB, p: Principal, code: str) -> Scope:
    """Resolve ``park``, a zone or an enterprise code, and apply the rule (404 if unknown)."""
    try:
        sc = resolve_scope(db, get_park(db), code)
    except ParkError as exc:
        raise HTTPException(404, str(exc)) from None
    if sc.kind == "enterprise":
        authorize_enterprise(p, sc.enterprise_id)
    return sc


#: The zone code that names a park's core area (核心区), the plan's usual accounting boundary.
CORE = "core"


def default_scope(db: DB, default: str) -> str:
    """The scope a page opens on: ``core`` is the park's core area where it has one, else the
    whole park."""
    if default != CORE:
        return default
    try:
        park = get_park(db)
    except ParkError:
        return "park"
    return CORE if any(z.code == CORE for z in park.zones) else "park"


def _scope_param(default: str) -> Callable[..., Scope]:
    def readable_scope(
        p: CurrentPrincipal,
        db: DB,
        scope: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=100,
                description="park, a zone code or an enterprise code (default: the page's own)",
            ),
        ] = None,
    ) -> Scope:
        return authorize_scope(db, p, scope or default_scope(db, default))

    readable_scope.scope_guard = True  # type: ignore[attr-defined]
    return readable_scope


#: A readable scope from the ``scope`` query parameter (default: the whole park).
ParkScope = Annotated[Scope, Depends(_scope_param("park"))]
#: The same, defaulting to the park's core area (the plan's accounting boundary), or the whole park
#: where it has none.
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
    if e is None or e.park_id != p.park_id:
        raise _missing(p, f"no enterprise {enterprise_id}")
    authorize_enterprise(p, e.id)
    return e


def readable_enterprise_code(code: PathCode, p: CurrentPrincipal, db: DB) -> m.Enterprise:
    e = db.scalars(
        select(m.Enterprise).where(m.Enterprise.park_id == p.park_id, m.Enterprise.code == code)
    ).first()
    if e is None:
        raise _missing(p, f"no enterprise {code!r}")
    authorize_enterprise(p, e.id)
    return e


def readable_outlet(outlet_id: Id, p: CurrentPrincipal, db: DB) -> m.Outlet:
    o = db.get(m.Outlet, outlet_id)
    if o is None:
        raise _missing(p, f"no outlet {outlet_id}")
    authorize_enterprise(p, o.enterprise_id, db)
    return o


def readable_point(point_id: Id, p: CurrentPrincipal, db: DB) -> m.SourcePoint:
    pt = db.get(m.SourcePoint, point_id)
    if pt is None:
        raise _missing(p, f"no monitoring point {point_id}")
    outlet = db.get(m.Outlet, pt.outlet_id)
    authorize_enterprise(p, outlet.enterprise_id if outlet else None, db)
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
    authorize_enterprise(p, outlet.enterprise_id if outlet else None, db)
    return a


def readable_meter(meter_code: PathCode, p: CurrentPrincipal, db: DB) -> m.EnergyMeter:
    """A meter of the working park whose enterprise the caller may read."""
    meter = db.scalars(
        select(m.EnergyMeter).where(m.EnergyMeter.park_id == p.park_id, m.EnergyMeter.code == meter_code)
    ).first()
    if meter is None:
        raise _missing(p, f"no meter {meter_code!r}")
    try:
        authorize_enterprise(p, meter.enterprise_id, db)
    except HTTPException:  # out of reach answers as missing: meter codes are guessable
        raise _missing(p, f"no meter {meter_code!r}") from None
    return meter


def enterprise_filter(
    p: CurrentPrincipal,
    enterprise_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> frozenset[int]:
    """The enterprises a listing covers: those of the working park the caller may read (the
    park's, a zone's, or an enterprise user's own), narrowed to the one asked for."""
    if not p.readable and not p.whole_park:
        raise HTTPException(403 if p.authenticated else 401, "log in to see an enterprise's data")
    if enterprise_id is None:
        return p.readable
    return p.readable & {enterprise_id}


_GUARDS: tuple[Any, ...] = (
    readable_enterprise,
    readable_enterprise_code,
    readable_outlet,
    readable_point,
    readable_channel,
    readable_alarm,
    readable_meter,
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
ReadableMeter = Annotated[m.EnergyMeter, Depends(readable_meter)]
OwnEnterprises = Annotated[frozenset[int], Depends(enterprise_filter)]


def may_see_records(p: Principal, sc: Scope) -> bool:
    """Single records (who reported what) are for readers of the whole park, for a zone's officers
    within their zone, and for an enterprise's users within their own enterprise; park and zone
    totals are public."""
    if p.whole_park:
        return True
    if p.role is Role.ZONE_STAFF:
        return p.zone_id is not None and sc.zone_id == p.zone_id and sc.kind in ("zone", "enterprise")
    return p.role is Role.ENTERPRISE and sc.kind == "enterprise" and sc.enterprise_id == p.enterprise_id


def authorize_records(p: Principal, sc: Scope) -> None:
    if not may_see_records(p, sc):
        raise HTTPException(
            401 if not p.authenticated else 403,
            "the records behind a figure are for park staff, verifiers, admins, a zone's officers "
            "within their zone, and an enterprise's users within their own enterprise",
        )


def authorize_breakdown(p: Principal, by: Sequence[str]) -> None:
    """A breakdown by enterprise names every enterprise: readers of the whole park only."""
    if "enterprise" in by and not p.whole_park:
        raise HTTPException(
            401 if not p.authenticated else 403,
            "a breakdown by enterprise needs a park-staff, verifier or admin login",
        )


# ------------------------------------------------------------------------------ record history
# (appended with the record history, issue 12 §3; the imports it alone needs are here)
from datetime import date, datetime, time  # noqa: E402

from greenpark.services.park import audit  # noqa: E402

#: The kinds of record whose history is asked for by name (``audit.ENTITY_LABELS``' codes).
HistoryEntity = Annotated[
    str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z_]+$", description="kind of record")
]


def readable_history(
    p: CurrentPrincipal,
    db: DB,
    entity: HistoryEntity = None,
    key: Annotated[str | None, Query(min_length=1, max_length=1000, description="the record's key")] = None,
    batch: Annotated[str | None, Query(min_length=1, max_length=200, description="an import batch")] = None,
    since: Annotated[date | None, Query(description="changes from this day on (UTC)")] = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> audit.HistoryQuery:
    """The history a caller may read follows the records they may read: readers of the whole park
    every record's of the working park; a zone's officer the zone's records and its enterprises';
    an enterprise's user its own enterprise's records only. The history of one record
    (``entity`` and ``key``) or of one enterprise (``enterprise_id``) that holds another's events
    is refused (403; 401 for the anonymous), never filtered to an empty answer."""
    if not p.authenticated:
        raise HTTPException(401, "log in to see the history of records")
    if p.park_id is None:
        raise HTTPException(404, "there is no park yet")
    if enterprise_id is not None:
        readable_enterprise(enterprise_id, p, db)
    if p.whole_park:
        reach = audit.EVERY_RECORD
    elif p.role is Role.ZONE_STAFF and p.zone_id is not None:
        reach = audit.Reach(enterprise_ids=p.readable, zone_id=p.zone_id)
    elif p.role is Role.ENTERPRISE and p.readable:
        reach = audit.Reach(enterprise_ids=p.readable)
    else:
        raise HTTPException(403, "the history of records is for those who may read the records")
    q = audit.HistoryQuery(
        park_id=p.park_id, entity=entity, key=key, batch=batch,
        since=datetime.combine(since, time()) if since else None, enterprise_id=enterprise_id, reach=reach,
    )  # fmt: skip
    if key is not None and not p.whole_park and audit.outside_reach(db, q):
        raise HTTPException(403, "you may only see the history of records you may read")
    return q


readable_history.scope_guard = True  # type: ignore[attr-defined]
#: The history the caller asked for, within what they may read.
ReadableHistory = Annotated[audit.HistoryQuery, Depends(readable_history)]


# --------------------------------------------------------------------------- the reporting cycle
# The cycle's reach is narrower than reading: a verifier sees only the enterprises its body was
# assigned (services/mrv/access.py says it once); the dependencies below resolve the enterprise a
# cycle route names and apply that rule before the route runs.


def mrv_actor(p: Principal) -> Actor:
    """The cycle's view of the signed-in caller on the park the request works on (401 for the
    anonymous, 403 if the house has no park yet)."""
    if not p.authenticated:
        raise HTTPException(401, "sign in first")
    if p.park_id is None:
        raise HTTPException(403, "sign in to a park first")
    return Actor(username=p.username, role=p.role, park_id=p.park_id, user_id=p.user_id,
                 zone_id=p.zone_id, enterprise_id=p.enterprise_id)  # fmt: skip


def resolve_mrv_enterprise(
    db: DB, actor: Actor, enterprise_id: int | None, code: str | None, *, own_by_default: bool
) -> int | None:
    """The enterprise a cycle request names by id or code, if in the actor's reach (404 otherwise,
    so another park's or owner's enterprise is not shown to exist); when none is named, an
    enterprise user's own (``own_by_default``) or ``None``."""
    if enterprise_id is None and code:
        found = db.scalar(
            select(m.Enterprise.id).where(m.Enterprise.park_id == actor.park_id, m.Enterprise.code == code)
        )
        if found is None:
            raise HTTPException(404, f"no enterprise {code!r}")
        enterprise_id = int(found)
    if enterprise_id is None:
        return actor.enterprise_id if own_by_default else None
    try:
        enterprise_in_reach(db, actor, enterprise_id)
    except NotFound:
        raise HTTPException(404, f"no enterprise {enterprise_id}") from None
    return enterprise_id


_EntIdQ = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="the enterprise's id")]
_EntCodeQ = Annotated[str | None, Query(min_length=1, max_length=64, description="or its code")]


def mrv_enterprise(
    p: CurrentPrincipal, db: DB, enterprise_id: _EntIdQ = None, enterprise: _EntCodeQ = None
) -> int:
    """One enterprise of the cycle in the caller's reach (an enterprise user: its own when none
    is named; 422 when nobody is named)."""
    found = resolve_mrv_enterprise(db, mrv_actor(p), enterprise_id, enterprise, own_by_default=True)
    if found is None:
        raise HTTPException(422, "name the enterprise (enterprise_id or enterprise)")
    return found


def mrv_enterprise_filter(
    p: CurrentPrincipal, db: DB, enterprise_id: _EntIdQ = None, enterprise: _EntCodeQ = None
) -> int | None:
    """A listing of the cycle narrowed to one enterprise in the caller's reach, or ``None`` (every
    enterprise in reach)."""
    return resolve_mrv_enterprise(db, mrv_actor(p), enterprise_id, enterprise, own_by_default=False)


for _dep in (mrv_enterprise, mrv_enterprise_filter):
    _dep.mrv_guard = True  # type: ignore[attr-defined]  # tests/test_scope.py walks these too

#: The enterprise a cycle route works on, in the caller's reach.
MrvEnterprise = Annotated[int, Depends(mrv_enterprise)]
#: An optional narrowing of a cycle listing to one enterprise in reach.
MrvEnterpriseFilter = Annotated[int | None, Depends(mrv_enterprise_filter)]
