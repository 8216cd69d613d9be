"""The plan's indicators (Table 3.3.1): registry, yearly values (computed by greenpark or reported),
evaluation against the yearly targets and reachability to 2025 (the plan's section 3.4)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenpark.core import indicators as core
from greenpark.i18n import N_, Msg, labels, tr
from greenpark.services import illustrative
from greenpark.services.carbon.cockpit import Missing, missing_labels
from greenpark.services.carbon.inventory_cache import inventory_or_none
from greenpark.services.park import audit
from greenpark.services.park.parks import get_park
from greenpark.store import models as m

TARGET_YEAR = 2025

#: How each computed indicator is obtained (the formula is named on every result; message ids of
#: the catalogue, whose Chinese is what the series' sources say).
METHODS: dict[str, str] = {
    "energy_per_iva_core_above_scale": N_(
        "core area above-scale industrial energy (equal value, tce) ÷ above-scale industrial value added (10⁴ yuan)"
    ),
    "energy_per_iva_park": N_(
        "whole-park industrial energy (equal value, tce) ÷ industrial value added (10⁴ yuan)"
    ),
    "co2_per_iva_reduction_rate": N_(
        "r = 1 − (I_T/I_0)^(1/n), I = above-scale industrial CO₂ ÷ industrial value added; the core area where it"
        " has a carrier split, else the whole park (国科发火〔2021〕28号)"
    ),
    "good_air_days": N_("days with AQI ≤ 100 (HJ 633, station hours; HJ 663 annual assessment)"),
}


def _method(code: str) -> str:
    """The formula of a computed indicator in Chinese, as its series' source names it."""
    return tr(METHODS[code], "zh")


#: Units whose yearly requirement the plan states as an absolute step ("每年至少新增30000m²").
ADDITIVE_UNITS = ("%", "count", "m2", "10^8 yuan")


VERDICT_TEXT_ZH = {
    "on_track": "按当前趋势可以实现",
    "at_risk": "存在未能实现的风险",
    "off_track": "按当前趋势难以实现",
}
VERDICT_TEXT_EN = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"}


class IndicatorError(ValueError):
    pass


def parse_target_text(text: str, direction: str) -> tuple[str, float | None]:
    """'<0.38' → ('<', 0.38); '0.3' → ('<=', 0.3) for lower-is-better; '>343' → ('>', 343);
    '完成下达目标' → ('', None) (kept as text)."""
    t = text.strip()
    mt = re.fullmatch(r"(<=|>=|<|>|≤|≥)?\s*([0-9]+(?:\.[0-9]+)?)", t)
    if not mt:
        return "", None
    op = {"≤": "<=", "≥": ">=", None: "<=" if direction == "lower" else ">="}.get(mt.group(1), mt.group(1))
    return op or "", float(mt.group(2))


#: The fields of an indicator and of a target that their history keeps.
DEFINITION_FIELDS = ("seq", "name_zh", "name_en", "unit", "direction", "kind", "method", "department",
                     "baseline_year", "baseline_value", "baseline_text", "source_ref", "basis_note", "flag")  # fmt: skip
TARGET_FIELDS = ("comparator", "value", "text")
VALUE_FIELDS = ("value", "source", "note")


