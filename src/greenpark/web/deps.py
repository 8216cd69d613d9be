"""Request dependencies: database session, the caller (session cookie or API token), roles, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from greenpark.services import auth
from greenpark.services.auth import Role
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
    """Who is calling: a user (by session cookie or API token) or the anonymous public."""

    role: Role
    user_id: int | None = None
    username: str = ""
    display_name: str = ""
    enterprise_id: int | None = None
    via_token: bool = False

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def can_read_enterprise(self, enterprise_id: int | None) -> bool:
        if self.role in auth.READ_ALL:
            return True
        return (
            self.role is Role.ENTERPRISE and enterprise_id is not None and enterprise_id == self.enterprise_id
        )


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
    """Identify the caller: a bearer token, a live server-side session, or nobody. No CSRF check
    here: the API checks the header in :func:`require`, pages check their form's token."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = auth.user_for_token(db, header[7:].strip())
        if user is None:
            raise HTTPException(
                401, "invalid, expired or revoked API token", headers={"WWW-Authenticate": "Bearer"}
            )
        return _principal(user, via_token=True)
    sid = request.session.get("sid")
    if not sid:
        return ANONYMOUS
    user = auth.session_user(db, str(sid))
    if user is None:
        request.session.pop("sid", None)
        return ANONYMOUS
    return _principal(user)


def _principal(user: m.AppUser, via_token: bool = False) -> Principal:
    return Principal(
        role=Role(user.role),
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        enterprise_id=user.enterprise_id,
        via_token=via_token,
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
SIGNED_IN = (Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER, Role.ENTERPRISE)
STAFF = (Role.ADMIN, Role.PARK_STAFF)
READERS_ALL = (Role.ADMIN, Role.PARK_STAFF, Role.VERIFIER)
IMPORTERS = (Role.ADMIN, Role.PARK_STAFF, Role.ENTERPRISE)

Public = Annotated[Principal, Depends(require(*ANY_ROLE))]
SignedIn = Annotated[Principal, Depends(require(*SIGNED_IN))]
Importer = Annotated[Principal, Depends(require(*IMPORTERS))]
Staff = Annotated[Principal, Depends(require(*STAFF))]
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
