"""The cross-park overview a city or provincial bureau watches: for each park its latest year's
energy and CO₂, its energy intensity against the plan's targets, the indicators at risk and the
open alarms — composed from the services that compute them, nothing recomputed here.

- energy, CO₂, the intensity and its targets: :func:`greenpark.services.carbon.cockpit.cockpit`
  of the whole park (scope ``park``), its latest year;
- the intensity indicator's status and verdict, and the indicators at risk:
  :func:`greenpark.services.plan.indicators.evaluate` (that year) and
  :func:`~greenpark.services.plan.indicators.reachability` (to the target year);
- open alarms: the alarms :func:`greenpark.services.pollution.alarms.list_alarms` lists as
  ``active`` (not closed), counted by severity.

A park without data appears with the reason beside every empty figure (``missing``), never an
error. Numbers are not rounded; units are in the names (``_tce``, ``_t``) or beside the value
(``unit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenpark.services.carbon.cockpit import (
    Missing,
    cockpit,
    intensity_indicator,
    intensity_targets,
    missing_labels,
)
from greenpark.services.carbon.inventory import InventoryError
from greenpark.services.park.parks import PARK_KEY, all_parks, find_park, get_park, use_park
from greenpark.services.plan import indicators
from greenpark.services.pollution.alarms import SEVERITIES
from greenpark.store import models as m

#: The scope of the cockpit the overview reads: the whole park.
SCOPE = "park"
#: Statuses of a year's target (core.indicators.target_status) that put an indicator at risk.
AT_RISK_STATUS = ("missed", "at_risk")
#: Reachability verdicts (core.indicators.verdict) that put an indicator at risk.
AT_RISK_VERDICT = ("off_track", "at_risk")
#: Why figures are empty beside the cockpit's :class:`~greenpark.services.carbon.cockpit.Missing`
#: reasons: the park's inventory cannot be computed at all, or it has no energy-intensity indicator.
INVENTORY_ERROR = "inventory_error"
NO_INTENSITY_INDICATOR = "no_intensity_indicator"
_OWN_LABELS = {
    INVENTORY_ERROR: {
        "zh": "无法核算该园区的清单（见错误说明）",
        "en": "the park's inventory cannot be computed (see the error)",
    },
    NO_INTENSITY_INDICATOR: {
        "zh": "没有由 greenpark 核算的单位工业增加值能耗指标（请在建档工作簿的指标表中选择其核算方法）",
        "en": "no indicator of energy per industrial value added computed by greenpark (choose its method in the workbook's indicators sheet)",
    },
}


@contextmanager
def working_on(session: Session, code: str) -> Iterator[m.Park]:
    """The session works on park ``code`` inside the block; the park it worked on before (or
    none) is restored afterwards."""
    before = session.info.get(PARK_KEY)
    park = use_park(session, code)
    assert park is not None
    try:
        yield park
    finally:
        use_park(session, before)


def overview(session: Session, park_codes: list[str] | None = None) -> list[dict[str, Any]]:
    """One row per park (every park, or those of ``park_codes`` in that order; an unknown code is
    a :class:`~greenpark.services.park.parks.ParkError` naming the parks): see :func:`park_row`."""
    codes = park_codes if park_codes is not None else [p.code for p in all_parks(session)]
    for code in codes:
        find_park(session, code)
    rows = []
    for code in codes:
        with working_on(session, code):
            rows.append(park_row(session))
    return rows


def park_row(session: Session) -> dict[str, Any]:
    """The session's park in the overview: names, the latest year with energy data, energy and
    CO₂ of that year with their boundary and factor sets, the intensity against its targets,
    the indicators at risk, open alarms, and why any figure is empty (``missing``, labelled in
    ``reasons``)."""
    park = get_park(session)
    try:
        ck = cockpit(session, SCOPE)
        error = None
    except InventoryError as exc:
        ck = {"year": None, "missing_reason": INVENTORY_ERROR}
        error = str(exc)
    year = ck["year"]
    # the indicators of the same year (without energy data: the year the scorecard opens on)
    indicator_year = year or indicators.default_year(session)
    evaluated = indicators.evaluate(session, indicator_year)
    reach = indicators.reachability(session)
    ind = intensity_indicator(session, park, SCOPE)
    energy = energy_and_co2(ck)
    intensity = intensity_against_targets(ck, ind, intensity_targets(session, ind), evaluated, reach)
    missing = {**energy.pop("missing"), **intensity.pop("missing")}
    return {
        "code": park.code,
        "name_zh": park.name_zh,
        "name_en": park.name_en,
        "year": year,
        **energy,
        "intensity": intensity,
        "indicators": indicators_at_risk(indicator_year, evaluated, reach),
        "open_alarms": open_alarms(session, park),
        "missing": missing,
        "reasons": _labels(missing.values()),
        "error": error,
    }


def energy_and_co2(ck: dict[str, Any]) -> dict[str, Any]:
    """Energy (calorific equivalent) and CO₂ of the cockpit's year, of the one boundary that has
    both where it can (the cockpit's ``current``: the whole park, or its above-scale industry
    when only that has a split by carrier), with the factor sets behind them."""
    if not ck["year"]:
        reason = ck.get("missing_reason") or Missing.NO_ACTIVITY_DATA.value
        return {
            "illustrative": False,
            "boundary": None,
            "energy_tce_calorific": None,
            "co2_t": None,
            "factor_sets": {},
            "missing": {"energy_tce_calorific": reason, "co2_t": reason},
        }
    cur = ck["current"]
    energy_tce = cur["totals"]["energy_tce_calorific"] or None
    missing = {
        "energy_tce_calorific": Missing.NO_ACTIVITY_DATA.value if energy_tce is None else None,
        "co2_t": cur["co2_missing_reason"],
    }
    return {
        "illustrative": bool(cur["illustrative"]),
        "boundary": cur["boundary"],
        "energy_tce_calorific": energy_tce,
        "co2_t": cur["totals"]["co2_t"],
        "factor_sets": dict(cur["factor_sets"]),
        "missing": {k: v for k, v in missing.items() if v},
    }


def intensity_against_targets(
    ck: dict[str, Any],
    ind: m.Indicator | None,
    targets: list[dict[str, Any]],
    evaluated: list[dict[str, Any]],
    reach: list[dict[str, Any]],
) -> dict[str, Any]:
    """Energy per industrial value added of the cockpit's year [tce/10⁴ yuan], the target of that
    year and the final target among ``targets`` (the intensity indicator's, as the cockpit draws
    them: :func:`~greenpark.services.carbon.cockpit.intensity_targets`), the year's status
    (:func:`~greenpark.services.plan.indicators.evaluate`) and the verdict towards the target
    of ``verdict_year`` (:func:`~greenpark.services.plan.indicators.reachability`, the plan's
    target year); ``on_track``: the verdict is ``on_track`` (None without one)."""
    year = ck["year"]
    point: dict[str, Any] = next((x for x in ck.get("series", []) if x["year"] == year), {})
    targets = [t for t in targets if not t["baseline"]]
    target = _target(next((t for t in targets if t["year"] == year), None))
    final = max(targets, key=lambda t: t["year"], default=None)
    code = ind.code if ind else None
    row = next((r for r in evaluated if r["code"] == code), {})
    verdict = next((r for r in reach if r["code"] == code), {})
    verdict_code = verdict.get("verdict", "no_data")
    value = point.get("energy_per_iva")
    missing: dict[str, str] = {}
    if value is None:
        missing["intensity"] = (
            point.get("missing_reasons", {}).get("energy_per_iva")
            or ck.get("missing_reason")
            or Missing.NO_ACTIVITY_DATA.value
        )
    if ind is None:
        missing["intensity_indicator"] = NO_INTENSITY_INDICATOR
    else:
        if year and target is None:
            missing["intensity_target"] = Missing.NO_TARGET.value
        if verdict_code == "no_data":
            missing["intensity_verdict"] = verdict.get("verdict_reason") or Missing.NO_TARGET.value
    return {
        "indicator": {"code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en} if ind else None,
        "unit": "tce/10^4 yuan",
        "value": value,
        "basis": point.get("energy_per_iva_basis"),
        "target": target,
        "final_target": _target(final),
        "status": row.get("status", "no_data"),
        "verdict": verdict_code,
        "verdict_year": indicators.TARGET_YEAR,
        "on_track": None if verdict_code == "no_data" else verdict_code == "on_track",
        "missing": missing,
    }


def _target(t: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"year": t["year"], "op": t["op"], "value": t["value"]} if t else None


def indicators_at_risk(
    year: int, evaluated: list[dict[str, Any]], reach: list[dict[str, Any]]
) -> dict[str, Any]:
    """The park's indicators (``evaluated`` for ``year``) that missed the year's target (or miss it within the tolerance:
    ``at_risk``), or are unlikely to reach the target year's (verdict ``at_risk`` or
    ``off_track``), with the year's status and the verdict of each."""
    verdicts = {r["code"]: r["verdict"] for r in reach}
    at_risk = [
        {
            "code": r["code"],
            "name_zh": r["name"],
            "name_en": r["name_en"],
            "status": r["status"],
            "verdict": verdicts.get(r["code"], "no_data"),
        }
        for r in evaluated
        if r["status"] in AT_RISK_STATUS or verdicts.get(r["code"]) in AT_RISK_VERDICT
    ]
    return {
        "year": year,
        "total": len(evaluated),
        "at_risk": at_risk,
    }