def report(session: Session, code: str, year: int, value: float, source: str = "", note: str = "",
           by: str = "", *, batch: str = "", history: audit.Changes | None = None) -> m.IndicatorValue:  # fmt: skip
    """Record a reported value (a department's figure) for a year; a new or changed value is kept
    in the value's history (``indicator_value`` ``CODE|YEAR``) with ``by`` and ``batch``
    (``history``: the changes of the import it belongs to). The same value again changes nothing."""
    ind = get_indicator(session, code)
    if ind.method != "reported":
        raise IndicatorError(f"indicator {code} is computed by greenpark ({ind.method}); it is not reported")
    if not math.isfinite(value):
        raise IndicatorError("the value must be a finite number")
    if not 1990 <= year <= 2100:
        raise IndicatorError("the year must be between 1990 and 2100")
    v = session.scalars(
        select(m.IndicatorValue).where(m.IndicatorValue.indicator_id == ind.id, m.IndicatorValue.year == year)
    ).first() or m.IndicatorValue(indicator_id=ind.id, year=year)
    before = audit.values(v, VALUE_FIELDS) if v.id is not None else None
    after = {"value": value, "source": source, "note": note}
    if before == after:
        return v
    v.value, v.source, v.note, v.reported_by, v.updated_utc = value, source, note, by, m.utcnow()
    session.add(v)
    hist = history or audit.Changes(session, by, batch, ind.park_id)
    hist.record("indicator_value", f"{code}|{year}", before, after)
    if history is None:
        hist.write()
    session.flush()
    return v


VALUE_COLUMNS = ("code", "year", "value", "source", "note")


def import_values(session: Session, filename: str, content: bytes, by: str = "") -> int:
    """Reported values from .xlsx or .csv with the columns ``code, year, value[, source, note]``:
    every cell is checked (file, sheet, row, column named) and nothing is written on any error."""
    from greenpark.services.carbon.io import ImportRejected, read_simple_table
    from greenpark.services.tabular import CellError

    park = get_park(session)
    inds = {i.code: i for i in session.scalars(select(m.Indicator).where(m.Indicator.park_id == park.id))}
    errors: list[CellError] = []
    rows: list[tuple[str, int, float, str, str]] = []
    seen: dict[tuple[str, int], int] = {}
    for sheet, i, r in read_simple_table(filename, content, ("code", "year", "value")):

        def bad(col: str, why: str, sheet: str = sheet, i: int = i) -> None:
            errors.append(CellError(filename, sheet, i, col, why))

        code = r.get("code", "")
        ind = inds.get(code)
        if ind is None:
            bad("code", Msg("unknown indicator {code}", code=repr(code)))
        elif ind.method != "reported":
            bad("code", Msg("indicator {code} is computed by greenpark, not reported", code=code))
        year: int | None = None
        try:
            year = int(r.get("year", ""))
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            bad("year", Msg("{value} is not a year between 1990 and 2100", value=repr(r.get("year"))))
            year = None
        try:
            value = float(r.get("value", ""))
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            bad("value", Msg("{value} is not a number", value=repr(r.get("value"))))
            continue
        if ind is not None and year is not None:
            if (code, year) in seen:
                bad(
                    "year",
                    Msg(
                        "{code} {year} is already given on row {row}",
                        code=code,
                        year=year,
                        row=seen[(code, year)],
                    ),
                )
            seen[(code, year)] = i
            rows.append((code, year, value, r.get("source", "") or filename, r.get("note", "")))
    if errors:
        raise ImportRejected(errors)
    with audit.Changes(session, by, audit.file_batch(filename, content), park.id) as hist:
        for code, year, value, source, note in rows:
            report(session, code, year, value, source=source, note=note, by=by, history=hist)
    return len(rows)


def get_indicator(session: Session, code: str) -> m.Indicator:
    park = get_park(session)
    ind = session.scalars(
        select(m.Indicator).where(m.Indicator.park_id == park.id, m.Indicator.code == code)
    ).first()
    if ind is None:
        known = ", ".join(session.scalars(select(m.Indicator.code).where(m.Indicator.park_id == park.id)))
        raise IndicatorError(f"unknown indicator {code!r}; known: {known}")
    return ind


@dataclass
class Series:
    years: list[int]
    values: list[float]
    source: str
    #: Years whose value rests on illustrative data (the demo's continuation).
    illustrative: list[int] = field(default_factory=list)


def _intensity(session: Session, scope: str, boundary: str, key: str, year: int) -> float | None:
    inv = inventory_or_none(session, scope, year, boundary)
    item = inv.get("intensities", {}).get(key) if inv else None
    return float(item["value"]) if item and item.get("value") is not None else None


