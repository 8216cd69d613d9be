"""The cockpit: the park's energy and carbon picture across years, assembled from inventories."""

from __future__ import annotations

import re
from collections import OrderedDict
from enum import StrEnum
from threading import Lock
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core import intensity
from greenpark.data import DATA_DIR
from greenpark.services import illustrative
from greenpark.services.carbon.inventory_cache import (
    cached_inventory,
    fingerprint,
    illustrative_years,
    scope_years,
)
from greenpark.services.park.parks import get_park
from greenpark.store import models as m

#: The cockpits computed, remembered like the inventories they are made of (same fingerprint).
_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = Lock()
_CACHE_SIZE = 128


class Missing(StrEnum):
    """Why a figure of the cockpit or the scorecard is empty (null): the reason beside the null."""

    NO_ACTIVITY_DATA = "no_activity_data"
    NO_CARRIER_SPLIT = "no_carrier_split"
    MISSING_FACTOR = "missing_factor"
    NO_GDP = "no_gdp"
    INDUSTRY_ONLY = "industry_only"
    NO_VALUE_ADDED = "no_value_added"
    NO_TARGET = "no_target"
    TEXT_TARGET = "text_target"
    NO_VALUE = "no_value"
    TARGET_YEAR_REACHED = "target_year_reached"
    NOT_POSITIVE = "not_positive"

    @property
    def label_zh(self) -> str:
        return MISSING_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return MISSING_LABELS[self][1]


MISSING_LABELS: dict[Missing, tuple[str, str]] = {
    Missing.NO_ACTIVITY_DATA: ("当年没有能源数据", "no energy data for that year"),
    Missing.NO_CARRIER_SPLIT: (
        "只有能源总量或分部门数据，没有分品种数据，无法核算二氧化碳",
        "energy is given only as totals or by sector, not by carrier, so CO₂ cannot be computed",
    ),
    Missing.MISSING_FACTOR: ("缺少某一能源品种的排放因子", "an emission factor of a carrier is missing"),
    Missing.NO_GDP: ("当年没有地区生产总值数据", "no GDP for that year"),
    Missing.INDUSTRY_ONLY: (
        "数据只覆盖工业，不计算单位GDP指标",
        "the data cover industry only, so no per-GDP figure is computed",
    ),
    Missing.NO_VALUE_ADDED: ("当年没有工业增加值数据", "no industrial value added for that year"),
    Missing.NO_TARGET: ("当年无目标", "no target for that year"),
    Missing.TEXT_TARGET: ("目标为文字表述，无数值可比", "the target is text, with no number to compare"),
    Missing.NO_VALUE: ("当年无数值", "no value for that year"),
    Missing.TARGET_YEAR_REACHED: ("已到目标年份", "the target year has been reached"),
    Missing.NOT_POSITIVE: ("最新值不为正，无法计算变化率", "the latest value is not positive; no rate"),
}


def missing_labels(codes: Any) -> dict[str, dict[str, str]]:
    """``{code: {"zh": …, "en": …}}`` for the reasons that occur in a result (for its page)."""
    return {
        str(c): {"zh": Missing(c).label_zh, "en": Missing(c).label_en}
        for c in sorted({c for c in codes if c})
    }


def co2_missing_reason(inv: dict[str, Any]) -> str | None:
    """Why an inventory has no CO₂ (None when it has one)."""
    if inv["totals"].get("co2_t") is not None:
        return None
    if not inv["totals"].get("records"):
        return Missing.NO_ACTIVITY_DATA.value
    if not inv["by_carrier"]:
        return Missing.NO_CARRIER_SPLIT.value
    return Missing.MISSING_FACTOR.value


def _per_gdp_reason(inv: dict[str, Any], numerator_reason: str | None) -> str:
    if numerator_reason:
        return numerator_reason
    if "gdp" not in inv["economy"]:
        return Missing.NO_GDP.value
    return Missing.INDUSTRY_ONLY.value


_NO_CARRIERS = (Missing.NO_ACTIVITY_DATA.value, Missing.NO_CARRIER_SPLIT.value)


def _series_point(session: Session, park: m.Park, scope: str, y: int, illustrative: bool) -> dict[str, Any]:
    """One year of the cockpit's series, with the reason beside every empty figure."""
    inv = cached_inventory(session, park, scope, y, "all")
    above = cached_inventory(session, park, scope, y, "above_scale")
    iva = inv["intensities"].get("industry_energy_per_industrial_value_added") or above["intensities"].get(
        "energy_per_above_scale_value_added"
    )
    point: dict[str, Any] = {
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
        "illustrative": illustrative,
    }
    no_energy = Missing.NO_ACTIVITY_DATA.value if point["energy_tce_calorific"] is None else None
    co2 = co2_missing_reason(inv)
    above_co2 = co2_missing_reason(above)
    no_above = Missing.NO_ACTIVITY_DATA.value if point["above_scale_energy_tce"] is None else None
    if iva:
        iva_reason = None
    elif no_energy and no_above:
        iva_reason = Missing.NO_ACTIVITY_DATA.value
    else:
        iva_reason = Missing.NO_VALUE_ADDED.value
    reasons = {
        "energy_tce_calorific": no_energy,
        "energy_tce_equal_value": co2 if co2 in _NO_CARRIERS else Missing.MISSING_FACTOR.value,
        "co2_t": co2,
        "above_scale_energy_tce": no_above,
        "above_scale_co2_t": above_co2,
        "energy_per_gdp": _per_gdp_reason(inv, no_energy),
        "co2_per_gdp": _per_gdp_reason(inv, co2),
        "energy_per_iva": iva_reason,
    }
    point["co2_missing_reason"] = co2
    point["above_scale_co2_missing_reason"] = above_co2
    point["missing_reasons"] = {k: r for k, r in reasons.items() if point[k] is None and r}
    return point


