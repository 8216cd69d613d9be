"""The cockpit: the park's energy and carbon picture across years, assembled from inventories."""

from __future__ import annotations

import re
from collections import OrderedDict
from threading import Lock
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core import intensity
from greenpark.data import DATA_DIR
from greenpark.services.demo import plan_table
from greenpark.services.inventory import InventoryError, compute_inventory, get_park
from greenpark.store import models as m

_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = Lock()
_CACHE_SIZE = 512


def _fingerprint(session: Session, park: m.Park) -> tuple[Any, ...]:
    """Changes whenever the park's records or the current factor sets change."""
    sets = tuple(
        session.scalars(select(m.FactorSet.id).where(m.FactorSet.is_current).order_by(m.FactorSet.id))
    )
    bind = session.get_bind()
    return (str(bind.engine.url), park.id, park.data_revision, sets)


def cached_inventory(
    session: Session, park: m.Park, scope: str, year: int, boundary: str = "all", by: tuple[str, ...] = ()
) -> dict[str, Any]:
    """:func:`compute_inventory`, remembered until the data or the factor sets change."""
    key = (*_fingerprint(session, park), scope, year, boundary, by)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = compute_inventory(
        session, scope_code=scope, year=year, boundary=boundary, by=by, park_code=park.code
    )
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def inventory_or_none(
    session: Session, scope: str, year: int, boundary: str = "all"
) -> dict[str, Any] | None:
    """:func:`cached_inventory` of the current park, or None when the scope or year has no inventory."""
    try:
        return cached_inventory(session, get_park(session), scope, year, boundary)
    except InventoryError:
        return None


def scope_years(session: Session, park: m.Park, scope: str) -> list[int]:
    ar = m.ActivityRecord
    stmt = select(ar.year).where(ar.park_id == park.id).distinct()
    if scope != "park":
        zone = session.scalars(select(m.Zone).where(m.Zone.park_id == park.id, m.Zone.code == scope)).first()
        if zone is not None:
            stmt = stmt.where(ar.zone_id == zone.id)
        else:
            ent = session.scalars(
                select(m.Enterprise).where(m.Enterprise.park_id == park.id, m.Enterprise.code == scope)
            ).first()
            stmt = stmt.where(ar.enterprise_id == (ent.id if ent else -1))
    return sorted(session.scalars(stmt))


_TARGET = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*([0-9.]+)\s*$")


def parse_target(text: str) -> tuple[str, float] | None:
    """'<0.38' -> ('<', 0.38); '0.3' -> ('<=', 0.3) for a lower-is-better indicator's plain value."""
    mt = _TARGET.match(text or "")
    if not mt:
        return None
    op = {"≤": "<=", "≥": ">="}.get(mt.group(1) or "", mt.group(1) or "=")
    return op, float(mt.group(2))


def national_targets() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(
        (DATA_DIR / "national_targets.yaml").read_text(encoding="utf-8")
    )
    return data