#: Boundaries for indicator 2, in order of preference: (scope, boundary, intensity key, label).
CO2_PER_IVA_BOUNDARIES = (
    ("core", "above_scale", "energy_per_above_scale_value_added", "核心区规上工业 CO₂ ÷ 规上工业增加值"),
    ("park", "above_scale", "energy_per_industrial_value_added", "全园区规上工业 CO₂ ÷ 工业增加值"),
)


def _co2_intensity(session: Session, scope: str, boundary: str, key: str, year: int) -> float | None:
    """tCO₂ per 10⁴ yuan of (above-scale) industrial value added, or None without both."""
    inv = inventory_or_none(session, scope, year, boundary)
    if inv is None:
        return None
    item = inv.get("intensities", {}).get(key)
    co2 = inv.get("totals", {}).get("co2_t")
    if not item or not item.get("denominator_value_10k_yuan") or not co2:
        return None
    return float(co2) / float(item["denominator_value_10k_yuan"])


def _years(session: Session, scope: str) -> list[int]:
    from greenpark.services.carbon.inventory_cache import scope_years

    return scope_years(session, get_park(session), scope)


def _illustrative_years(session: Session, scope: str) -> set[int]:
    from greenpark.services.carbon.inventory_cache import illustrative_years

    return set(illustrative_years(session, get_park(session), scope))


def series(session: Session, ind: m.Indicator) -> Series:
    """The indicator's yearly values: computed from the engine or monitoring, or as reported."""
    if ind.method == "reported":
        rows = session.scalars(
            select(m.IndicatorValue)
            .where(m.IndicatorValue.indicator_id == ind.id)
            .order_by(m.IndicatorValue.year)
        ).all()
        return Series([r.year for r in rows], [r.value for r in rows], "reported",
                      [r.year for r in rows if illustrative.is_illustrative(r.source)])  # fmt: skip
    years: list[int] = []
    values: list[float] = []
    if ind.method in ("energy_per_iva_core_above_scale", "energy_per_iva_park"):
        scope, boundary, key = (
            ("core", "above_scale", "energy_per_above_scale_value_added")
            if ind.method == "energy_per_iva_core_above_scale"
            else ("park", "all", "industry_energy_per_industrial_value_added")
        )
        for y in _years(session, scope):
            v = _intensity(session, scope, boundary, key, y)
            if v is not None:
                years.append(y)
                values.append(v)
        made_up = _illustrative_years(session, scope)
        return Series(years, values, "computed: " + _method(ind.method), [y for y in years if y in made_up])
    if ind.method == "co2_per_iva_reduction_rate":
        pts: list[tuple[int, float]] = []
        label = ""
        used = "park"
        for scope, boundary, key, name in CO2_PER_IVA_BOUNDARIES:
            pts = [
                (y, v)
                for y in _years(session, scope)
                if (v := _co2_intensity(session, scope, boundary, key, y))
            ]
            label, used = name, scope
            if len(pts) >= 2:  # a rate needs two years on one boundary
                break
        base = next(((y, v) for y, v in pts if y == ind.baseline_year), pts[0] if pts else None)
        for y, v in pts:
            if base and y > base[0]:
                years.append(y)
                values.append(100 * core.improvement_rate(base[1], v, y - base[0], "lower"))
        if base is not None and not years and len(pts) >= 2:  # no year after the base yet: the latest stretch
            (y0, v0), (y1, v1) = pts[0], pts[-1]
            years, values = [y1], [100 * core.improvement_rate(v0, v1, y1 - y0, "lower")]
        source = "computed: " + _method(ind.method)
        if len(pts) >= 2:
            source += f" — {label}, {pts[0][0]}–{pts[-1][0]}"
        else:
            years, values = [], []
            source += " — no boundary has CO₂ and industrial value added for two years"
        made_up = _illustrative_years(session, used)
        return Series(years, values, source, [y for y in years if y in made_up])
    if ind.method == "good_air_days":
        from greenpark.services.environment import monitoring

        # one value a year, from the first station that has the year (operating stations with the
        # latest data first: monitoring.points), so a station that replaced another continues it
        by_year: dict[int, tuple[float, m.MonitoringPoint]] = {}
        for p in monitoring.points(session, "air"):
            for y in monitoring.station_years(session, p):
                if y in by_year:
                    continue
                ev = monitoring.station_year_view(session, p.code, y)["evaluation"]
                if ev.get("good_days") is not None:
                    by_year[y] = (float(ev["good_days"]), p)
        years = sorted(by_year)
        stations = list(dict.fromkeys(by_year[y][1] for y in years))
        notes = "; ".join(f"{p.name}: {p.data_note}" if p.data_note else p.name for p in stations)
        return Series(
            years,
            [by_year[y][0] for y in years],
            "computed: " + _method(ind.method) + (f" — {notes}" if notes else ""),
            [y for y in years if illustrative.is_illustrative(by_year[y][1].source_ref)],
        )
    raise IndicatorError(f"unknown method {ind.method!r}")


