"""JSON API for the plan's tasks and projects, and land-use intensity."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from greenpark.i18n import Msg, message_of
from greenpark.services.plan import landuse, projects
from greenpark.web.deps import DB, ReadAll, SignedIn, Staff
from greenpark.web.history_api import request_batch
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.uploads import upload
from greenpark.web.validation import Id, InputError, OptCode, OptYear, check_text

#: Largest attachment of a progress report.
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

router = APIRouter(prefix="/api", tags=["tasks, projects, land"], route_class=LocalizedRoute)


@router.get("/projects/tasks")
def tasks_api(_: SignedIn, db: DB) -> list[dict[str, Any]]:
    """Table 4.3.1: task group → action → measures with departments. Who: signed-in users."""
    return projects.task_tree(db)


@router.get("/projects")
def projects_api(_: SignedIn, db: DB) -> dict[str, Any]:
    """Table 4.3.2 with progress, schedule and conditions; effects per indicator. Who: signed-in users."""
    return {"projects": projects.list_projects(db), "effects": projects.effects_by_indicator(db)}


@router.get("/projects/{seq}/history")
def project_history_api(_: SignedIn, db: DB, seq: Id) -> list[dict[str, Any]]:
    """Every progress report of a project (who, when, what). Who: signed-in users."""
    try:
        return projects.history(db, seq)
    except projects.ProjectError as exc:
        raise HTTPException(404, message_of(exc)) from None


@router.get("/projects/{seq}/updates/{update_id}/attachment")
def project_attachment_api(_: SignedIn, db: DB, seq: Id, update_id: Id) -> Response:
    """Download the file attached to a progress report (always as a download, never shown inline).
    Who: signed-in users (as the project's history)."""
    try:
        name, content = projects.attachment(db, seq, update_id)
    except projects.ProjectError as exc:
        raise HTTPException(404, message_of(exc)) from None
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})  # fmt: skip


@router.post("/projects/{seq}/updates")
def project_update_api(
    p: Staff, db: DB, seq: Id, status: Annotated[str, Form(max_length=32)],
    percent: Annotated[float, Form(ge=0, le=100)],
    spent_10k_yuan: Annotated[float, Form(ge=0, le=1e9)] = 0.0, on: Annotated[str, Form(max_length=10)] = "",
    milestone: Annotated[str, Form(max_length=200)] = "", note: Annotated[str, Form(max_length=2000)] = "",
    attachment: UploadFile | None = File(None),  # noqa: B008
) -> dict[str, Any]:  # fmt: skip
    """Record a progress report (form fields; an optional attachment ≤ 10 MB). Who: admins and park staff."""
    try:
        day = date.fromisoformat(on) if on else date.today()
        check_text(milestone, "milestone")
        check_text(note, "note")
    except InputError as exc:
        raise HTTPException(422, message_of(exc)) from None
    except ValueError:
        raise HTTPException(422, Msg("{value} is not a date (YYYY-MM-DD)", value=repr(on))) from None
    att = upload(attachment, ATTACHMENT_MAX_BYTES) if attachment is not None and attachment.filename else None
    try:
        projects.update(db, seq, day, status, percent, spent_10k_yuan, milestone, note, p.username, att,
                        batch=request_batch(p))  # fmt: skip
    except projects.ProjectError as exc:
        db.rollback()
        raise HTTPException(422, message_of(exc)) from None
    return {"ok": True, "project": projects.project_dict(projects.get_project(db, seq), date.today())}


@router.get("/land/rank")
def land_rank_api(_: ReadAll, db: DB, year: OptYear = None, zone: OptCode = None) -> list[dict[str, Any]]:
    """亩均 figures of each enterprise with class and rank. Who: admins, park staff, verifiers."""
    return landuse.evaluation(db, year, zone)


@router.get("/land/idle")
def land_idle_api(_: ReadAll, db: DB) -> dict[str, Any]:
    """The idle-land register and the 三年清零 countdown. Who: admins, park staff, verifiers."""
    return landuse.idle_land(db)
