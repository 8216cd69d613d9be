"""A verified report's figures flow into the park inventory in place of estimates, with lineage.

When a verification concludes ``pass`` (or an appeal on a passed one is decided ``revised``),
:func:`apply_verified` writes the final report's energy into the park's activity records:

- **What is written.** One record per carrier and boundary for the enterprise and year (``month``
  NULL: the report is annual): the report's fuels burnt (``combustion`` lines; the line's item is a
  carrier code, its unit the carrier's), purchased electricity (MWh, converted to the carrier's
  10⁴ kWh by :func:`greenpark.core.units.conversion_factor`) and purchased heat (GJ); several lines
  of one carrier are summed. ``quality`` is ``verified``; ``source_ref`` is the lineage
  ``verified: <body>, statement <first 12 hex of its SHA-256>, report v<version>``; ``note`` holds
  the verified total CO₂ of the statement (after an appeal's revision, the revised total) and the
  report's CO₂ of that carrier. Process emissions and outputs are not energy: the inventory has no
  place for them, so they stay in the report and in the verified total (listed as
  ``not_in_inventory`` in the result and the log).
- **In place of what.** Every other record of that enterprise, year and boundary (the monthly
  estimates or reported bills, the records of an earlier verification) is *removed*, and each
  removal is kept in the record's history (:class:`greenpark.services.park.audit.Changes`: the
  record's key and everything it held, by whom and in which batch ``mrv verification #id``) — so
  nothing anyone entered is lost, and the history page shows what the verified figure replaced.
  Keeping the estimates beside the verified rows and teaching the inventory to prefer ``verified``
  was the other design; it was not chosen because the inventory sums records per level and layer
  (``inventory._level_filter``, layers A–D): every query, export, cached result and check would
  have to know the preference, or double-count; a removal with its history keeps the one rule
  "the records are what the inventory sums" true. (An import of the same enterprise and year made
  *after* the verification would be summed with the verified rows; the inventory warns about such
  a mix with its check ``verified.mixed``.)
- **Where it counts.** The sector and boundaries follow the enterprise's own records of that year
  (else of the park's enterprises that year, else ``industry`` and ``all``), so the new records
  sit in the same inventory layer (carrier × sector) as their peers and really replace the
  estimates: the enterprise's inventory changes, and so does the park's and the zone's total
  where those are built from enterprise records (a park or zone with records of its own level
  takes those instead — the result says which, ``feeds_park_total``).
- **Two CO₂ figures.** The statement's verified total uses the guideline's factors (the MEE grid
  factor of the reporting year, measured carbon contents, conservative estimates of unremedied
  non-conformities); the park inventory computes the CO₂ of the same quantities with the park's
  accounting profile, so that all enterprises and years of the park are on one method. Both are
  kept: the verified total in each record's note and in the result and log (``verified_total_co2_t``
  beside ``inventory_co2_t``); the inventory's check ``verified.figures`` names both.
- **Idempotent.** The records' natural keys follow from the verification, so a second call changes
  nothing and logs nothing; a revised appeal changes only the notes (kept in the history).

Every change bumps :attr:`Park.data_revision` (cached inventories refresh) and is appended to the
cycle's log as ``inventory.apply_verified`` with the rows written and replaced.

Who: no person calls this directly — the verification's conclusion (a verifier) and the appeal's
decision (a park officer) do, in their transaction; the log and the history name that person.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from greenpark.core.units import UnitError, conversion_factor
from greenpark.services.carbon import records
from greenpark.services.carbon.inventory import (
    VERIFIED,
    InventoryError,
    _level_filter,
    compute_inventory,
    resolve_scope,
)
from greenpark.services.mrv import log
from greenpark.services.park import audit
from greenpark.services.park.parks import ParkError
from greenpark.store import models as m

QUALITY = VERIFIED
#: The lineage's start (``source_ref``); the inventory and the annual report find verified rows by it.
LINEAGE_PREFIX = "verified: "
#: Longest body name kept in the lineage (the record's natural key holds the lineage, ≤ 300 chars).
BODY_NAME_MAX = 100
DEFAULT_SECTOR = "industry"
DEFAULT_BOUNDARY = "all"
#: The fields of a replaced record its history keeps (as :mod:`greenpark.services.illustrative`).
_KEPT = ("year", "month", "sector", "boundary", "carrier_code", "quantity", "unit", "energy_tce", "tce_basis",
         "source_ref", "quality", "note")  # fmt: skip
#: Report units that name a carrier unit differently (10⁴ Nm³ is the guidelines' unit of gases).
_UNIT_ALIASES = {"10^4 Nm3": "10^4 m3", "Nm3": "m3", "10^4 nm3": "10^4 m3"}


def lineage(body_name: str, statement_sha256: str, report_version: int, verification_id: int) -> str:
    """The ``source_ref`` of a verified record: who verified, which statement, which report version.

    >>> lineage("湖北省某核查机构", "ab" * 32, 2, 7)
    'verified: 湖北省某核查机构, statement abababababab, report v2'
    """
    statement = statement_sha256[:12] if statement_sha256 else f"verification #{verification_id}"
    return f"{LINEAGE_PREFIX}{body_name.strip()[:BODY_NAME_MAX]}, statement {statement}, report v{report_version}"


def _actor(session: Session, v: m.MrvVerification) -> str:
    """Who made the figure count: the officer who decided a revising appeal, else the verifier."""
    appeal = session.scalars(
        select(m.MrvAppeal)
        .where(m.MrvAppeal.verification_id == v.id, m.MrvAppeal.decision == "revised")
        .order_by(m.MrvAppeal.id.desc())
    ).first()
    if appeal is not None and appeal.decided_by:
        return appeal.decided_by
    return v.concluded_by or audit.SYSTEM


def _quantities(
    lines: list[m.MrvReportLine], carriers: dict[str, m.Carrier]
) -> tuple[dict[str, tuple[float, float]], list[dict[str, Any]]]:
    """Per carrier: (quantity in the carrier's unit, the report's CO₂ of it); and the lines that
    cannot enter the inventory, with the reason."""
    by_kind = {c.kind: code for code, c in carriers.items() if c.kind in ("electricity", "heat")}
    acc: dict[str, list[float]] = {}
    left: list[dict[str, Any]] = []
    for ln in lines:
        if ln.section in ("process", "output"):
            left.append({"section": ln.section, "item": ln.item, "quantity": ln.quantity, "unit": ln.unit,
                         "co2_t": ln.co2_t, "reason": "not energy: stays in the report and the verified total"})  # fmt: skip
            continue
        code = by_kind.get(ln.section) if ln.section in ("electricity", "heat") else ln.item
        carrier = carriers.get(code or "")
        reason = ""
        if carrier is None or (ln.section == "combustion" and carrier.kind in ("electricity", "heat")):
            reason = f"{ln.item!r} is not a fuel carrier of the inventory"
        else:
            try:
                q = ln.quantity * conversion_factor(_UNIT_ALIASES.get(ln.unit, ln.unit), carrier.unit)
            except UnitError as exc:
                reason = str(exc)
        if reason:
            left.append({"section": ln.section, "item": ln.item, "quantity": ln.quantity, "unit": ln.unit,
                         "co2_t": ln.co2_t, "reason": reason})  # fmt: skip
            continue
        assert carrier is not None
        row = acc.setdefault(carrier.code, [0.0, 0.0])
        row[0] += q
        row[1] += ln.co2_t or 0.0
    out: dict[str, tuple[float, float]] = {}
    for code, (q, co2) in acc.items():
        if q < 0:  # a net export: the inventory records purchases only
            left.append({"section": carriers[code].kind, "item": code, "quantity": q, "unit": carriers[code].unit,
                         "co2_t": co2, "reason": "a negative net purchase is not an activity record"})  # fmt: skip
        else:
            out[code] = (q, co2)
    return out, left


def _placement(session: Session, ent: m.Enterprise, year: int) -> tuple[str | None, list[str]]:
    """The sector and boundaries the verified records take: as the enterprise's own records of the
    year (else the park's enterprise records that year), so they sit in the same inventory layer."""
    ar = m.ActivityRecord
    own = session.execute(
        select(ar.sector, ar.boundary).where(ar.enterprise_id == ent.id, ar.year == year, ar.carrier_code.is_not(None))
    ).all()  # fmt: skip
    boundaries = sorted({b for _s, b in own}) or [DEFAULT_BOUNDARY]
    rows = own or session.execute(
        select(ar.sector, ar.boundary).where(
            ar.park_id == ent.park_id, ar.year == year, ar.enterprise_id.is_not(None), ar.carrier_code.is_not(None)
        )
    ).all()  # fmt: skip
    sectors = Counter(s for s, _b in rows)
    sector = sectors.most_common(1)[0][0] if sectors else DEFAULT_SECTOR
    return sector, boundaries


def _row_dict(r: m.ActivityRecord) -> dict[str, Any]:
    return {"id": r.id, "key": records.record_key(r.natural_key), "month": r.month, "sector": r.sector,
            "boundary": r.boundary, "carrier": r.carrier_code, "quantity": r.quantity, "unit": r.unit,
            "energy_tce": r.energy_tce, "quality": r.quality, "source_ref": r.source_ref}  # fmt: skip


def apply_verified(session: Session, verification: m.MrvVerification) -> dict[str, Any]:
    """Write the verified report's energy into the park inventory in place of the enterprise's
    other records of that year (see the module's docstring); returns what was done::

        {"changed": bool, "enterprise": code, "year": y, "lineage": source_ref,
         "written": [record…], "replaced": [record…], "not_in_inventory": [line…],
         "verified_total_co2_t": x, "inventory_co2_t": y | None, "feeds_park_total": bool,
         "data_revision": n}

    ``ValueError`` if the verification has not passed. Runs in the caller's transaction."""
    v = verification
    if v.conclusion != "pass":
        raise ValueError(f"verification #{v.id} has not passed (conclusion {v.conclusion!r})")
    report = session.get(m.MrvReport, v.final_report_id or v.initial_report_id)
    ent = session.get(m.Enterprise, v.enterprise_id)
    park = session.get(m.Park, v.park_id)
    body = session.get(m.MrvBody, v.body_id)
    if report is None or ent is None or park is None or body is None:
        raise ValueError(f"verification #{v.id} names a report, enterprise, park or body that does not exist")
    by = _actor(session, v)
    batch = f"mrv verification #{v.id}"
    source_ref = lineage(body.name, v.statement_sha256, report.version, v.id)
    carriers = {c.code: c for c in session.scalars(select(m.Carrier))}
    lines = list(session.scalars(select(m.MrvReportLine).where(m.MrvReportLine.report_id == report.id)))
    quantities, left = _quantities(lines, carriers)
    sector, boundaries = _placement(session, ent, v.year)
    total = v.verified_total_co2_t if v.verified_total_co2_t is not None else report.total_co2_t
    statement = v.statement_sha256[:12] or f"#{v.id}"
    entity = records.EntityRef(ent.zone_id, ent.id, f"enterprise:{ent.code}")
    rows: list[dict[str, Any]] = []
    for boundary in boundaries:
        for code, (q, co2) in sorted(quantities.items()):
            note = (
                f"核查排放量 {total:,.0f} 吨二氧化碳（{body.name}核查声明 {statement}，报告第{report.version}版；"
                f"报告中本品种 {co2:,.1f} 吨）；清单按园区核算口径计算二氧化碳 / verified total {total:,.0f} t CO2 "
                f"(statement {statement}, report v{report.version}; this carrier {co2:,.1f} t in the report); "
                "the inventory computes CO2 with the park's accounting profile"
            )
            rows.append({"entity": entity, "year": v.year, "month": None, "sector": sector, "boundary": boundary,
                         "carrier": code, "quantity": q, "unit": carriers[code].unit, "energy_tce": None,
                         "tce_basis": "calorific", "source_ref": source_ref, "quality": QUALITY, "note": note})  # fmt: skip
    keys = {records.activity_key(park.id, r) for r in rows}
    ar = m.ActivityRecord
    which = and_(
        ar.park_id == park.id, ar.enterprise_id == ent.id, ar.year == v.year, ar.boundary.in_(boundaries)
    )
    replaced = [
        r for r in session.scalars(select(ar).where(which).order_by(ar.id)) if r.natural_key not in keys
    ]
    replaced_rows = [_row_dict(r) for r in replaced]
    written_n = records.upsert_activity(session, park, rows, None, by=by, batch=batch)
    if replaced:
        history = audit.Changes(session, by, batch, park.id)
        for r in replaced:
            kept = {"carrier" if k == "carrier_code" else k: val for k, val in audit.values(r, _KEPT).items()}
            history.record("activity_record", records.record_key(r.natural_key), kept, None,
                           enterprise_id=r.enterprise_id, zone_id=r.zone_id,
                           note=f"replaced by the verified figure ({source_ref})"[:500])  # fmt: skip
        history.write()
        for i in range(0, len(replaced), 500):
            session.execute(delete(ar).where(ar.id.in_([r.id for r in replaced[i : i + 500]])))
        park.data_revision = (park.data_revision or 0) + 1
    session.flush()
    written = [
        _row_dict(r)
        for r in session.scalars(select(ar).where(ar.natural_key.in_(sorted(keys))).order_by(ar.id))
    ]
    inventory_co2 = _inventory_co2(session, park, ent, v.year)
    out: dict[str, Any] = {
        "changed": bool(written_n or replaced),
        "verification": v.id,
        "enterprise": ent.code,
        "year": v.year,
        "report_id": report.id,
        "report_version": report.version,
        "lineage": source_ref,
        "statement_sha256": v.statement_sha256,
        "written": written,
        "replaced": replaced_rows,
        "not_in_inventory": left,
        "verified_total_co2_t": total,
        "inventory_co2_t": inventory_co2,
        "feeds_park_total": _feeds_park_total(session, park, ent, v.year, boundaries[0]),
        "data_revision": park.data_revision,
    }
    if out["changed"]:
        log.append(
            session, actor=by, action="inventory.apply_verified", entity="mrv_verification", entity_id=v.id,
            park_id=park.id, enterprise_id=ent.id,
            payload={k: out[k] for k in ("year", "report_id", "report_version", "lineage", "statement_sha256",
                                         "written", "replaced", "not_in_inventory", "verified_total_co2_t",
                                         "inventory_co2_t", "feeds_park_total")},
        )  # fmt: skip
    return out


def _inventory_co2(session: Session, park: m.Park, ent: m.Enterprise, year: int) -> float | None:
    """The enterprise's CO₂ as the park inventory computes it now (None when it cannot)."""
    try:
        inv = compute_inventory(session, scope_code=ent.code, year=year, park_code=park.code)
    except (InventoryError, ParkError):
        return None
    co2 = inv["totals"].get("co2_t")
    return float(co2) if co2 is not None else None


def _feeds_park_total(session: Session, park: m.Park, ent: m.Enterprise, year: int, boundary: str) -> bool:
    """Whether the park's inventory of the year is built from this enterprise's records (it is
    not when the park, or the enterprise's zone, has records of its own level)."""
    scope = resolve_scope(session, park, "park")
    ar = m.ActivityRecord
    cond = and_(_level_filter(session, scope, year, boundary), ar.enterprise_id == ent.id)
    return bool(session.scalar(select(func.count()).select_from(ar).where(cond)))
