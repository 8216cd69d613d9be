"""Reproduce the plan's published figures from its own data (``greenpark reproduce``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from greenpark.core import intensity
from greenpark.data import DEMO_DIR
from greenpark.services.inventory import compute_inventory

FIGURES_FILE = DEMO_DIR / "xianning" / "published_figures.yaml"


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


_F: dict[str, Callable[[Ctx], float]] = {
    "core_co2_2020_t": lambda c: float(c.inv("core", 2020)["totals"]["co2_t"]),
    "core_co2_per_gdp_2020": lambda c: c.intensity("core", 2020, "all", "co2_per_gdp"),
    "core_energy_per_gdp_2020": lambda c: c.intensity("core", 2020, "all", "energy_per_gdp"),
    "core_energy_per_gdp_2018": lambda c: c.intensity("core", 2018, "all", "energy_per_gdp"),
    "core_aboveScale_energy_per_iva_2020": lambda c: c.intensity(
        "core", 2020, "above_scale", "energy_per_above_scale_value_added"
    ),
    "core_aboveScale_energy_per_iva_2019": lambda c: c.intensity(
        "core", 2019, "above_scale", "energy_per_above_scale_value_added"
    ),
    "park_industry_energy_per_iva_2020": lambda c: c.intensity(
        "park", 2020, "all", "industry_energy_per_industrial_value_added"
    ),
    "park_industry_energy_per_iva_2019": lambda c: c.intensity(
        "park", 2019, "all", "industry_energy_per_industrial_value_added"
    ),
    "park_industry_energy_per_iva_change_2020": lambda c: float(
        intensity.growth_rate(
            c.intensity("park", 2019, "all", "industry_energy_per_industrial_value_added"),
            c.intensity("park", 2020, "all", "industry_energy_per_industrial_value_added"),
        )
    ),
    "park_industry_energy_cagr_2018_2020": lambda c: float(
        intensity.cagr(c.energy("park", 2018), c.energy("park", 2020), 2)
    ),
    "core_energy_cagr_2018_2020": lambda c: float(
        intensity.cagr(c.energy("core", 2018), c.energy("core", 2020), 2)
    ),
    "core_aboveScale_energy_cagr_2018_2020": lambda c: float(
        intensity.cagr(c.energy("core", 2018, "above_scale"), c.energy("core", 2020, "above_scale"), 2)
    ),
    "core_aboveScale_energy_per_iva_change_2020": lambda c: float(
        intensity.growth_rate(
            c.intensity("core", 2019, "above_scale", "energy_per_above_scale_value_added"),
            c.intensity("core", 2020, "above_scale", "energy_per_above_scale_value_added"),
        )
    ),
    "core_industry_share_2020": lambda c: c.sector_share("core", 2020, "industry"),
    "core_transport_share_2020": lambda c: c.sector_share("core", 2020, "transport"),
    "core_natural_gas_share_2020": lambda c: c.carrier_share("core", 2020, "natural_gas"),
    "core_electricity_share_2020": lambda c: c.carrier_share("core", 2020, "electricity"),
    "core_oil_share_2020": lambda c: c.carrier_share("core", 2020, "oil_products"),
    "required_decline_to_0_3_by_2025": lambda c: float(
        intensity.required_annual_reduction_rate(
            c.intensity("core", 2020, "above_scale", "energy_per_above_scale_value_added"), 0.3, 5
        )
    ),
    "env_composite_index_2020": lambda c: _composite_2020(c),
    # inconsistencies
    "park_carriers_energy_per_iva_2020": lambda c: c.intensity(
        "park", 2020, "above_scale", "energy_per_industrial_value_added"
    ),
    "core_energy_per_gdp_reduction_2018_2020": lambda c: float(
        intensity.average_annual_reduction_rate(
            c.intensity("core", 2018, "all", "energy_per_gdp"),
            c.intensity("core", 2020, "all", "energy_per_gdp"),
            2,
        )
    ),
}


def _composite_2020(c: Ctx) -> float:
    from datetime import date

    from greenpark.services.air import composite_index_from_annual_values, station_annual_values, stations

    values = station_annual_values(c.session, stations(c.session)[0], 2020)
    return composite_index_from_annual_values(values, date(2020, 12, 31))[0]


def within(computed: float, plan: float, tol: dict[str, Any]) -> bool:
    if "rel" in tol:
        return bool(abs(float(intensity.relative_difference(computed, plan))) <= tol["rel"])
    if "abs" in tol:
        return bool(abs(computed - plan) <= tol["abs"] + 1e-12)
    lo, hi = tol["range"]
    return bool(lo <= computed <= hi)


def reproduce(session: Session, park_code: str | None = None) -> dict[str, Any]:
    """Every published figure beside greenpark's value; plus the plan's known contradictions."""
    spec = yaml.safe_load(FIGURES_FILE.read_text(encoding="utf-8"))
    ctx = Ctx(session, park_code, {})
    figures = []
    for f in spec["figures"]:
        value = _F[f["id"]](ctx)
        figures.append(
            {
                "figure": f["id"],
                "label_zh": f.get("label_zh", ""),
                "label_en": f.get("label_en", ""),
                "plan": f["plan"],
                "computed": value,
                "rel_diff": float(intensity.relative_difference(value, f["plan"])),
                "unit": f["unit"],
                "tolerance": f["tolerance"],
                "within_tolerance": within(value, f["plan"], f["tolerance"]),
                "source": f["source"],
                "why": f["why"],
            }
        )
    warnings = []
    for f in spec["inconsistencies"]:
        value = _F[f["id"]](ctx)
        warnings.append(
            {
                "figure": f["id"],
                "plan": f["plan"],
                "computed": value,
                "rel_diff": float(intensity.relative_difference(value, f["plan"])),
                "unit": f["unit"],
                "source": f["source"],
                "message_zh": f["why_zh"],
                "message_en": f["why_en"],
            }
        )
    seen = set()
    for scope, year, boundary in (("core", 2020, "all"), ("park", 2020, "above_scale")):
        for chk in ctx.inv(scope, year, boundary)["checks"]:
            key = (chk["code"], chk["message_en"])
            if chk["severity"] in ("warning", "error") and key not in seen:
                seen.add(key)
                warnings.append(
                    {
                        "figure": None,
                        "check": chk["code"],
                        "message_zh": chk["message_zh"],
                        "message_en": chk["message_en"],
                    }
                )
    core = ctx.inv("core", 2020)
    return {
        "figures": figures,
        "warnings": warnings,
        "method": {"profile": core["profile"], "factor_sets": core["factor_sets"]},
        "ok": all(f["within_tolerance"] for f in figures),
    }