def cockpit(
    session: Session, scope: str = "core", year: int | None = None, park_code: str | None = None
) -> dict[str, Any]:
    """The cockpit of a park or zone, remembered until the data or the factor sets change."""
    park = get_park(session, park_code)
    key = (*_fingerprint(session, park), "cockpit", scope, year)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    result = _cockpit(session, park, scope, year)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _cockpit(session: Session, park: m.Park, scope: str, year: int | None) -> dict[str, Any]:
    years = scope_years(session, park, scope)
    if not years:
        return {
            "park": {"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en},
            "scope": scope,
            "years": [],
            "year": None,
        }
    year = year if year in years else years[-1]
    series = []
    for y in years:
        inv = cached_inventory(session, park, scope, y, "all")
        above = cached_inventory(session, park, scope, y, "above_scale")
        iva = inv["intensities"].get("industry_energy_per_industrial_value_added") or above[
            "intensities"
        ].get("energy_per_above_scale_value_added")
        series.append(
            {
                "year": y,
                "energy_tce_calorific": inv["totals"]["energy_tce_calorific"] or None,
                "energy_tce_equal_value": inv["totals"]["energy_tce_equal_value"],
                "co2_t": inv["totals"]["co2_t"],
                "above_scale_energy_tce": above["totals"]["energy_tce_calorific"] or None,
                "above_scale_co2_t": above["totals"]["co2_t"],
                "energy_per_gdp": (inv["intensities"].get("energy_per_gdp") or {}).get("value"),
                "co2_per_gdp": (inv["intensities"].get("co2_per_gdp") or {}).get("value"),
                "energy_per_iva": iva["value"] if iva else None,
                "energy_per_iva_basis": (iva or {}).get("denominator"),
            }
        )
    current = cached_inventory(session, park, scope, year, "all")
    if not current["by_carrier"]:
        above_now = cached_inventory(session, park, scope, year, "above_scale")
        if above_now["by_carrier"]:
            current = above_now
    variant = "a" if scope == "core" else "b"
    indicator = next(
        (
            r
            for r in plan_table(session, park.id, "indicators")
            if r["seq"] == "1" and r["variant"] == variant
        ),
        None,
    )
    targets: list[dict[str, Any]] = []
    if indicator:
        targets.append(
            {
                "year": int(indicator["baseline_year"]),
                "op": "=",
                "value": float(indicator["baseline_value"]),
                "baseline": True,
            }
        )
        for y in range(2021, 2026):
            parsed = parse_target(indicator.get(f"t{y}", ""))
            if parsed:
                targets.append({"year": y, "op": parsed[0], "value": parsed[1], "baseline": False})
    # the annual reduction still needed to reach the final target from the selected year
    final = max((t for t in targets if not t["baseline"]), key=lambda t: t["year"], default=None)
    actual = next((x["energy_per_iva"] for x in series if x["year"] == year), None)
    required = None
    if final is not None and actual and year < final["year"]:
        required = {
            "from_year": year,
            "to_year": final["year"],
            "from_value": actual,
            "target": final["value"],
            "rate_per_year": float(
                intensity.required_annual_reduction_rate(actual, final["value"], final["year"] - year)
            ),
        }
    zones = [{"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en} for z in park.zones]
    return {
        "park": {"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en},
        "scope": scope,
        "scope_name": current["scope"],
        "scopes": [{"code": "park", "name_zh": "一区四园（全园区）", "name_en": "Whole park"}, *zones],
        "years": years,
        "year": year,
        "series": series,
        "current": {
            "boundary": current["boundary"],
            "totals": current["totals"],
            "by_carrier": [{k: v for k, v in r.items() if k != "lineage"} for r in current["by_carrier"]],
            "by_sector": current["by_sector"],
            "flows": current["flows"],
            "intensities": current["intensities"],
            "checks": current["checks"],
            "factor_sets": current["factor_sets"],
        },
        "indicator": {
            "name_zh": indicator["name_zh"] if indicator else None,
            "name_en": indicator["name_en"] if indicator else None,
            "unit": "tce/10^4 yuan",
            "targets": targets,
            "required_reduction": required,
            "source": indicator["source_ref"] if indicator else None,
        },
        "national_targets": [
            t for t in national_targets() if t["indicator"] == "energy_per_industrial_value_added"
        ],
    }


def warm(database_url: str) -> int:
    """Compute the cockpit of the park and every zone for the latest year, filling the cache.

    Run in the background at start-up and after an import, so the first page view after a
    change does not pay for it. Returns how many cockpits were computed.
    """
    from greenpark.services.inventory import InventoryError
    from greenpark.store.db import session_scope

    done = 0
    try:
        with session_scope(database_url) as session:
            park = get_park(session)
            for scope in ["park", *(z.code for z in park.zones)]:
                cockpit(session, scope, None, park.code)
                done += 1
            from greenpark.services.indicators import scorecard

            scorecard(session)  # the indicators' inventories (every year of their scopes)
            done += 1
    except InventoryError:
        pass  # no park yet
    return done
