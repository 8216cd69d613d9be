"""The store's last line of defence on text: before any flush, every string bound for a column is
checked against the column's length and for NUL characters (which PostgreSQL refuses and SQLite
would keep). Callers validate earlier and say it better; this makes sure that what slips past
them becomes a clear refusal (``FieldRejected``, a 422 on the web) and never a server error or a
silently different value on one of the two databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, UOWTransaction


class FieldRejected(ValueError):
    """A value that a column cannot hold; ``field`` is ``table.column``."""

    def __init__(self, table: str, column: str, reason: str) -> None:
        super().__init__(f"{table}.{column}: {reason}")
        self.field = f"{table}.{column}"
        self.reason = reason


def _check(obj: Any) -> None:
    mapper = inspect(obj).mapper
    for col in mapper.columns:
        if not isinstance(col.type, String):  # Text is a String too
            continue
        value = getattr(obj, col.key, None)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise FieldRejected(mapper.local_table.name, col.name, "contains a NUL character")
        length = col.type.length
        if length is not None and len(value) > length:
            raise FieldRejected(mapper.local_table.name, col.name, f"longer than {length} characters")


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in session.new:
        _check(obj)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _check(obj)


_installed = False


def install() -> None:
    """Check every ORM session's flushes (once per process)."""
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        _installed = True


install()