def _targets(session: Session, ind: m.Indicator) -> dict[int, m.IndicatorTarget]:
    return {
        t.year: t
        for t in session.scalars(select(m.IndicatorTarget).where(m.IndicatorTarget.indicator_id == ind.id))
    }


def evaluate(session: Session, year: int | None = None) -> list[dict[str, Any]]:
    """Every indicator for ``year`` (default: :func:`default_year`): value, target and status (the
    rule: core.target_status), why an empty status is empty (``status_reason``) and whether the
    value is illustrative."""
    park = get_park(session)
    year = year or default_year(session)
    out = []
    for ind in session.scalars(
        select(m.Indicator).where(m.Indicator.park_id == park.id).order_by(m.Indicator.seq, m.Indicator.code)
    ):
        s = series(session, ind)
        value = dict(zip(s.years, s.values, strict=True)).get(year)
        t = _targets(session, ind).get(year)
        status = core.target_status(value, t.value if t else None, t.comparator if t else "", ind.kind)
        out.append({
            "code": ind.code, "year": year, "name": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit,
            "kind": ind.kind, "direction": ind.direction, "value": value, "target": t.value if t else None,
            "target_text": t.text if t else "", "comparator": t.comparator if t else "", "status": status,
            "status_reason": status_reason(status, value, t),
            "method": ind.method, "source": s.source, "flag": ind.flag, "baseline": year == ind.baseline_year,
            "illustrative": year in s.illustrative,
        })  # fmt: skip
    return out


def status_reason(status: str, value: float | None, target: m.IndicatorTarget | None) -> str | None:
    """Why a status is ``no_data`` (None otherwise): no target that year, a target written as text
    (e.g. 完成下达目标), or no value."""
    if status != "no_data":
        return None
    if target is None:
        return Missing.NO_TARGET.value
    if target.value is None:
        return Missing.TEXT_TARGET.value
    return Missing.NO_VALUE.value if value is None else None


def default_year(session: Session) -> int:
    """The year pages open on: the latest year in which some indicator has both a numeric target
    and a value; without one, the latest year with any value; without values, the target year."""
    return _default_year([(series(session, i), _targets(session, i)) for i in _indicators(session)])


def _indicators(session: Session) -> list[m.Indicator]:
    park = get_park(session)
    return list(
        session.scalars(
            select(m.Indicator)
            .where(m.Indicator.park_id == park.id)
            .order_by(m.Indicator.seq, m.Indicator.code)
        )
    )


def _default_year(data: list[tuple[Series, dict[int, m.IndicatorTarget]]]) -> int:
    both = [y for s, t in data for y in s.years if y in t and t[y].value is not None]
    anything = [y for s, _ in data for y in s.years]
    return max(both or anything or [TARGET_YEAR])


