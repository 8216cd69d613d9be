"""Administration: users and roles, API tokens, live sessions, the audit trail and recent logins.
Every change is appended to the audit trail. Who: admins only — an admin of one park manages that
park's users (their tokens, sessions, logins and the park's trail), an admin of the whole house
(no park) every park's and the house-wide accounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field
from sqlalchemy.orm import Session

from greenpark.services.park import auth
from greenpark.services.park.auth import Role
from greenpark.services.park.parks import ParkError, find_park
from greenpark.store import models as m
from greenpark.web.deps import DB, Admin, Principal
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.validation import Id, InModel, OptCode

router = APIRouter(prefix="/api/admin", tags=["administration"], route_class=LocalizedRoute)
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
USERNAME = r"^[A-Za-z0-9_.@-]+$"
#: A park's, a zone's or an enterprise's code in a body ("" and "*" have their meaning below).
CodeField = Annotated[str, Field(max_length=64)]
#: The ``park`` of a user that belongs to every park (an admin or a bureau of the whole house).
EVERY_PARK = "*"


class UserIn(InModel):
    username: Annotated[str, Field(min_length=2, max_length=64, pattern=USERNAME)]
    display_name: Annotated[str, Field(max_length=200)] = ""
    role: Role
    #: The park's code; "": the admin's working park; "*": every park (an admin or a bureau,
    #: given by an admin of the whole house).
    park: CodeField = ""
    zone: CodeField = ""  # code, for zone officers (a zone of the park)
    enterprise: CodeField = ""  # code, for enterprise users (an enterprise of the park)
    password: Annotated[str, Field(max_length=200)] = ""  # empty: a random one, shown once


class ActiveIn(InModel):
    active: bool


class RoleIn(InModel):
    role: Role
    park: CodeField = ""  # as in UserIn
    zone: CodeField = ""
    enterprise: CodeField = ""


class TokenFor(InModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    days: Annotated[int, Field(ge=1, le=auth.MAX_TOKEN_DAYS)] = auth.DEFAULT_TOKEN_DAYS


def _park(p: Principal, db: Session, role: Role, code: str) -> m.Park | None:
    """The park a user is given (None: every park), as the admin ``p`` may give it."""
    if code == EVERY_PARK:
        if p.home_park_id is not None:
            raise HTTPException(403, "an admin of one park gives users that park only")
        if role not in (Role.ADMIN, Role.BUREAU):
            raise HTTPException(422, "only an admin or a bureau belongs to every park")
        return None
    if not code or code == p.park_code:
        return db.get(m.Park, p.park_id) if p.park_id is not None else None
    if p.home_park_id is not None:
        raise HTTPException(403, "an admin of one park gives users that park only")
    try:
        return find_park(db, code)
    except ParkError as exc:
        raise HTTPException(422, str(exc)) from None


def _scope(p: Principal, db: Session, body: UserIn | RoleIn) -> tuple[int | None, int | None, int | None]:
    """The ids of the park, zone and enterprise a body names (the zone and the enterprise looked
    up in that park only)."""
    park = _park(p, db, body.role, body.park)
    try:
        return auth.user_scope_ids(db, body.role, park, body.zone, body.enterprise)
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/users")
def users_api(p: Admin, db: DB) -> list[dict[str, Any]]:
    """Every account with its role, park (``park`` empty: every park), zone or enterprise, state and
    last login. Who: admins (an admin of one park: that park's users)."""
    return auth.users(db, within=p.home_park_id)


@router.post("/users")
def create_user_api(p: Admin, db: DB, body: UserIn) -> dict[str, Any]:
    """Create an account in a park (its zone, its enterprise) or of every park; without a password
    a random one is made and shown once. Who: admins (an admin of one park: in that park)."""
    park_id, zone_id, enterprise_id = _scope(p, db, body)
    password = body.password or auth.new_password()
    try:
        auth.create_user(db, body.username, password, body.role, park_id=park_id, zone_id=zone_id,
                         enterprise_id=enterprise_id, display_name=body.display_name, by=p.username)  # fmt: skip
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "username": body.username, "password": None if body.password else password}


