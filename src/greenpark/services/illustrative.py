"""Illustrative data: rows made up so that a park's pages can be explored (the demo's 2021–2025
continuation), marked by the word "illustrative" in their source, shown as such, and replaced by
real data: once a year has any real activity or economic record, every illustrative record of that
year goes (a partial import must not be summed with, or hidden behind, made-up figures)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from greenpark.store import models as m

#: The word that marks illustrative data in a record's source (as the sinks and the enterprise
#: file mark theirs).
MARK = "illustrative"
NOTE_ZH = "示意性延续数据（演示用，非公布或报送数据；导入真实数据即替换）"
NOTE_EN = (
    "an illustrative continuation (made up for the demo, not published or reported; imported data replace it)"
)


def is_illustrative(text: str | None) -> bool:
    """Whether a record's source (or note) marks it as illustrative."""
    return MARK in (text or "").lower()


def sql_filter(column: Any) -> Any:
    """SQL condition: ``column`` (a source text) marks its row as illustrative."""
    return func.lower(column).contains(MARK)


def years_of(session: Session, park: m.Park) -> list[int]:
    """Years in which the park holds illustrative activity or economic records."""
    years: set[int] = set()
    for model in (m.ActivityRecord, m.EconomicRecord):
        years |= set(
            session.scalars(
                select(model.year).where(model.park_id == park.id, sql_filter(model.source_ref)).distinct()
            )
        )
    return sorted(years)


def supersede(session: Session, park: m.Park) -> int:
    """Delete the illustrative activity and economic records of every year that has real ones;
    returns how many went (idempotent). Runs after every import of such records."""
    illustrative = years_of(session, park)
    if not illustrative:
        return 0
    real: set[int] = set()
    for model in (m.ActivityRecord, m.EconomicRecord):
        real |= set(
            session.scalars(
                select(model.year)
                .where(model.park_id == park.id, model.year.in_(illustrative), ~sql_filter(model.source_ref))
                .distinct()
            )
        )
    if not real:
        return 0
    gone = 0
    for model in (m.ActivityRecord, m.EconomicRecord):
        res = session.execute(
            delete(model).where(
                model.park_id == park.id, model.year.in_(sorted(real)), sql_filter(model.source_ref)
            )
        )
        gone += int(getattr(res, "rowcount", 0) or 0)
    if gone:
        park.data_revision = (park.data_revision or 0) + 1
        session.flush()
    return gone


def note(years: list[int]) -> dict[str, str]:
    """What a page says when it shows illustrative years."""
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else ""
    return {"zh": f"{span}年为{NOTE_ZH}", "en": f"{span}: {NOTE_EN}"}
