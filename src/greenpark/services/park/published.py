"""The park's published tables: figures its plan prints (station-by-station air quality, water and
noise function zones, forest areas, water use, …), kept row by row as given, so that nothing is
reinterpreted before the capability that owns the table models it. A park brings them with its
onboarding workbook; services read them here by name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.store import models as m


def published_tables(session: Session, park_id: int) -> list[dict[str, Any]]:
    """The park's published tables: name, title, where the plan prints it, and how many rows."""
    return [
        {"name": t.name, "title_zh": t.title_zh, "source_ref": t.source_ref, "rows": t.rows}
        for t in session.scalars(
            select(m.PlanTable).where(m.PlanTable.park_id == park_id).order_by(m.PlanTable.id)
        )
    ]


def published_table(session: Session, park_id: int, name: str) -> list[dict[str, str]]:
    """The rows of one published table (empty when the park has none of that name)."""
    table = session.scalars(
        select(m.PlanTable).where(m.PlanTable.park_id == park_id, m.PlanTable.name == name)
    ).first()
    if table is None:
        return []
    rows: dict[int, dict[str, str]] = {}
    for c in session.scalars(
        select(m.PlanCell).where(m.PlanCell.plan_table_id == table.id).order_by(m.PlanCell.id)
    ):
        rows.setdefault(c.row_no, {})[c.column] = c.value
    return [rows[k] for k in sorted(rows)]


def save_published_table(
    session: Session, park: m.Park, name: str, title: str, ref: str, rows: list[dict[str, Any]]
) -> bool:
    """Store (or replace) a published table; returns whether anything changed."""
    table = session.scalars(
        select(m.PlanTable).where(m.PlanTable.park_id == park.id, m.PlanTable.name == name)
    ).first()
    clean = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    if table is not None:
        if (
            table.title_zh == title
            and table.source_ref == ref
            and published_table(session, park.id, name) == clean
        ):
            return False
        for cell in session.scalars(select(m.PlanCell).where(m.PlanCell.plan_table_id == table.id)):
            session.delete(cell)
    else:
        table = m.PlanTable(park_id=park.id, name=name)
    table.title_zh, table.source_ref, table.rows = title, ref, len(clean)
    session.add(table)
    session.flush()
    session.add_all(
        m.PlanCell(plan_table_id=table.id, row_no=i, column=k, value=v)
        for i, r in enumerate(clean, start=1)
        for k, v in r.items()
    )
    session.flush()
    return True