@router.post("/users/{username}/active")
def set_active_api(p: Admin, db: DB, username: Username, body: ActiveIn) -> dict[str, Any]:
    """Deactivate (sessions end at once, tokens stop working) or reactivate an account. Who: admins."""
    if username == p.username and not body.active:
        raise HTTPException(422, "you cannot deactivate your own account")
    try:
        auth.set_active(db, username, body.active, p.username, within=p.home_park_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "username": username, "active": body.active}


@router.post("/users/{username}/password")
def reset_password_api(p: Admin, db: DB, username: Username) -> dict[str, Any]:
    """A new random password (shown once); the user's sessions end. Who: admins."""
    try:
        password = auth.reset_password(db, username, p.username, within=p.home_park_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "username": username, "password": password}


@router.put("/users/{username}/role")
def set_role_api(p: Admin, db: DB, username: Username, body: RoleIn) -> dict[str, Any]:
    """Change an account's role and scope (park, zone, enterprise); its sessions end. Who: admins
    (an admin of one park: that park's users, within it)."""
    if username == p.username and body.role is not Role.ADMIN:
        raise HTTPException(422, "you cannot take the admin role from your own account")
    try:
        auth.get_user(db, username, within=p.home_park_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    park_id, zone_id, enterprise_id = _scope(p, db, body)
    if username == p.username and park_id != p.home_park_id:
        raise HTTPException(422, "you cannot move your own account to another park")
    try:
        user = auth.set_role(db, username, body.role, p.username, enterprise_id, park_id=park_id, zone_id=zone_id,
                             within=p.home_park_id)  # fmt: skip
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "username": username, "role": body.role.value, "park_id": user.park_id,
            "zone_id": user.zone_id, "enterprise_id": user.enterprise_id}  # fmt: skip


@router.get("/tokens")
def tokens_api(p: Admin, db: DB) -> list[dict[str, Any]]:
    """Every API token (never the secret) with owner, expiry, last use and state. Who: admins (an
    admin of one park: its users' tokens)."""
    return auth.tokens(db, within=p.home_park_id)


@router.post("/tokens")
def create_token_api(p: Admin, db: DB, body: TokenFor) -> dict[str, Any]:
    """A token for a user (a data logger's gateway, a script), shown once. Who: admins."""
    try:
        user = auth.get_user(db, body.username, within=p.home_park_id)
        token = auth.create_api_token(db, user, body.name, body.days, by=p.username)
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "token": token, "username": body.username, "days": body.days}


@router.delete("/tokens/{token_id}")
def revoke_token_api(p: Admin, db: DB, token_id: Id) -> dict[str, Any]:
    """Revoke a token at once. Who: admins."""
    try:
        auth.revoke_token(db, token_id, p.username, within=p.home_park_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "id": token_id}


@router.get("/sessions")
def sessions_api(p: Admin, db: DB) -> list[dict[str, Any]]:
    """Live browser sessions. Who: admins (an admin of one park: its users' sessions)."""
    return auth.live_sessions(db, within=p.home_park_id)


@router.delete("/sessions/{session_id}")
def end_session_api(p: Admin, db: DB, session_id: Id) -> dict[str, Any]:
    """End a browser session at once. Who: admins."""
    try:
        auth.end_session_by_id(db, session_id, p.username, within=p.home_park_id)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "id": session_id}


@router.get("/audit")
def audit_api(
    p: Admin, db: DB, entity: OptCode = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """The audit trail, newest first (optionally of one kind of thing), each event with the labels
    people read (``action_label``, ``entity_label``, ``field_label``) and its values as text
    (``old_text``, ``new_text``). Who: admins (an admin of one park: that park's events)."""
    return auth.admin_trail(db, within=p.home_park_id, entity=entity, limit=limit)


@router.get("/logins")
def logins_api(p: Admin, db: DB, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Recent login attempts, failed ones included. Who: admins (an admin of one park: its users')."""
    return auth.login_attempts(db, limit, within=p.home_park_id)
