"""Administration: users and roles, API tokens, live sessions, the audit trail and recent logins.
Every change is appended to the audit trail. Who: admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field
from sqlalchemy import select

from greenpark.services import audit, auth
from greenpark.services.auth import Role
from greenpark.store import models as m
from greenpark.web.deps import DB, Admin
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.validation import Id, InModel, OptCode

router = APIRouter(prefix="/api/admin", tags=["administration"], route_class=LocalizedRoute)
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
USERNAME = r"^[A-Za-z0-9_.@-]+$"


class UserIn(InModel):
    username: Annotated[str, Field(min_length=2, max_length=64, pattern=USERNAME)]
    display_name: Annotated[str, Field(max_length=200)] = ""
    role: Role
    enterprise: Annotated[str, Field(max_length=64)] = ""  # code, for enterprise users
    password: Annotated[str, Field(max_length=200)] = ""  # empty: a random one, shown once


class ActiveIn(InModel):
    active: bool


class RoleIn(InModel):
    role: Role
    enterprise: Annotated[str, Field(max_length=64)] = ""


class TokenFor(InModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    days: Annotated[int, Field(ge=1, le=auth.MAX_TOKEN_DAYS)] = auth.DEFAULT_TOKEN_DAYS


def _enterprise_id(db: DB, role: Role, code: str) -> int | None:
    if role is not Role.ENTERPRISE:
        return None
    e = db.scalars(select(m.Enterprise).where(m.Enterprise.code == code)).first()
    if e is None:
        raise HTTPException(422, f"an enterprise user needs an enterprise: no enterprise {code!r}")
    return e.id


@router.get("/users")
def users_api(_: Admin, db: DB) -> list[dict[str, Any]]:
    """Every account with its role, enterprise, state and last login. Who: admins."""
    return auth.users(db)


@router.post("/users")
def create_user_api(p: Admin, db: DB, body: UserIn) -> dict[str, Any]:
    """Create an account; without a password a random one is made and shown once. Who: admins."""
    password = body.password or auth.new_password()
    try:
        auth.create_user(db, body.username, password, body.role, enterprise_id=_enterprise_id(db, body.role, body.enterprise),
                         display_name=body.display_name, by=p.username)  # fmt: skip
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "username": body.username, "password": None if body.password else password}


@router.post("/users/{username}/active")
def set_active_api(p: Admin, db: DB, username: Username, body: ActiveIn) -> dict[str, Any]:
    """Deactivate (sessions end at once, tokens stop working) or reactivate an account. Who: admins."""
    if username == p.username and not body.active:
        raise HTTPException(422, "you cannot deactivate your own account")
    try:
        auth.set_active(db, username, body.active, p.username)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "username": username, "active": body.active}


@router.post("/users/{username}/password")
def reset_password_api(p: Admin, db: DB, username: Username) -> dict[str, Any]:
    """A new random password (shown once); the user's sessions end. Who: admins."""
    try:
        password = auth.reset_password(db, username, p.username)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "username": username, "password": password}


@router.put("/users/{username}/role")
def set_role_api(p: Admin, db: DB, username: Username, body: RoleIn) -> dict[str, Any]:
    """Change an account's role (and enterprise); its sessions end. Who: admins."""
    if username == p.username and body.role is not Role.ADMIN:
        raise HTTPException(422, "you cannot take the admin role from your own account")
    try:
        auth.set_role(db, username, body.role, p.username, _enterprise_id(db, body.role, body.enterprise))
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "username": username, "role": body.role.value}


@router.get("/tokens")
def tokens_api(_: Admin, db: DB) -> list[dict[str, Any]]:
    """Every API token (never the secret) with owner, expiry, last use and state. Who: admins."""
    return auth.tokens(db)


@router.post("/tokens")
def create_token_api(p: Admin, db: DB, body: TokenFor) -> dict[str, Any]:
    """A token for a user (a data logger's gateway, a script), shown once. Who: admins."""
    try:
        user = auth.get_user(db, body.username)
        token = auth.create_api_token(db, user, body.name, body.days, by=p.username)
    except auth.AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"ok": True, "token": token, "username": body.username, "days": body.days}


@router.delete("/tokens/{token_id}")
def revoke_token_api(p: Admin, db: DB, token_id: Id) -> dict[str, Any]:
    """Revoke a token at once. Who: admins."""
    try:
        auth.revoke_token(db, token_id, p.username)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "id": token_id}


@router.get("/sessions")
def sessions_api(_: Admin, db: DB) -> list[dict[str, Any]]:
    """Live browser sessions. Who: admins."""
    return auth.live_sessions(db)


@router.delete("/sessions/{session_id}")
def end_session_api(p: Admin, db: DB, session_id: Id) -> dict[str, Any]:
    """End a browser session at once. Who: admins."""
    try:
        auth.end_session_by_id(db, session_id, p.username)
    except auth.AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"ok": True, "id": session_id}


@router.get("/audit")
def audit_api(
    _: Admin, db: DB, entity: OptCode = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    """The audit trail, newest first (optionally of one kind of thing). Who: admins."""
    return audit.changes(db, entity=entity, limit=limit)


@router.get("/logins")
def logins_api(_: Admin, db: DB, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """Recent login attempts, failed ones included. Who: admins."""
    t = m.LoginAttempt
    return [
        {
            "at_utc": r.at_utc.isoformat() + "Z",
            "username": r.username,
            "address": r.address,
            "ok": r.ok,
            "result": r.result,
        }
        for r in db.scalars(select(t).order_by(t.id.desc()).limit(limit))
    ]
