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


DB = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by cookie or token) or the anonymous public."""

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


def get_principal(request: Request, db: DB) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = auth.user_for_token(db, header[7:].strip())
        if user is None:
            raise HTTPException(401, "invalid API token", headers={"WWW-Authenticate": "Bearer"})
        return _principal(user, via_token=True)
    uid = request.session.get("uid")
    if uid is None:
        return ANONYMOUS
    user = db.get(m.AppUser, uid)
    if user is None or not user.active:
        request.session.clear()
        return ANONYMOUS
    if request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token")
        if not sent or not secrets.compare_digest(str(sent), str(request.session.get("csrf", ""))):
            raise HTTPException(403, "missing or wrong CSRF token (send X-CSRF-Token)")
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


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (401 if anonymous, 403 otherwise)."""
    allowed = frozenset(roles)

    def dep(p: CurrentPrincipal) -> Principal:
        if p.role in allowed:
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
