"""AQI against HJ 633's own tables (both editions), the edge rules, and python-aqi's known errors.

Oracle: exact rational arithmetic (fractions) applied to the tables' breakpoints — independent of
the numpy implementation — plus the HJ 633-2012 values in shared/research/hj212-and-env-standards.md
§3.6 (python-aqi vs the standard).
"""

from __future__ import annotations

import csv
import math
from datetime import date
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenpark.core.aqi import IAQI_LEVELS, aqi, aqi_arrays, edition_for, iaqi, iaqi_from_breakpoints
from greenpark.data.environment import ENV_DIR, aqi_categories, aqi_edition, aqi_editions

E12 = aqi_edition("2012")
E26 = aqi_edition("2026")
LEVELS = [0, 50, 100, 150, 200, 300, 400, 500]

# HJ 633-2012 Table 1 and HJ 633-2026 Table 3, typed in again here from the research note (§3.1,
# §3.2) so the data file is checked against an independent copy.
TABLE_2012 = {
    "so2_24h": [0, 50, 150, 475, 800, 1600, 2100, 2620], "so2_1h": [0, 150, 500, 650, 800],
    "no2_24h": [0, 40, 80, 180, 280, 565, 750, 940], "no2_1h": [0, 100, 200, 700, 1200, 2340, 3090, 3840],
    "pm10_24h": [0, 50, 150, 250, 350, 420, 500, 600], "co_24h": [0, 2, 4, 14, 24, 36, 48, 60],
    "co_1h": [0, 5, 10, 35, 60, 90, 120, 150], "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 160, 215, 265, 800], "pm25_24h": [0, 35, 75, 115, 150, 250, 350, 500],
}  # fmt: skip
TABLE_2026 = {
    **TABLE_2012,
    "pm10_24h": [0, 50, 120, 250, 350, 420, 500, 600],
    "pm25_24h": [0, 35, 60, 115, 150, 250, 350, 500],
}


def oracle(c: Fraction, bps: list[int]) -> int:
    """HJ 633 Formula (1) and §6.2 in exact arithmetic."""
    for i in range(len(bps) - 1):
        if bps[i] <= c <= bps[i + 1]:
            v = Fraction(LEVELS[i + 1] - LEVELS[i], bps[i + 1] - bps[i]) * (c - bps[i]) + LEVELS[i]
            return math.ceil(v)
    raise AssertionError("outside table")


@pytest.mark.parametrize(("edition", "table"), [(E12, TABLE_2012), (E26, TABLE_2026)])
def test_data_file_matches_the_standard(edition: object, table: dict[str, list[int]]) -> None:
    for ind, bps in table.items():
        got = edition.breakpoints[ind]  # type: ignore[attr-defined]
        assert [int(x) for x in got[~np.isnan(got)]] == bps, ind


@pytest.mark.parametrize(("edition", "table"), [(E12, TABLE_2012), (E26, TABLE_2026)])
def test_every_breakpoint_and_its_neighbours(edition: object, table: dict[str, list[int]]) -> None:
    for ind, bps in table.items():
        arr = np.array(bps + [np.nan] * (8 - len(bps)), dtype=float)
        # at each breakpoint the IAQI is the table's level; just above it the next integer
        for i, bp in enumerate(bps):
            assert int(iaqi_from_breakpoints(float(bp), arr)) == LEVELS[i], (ind, bp)
            if i + 1 < len(bps):
                step = Fraction(1, 10) if ind.startswith("co") else Fraction(1)
                above, below = Fraction(bp) + step, Fraction(bps[i + 1]) - step
                assert int(iaqi_from_breakpoints(float(above), arr)) == oracle(above, bps), (ind, above)
                assert int(iaqi_from_breakpoints(float(below), arr)) == oracle(below, bps), (ind, below)


@pytest.mark.parametrize(
    ("pollutant", "period", "conc", "expected"),
    # HJ 633-2012 with the ceiling, hj212-and-env-standards.md §3.6 (python-aqi gives 50, 51, 51, 50, 100, 100, 50)
    [("co", "day", 2.5, 63), ("co", "day", 3.0, 75), ("co", "day", 3.9, 98), ("pm25", "day", 35.4, 51),
     ("pm25", "day", 75.5, 101), ("pm10", "day", 150.9, 101), ("no2", "hour", 100.5, 51)],
)  # fmt: skip
def test_values_python_aqi_gets_wrong(pollutant: str, period: str, conc: float, expected: int) -> None:
    assert int(iaqi(pollutant, conc, E12, period)) == expected