def _until(s: Series, year: int | None) -> Series:
    """The series up to ``year`` (all of it for None)."""
    if year is None:
        return s
    keep = [k for k, y in enumerate(s.years) if y <= year]
    return Series([s.years[k] for k in keep], [s.values[k] for k in keep], s.source,
                  [y for y in s.illustrative if y <= year])  # fmt: skip


def reachability(
    session: Session, code: str | None = None, seed: int = 2025, as_of: int | None = None
) -> list[dict[str, Any]]:
    """Per indicator: the rate required from the latest value to the 2025 target, the observed
    rate (CAGR over the series and the log-linear trend), the probability of reaching the target
    (bootstrap of the year-on-year changes, seeded) and a verdict (core.verdict). ``as_of``: judge
    with the values up to that year only (an annual report of that year). Once the latest value
    is of 2025 the verdict says whether the target was met; ``verdict_reason`` says why a verdict
    is ``no_data``."""
    park = get_park(session)
    stmt = (
        select(m.Indicator).where(m.Indicator.park_id == park.id).order_by(m.Indicator.seq, m.Indicator.code)
    )
    if code:
        stmt = stmt.where(m.Indicator.code == code)
    out = []
    for ind in session.scalars(stmt):
        s = _until(series(session, ind), as_of)
        t = _targets(session, ind).get(TARGET_YEAR)
        row: dict[str, Any] = {
            "code": ind.code, "name": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit, "direction": ind.direction,
            "latest_year": s.years[-1] if s.years else None, "latest_value": s.values[-1] if s.values else None,
            "target_2025": t.value if t else None, "target_text": t.text if t else "",
            "required_rate": None, "required_change_per_year": None, "observed_rate": None, "trend_rate": None,
            "gap": None,
            "probability": None, "verdict": "no_data", "source": s.source, "method": ind.method,
            "verdict_reason": None, "illustrative": bool(s.years) and s.years[-1] in s.illustrative,
        }  # fmt: skip
        if ind.method == "co2_per_iva_reduction_rate":
            # the indicator is itself a rate: compare it with the required rate directly
            if s.values and t and t.value is not None:
                latest = s.values[-1]
                row.update(required_rate=t.value / 100, observed_rate=latest / 100,
                           gap=(latest - t.value) / 100,
                           verdict="on_track" if latest >= t.value else core.verdict(t.value / 100, latest / 100, None))  # fmt: skip
            else:
                row["verdict_reason"] = (Missing.NO_VALUE.value if not s.values else Missing.NO_TARGET.value
                                         if t is None else Missing.TEXT_TARGET.value)  # fmt: skip
            out.append(row)
            continue
        if not s.values or t is None or t.value is None or s.values[-1] <= 0:
            row["verdict_reason"] = (
                Missing.NO_TARGET.value if t is None else Missing.TEXT_TARGET.value if t.value is None
                else Missing.NO_VALUE.value if not s.values else Missing.NOT_POSITIVE.value
            )  # fmt: skip
            out.append(row)
            continue
        n = TARGET_YEAR - s.years[-1]
        observed = (
            core.improvement_rate(s.values[0], s.values[-1], s.years[-1] - s.years[0], ind.direction)
            if len(s.values) >= 2 and s.values[0] > 0
            else None
        )
        trend = core.trend_rate(s.years, s.values, ind.direction) if len(s.values) >= 2 else None
        if n <= 0:  # the target year has data: the target is met or it is not
            met = core.meets(
                s.values[-1], t.value, t.comparator or ("<=" if ind.direction == "lower" else ">=")
            )
            row.update(required_rate=0.0, observed_rate=observed, trend_rate=trend,
                       verdict="on_track" if met else "off_track")  # fmt: skip
            out.append(row)
            continue
        required = core.required_rate(s.values[-1], t.value, n, ind.direction)
        row["required_change_per_year"] = core.required_change_per_year(
            s.values[-1], t.value, n, ind.direction
        )
        prob = core.reach_probability(s.values, t.value, n, ind.direction, seed=seed)
        row.update(required_rate=required, observed_rate=observed, trend_rate=trend,
                   gap=None if observed is None else observed - required, probability=prob,
                   verdict=core.verdict(required, observed, prob))  # fmt: skip
        out.append(row)
    return out


