"""Request dependencies: database session, the caller (session cookie or API token), roles, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.park import auth
from greenpark.services.park.auth import Role
from greenpark.services.park.parks import all_parks, use_park
from greenpark.store import models as m
from greenpark.store.db import session_scope

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.database_url) as session:
        yield session


# scope="function": the session commits when the route returns, before the response is sent, so
# whatever a 2xx answer reports is already visible to every other connection.
DB = Annotated[Session, Depends(get_db, scope="function")]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by session cookie or API token) or the anonymous public, and the
    park this request works on with what of it the caller may read.

    ``readable`` is the one scope rule in data: the enterprises of the working park this caller
    may see below park and zone totals — every one for readers of the whole park, those of one
    zone for a zone officer, one for an enterprise user, none for the public.
    """

    role: Role
    user_id: int | None = None
    username: str = ""
    display_name: str = ""
    enterprise_id: int | None = None
    via_token: bool = False
    #: The park the request works on (None only while the house has no park).
    park_id: int | None = None
    park_code: str = ""
    #: The user's own park (None: any park the house holds — a bureau, the house's admin, the public).
    home_park_id: int | None = None
    #: A zone officer's zone.
    zone_id: int | None = None
    readable: frozenset[int] = frozenset()

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def whole_park(self) -> bool:
        """Reads every enterprise of the park (park staff, verifiers, admins, a bureau)."""
        return self.role in auth.READ_ALL

    @property
    def may_switch_park(self) -> bool:
        return self.home_park_id is None

    def can_read_enterprise(self, enterprise_id: int | None) -> bool:
        return enterprise_id is not None and enterprise_id in self.readable


ANONYMOUS = Principal(role=Role.PUBLIC)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def get_principal(request: Request, db: DB) -> Principal:
    """Identify the caller: a bearer token, a live server-side session, or nobody; then the park
    the request works on, named on the database session for every service it calls. No CSRF
    check here: the API checks the header in :func:`require`, pages check their form's token."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = auth.user_for_token(db, header[7:].strip())
        if user is None:
            raise HTTPException(
                401, "invalid, expired or revoked API token", headers={"WWW-Authenticate": "Bearer"}
            )
        return _principal(request, db, user, via_token=True)
    sid = request.session.get("sid")
    user = auth.session_user(db, str(sid)) if sid else None
    if sid and user is None:
        request.session.pop("sid", None)
    return _principal(request, db, user)


#: The browser session's key for the park a house-wide user or the public chose (park switcher).
CHOSEN_PARK = "park"


def _working_park(request: Request, db: Session, user: m.AppUser | None) -> m.Park | None:
    """The user's own park; else the park chosen with the switcher (or ``?park=``), else the
    house's first park (the one created first)."""
    if user is not None and user.park_id is not None:
        return db.get(m.Park, user.park_id)
    parks = all_parks(db)
    wanted = request.query_params.get("park") or request.session.get(CHOSEN_PARK)
    return next((p for p in parks if p.code == wanted), parks[0] if parks else None)


def _principal(request: Request, db: Session, user: m.AppUser | None, via_token: bool = False) -> Principal:
    park = _working_park(request, db, user)
    if park is not None:
        use_park(db, park.code)
    if user is None:
        return Principal(
            role=Role.PUBLIC, park_id=park.id if park else None, park_code=park.code if park else ""
        )
    role = Role(user.role)
    readable: frozenset[int] = frozenset()
    if park is not None:
        stmt = select(m.Enterprise.id).where(m.Enterprise.park_id == park.id)
        if role in auth.READ_ALL:
            readable = frozenset(db.scalars(stmt))
        elif role is Role.ZONE_STAFF and user.zone_id is not None:
            readable = frozenset(db.scalars(stmt.where(m.Enterprise.zone_id == user.zone_id)))
        elif role is Role.ENTERPRISE and user.enterprise_id is not None:
            readable = frozenset(db.scalars(stmt.where(m.Enterprise.id == user.enterprise_id)))
    return Principal(
        role=role,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        enterprise_id=user.enterprise_id,
        via_token=via_token,
        park_id=park.id if park else None,
        park_code=park.code if park else "",
        home_park_id=user.park_id,
        zone_id=user.zone_id if role is Role.ZONE_STAFF else None,
        readable=readable,
    )


def check_api_csrf(request: Request, p: Principal) -> None:
    """A cookie-authenticated write to the API must carry the session's token in X-CSRF-Token."""
    if request.method in UNSAFE and p.authenticated and not p.via_token:
        sent = request.headers.get("x-csrf-token")
        if not sent or not secrets.compare_digest(str(sent), str(request.session.get("csrf", ""))):
            raise HTTPException(403, "missing or wrong CSRF token (send X-CSRF-Token)")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal, Request], Principal]:
    """A dependency that lets only ``roles`` through (401 if anonymous, 403 otherwise)."""
    allowed = frozenset(roles)

    def dep(p: CurrentPrincipal, request: Request) -> Principal:
        if p.role in allowed:
            check_api_csrf(request, p)
            return p
        if not p.authenticated:
            raise HTTPException(401, "log in first")
        raise HTTPException(403, f"role {p.role.value} may not do this")

    dep.allowed_roles = allowed  # type: ignore[attr-defined]
    return dep


ANY_ROLE = tuple(Role)
SIGNED_IN = (Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.VERIFIER, Role.BUREAU, Role.ENTERPRISE)
STAFF = (Role.ADMIN, Role.PARK_STAFF)
#: Officers acting on enterprises they may read: the park's, or a zone officer's own zone's.
OFFICERS = (Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF)
READERS_ALL = (Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER, Role.BUREAU)
IMPORTERS = (Role.ADMIN, Role.PARK_STAFF, Role.ZONE_STAFF, Role.ENTERPRISE)

Public = Annotated[Principal, Depends(require(*ANY_ROLE))]
SignedIn = Annotated[Principal, Depends(require(*SIGNED_IN))]
Importer = Annotated[Principal, Depends(require(*IMPORTERS))]
Staff = Annotated[Principal, Depends(require(*STAFF))]
Officer = Annotated[Principal, Depends(require(*OFFICERS))]
ReadAll = Annotated[Principal, Depends(require(*READERS_ALL))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def start_browser_session(request: Request, db: Session, user: m.AppUser) -> None:
    """Sign ``user`` in on this browser: a new server-side session and a new CSRF token (the old
    cookie's content is dropped, so a session id planted before login is worth nothing)."""
    settings = request.app.state.settings
    request.session.clear()
    request.session["sid"] = auth.start_session(
        db, user, settings.session_max_age_s, client_address(request), request.headers.get("user-agent", "")
    )
    csrf_token(request)


def end_browser_session(request: Request, db: Session) -> None:
    sid = request.session.get("sid")
    if sid:
        auth.end_session(db, str(sid), "logout")
    request.session.clear()


def throttle_message(exc: auth.LoginThrottled, lang: str) -> str:
    minutes = max(1, round(exc.retry_after_s / 60))
    if exc.reason == "busy":
        return (
            "登录请求过多，请稍后再试。"
            if lang == "zh"
            else "Too many logins at once; try again in a few seconds."
        )
    if lang == "zh":
        return f"登录失败次数过多，请约 {minutes} 分钟后再试。"
    return f"Too many failed logins; try again in about {minutes} minute(s)."
