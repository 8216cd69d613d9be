"""Illustrative data: rows made up so that a park's pages can be explored (the demo's 2021–2025
continuation), marked by the word "illustrative" in their source, shown as such, and replaced by
real data: once an entity (the park level, a zone, an enterprise) has any real activity or economic
record of a year, its illustrative records of that year go (a partial import must not be summed
with made-up figures of the same entity); other entities keep theirs, and say so on the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from greenpark.services.park import audit
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


#: The fields a superseded record's history keeps (its values when it went).
_KEPT = {
    "activity_record": ("year", "month", "sector", "boundary", "carrier_code", "quantity", "unit", "energy_tce",
                        "tce_basis", "source_ref", "quality", "note"),
    "economic_record": ("year", "indicator", "value_10k_yuan", "price_basis", "source_ref", "note"),
}  # fmt: skip


def supersede(session: Session, park: m.Park, history: audit.Changes | None = None) -> int:
    """Delete the illustrative activity and economic records of every entity (the park level, a zone,
    an enterprise) and year that has real ones; returns how many went (idempotent). Runs after every
    import of such records. Other entities keep theirs: one zone's real month does not empty another
    zone's year (each level of the inventory takes its most direct records). Each record that goes
    is kept in its history (``history``: the import that superseded it; else greenpark's own rule)."""
    history = history or audit.Changes(session, park_id=park.id)
    gone = 0
    kinds: tuple[tuple[type[m.ActivityRecord] | type[m.EconomicRecord], str], ...] = (
        (m.ActivityRecord, "activity_record"),
        (m.EconomicRecord, "economic_record"),
    )
    for model, kind in kinds:
        made_up = {
            (y, z, e)
            for y, z, e in session.execute(
                select(model.year, model.zone_id, model.enterprise_id)
                .where(model.park_id == park.id, sql_filter(model.source_ref))
                .distinct()
            )
        }
        if not made_up:
            continue
        real = {
            (y, z, e)
            for y, z, e in session.execute(
                select(model.year, model.zone_id, model.enterprise_id)
                .where(
                    model.park_id == park.id,
                    model.year.in_(sorted({y for y, _z, _e in made_up})),
                    ~sql_filter(model.source_ref),
                )
                .distinct()
            )
        }
        for year, zone_id, enterprise_id in sorted(made_up & real, key=str):
            entity = (
                model.enterprise_id == enterprise_id
                if enterprise_id is not None
                else and_(model.zone_id == zone_id, model.enterprise_id.is_(None))
                if zone_id is not None
                else and_(model.zone_id.is_(None), model.enterprise_id.is_(None))
            )
            which = (model.park_id == park.id, model.year == year, entity, sql_filter(model.source_ref))
            rec: Any
            for rec in session.scalars(select(model).where(*which)):
                # the record's key in the history: its natural key without the park's id (records.record_key)
                kept = {
                    "carrier" if k == "carrier_code" else k: v
                    for k, v in audit.values(rec, _KEPT[kind]).items()
                }
                history.record(kind, rec.natural_key.partition("|")[2], kept, None,
                               enterprise_id=rec.enterprise_id, zone_id=rec.zone_id)  # fmt: skip
            res = session.execute(delete(model).where(*which))
            gone += int(getattr(res, "rowcount", 0) or 0)
    history.write()
    if gone:
        park.data_revision = (park.data_revision or 0) + 1
        session.flush()
    return gone


def note(years: list[int]) -> dict[str, str]:
    """What a page says when it shows illustrative years."""
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0]) if years else ""
    return {"zh": f"{span}年为{NOTE_ZH}", "en": f"{span}: {NOTE_EN}"}
