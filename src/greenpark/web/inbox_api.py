"""The inbox and the status board of the cycle (issue 13 §5): JSON API ``/api/inbox``,
``/api/mrv/status`` (and its .xlsx/.csv), ``/api/mrv/notify-settings``, and the pages ``/inbox`` and
``/mrv/status``.

Who may do what is said in the services (:mod:`greenpark.services.mrv.inbox`,
:mod:`~greenpark.services.mrv.status`): every signed-in user reads their own tasks and messages;
park staff, admins, a bureau and zone staff (their zone) read the board. The notification settings:
park staff and admins set the park's group robots; only admins set the house's SMTP server and may
point a robot at a private address (the ``webhook_allow_private`` setting). Passwords and robot
secrets are never sent back.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from greenpark.i18n import current_lang
from greenpark.services.mrv import inbox, status
from greenpark.services.notifications import email, robots, webhooks
from greenpark.services.park.auth import Role
from greenpark.store import models as m
from greenpark.web.deps import DB, CurrentPrincipal, SignedIn, Staff
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.mrv_api import mrv_errors
from greenpark.web.pages import render
from greenpark.web.scope import mrv_actor
from greenpark.web.validation import InModel, ShortText, Year

router = APIRouter(route_class=LocalizedRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Today = Annotated[date | None, Query(description="judge deadlines on this day (default: today)")]


def _today(day: date | None) -> date:
    return day or date.today()


@router.get("/api/inbox", tags=["mrv"])
def inbox_api(p: SignedIn, db: DB, today: Today = None, unread: bool = False) -> dict[str, Any]:
    """The caller's tasks (what the cycle asks of them now: due, returned, assigned, overdue) and
    their own messages. Who: every signed-in user, for themselves."""
    actor = mrv_actor(p)
    with mrv_errors():
        tasks = inbox.tasks(db, actor, _today(today))
        msgs = inbox.messages(db, actor, unread_only=unread)
    return {"tasks": tasks, "messages": msgs, "unread": sum(not x["read"] for x in msgs)}


class ReadIn(InModel):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(default=None, max_length=1000)


@router.post("/api/inbox/read", tags=["mrv"])
def inbox_read_api(p: SignedIn, db: DB, body: ReadIn) -> dict[str, int]:
    """Mark the caller's messages read (the ids given, or all). Who: every signed-in user, for
    their own messages (other ids are ignored)."""
    return {"marked": inbox.mark_read(db, mrv_actor(p), body.ids)}


@router.get("/api/mrv/status", tags=["mrv"])
def status_api(p: SignedIn, db: DB, year: Year, today: Today = None) -> Response:
    """The status board of ``year``: key units × months of evidence and × report stages, with what
    is overdue. Who: park staff, admins and a bureau (the park), zone staff (their zone)."""
    with mrv_errors():
        board = status.status(db, mrv_actor(p), year, _today(today))
    # written by the service (not walked by jsonable_encoder: 12 000 cells took longer than the board)
    return Response(status.board_json(board, current_lang.get()), media_type="application/json")


def _download(body: bytes, media_type: str, year: int, ext: str) -> Response:
    name = f"mrv-status-{year}"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'}
    )


@router.get("/api/mrv/status.xlsx", tags=["mrv"])
def status_xlsx_api(p: SignedIn, db: DB, year: Year, today: Today = None) -> Response:
    """The board as a workbook (late and missing months coloured, overdue reports in red). Who: as
    /api/mrv/status."""
    with mrv_errors():
        board = status.status(db, mrv_actor(p), year, _today(today))
    return _download(status.workbook(board, current_lang.get()), XLSX, year, "xlsx")


@router.get("/api/mrv/status.csv", tags=["mrv"])
def status_csv_api(p: SignedIn, db: DB, year: Year, today: Today = None) -> Response:
    """The board as CSV (UTF-8). Who: as /api/mrv/status."""
    with mrv_errors():
        board = status.status(db, mrv_actor(p), year, _today(today))
    return _download(status.board_csv(board, current_lang.get()), "text/csv; charset=utf-8", year, "csv")


# notification settings


def _settings(db: DB, park_id: int, role: Role) -> dict[str, Any]:
    return {
        "smtp": email.public_settings(db) if role is Role.ADMIN else None,
        "robots": robots.public_robots(db, park_id),
        "allow_private": webhooks.private_allowed(db),
        "may_set_smtp": role is Role.ADMIN,
    }


@router.get("/api/mrv/notify-settings", tags=["mrv"])
def notify_settings_api(p: Staff, db: DB) -> dict[str, Any]:
    """How people are told: the park's group robots and (admins) the house's SMTP server, without
    the password or robot secrets. Who: park staff and admins."""
    return _settings(db, mrv_actor(p).park_id, p.role)


class SmtpIn(InModel):
    host: str = Field(default="", max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str = Field(default="", max_length=200)
    #: None keeps the stored password; "" removes it.
    password: str | None = Field(default=None, max_length=200)
    from_addr: str = Field(default="", max_length=254)
    from_name: str = Field(default="greenpark", max_length=100)


class RobotIn(InModel):
    kind: Literal["wecom", "dingtalk"]
    url: str = Field(max_length=webhooks.MAX_URL_CHARS)
    #: DingTalk signing secret; None keeps the stored one.
    secret: str | None = Field(default=None, max_length=200)


class NotifySettingsIn(InModel):
    smtp: SmtpIn | None = None
    robots: list[RobotIn] | None = Field(default=None, max_length=robots.MAX_ROBOTS)


@router.put("/api/mrv/notify-settings", tags=["mrv"])
def set_notify_settings_api(p: Staff, db: DB, body: NotifySettingsIn) -> dict[str, Any]:
    """Set the park's group robots and (admins only) the house's SMTP server. Who: park staff and
    admins."""
    actor = mrv_actor(p)
    with mrv_errors():
        if body.smtp is not None:
            if p.role is not Role.ADMIN:
                raise HTTPException(403, "only an admin sets the SMTP server")
            email.set_smtp_settings(db, body.smtp.model_dump(), p.username)
        if body.robots is not None:
            robots.set_robots(db, actor.park_id, [r.model_dump() for r in body.robots], p.username)
    return _settings(db, actor.park_id, p.role)


class NotifyTestIn(InModel):
    channel: Literal["email", "robots"]
    to: ShortText = ""


@router.post("/api/mrv/notify-settings/test", tags=["mrv"])
def test_notify_api(p: Staff, db: DB, body: NotifyTestIn) -> dict[str, Any]:
    """Send a test message by e-mail (to ``to``, or the caller's own address) or to every robot of
    the park; answers what happened. Who: park staff and admins (e-mail: admins)."""
    actor = mrv_actor(p)
    subject = "greenpark 测试消息 / test message"
    text = "这是一条测试消息：通知设置可用。\nThis is a test message: the notification settings work."
    if body.channel == "email":
        if p.role is not Role.ADMIN:
            raise HTTPException(403, "only an admin tests the SMTP server")
        smtp = email.smtp_settings(db)
        if smtp is None:
            raise HTTPException(422, "set the SMTP server first")
        user = db.get(m.AppUser, p.user_id) if p.user_id else None
        to = body.to or (user.email if user else "")
        if not to:
            raise HTTPException(422, "give an address to send the test to")
        ok, result = email.attempt(smtp, to, subject, text)
        return {"results": [{"channel": "email", "to": to, "ok": ok, "result": result}]}
    allow = webhooks.private_allowed(db)
    listed = robots.robots(db, actor.park_id)
    if not listed:
        raise HTTPException(422, "add a robot first")
    out = []
    for r in listed:
        ok, result = robots.send(r, subject, text, allow)
        out.append({"channel": r["kind"], "to": r["url"].split("?")[0], "ok": ok, "result": result})
    return {"results": out}


# pages


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
def inbox_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "inbox.html", p)


@router.get("/mrv/status", response_class=HTMLResponse, include_in_schema=False)
def status_page(request: Request, p: CurrentPrincipal) -> HTMLResponse:
    return render(request, "mrv_status.html", p, year=date.today().year - 1)