def reachability_text(row: dict[str, Any], lang: str = "zh") -> str:
    """A paragraph in the style of the plan's section 3.4, with greenpark's numbers."""
    raw_unit = row["unit"]
    unit = labels.unit(raw_unit, lang)  # as a reader of the language writes it (吨标准煤/万元 …)
    name = (row.get("name_en") or row["name"]) if lang == "en" else row["name"]
    if row["verdict"] == "no_data" or row["required_rate"] is None:
        return (f"{name}：暂无足够数据评估可达性。" if lang == "zh"
                else f"{name}: not enough data to assess reachability.")  # fmt: skip

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.1f}%"

    if row.get("method") == "co2_per_iva_reduction_rate":  # the indicator is itself a rate
        r, need = row["latest_value"], row["target_2025"]
        if lang == "zh":
            moved = f"年均削减{r:.1f}%" if r >= 0 else f"年均上升{-r:.1f}%"
            return (f"{name}：截至{row['latest_year']}年，单位工业增加值二氧化碳排放量{moved}，"
                    f"目标为年均削减{need:g}%以上（国科发火〔2021〕28号）。结论：{VERDICT_TEXT_ZH[row['verdict']]}。")  # fmt: skip
        moved = f"fallen by {r:.1f}% a year" if r >= 0 else f"risen by {-r:.1f}% a year"
        return (f"{name}: up to {row['latest_year']}, CO2 per unit of industrial value added has {moved}; the target is"
                f" a reduction of at least {need:g}% a year. Verdict: {VERDICT_TEXT_EN[row['verdict']]}.")  # fmt: skip
    words = {"lower": ("下降", "fall", "fallen"), "higher": ("增长", "grow", "grown")}[row["direction"]]
    verdict_zh, verdict_en = VERDICT_TEXT_ZH, VERDICT_TEXT_EN
    p = row["probability"]
    obs = row["observed_rate"]

    def num(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"

    if row["latest_year"] >= TARGET_YEAR:  # the target year has data: met or not
        met = row["verdict"] == "on_track"
        target = row["target_text"] or row["target_2025"]
        if lang == "zh":
            text = (f"{name}：{row['latest_year']}年为{num(row['latest_value'])} {unit}，2025年目标为{target}，"
                    f"{'已达到' if met else '未达到'}目标")  # fmt: skip
            if obs is not None:
                moved = words[0] if obs >= 0 else ("上升" if row["direction"] == "lower" else "下降")
                text += f"；期间实际年均{moved}{pct(abs(obs))}"
            return text + f"。结论：{verdict_zh[row['verdict']]}。"
        text = (f"{name}: {num(row['latest_value'])} {unit} in {row['latest_year']}; the 2025 target {target}"
                f" was {'met' if met else 'missed'}")  # fmt: skip
        if obs is not None:
            text += f"; it has {words[2] if obs >= 0 else 'moved the wrong way'} by {pct(abs(obs))} a year on average"
        return text + f". Verdict: {verdict_en[row['verdict']]}."

    step = float(row.get("required_change_per_year") or 0.0)
    additive = step > 0 and raw_unit in ADDITIVE_UNITS
    if lang == "zh":
        text = (f"{name}：{row['latest_year']}年为{num(row['latest_value'])} {unit}，"
                f"若到2025年达到{row['target_text'] or row['target_2025']}，则每年至少{words[0]}{pct(row['required_rate'])}")  # fmt: skip
        if additive:
            text += f"（{'提高' if raw_unit == '%' else '新增'}{num(step)}{'个百分点' if raw_unit == '%' else ' ' + unit}）"
        text += "；"
        if obs is None:
            text += "暂无历年数据，无法判断趋势"
        else:
            moved = words[0] if obs >= 0 else ("上升" if row["direction"] == "lower" else "下降")
            text += f"近年实际年均{moved}{pct(abs(obs))}"
            if row.get("trend_rate") is not None:
                text += f"（趋势拟合{pct(row['trend_rate'])}）"
        if p is not None:
            text += f"，按历年变化幅度模拟，到2025年达标的概率约为{100 * p:.0f}%"
        return text + f"。结论：{verdict_zh[row['verdict']]}。"
    text = (f"{name}: {num(row['latest_value'])} {unit} in {row['latest_year']}; reaching "
            f"{row['target_text'] or row['target_2025']} by 2025 needs it to {words[1]} by at least "
            f"{pct(row['required_rate'])} a year")  # fmt: skip
    if additive:
        text += f" ({num(step)} {'percentage points' if raw_unit == '%' else unit} a year)"
    text += "; "
    if obs is None:
        text += "there is no history to show a trend"
    else:
        text += (
            f"it has {words[2] if obs >= 0 else 'moved the wrong way'} by {pct(abs(obs))} a year on average"
        )
    if p is not None:
        text += f"; simulated from its year-on-year changes, the chance of reaching the target is about {100 * p:.0f}%"
    return text + f". Verdict: {verdict_en[row['verdict']]}."


def detail(
    session: Session, code: str, lang: str = "zh", reach: dict[str, Any] | None = None,
    as_of: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One indicator for its page: history, targets, method, reachability (``reach`` when the caller
    has computed it already) and its text; ``as_of``: with the values up to that year only."""
    ind = get_indicator(session, code)
    s = _until(series(session, ind), as_of)
    targets = [
        {"year": y, "comparator": t.comparator, "value": t.value, "text": t.text}
        for y, t in sorted(_targets(session, ind).items())
    ]
    reach = reach or reachability(session, code, as_of=as_of)[0]
    return {
        "code": ind.code, "name": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit, "kind": ind.kind,
        "direction": ind.direction, "method": ind.method, "formula": Msg(METHODS[ind.method]) if ind.method in METHODS else "",
        "baseline_year": ind.baseline_year, "baseline_value": ind.baseline_value, "baseline_text": ind.baseline_text,
        "source_ref": ind.source_ref, "basis_note": ind.basis_note, "flag": ind.flag, "department": ind.department,
        "history": [{"year": y, "value": v} for y, v in zip(s.years, s.values, strict=True)], "source": s.source,
        "illustrative_years": s.illustrative, "targets": targets, "reachability": reach,
        "text": {"zh": reachability_text(reach, "zh"), "en": reachability_text(reach, "en")},
    }  # fmt: skip


def scorecard(session: Session, year: int | None = None) -> dict[str, Any]:
    """Every indicator with its history, target path, status of ``year`` (default: the latest year
    in which an indicator has both a target and a value, :func:`default_year`) and the reachability
    verdict: what the scorecard page draws. An empty status says why (``status_reason``); years
    whose values are illustrative are listed (``illustrative_years``)."""
    reach = {r["code"]: r for r in reachability(session)}
    inds = _indicators(session)
    from greenpark.services.carbon.cockpit import national_targets

    refs = national_targets()
    lines_for = {  # MOST's national reference lines (国科发火〔2021〕28号) on the indicators they bound
        "energy": [{"value": t["value"], "label_zh": t["label_zh"], "label_en": t["label_en"], "source": t["source"]}
                   for t in refs if t["indicator"] == "energy_per_industrial_value_added"],
        "co2": [{"value": 100 * t["value"], "label_zh": t["label_zh"], "label_en": t["label_en"], "source": t["source"]}
                for t in refs if t["indicator"] == "co2_per_industrial_value_added_annual_reduction"],
    }  # fmt: skip
    cards = []
    data = []
    for ind in inds:
        s = series(session, ind)
        targets = _targets(session, ind)
        data.append((s, targets))
        cards.append({
            "code": ind.code, "name": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit, "kind": ind.kind,
            "direction": ind.direction, "method": ind.method, "flag": ind.flag,
            "history": [[y, v] for y, v in zip(s.years, s.values, strict=True)],
            "illustrative_years": s.illustrative,
            "targets": [[y, t.value, t.text] for y, t in sorted(targets.items())],
            "reachability": reach.get(ind.code),
            "reference_lines": lines_for["energy"] if ind.seq == 1 and not ind.custom else
                               lines_for["co2"] if ind.seq == 2 and not ind.custom else [],
        })  # fmt: skip
    year = year or _default_year(data)
    rows = {r["code"]: r for r in evaluate(session, year)}
    for c in cards:
        r = rows.get(c["code"], {})
        c["status"] = r.get("status", "no_data")
        c["status_reason"] = r.get("status_reason", Missing.NO_VALUE.value)
    made_up = sorted({y for s, _ in data for y in s.illustrative})
    reasons = [c["status_reason"] for c in cards] + [r.get("verdict_reason") for r in reach.values()]
    return {
        "year": year, "indicators": cards, "illustrative_years": made_up,
        "data_note": illustrative.note(made_up) if made_up else None,
        "reasons": missing_labels(reasons),
    }  # fmt: skip


def add_indicator(session: Session, code: str, name_zh: str, unit: str, direction: str, kind: str,
                  name_en: str = "", department: str = "", baseline_year: int | None = None,
                  baseline_value: float | None = None, targets: dict[int, str] | None = None,
                  note: str = "", *, by: str = "", batch: str = "") -> m.Indicator:  # fmt: skip
    """An officer's own indicator (reported), with the same fields as the plan's; targets are
    written as the plan writes them ('<0.38', '0.3', '>343'). The new indicator, its targets and
    its baseline value are kept in their history with ``by`` and ``batch``."""
    park = get_park(session)
    errors = []
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", code or ""):
        errors.append("code: 1-16 letters, digits, _ . -")
    if session.scalars(
        select(m.Indicator).where(m.Indicator.park_id == park.id, m.Indicator.code == code)
    ).first():
        errors.append(f"code: indicator {code} exists")
    if not name_zh.strip():
        errors.append("name_zh: required")
    if direction not in ("lower", "higher"):
        errors.append("direction: lower or higher")
    if kind not in ("binding", "expected"):
        errors.append("kind: binding or expected")
    for year, text in (targets or {}).items():
        if not 1990 <= year <= 2100:
            errors.append(f"targets: year {year} out of range")
        if (
            text.strip()
            and parse_target_text(text, direction)[1] is None
            and not re.search(r"[^\x00-\x7f]", text)
        ):
            errors.append(f"targets: {text!r} is neither a number (optionally with < > <= >=) nor a text")
    if errors:
        raise IndicatorError("; ".join(errors))
    seq = (max(session.scalars(select(m.Indicator.seq).where(m.Indicator.park_id == park.id)), default=0)) + 1
    ind = m.Indicator(park_id=park.id, code=code, seq=seq, name_zh=name_zh, name_en=name_en, unit=unit,
                      direction=direction, kind=kind, method="reported", department=department,
                      baseline_year=baseline_year, baseline_value=baseline_value, basis_note=note, custom=True)  # fmt: skip
    session.add(ind)
    session.flush()
    with audit.Changes(session, by, batch, park.id) as hist:
        hist.record("indicator", code, None, audit.values(ind, DEFINITION_FIELDS))
        for year, text in (targets or {}).items():
            op, value = parse_target_text(text, direction)
            t = m.IndicatorTarget(indicator_id=ind.id, year=year, comparator=op, value=value, text=text)
            session.add(t)
            hist.record("indicator_target", f"{code}|{year}", None, audit.values(t, TARGET_FIELDS))
        if baseline_year is not None and baseline_value is not None:
            report(session, code, baseline_year, baseline_value, source="baseline", by=by or "officer",
                   history=hist)  # fmt: skip
    session.flush()
    return ind
