"""Reproduce the plan's published figures from its own data (``greenpark reproduce``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from greenpark.core import intensity
from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.park.parks import get_park
from greenpark.services.park.published import published_table

#: The published table of a park that lists the figures its plan publishes and how greenpark
#: computes each (one row per figure; the park brings it in its onboarding workbook).
FIGURES_TABLE = "plan_figures"


@dataclass
class Ctx:
    session: Session
    park_code: str | None
    _cache: dict[tuple[str, int, str], dict[str, Any]]

    def inv(self, scope: str, year: int, boundary: str = "all") -> dict[str, Any]:
        key = (scope, year, boundary)
        if key not in self._cache:
            self._cache[key] = compute_inventory(
                self.session, scope_code=scope, year=year, boundary=boundary, park_code=self.park_code
            )
        return self._cache[key]

    def intensity(self, scope: str, year: int, boundary: str, key: str) -> float:
        return float(self.inv(scope, year, boundary)["intensities"][key]["value"])

    def energy(self, scope: str, year: int, boundary: str = "all") -> float:
        return float(self.inv(scope, year, boundary)["totals"]["energy_tce_calorific"])

    def sector_share(self, scope: str, year: int, sector: str) -> float:
        return float(
            next(r["share_energy"] for r in self.inv(scope, year)["by_sector"] if r["sector"] == sector)
        )

    def carrier_share(self, scope: str, year: int, carrier: str, boundary: str = "all") -> float:
        return float(
            next(
                r["share_energy"]
                for r in self.inv(scope, year, boundary)["by_carrier"]
                if r["carrier"] == carrier
            )
        )


def _int(spec: dict[str, str], k: str) -> int:
    return int(float(spec[k]))


def _intensity_at(c: Ctx, spec: dict[str, str], year: int) -> float:
    return c.intensity(spec["scope"], year, spec.get("boundary") or "all", spec["key"])


#: How a published figure is computed, by ``measure`` (the figure's row names scope, year,
#: base year, boundary, key, target as the measure needs them).
MEASURES: dict[str, Callable[[Ctx, dict[str, str]], float]] = {
    "co2_t": lambda c, f: float(c.inv(f["scope"], _int(f, "year"), f.get("boundary") or "all")["totals"]["co2_t"]),
    "energy_tce": lambda c, f: c.energy(f["scope"], _int(f, "year"), f.get("boundary") or "all"),
    "intensity": lambda c, f: _intensity_at(c, f, _int(f, "year")),
    "intensity_change": lambda c, f: float(
        intensity.growth_rate(_intensity_at(c, f, _int(f, "base_year")), _intensity_at(c, f, _int(f, "year")))
    ),
    "intensity_reduction_rate": lambda c, f: float(
        intensity.average_annual_reduction_rate(
            _intensity_at(c, f, _int(f, "base_year")), _intensity_at(c, f, _int(f, "year")),
            _int(f, "year") - _int(f, "base_year"),
        )
    ),
    "energy_cagr": lambda c, f: float(
        intensity.cagr(
            c.energy(f["scope"], _int(f, "base_year"), f.get("boundary") or "all"),
            c.energy(f["scope"], _int(f, "year"), f.get("boundary") or "all"),
            _int(f, "year") - _int(f, "base_year"),
        )
    ),
    "required_reduction_rate": lambda c, f: float(
        intensity.required_annual_reduction_rate(
            _intensity_at(c, f, _int(f, "year")), float(f["target"]), _int(f, "target_year") - _int(f, "year")
        )
    ),
    "sector_share": lambda c, f: c.sector_share(f["scope"], _int(f, "year"), f["key"]),
    "carrier_share": lambda c, f: c.carrier_share(f["scope"], _int(f, "year"), f["key"], f.get("boundary") or "all"),
    "air_composite_index": lambda c, f: _composite(c, _int(f, "year")),
}  # fmt: skip


def tolerance_of(text: str) -> dict[str, Any]:
    """'rel 0.005' → {'rel': 0.005}; 'abs 0.001' → {'abs': 0.001}; 'range 0.1 0.2' → {'range': [0.1, 0.2]}."""
    kind, *nums = text.split()
    values = [float(x) for x in nums]
    return {"range": values} if kind == "range" else {kind: values[0]}


def _composite(c: Ctx, year: int) -> float:
    from datetime import date

    from greenpark.services.environment.air import (
        composite_index_from_annual_values,
        station_annual_values,
        stations,
    )

    values = station_annual_values(c.session, stations(c.session)[0], year)
    return composite_index_from_annual_values(values, date(year, 12, 31))[0]


def within(computed: float, plan: float, tol: dict[str, Any]) -> bool:
    if "rel" in tol:
        return bool(abs(float(intensity.relative_difference(computed, plan))) <= tol["rel"])
    if "abs" in tol:
        return bool(abs(computed - plan) <= tol["abs"] + 1e-12)
    lo, hi = tol["range"]
    return bool(lo <= computed <= hi)


def reproduce(session: Session, park_code: str | None = None) -> dict[str, Any]:
    """Every figure the park's plan publishes beside greenpark's value; plus the plan's known
    contradictions and the inventories' own warnings. A park without published figures gets an
    empty answer (``ok`` None)."""
    park = get_park(session, park_code)
    rows = published_table(session, park.id, FIGURES_TABLE)
    ctx = Ctx(session, park.code, {})
    figures, warnings = [], []
    for f in rows:
        value = MEASURES[f["measure"]](ctx, f)
        plan = float(f["plan"])
        if f.get("kind") == "inconsistency":
            warnings.append({"figure": f["id"], "plan": plan, "computed": value,
                             "rel_diff": float(intensity.relative_difference(value, plan)), "unit": f["unit"],
                             "source": f["source"], "message_zh": f["why_zh"], "message_en": f["why_en"]})  # fmt: skip
            continue
        tol = tolerance_of(f["tolerance"])
        figures.append({"figure": f["id"], "label_zh": f.get("label_zh", ""), "label_en": f.get("label_en", ""),
                        "plan": plan, "computed": value, "rel_diff": float(intensity.relative_difference(value, plan)),
                        "unit": f["unit"], "tolerance": tol, "within_tolerance": within(value, plan, tol),
                        "source": f["source"], "why": f.get("why", "")})  # fmt: skip
    seen = set()
    inventories = sorted(
        {(f["scope"], _int(f, "year"), f.get("boundary") or "all") for f in rows if f.get("scope")}
    )
    for scope, year, boundary in inventories:
        for chk in ctx.inv(scope, year, boundary)["checks"]:
            key = (chk["code"], chk["message_en"])
            if chk["severity"] in ("warning", "error") and key not in seen:
                seen.add(key)
                warnings.append({"figure": None, "check": chk["code"], "message_zh": chk["message_zh"],
                                 "message_en": chk["message_en"]})  # fmt: skip
    first = ctx.inv(*inventories[0]) if inventories else None
    return {
        "figures": figures,
        "warnings": warnings,
        "method": {"profile": first["profile"], "factor_sets": first["factor_sets"]} if first else None,
        "ok": all(f["within_tolerance"] for f in figures) if figures else None,
    }