_TARGET = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*([0-9.]+)\s*$")


def parse_target(text: str) -> tuple[str, float] | None:
    """'<0.38' -> ('<', 0.38); '0.3' -> ('<=', 0.3) for a lower-is-better indicator's plain value."""
    mt = _TARGET.match(text or "")
    if not mt:
        return None
    op = {"≤": "<=", "≥": ">="}.get(mt.group(1) or "", mt.group(1) or "=")
    return op, float(mt.group(2))


#: The indicator methods whose targets the cockpit draws: energy per industrial value added of the
#: core area's above-scale industry, and of the whole park.
_INTENSITY_METHOD = {"core": "energy_per_iva_core_above_scale", "park": "energy_per_iva_park"}


def intensity_indicator(session: Session, park: m.Park, scope: str) -> m.Indicator | None:
    """The park's energy-intensity indicator for this scope (a zone's is the whole park's)."""
    method = _INTENSITY_METHOD.get(scope, _INTENSITY_METHOD["park"])
    return session.scalars(
        select(m.Indicator)
        .where(m.Indicator.park_id == park.id, m.Indicator.method == method)
        .order_by(m.Indicator.code)
    ).first()


def intensity_targets(session: Session, ind: m.Indicator | None) -> list[dict[str, Any]]:
    """The indicator as the cockpit draws it: its baseline, then each year's target as the plan
    writes it (none without the indicator)."""
    if ind is None:
        return []
    out: list[dict[str, Any]] = []
    if ind.baseline_year and ind.baseline_value is not None:
        out.append({"year": ind.baseline_year, "op": "=", "value": ind.baseline_value, "baseline": True})
    for t in session.scalars(
        select(m.IndicatorTarget)
        .where(m.IndicatorTarget.indicator_id == ind.id)
        .order_by(m.IndicatorTarget.year)
    ):
        parsed = parse_target(t.text)
        if parsed:
            out.append({"year": t.year, "op": parsed[0], "value": parsed[1], "baseline": False})
    return out


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
    key = (*fingerprint(session, park), "cockpit", scope, year)
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


def _scopes(park: m.Park) -> list[dict[str, Any]]:
    """What the cockpit can show: the whole park, then each zone."""
    zones = [{"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en} for z in park.zones]
    return [{"code": "park", "name_zh": "全园区", "name_en": "Whole park"}, *zones]


def _cockpit(session: Session, park: m.Park, scope: str, year: int | None) -> dict[str, Any]:
    years = scope_years(session, park, scope)
    if not years:
        return {
            "park": {"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en},
            "scope": scope,
            "years": [],
            "year": None,
            "missing_reason": Missing.NO_ACTIVITY_DATA.value,
            "reasons": missing_labels([Missing.NO_ACTIVITY_DATA]),
            "scopes": _scopes(park),
        }
    year = year if year in years else years[-1]
    made_up = illustrative_years(session, park, scope)
    series = [_series_point(session, park, scope, y, y in made_up) for y in years]
    current = cached_inventory(session, park, scope, year, "all")
    if not current["by_carrier"]:
        above_now = cached_inventory(session, park, scope, year, "above_scale")
        if above_now["by_carrier"]:
            current = above_now
    current_reason = co2_missing_reason(current)
    indicator = intensity_indicator(session, park, scope)
    targets = intensity_targets(session, indicator)
    # the annual reduction still needed to reach the final target from the selected year
    final = max((t for t in targets if not t["baseline"]), key=lambda t: t["year"], default=None)
    actual = next((x["energy_per_iva"] for x in series if x["year"] == year), None)
    required = None
    required_reason = None
    if final is None:
        required_reason = Missing.NO_TARGET.value
    elif not actual:
        required_reason = Missing.NO_VALUE.value
    elif year >= final["year"]:
        required_reason = Missing.TARGET_YEAR_REACHED.value
    else:
        required = {
            "from_year": year,
            "to_year": final["year"],
            "from_value": actual,
            "target": final["value"],
            "rate_per_year": float(
                intensity.required_annual_reduction_rate(actual, final["value"], final["year"] - year)
            ),
        }
    return {
        "park": {"code": park.code, "name_zh": park.name_zh, "name_en": park.name_en},
        "scope": scope,
        "scope_name": current["scope"],
        "scopes": _scopes(park),
        "years": years,
        "year": year,
        "illustrative_years": made_up,
        "data_note": illustrative.note(made_up) if made_up else None,
        "series": series,
        "current": {
            "boundary": current["boundary"],
            "illustrative": year in made_up,
            "totals": current["totals"],
            "co2_missing_reason": current_reason,
            "by_carrier_missing_reason": (
                None if current["by_carrier"] else current_reason or Missing.NO_CARRIER_SPLIT.value
            ),
            "by_carrier": [{k: v for k, v in r.items() if k != "lineage"} for r in current["by_carrier"]],
            "by_sector": current["by_sector"],
            "flows": current["flows"],
            "intensities": current["intensities"],
            "checks": current["checks"],
            "factor_sets": current["factor_sets"],
        },
        "indicator": {
            "name_zh": indicator.name_zh if indicator else None,
            "name_en": indicator.name_en if indicator else None,
            "unit": "tce/10^4 yuan",
            "targets": targets,
            "required_reduction": required,
            "required_reduction_missing_reason": required_reason,
            "source": indicator.source_ref if indicator else None,
        },
        "national_targets": [
            t for t in national_targets() if t["indicator"] == "energy_per_industrial_value_added"
        ],
        "reasons": missing_labels(
            [r for x in series for r in x["missing_reasons"].values()] + [current_reason, required_reason]
        ),
    }
