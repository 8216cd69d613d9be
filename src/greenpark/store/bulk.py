"""Bulk inserts for the ingestion path: one ``executemany`` through the driver, with the column
types' own bind processors (so SQLite stores datetimes exactly as the ORM does and unique keys and
comparisons keep working), optionally ignoring rows that hit a unique constraint. The same SQL
runs on SQLite (>= 3.24) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

_PROBE = datetime(2001, 2, 3, 4, 5, 6, 7)


def _fast(proc: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """The same conversion, faster where it can be proven equal: SQLite's DATETIME processor
    formats ``YYYY-MM-DD hh:mm:ss.ffffff``, which is ``isoformat(" ", "microseconds")``."""
    if proc is None:
        return None
    try:
        same = proc(_PROBE) == _PROBE.isoformat(" ", "microseconds") and proc(
            _PROBE.replace(microsecond=0)
        ) == (_PROBE.replace(microsecond=0).isoformat(" ", "microseconds"))
    except Exception:
        return proc
    return _iso if same else proc


def _iso(v: datetime) -> str:
    return v.isoformat(" ", "microseconds")


def insert_many(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                ignore_conflicts: bool = False) -> None:  # fmt: skip
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table`` in one round of executemany."""
    if not rows:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    conn.exec_driver_sql(sql, _bound(conn, table, columns, rows))


def upsert_many(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                key: Sequence[str]) -> None:  # fmt: skip
    """INSERT … ON CONFLICT (``key``) DO UPDATE the other columns (SQLite >= 3.24, PostgreSQL)."""
    if not rows:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in key)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {sets}"
    )
    conn.exec_driver_sql(sql, _bound(conn, table, columns, rows))


def update_many(
    conn: Connection, table: Table, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """UPDATE ``table`` SET ``columns`` WHERE ``key`` = … for each row (``columns`` values, then the key)."""
    if not rows:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {mark}' for c in columns)} "
        f"WHERE {quote(key)} = {mark}"
    )
    conn.exec_driver_sql(sql, _bound(conn, table, [*columns, key], rows))


def _bound(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """Rows with each value converted by its column type for this dialect (only where it must be)."""
    dialect = conn.dialect
    active = [
        (i, p)
        for i, c in enumerate(columns)
        if (p := _fast(table.c[c].type.dialect_impl(dialect).bind_processor(dialect))) is not None
    ]
    if not active:
        return list(rows)
    out = []
    for r in rows:
        row = list(r)
        for i, p in active:
            if row[i] is not None:
                row[i] = p(row[i])
        out.append(tuple(row))
    return out