def open_alarms(session: Session, park: m.Park) -> dict[str, Any]:
    """The park's alarms that are not closed — those ``list_alarms(status="active")`` lists —
    counted by severity (every severity named, zero included)."""
    counts = dict(
        session.execute(
            select(m.Alarm.severity, func.count(m.Alarm.id))
            .join(m.SourcePoint, m.SourcePoint.id == m.Alarm.point_id)
            .join(m.Outlet, m.Outlet.id == m.SourcePoint.outlet_id)
            .join(m.Enterprise, m.Enterprise.id == m.Outlet.enterprise_id)
            .where(m.Enterprise.park_id == park.id, m.Alarm.status != "closed")
            .group_by(m.Alarm.severity)
        ).all()
    )
    by_severity = {s: int(counts.get(s, 0)) for s in SEVERITIES}
    by_severity.update({str(s): int(n) for s, n in counts.items() if s not in by_severity})
    return {"total": sum(by_severity.values()), "by_severity": by_severity}


def _labels(codes: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{code: {"zh": …, "en": …}}`` of the reasons that occur (the cockpit's, and this module's)."""
    occur = set(codes)
    ours = occur & set(_OWN_LABELS)
    return {**missing_labels(occur - ours), **{c: _OWN_LABELS[c] for c in ours}}
