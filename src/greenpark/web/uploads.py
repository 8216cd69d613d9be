"""Reading an uploaded file in a route: bounded, in the worker thread that runs the route.

Upload routes are plain ``def`` functions (FastAPI runs them in its thread pool), so reading and
parsing a file never blocks the event loop that answers everyone else; the body was already
bounded by :mod:`greenpark.web.security` before it was read.
"""

from __future__ import annotations

from pathlib import PurePath

from fastapi import HTTPException, UploadFile
from sqlalchemy.orm import Session

from greenpark.services.tabular import MAX_UPLOAD_BYTES, TableRejected, column_label
from greenpark.web.i18n import LocalizedJSON
from greenpark.web.validation import InputError, check_text


def upload(file: UploadFile, limit: int = MAX_UPLOAD_BYTES) -> tuple[str, bytes]:
    """The file's base name (checked) and content, or 413 if it is larger than ``limit``."""
    raw_name = PurePath((file.filename or "upload").replace("\\", "/")).name or "upload"
    try:
        name = check_text(raw_name, "file name", 200)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(413, f"{name}: file larger than {limit / (1 << 20):.0f} MiB (the import limit)")
    return name, content


def rejected(db: Session, name: str, exc: TableRejected) -> LocalizedJSON:
    """The 422 answer to a refused file: nothing imported, every listed error with its place."""
    db.rollback()
    return LocalizedJSON(
        {
            "ok": False,
            "file": name,
            "message": "nothing was imported",
            "errors_total": exc.total,
            "errors": [
                e.__dict__ | {"text": e.message(), "column_label": column_label(e.column)} for e in exc.errors
            ],
        },
        status_code=422,
    )
