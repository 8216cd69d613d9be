"""Write the demo park's ILLUSTRATIVE continuation 2021-2025 (see README.md beside this file).

The plan's data stop at 2020. So that every page of the demo can be explored for the plan period,
this script extends the published 2020 figures along plausible paths and writes them as CSV files
in the formats of the demo's own data; ``greenpark demo`` loads them, marked illustrative on every
row. Real data replace them by import. Nothing here is published, measured or reported.

Run from the repository root (it rewrites the CSV files beside it; the output is deterministic)::

    .venv/bin/python src/greenpark/data/demo/xianning/continuation/generate.py

Inputs are the published figures of the demo (``../activity.csv``, ``../economic.csv``,
``../indicators.csv``, ``../air_quality_annual.csv``); the assumptions are the constants below.
The project progress reports (``project_progress.csv``) are written by hand, not by this script.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PLAN = HERE.parent
SEED = 2021
YEARS = (2021, 2022, 2023, 2024, 2025)
BASE = 2020
#: Every row's source: greenpark's marker for illustrative data (pages and the API test for
#: "illustrative" in a record's source).
SOURCE = "illustrative continuation 2021-2025 (greenpark demo; not published) 示意性延续数据"

# --- economy: nominal growth per year (current prices, as the 2020 figures) -----------------------
#: The core area's GDP grows as the roadmap presets assume (data/scenarios/baseline.yaml: 10 %/yr
#: 2021-2025); its above-scale industry a little faster; the whole park at about its 2017-2020
#: pace (方案1.3(一): GDP 年均增长6.3%).
GROWTH = {
    ("zone:core", "gdp"): 0.10,
    ("zone:core", "above_scale_industrial_value_added"): 0.11,
    ("park", "gdp"): 0.065,
    ("park", "industrial_value_added"): 0.07,
    ("park", "above_scale_gross_output"): 0.075,
}
GROWTH_SD = 0.01  # year-to-year spread of growth [1/yr]

# --- energy -----------------------------------------------------------------------------------
#: Indicator 1a (core, above-scale industry, tce/10^4 yuan): 0.396 in 2020 to about the plan's
#: 0.30 in 2025 (表3.3.1: "每年至少下降5.5%").
CORE_INTENSITY_2025 = 0.300
#: Indicator 1b (whole park, industry, tce/10^4 yuan): 0.625 in 2020; the heavy industry of the
#: four parks (power, building materials, metallurgy) falls more slowly than the plan's 0.30.
PARK_INTENSITY_2025 = 0.45
INTENSITY_SD = 0.012  # year-to-year spread of an intensity [-]
#: Other sectors of the core area, energy growth per year.
CORE_SECTOR_GROWTH = {"transport": 0.035, "commercial": 0.03, "residential": 0.0}
#: Core area carrier shares (of energy, calorific) in 2025; 2020 is 方案2.4(一)2. Linear between.
CORE_MIX_2025 = {"natural_gas": 0.635, "electricity": 0.275}  # oil products: the rest
#: Whole-park above-scale carrier shares in 2025 (2020: Table 6.1.1); coal gives way to
#: electricity and gas. Linear between; the small oil carriers keep their 2020 shares.
PARK_MIX_2025 = {"raw_coal": 0.38, "natural_gas": 0.245}  # electricity: the rest
#: The four parks' shares of the whole park's industry outside the core area (energy and value
#: added). The plan gives no per-park figures at all; these shares are made up.
PARK_SHARES = {"chibi": 0.40, "jiayu": 0.30, "xianan": 0.18, "tongcheng": 0.12}

# --- reported indicators: value / target per year (t2021..t2025 of indicators.csv) ------------
#: Some on track, some not, so that the traffic lights show every colour.
ATTAINMENT = {
    "6": (1.0, 1.0, 1.0, 1.0, 1.0),  # forest cover: held just above 52.7 (see FOREST_COVER)
    "7": (0.985, 0.97, 0.955, 0.935, 0.905),  # R&D share falls behind the steep path
    "8": (1.0, 1.0, 1.026, 1.024, 1.022),  # innovation platforms: on track
    "9": (1.04, 0.975, 0.98, 0.975, 0.96),  # technology contracts: just short
    "10": (0.96, 0.93, 0.92, 0.925, 0.915),  # incubator area: behind
    "11": (1.017, 1.018, 1.019, 1.02, 1.027),  # high-tech enterprises: ahead
    "12": (0.985, 0.99, 0.985, 0.98, 0.965),  # high-tech share of GDP: a little short
}
FOREST_COVER = (52.8, 52.9, 52.9, 53.0, 53.1)  # % (2020: 52.7, 表3.3.1 指标6)
#: Indicators without a numeric target: the reuse rate (3, target 待环保局确认) and the
#: reduction of main pollutants (4, target 完成下达目标).
UNTARGETED = {"3": (16.0, 18.5, 21.0, 23.0, 25.0), "4": (3.2, 2.9, 3.4, 3.0, 3.1)}
INTEGER_INDICATORS = ("8", "11")

# --- enterprises: monthly bills of some key polluters (the plan has no enterprise energy at all) --
#: Made-up yearly electricity [10^4 kWh] and natural gas [10^4 m3] of the first enterprises of
#: 表1.5.3 in 2023 (codes as the demo gives them), so that an enterprise's own pages and the
#: enterprise breakdowns have months to show. The core area's own totals stay the core's figure
#: (the inventory takes the most direct level that has data), so nothing is counted twice.
ENTERPRISE_YEARS = (2023, 2024, 2025)
ENTERPRISE_2023 = {
    "E01": (1800.0, 300.0),  # 湖北福人金身药业 (pharmaceuticals: steam from gas boilers)
    "E02": (620.0, 0.0),  # 咸宁浦华高新水务 (wastewater treatment: pumps and blowers)
    "E03": (950.0, 150.0),  # 湖北惠生药业
    "E04": (2400.0, 480.0),  # 红牛维他命饮料（湖北）
    "E05": (1500.0, 210.0),  # 今麦郎饮品
    "E06": (820.0, 120.0),  # 湖北奥瑞金饮料
    "E07": (640.0, 45.0),  # 金士达医疗（咸宁）
    "E08": (1250.0, 30.0),  # 湖北奕宏精密制造
}
ENTERPRISE_GROWTH = 0.03  # per year [-]
MONTH_SD = 0.03  # month-to-month spread [-]
SPRING_FESTIVAL = {2023: 1, 2024: 2, 2025: 1}  # the month of the holiday (output drops ~20 %)

# --- air: the operating (provincial) station, annual change per year --------------------------
STATION = "高新区省控站(示意)"
#: Annual change of each statistic from the last published year (2020, 长江产业园): a slow
#: improvement; ozone drifts up, as it has across China.
AIR_TREND = {"pm25": -0.03, "pm10": -0.025, "o3": 0.005, "no2": -0.02, "so2": -0.04, "co": -0.03}
AIR_SD = 0.04  # weather: year-to-year spread [-]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
            n += 1
    return n


def _path(start: float, end: float, rng: np.random.Generator, sd: float) -> list[float]:
    """Geometric path from ``start`` (2020) to ``end`` (2025), each year multiplied by a seeded
    lognormal factor of spread ``sd`` (so 2025 lands near ``end``, not on it)."""
    rate = (end / start) ** (1 / len(YEARS))
    return [start * rate ** (k + 1) * float(np.exp(rng.normal(0.0, sd))) for k in range(len(YEARS))]


def _grow(start: float, growth: float, rng: np.random.Generator) -> list[float]:
    out, v = [], start
    for _ in YEARS:
        v *= 1 + growth + float(rng.normal(0.0, GROWTH_SD))
        out.append(v)
    return out


def _lerp(a: float, b: float, k: int) -> float:
    """Linear from ``a`` (2020) to ``b`` (2025), year index ``k`` (0 = 2021)."""
    return a + (b - a) * (k + 1) / len(YEARS)


def economy_and_energy(rng: np.random.Generator) -> tuple[list[list[object]], list[list[object]]]:
    act = _rows(PLAN / "activity.csv")
    eco = _rows(PLAN / "economic.csv")

    def a(entity: str, sector: str, boundary: str, carrier: str = "") -> float:
        return sum(
            float(r["energy_tce"])
            for r in act
            if (r["entity"], r["year"], r["sector"], r["boundary"], r["carrier"])
            == (entity, str(BASE), sector, boundary, carrier)
        )

    def e(entity: str, indicator: str) -> float:
        return next(
            float(r["value_10k_yuan"])
            for r in eco
            if (r["entity"], r["year"], r["indicator"]) == (entity, str(BASE), indicator)
        )

    econ = {k: _grow(e(*k), g, rng) for k, g in GROWTH.items()}
    core_above0 = a("zone:core", "industry", "above_scale")
    core_ind0 = a("zone:core", "industry", "all")
    core_i = _path(
        core_above0 / e("zone:core", "above_scale_industrial_value_added"),
        CORE_INTENSITY_2025,
        rng,
        INTENSITY_SD,
    )
    park_ind0 = a("park", "industry", "all")
    park_above0 = a("park", "industry", "above_scale")
    park_i = _path(park_ind0 / e("park", "industrial_value_added"), PARK_INTENSITY_2025, rng, INTENSITY_SD)
    core_mix0 = {
        c: a("zone:core", "", "all", c) / a("zone:core", "", "all") for c in ("natural_gas", "electricity")
    }
    park_carriers = ("raw_coal", "natural_gas", "gasoline", "diesel", "kerosene", "electricity")
    park_c0 = {c: a("park", "industry", "above_scale", c) for c in park_carriers}
    park_mix0 = {c: v / sum(park_c0.values()) for c, v in park_c0.items()}

    activity: list[list[object]] = []
    economic: list[list[object]] = []

    def act_row(
        entity: str, year: int, sector: str, boundary: str, carrier: str, tce: float, note: str
    ) -> None:
        activity.append(
            [
                entity,
                year,
                "",
                sector,
                boundary,
                carrier,
                "",
                "",
                f"{tce:.2f}",
                "calorific",
                SOURCE,
                "estimated",
                note,
            ]
        )

    def eco_row(entity: str, year: int, indicator: str, value: float, note: str) -> None:
        economic.append([entity, year, indicator, f"{round(value, -2):.0f}", "current", SOURCE, note])

    for k, y in enumerate(YEARS):
        # the core area: above-scale industry from indicator 1a's path, the rest of industry in
        # its 2020 proportion, the other sectors growing, carriers shifting towards electricity
        above = core_i[k] * econ[("zone:core", "above_scale_industrial_value_added")][k]
        industry = above * core_ind0 / core_above0
        sectors = {"industry": industry}
        for s, g in CORE_SECTOR_GROWTH.items():
            sectors[s] = a("zone:core", s, "all") * (1 + g) ** (k + 1)
        total = sum(round(v, 2) for v in sectors.values())
        note_core = (
            f"示意：规上工业增加值×单位增加值能耗（{core_i[k]:.3f} tce/万元，2020年0.396→2025年约0.30）"
            f" / illustrative: above-scale value added × an intensity path 0.396 (2020) → about 0.30 (2025)"
        )
        act_row("zone:core", y, "", "all", "", total, "示意：各部门之和 / illustrative: sum of the sectors")
        for s, v in sectors.items():
            act_row(
                "zone:core",
                y,
                s,
                "all",
                "",
                v,
                note_core
                if s == "industry"
                else f"示意：按2020年外推（年增{100 * CORE_SECTOR_GROWTH[s]:g}%）"
                f" / illustrative: 2020 extrapolated at {100 * CORE_SECTOR_GROWTH[s]:g} %/yr",
            )
        gas = _lerp(core_mix0["natural_gas"], CORE_MIX_2025["natural_gas"], k) * total
        elec = _lerp(core_mix0["electricity"], CORE_MIX_2025["electricity"], k) * total
        mix_note = (
            "示意：能源结构由2020年（方案2.4(一)2）逐年向电力、天然气调整 / illustrative: the 2020 mix"
            " shifted year by year towards electricity"
        )
        act_row("zone:core", y, "", "all", "natural_gas", gas, mix_note)
        act_row("zone:core", y, "", "all", "electricity", elec, mix_note)
        act_row("zone:core", y, "", "all", "oil_products", total - round(gas, 2) - round(elec, 2), mix_note)
        act_row("zone:core", y, "industry", "above_scale", "", above, note_core)
        # the whole park: industry from indicator 1b's path; above-scale in its 2020 proportion;
        # above-scale carriers (Table 6.1.1's) summing to it, coal giving way to electricity
        iva = econ[("park", "industrial_value_added")][k]
        p_ind = park_i[k] * iva
        p_above = p_ind * park_above0 / park_ind0
        note_park = (
            f"示意：工业增加值×单位增加值能耗（{park_i[k]:.3f} tce/万元，2020年0.625→2025年约0.45）"
            f" / illustrative: industrial value added × an intensity path 0.625 (2020) → about 0.45 (2025)"
        )
        act_row("park", y, "industry", "all", "", p_ind, note_park)
        act_row(
            "park",
            y,
            "industry",
            "above_scale",
            "",
            p_above,
            "示意：按2020年规上占比（表2.4.1）/ illustrative: the 2020 above-scale share of industry (Table 2.4.1)",
        )
        shares = {c: park_mix0[c] for c in ("gasoline", "diesel", "kerosene")}
        shares |= {c: _lerp(park_mix0[c], PARK_MIX_2025[c], k) for c in PARK_MIX_2025}
        shares["electricity"] = 1 - sum(shares.values())
        carrier_tce = {c: round(shares[c] * p_above, 2) for c in park_carriers}
        carrier_tce["electricity"] = round(
            round(p_above, 2) - sum(v for c, v in carrier_tce.items() if c != "electricity"), 2
        )
        for c in park_carriers:
            act_row(
                "park",
                y,
                "industry",
                "above_scale",
                c,
                carrier_tce[c],
                "示意：表6.1.1结构逐年由煤向电力、天然气调整，合计等于规上工业能耗 / illustrative: Table 6.1.1's mix"
                " shifted from coal towards electricity and gas; sums to above-scale industry",
            )
        # the four parks: the park's industry outside the core area, split by made-up shares
        rest_tce = p_ind - industry
        rest_va = iva - econ[("zone:core", "above_scale_industrial_value_added")][k]
        for z, share in PARK_SHARES.items():
            note_z = (
                f"示意：一区四园工业扣除核心区后按{100 * share:g}%分配（方案无分园数据）"
                f" / illustrative: {100 * share:g} % of the park's industry outside the core (the plan gives no per-park figures)"
            )
            act_row(f"zone:{z}", y, "industry", "all", "", share * rest_tce, note_z)
            eco_row(f"zone:{z}", y, "industrial_value_added", share * rest_va, note_z)
        for (entity, indicator), values in econ.items():
            g = GROWTH[(entity, indicator)]
            eco_row(
                entity,
                y,
                indicator,
                values[k],
                f"示意：2020年数值按年增约{100 * g:g}%外推 / illustrative: 2020 grown at about {100 * g:g} %/yr",
            )
    return activity, economic


def indicator_values(rng: np.random.Generator) -> list[list[object]]:
    out: list[list[object]] = []
    note = "示意：目标附近的虚构值，非部门报送 / illustrative: made up near the target, not reported"
    for r in _rows(PLAN / "indicators.csv"):
        code = r["seq"] + r["variant"]
        if code in ATTAINMENT:
            for k, y in enumerate(YEARS):
                target = float(r[f"t{y}"].lstrip("<>="))
                v = (
                    FOREST_COVER[k]
                    if code == "6"
                    else target * ATTAINMENT[code][k] * (1 + rng.normal(0, 0.002))
                )
                value: float = round(v) if code in INTEGER_INDICATORS or target >= 100 else round(v, 2)
                if target >= 1000:
                    value = int(round(v, -2))
                out.append([code, y, value, SOURCE, note])
        elif code in UNTARGETED:
            for k, y in enumerate(YEARS):
                out.append(
                    [
                        code,
                        y,
                        UNTARGETED[code][k],
                        SOURCE,
                        "示意：虚构值（方案无数值目标），非部门报送 / illustrative: made up (no numeric target), not reported",
                    ]
                )
    return out


def air_annual(rng: np.random.Generator) -> list[list[object]]:
    last = _rows(PLAN / "air_quality_annual.csv")[-1]
    assert last["year"] == str(BASE)
    out: list[list[object]] = []
    cols = {
        "pm25": "pm25_ug_m3",
        "pm10": "pm10_ug_m3",
        "o3": "o3_ug_m3",
        "no2": "no2_ug_m3",
        "so2": "so2_ug_m3",
        "co": "co_mg_m3",
    }
    for k, y in enumerate(YEARS):
        row: list[object] = [STATION, y]
        for p, c in cols.items():
            v = float(last[c]) * (1 + AIR_TREND[p]) ** (k + 1) * float(np.exp(rng.normal(0, AIR_SD)))
            row.append(round(v, 1) if p == "co" else round(v))
        row.append(
            SOURCE + "; 2020年长江产业园站（方案1.5(二)）逐年外推 / 2020 values of 长江产业园 extrapolated"
        )
        out.append(row)
    return out


def enterprise_months(rng: np.random.Generator) -> list[list[object]]:
    """Monthly electricity and gas of the enterprises of ENTERPRISE_2023: the year's quantity
    spread over the months with a summer peak for electricity (cooling), a winter one for gas
    (heating and boilers), a dip in the Spring Festival month, and seeded noise."""
    out: list[list[object]] = []
    for code, (elec, gas) in ENTERPRISE_2023.items():
        for k, year in enumerate(ENTERPRISE_YEARS):
            grow = (1 + ENTERPRISE_GROWTH) ** k
            for month in range(1, 13):
                season = np.cos(2 * np.pi * (month - 7.5) / 12)
                holiday = 0.8 if month == SPRING_FESTIVAL[year] else 1.0
                for carrier, yearly, unit, shape in (
                    ("electricity", elec, "10^4 kWh", 1 + 0.12 * season),
                    ("natural_gas", gas, "10^4 m3", 1 - 0.25 * season),
                ):
                    if not yearly:
                        continue
                    q = yearly * grow / 12 * shape * holiday * float(np.exp(rng.normal(0.0, MONTH_SD)))
                    note = "示意：企业月度账单（虚构） / illustrative: a made-up monthly bill"
                    out.append(
                        [f"enterprise:{code}", year, month, "industry", "all", carrier, f"{q:.2f}", unit,
                         "", "", SOURCE, "estimated", note]
                    )  # fmt: skip
    return out


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def main() -> int:
    rng = np.random.default_rng(SEED)
    activity, economic = economy_and_energy(rng)
    activity += enterprise_months(np.random.default_rng(SEED + 1))
    n = _write(HERE / "activity.csv", _header(PLAN / "activity.csv"), activity)
    n += _write(HERE / "economic.csv", _header(PLAN / "economic.csv"), economic)
    n += _write(
        HERE / "indicator_values.csv", ("code", "year", "value", "source", "note"), indicator_values(rng)
    )
    n += _write(HERE / "air_quality_annual.csv", _header(PLAN / "air_quality_annual.csv"), air_annual(rng))
    sys.stdout.write(f"wrote {n} illustrative rows to {HERE}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
