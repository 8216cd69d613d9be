"""JSON API for the history of records: who changed which record, when, from what to what, in
which batch — for one record, one enterprise's records, one batch or the whole park, as JSON, an
Excel workbook or CSV. Who reads what follows who may read the records (``web/scope.py``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from greenpark.services.park import audit
from greenpark.web.deps import DB, Principal, SignedIn
from greenpark.web.i18n import LocalizedRoute
from greenpark.web.scope import ReadableHistory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/api", tags=["history"], route_class=LocalizedRoute)

Limit = Annotated[int, Query(ge=1, le=audit.HISTORY_LIMIT, description="most events listed")]


def request_batch(p: Principal) -> str:
    """The batch of a change made by a request: ``api`` for a token's call, ``form`` for a page's."""
    return "api" if p.via_token else "form"


def _download(body: bytes, media_type: str, q: audit.HistoryQuery, ext: str) -> Response:
    name = "-".join(x for x in ("history", q.entity or "", date.today().isoformat()) if x)
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'}
    )


@router.get("/history")
def history_api(_: SignedIn, db: DB, q: ReadableHistory, limit: Limit = 500) -> list[dict[str, Any]]:
    """The history of a record (``entity`` and ``key``), of an enterprise's records, of a batch or
    of the park, newest first: who, when, which field, from what, to what, which batch. Who:
    signed-in users, for the records they may read (an enterprise's users: their own)."""
    return audit.find(db, q, limit)


@router.get("/history.xlsx")
def history_xlsx_api(_: SignedIn, db: DB, q: ReadableHistory) -> Response:
    """The same as an Excel workbook (every event asked for, up to 100 000). Who: as /history."""
    return _download(audit.history_workbook(audit.find(db, q, audit.EXPORT_LIMIT)), XLSX, q, "xlsx")


@router.get("/history.csv")
def history_csv_api(_: SignedIn, db: DB, q: ReadableHistory) -> Response:
    """The same as CSV (UTF-8). Who: as /history."""
    return _download(
        audit.history_csv(audit.find(db, q, audit.EXPORT_LIMIT)), "text/csv; charset=utf-8", q, "csv"
    )
