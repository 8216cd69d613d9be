"""JSON API of park onboarding (the administration page's "Parks" card): the parks an admin
manages, the onboarding workbook (blank, or a park's records to edit and import again), and
creating or updating a park from a filled workbook.

Who: admins. An admin of the whole house (no park) manages every park and creates new ones; an
admin of one park sees and updates that park only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from greenpark.services.park import auth
from greenpark.services.park.parks import ParkError, find_park
from greenpark.services.portfolio.onboarding import ParkWorkbookRejected, create_park, park_workbook
from greenpark.store import models as m
from greenpark.web.deps import DB, Admin, Principal
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.uploads import rejected, upload
from greenpark.web.validation import PathCode
from greenpark.web.warm import warm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/api/parks", tags=["park"], route_class=LocalizedRoute)

#: The language of the workbook's sheet names and instructions.
Lang = Annotated[Literal["zh", "en"], Query(description="sheet names and instructions: zh or en")]


def _xlsx(body: bytes, filename: str) -> Response:
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _managed(p: Principal, db: DB, code: str) -> m.Park:
    """The park ``code`` if ``p`` manages it, else 404 (an admin of one park learns nothing of
    the others, not even their codes)."""
    if p.home_park_id is not None and code != p.park_code:
        raise HTTPException(404, f"no park {code!r}")
    try:
        return find_park(db, code)
    except ParkError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("")
def parks_api(p: Admin, db: DB) -> list[dict[str, Any]]:
    """The parks the admin manages (an admin of one park: that park): ``code``, ``name_zh``,
    ``name_en``, how many ``zones`` and ``enterprises``, and ``zone_list`` (each zone's ``id``,
    ``code`` and names). Who: admins."""
    return auth.admin_parks(db, within=p.home_park_id)


@router.get("/template.xlsx")
def park_template_api(_: Admin, db: DB, lang: Lang = "zh") -> Response:
    """The blank onboarding workbook: a sheet per part of a park (the park, its accounting
    profile, zones, enterprises, indicators and targets, tasks, projects, monitoring points,
    published tables) and an instructions sheet. Who: admins."""
    return _xlsx(park_workbook(db, None, lang), f"greenpark-park-template-{lang}.xlsx")


@router.get("/{code}/workbook.xlsx")
def park_workbook_api(p: Admin, db: DB, code: PathCode, lang: Lang = "zh") -> Response:
    """A park's onboarding workbook filled with its records, to edit and import again. Who: admins
    (an admin of one park: that park)."""
    park = _managed(p, db, code)
    return _xlsx(park_workbook(db, park, lang), f"greenpark-park-{park.code}.xlsx")


@router.post("")
def create_park_api(
    p: Admin,
    db: DB,
    request: Request,
    background: BackgroundTasks,
    file: UploadFile = File(...),  # noqa: B008
) -> Any:
    """Create the park a filled onboarding workbook describes, or bring the park with its code up to
    it: ``{"ok": true, "park", "created", "changed": {kind: n}, "changed_labels": {kind: words},
    "batch", "unchanged"}``. A bad cell
    refuses the whole workbook (422, every bad cell named by file, sheet, row and column; nothing
    written); the same workbook twice changes nothing. Who: admins of the whole house (any park, new
    ones too); an admin of one park updates that park only. (A plain function: FastAPI runs it in a
    worker thread, so reading the workbook never blocks the server.)"""
    name, content = upload(file)
    only = None if p.home_park_id is None else p.park_code
    try:
        res = create_park(db, name, content, by=p.username, only_park=only)
    except ParkWorkbookRejected as exc:
        return rejected(db, name, exc)
    # the DB dependency commits before the answer leaves; the caches warm after it
    background.add_task(warm, request.app.state.database_url)
    labels = {kind: auth.entity_label(kind) for kind in res.changed}
    return {"ok": True, **res.as_dict(), "changed_labels": labels}
