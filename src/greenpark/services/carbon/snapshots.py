"""Saved inventory results and their restatement when a factor set gets a new version."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.services.carbon.factors import SyncReport
from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.park.parks import get_park
from greenpark.store import models as m


def _figures(result: dict[str, Any]) -> list[tuple[str, float, str]]:
    t = result["totals"]
    out = [("energy_tce_calorific", t["energy_tce_calorific"], "tce")]
    if t["energy_tce_equal_value"] is not None:
        out.append(("energy_tce_equal_value", t["energy_tce_equal_value"], "tce"))
    if t["co2_t"] is not None:
        out.append(("co2_t", t["co2_t"], "tCO2"))
    for r in result["by_carrier"]:
        out.append((f"energy_tce_calorific/{r['carrier']}", r["energy_tce_calorific"], "tce"))
        if r["co2_t"] is not None:
            out.append((f"co2_t/{r['carrier']}", r["co2_t"], "tCO2"))
    for k, v in result["intensities"].items():
        out.append((f"intensity/{k}", v["value"], v["unit"]))
    return out


def save_snapshot(
    session: Session, result: dict[str, Any], *, restates_id: int | None = None, reason: str = ""
) -> m.InventorySnapshot:
    park = get_park(session, result["park"]["code"])
    snap = m.InventorySnapshot(
        park_id=park.id,
        scope=result["scope"]["code"],
        year=result["year"],
        boundary=result["boundary"],
        factor_versions_json=json.dumps(result["factor_sets"], sort_keys=True),
        restates_id=restates_id,
        reason=reason,
    )
    snap.figures = [m.SnapshotFigure(key=k, value=v, unit=u) for k, v, u in _figures(result)]
    session.add(snap)
    session.flush()
    return snap


def latest_snapshots(session: Session) -> list[m.InventorySnapshot]:
    """The newest snapshot of every (park, scope, year, boundary)."""
    latest: dict[tuple[int, str, int, str], m.InventorySnapshot] = {}
    for s in session.scalars(select(m.InventorySnapshot).order_by(m.InventorySnapshot.id)):
        latest[(s.park_id, s.scope, s.year, s.boundary)] = s
    return list(latest.values())


def restate_after_new_versions(session: Session, report: SyncReport) -> list[dict[str, Any]]:
    """Recompute every latest snapshot that used a superseded factor-set version."""
    superseded = {(code, old) for code, old, _new in report.new_versions}
    out = []
    for snap in latest_snapshots(session):
        used = json.loads(snap.factor_versions_json)
        hit = [(c, v) for c, v in used.items() if (c, v) in superseded]
        if not hit:
            continue
        park = session.get(m.Park, snap.park_id)
        assert park is not None
        result = compute_inventory(
            session, scope_code=snap.scope, year=snap.year, boundary=snap.boundary, park_code=park.code
        )
        reason = "; ".join(f"{c} {v} → {result['factor_sets'].get(c)}" for c, v in hit)
        new = save_snapshot(session, result, restates_id=snap.id, reason=reason)
        out.append(compare(session, new.id))
    return out


def compare(session: Session, snapshot_id: int) -> dict[str, Any]:
    """A restated snapshot beside the one it restates: old and new value of every figure."""
    new = session.get(m.InventorySnapshot, snapshot_id)
    if new is None:
        raise ValueError(f"no snapshot {snapshot_id}")
    old = session.get(m.InventorySnapshot, new.restates_id) if new.restates_id else None
    old_figs = {f.key: f.value for f in (old.figures if old else [])}
    rows = []
    for f in new.figures:
        o = old_figs.get(f.key)
        rows.append(
            {
                "key": f.key,
                "unit": f.unit,
                "old": o,
                "new": f.value,
                "change": None if o is None else f.value - o,
                "rel_change": None if not o else (f.value - o) / o,
            }
        )
    return {
        "snapshot_id": new.id,
        "restates_id": old.id if old else None,
        "scope": new.scope,
        "year": new.year,
        "boundary": new.boundary,
        "reason": new.reason,
        "old_factor_sets": json.loads(old.factor_versions_json) if old else None,
        "new_factor_sets": json.loads(new.factor_versions_json),
        "figures": rows,
    }


def restatements(session: Session) -> list[dict[str, Any]]:
    snaps = session.scalars(
        select(m.InventorySnapshot)
        .where(m.InventorySnapshot.restates_id.is_not(None))
        .order_by(m.InventorySnapshot.id.desc())
    )
    return [compare(session, s.id) for s in snaps]