def test_2026_rounds_concentrations_first() -> None:
    # HJ 633-2026 §4.2: integers (GB/T 8170, half to even) and one decimal for CO
    assert int(iaqi("pm25", 35.4, E26)) == 50  # 35.4 -> 35
    assert int(iaqi("pm25", 35.5, E26)) == 52  # 35.5 -> 36 (half to even) -> 50 + 50 x 1/25
    assert int(iaqi("pm25", 36.5, E26)) == 52  # 36.5 -> 36 (half to even)
    assert int(iaqi("pm25", 34.5, E26)) == 49  # 34.5 -> 34 -> ceil(50 x 34/35)
    assert int(iaqi("co", 2.05, E26)) == 50  # 2.05 -> 2.0 (half to even)


def test_special_rules_each_edition() -> None:
    # SO2 1-h above 800: 2012 falls back to the 24-h value; 2026 gives 200
    assert math.isnan(float(iaqi("so2", 900, E12, "hour")))
    assert int(iaqi("so2", 900, E12, "hour", so2_24h=160)) == oracle(Fraction(160), TABLE_2012["so2_24h"])
    assert int(iaqi("so2", 900, E26, "hour")) == 200
    # O3 8-h above 800: 2012 uses the 1-h value; 2026 gives 300
    assert int(iaqi("o3_8h", 900, E12, "day", o3_1h=1100)) == 450
    assert int(iaqi("o3_8h", 900, E26, "day")) == 300
    # above the top of any other table: capped at 500
    assert int(iaqi("pm25", 600, E12)) == 500


def test_aqi_primary_category_and_edition() -> None:
    cats = aqi_categories()
    r = aqi({"pm25": 75.5, "pm10": 150.9, "co": 3.9}, E12)
    d = r.as_dict(cats)
    assert d["aqi"] == 101 and d["primary"] == ["pm25", "pm10"]  # ties: all are primary
    assert d["category"] == {"level": 3, "zh": "轻度污染", "en": "Lightly polluted", "color": "#FF7E00"}
    assert d["edition"] == "HJ 633-2012"
    low = aqi({"pm25": 20, "pm10": 30}, E12)
    assert low.aqi == 30 and low.primary == []  # no primary pollutant when AQI <= 50
    # 2026 daily report has no O3 1-h indicator
    assert "o3" not in aqi({"o3": 250, "pm25": 20}, E26).iaqi


def test_categories_as_the_standard() -> None:
    # HJ 633-2012 Table 2 colours (RGB)
    with (ENV_DIR / "aqi_categories.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rgb = {int(r["level"]): r["color"] for r in rows}
    assert rgb == {1: "#00E400", 2: "#FFFF00", 3: "#FF7E00", 4: "#FF0000", 5: "#99004C", 6: "#7E0023"}


def test_edition_follows_the_date() -> None:
    eds = list(aqi_editions())
    assert edition_for(date(2026, 2, 28), eds).name == "HJ 633-2012"
    assert edition_for(date(2026, 3, 1), eds).name == "HJ 633-2026"


@given(st.floats(0, 600), st.floats(0, 600))
def test_iaqi_is_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    for e in (E12, E26):
        assert iaqi("pm25", lo, e) <= iaqi("pm25", hi, e)


@given(st.lists(st.floats(0, 400), min_size=3, max_size=3))
def test_aqi_is_max_iaqi_and_vector_equals_scalar(v: list[float]) -> None:
    vals = {"pm25": v[0], "pm10": v[1], "no2": v[2]}
    s = aqi(vals, E26)
    arr = aqi_arrays({k: np.array([x, x]) for k, x in vals.items()}, E26)
    assert s.aqi == max(s.iaqi.values()) == int(arr["aqi"][1])
    assert all(int(arr["iaqi"][k][0]) == s.iaqi[k] for k in vals)


def test_levels_constant() -> None:
    assert list(IAQI_LEVELS) == LEVELS
