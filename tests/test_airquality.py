"""Validity rules, annual statistics, composite index, water classes and noise — against the
standards' tables and the plan's figures."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from greenpark.core.airquality import (
    annual_mean_valid,
    composite_index,
    daily_max_8h,
    daily_mean,
    moving_8h_mean,
    percentile_hj663,
)
from greenpark.core.noise import noise_exceedance_db
from greenpark.core.water import section_class
from greenpark.data.environment import gb3095_in_force, gb3096_limits, gb3838_item


def test_daily_mean_needs_20_hours() -> None:
    # GB 3095 Table 4: 每日至少有20个小时平均浓度值
    h = np.full((2, 24), 30.0)
    h[0, :4] = np.nan  # 20 hours left: valid
    h[1, :5] = np.nan  # 19: invalid
    m, n = daily_mean(h)
    assert m[0] == 30.0 and np.isnan(m[1]) and list(n) == [20, 19]


def test_8h_mean_needs_6_hours() -> None:
    h = np.arange(1.0, 25.0)
    h[8:10] = np.nan  # window ending at hour 11 (hours 4..11) keeps 6 values: valid
    m, n = moving_8h_mean(h)
    assert n[11] == 6 and m[11] == pytest.approx(np.mean([5, 6, 7, 8, 11, 12]))
    h[10] = np.nan  # now 5 values: invalid
    m, n = moving_8h_mean(h)
    assert n[11] == 5 and np.isnan(m[11])


def test_daily_max_8h_uses_windows_within_the_day() -> None:
    h = np.full((1, 24), 60.0)
    h[0, 16:24] = 200.0  # the last window (16:00-24:00) averages 200
    m, w = daily_max_8h(h)
    assert m[0] == 200.0 and w[0] == 17


def test_percentile_formula() -> None:
    # HJ 663 Appendix A; worked example {2,3,4,4,5,8} P90 = 6.5; it is numpy's "linear" method
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 300, 365)
    for p in (90, 95, 98):
        assert percentile_hj663(x, p) == pytest.approx(float(np.percentile(x, p)))
    assert percentile_hj663(np.array([2, 3, 4, 4, 5, 8.0]), 90) == 6.5


def test_annual_validity() -> None:
    # GB 3095 Table 4: >= 324 daily values a year, >= 27 a month (>= 25 in February)
    days = np.array([date(2021, 1, 1).toordinal() + i for i in range(365)])
    months = np.array([date.fromordinal(int(d)).month for d in days])
    daily = np.full(365, 20.0)
    ok, per_month = annual_mean_valid(daily, months)
    assert ok and per_month[2] == 28
    daily[months == 2] = np.nan
    daily[np.flatnonzero(months == 2)[:25]] = 20.0  # February keeps 25: still valid
    assert annual_mean_valid(daily, months)[0]
    daily[np.flatnonzero(months == 3)[:5]] = np.nan  # March keeps 26 < 27: invalid
    assert not annual_mean_valid(daily, months)[0]


def test_plan_2020_composite_index() -> None:
    # The plan's 2020 station values (方案1.5 站点表) with GB 3095-2012 grade II denominators: about
    # 3.47 (issue 3), against the plan's stated 3.34.
    lim = gb3095_in_force(date(2020, 12, 31))
    s = {"pm25": lim[("pm25", "annual")].grade_2, "pm10": lim[("pm10", "annual")].grade_2, "o3_8h": lim[("o3", "8h_max")].grade_2,
         "no2": lim[("no2", "annual")].grade_2, "so2": lim[("so2", "annual")].grade_2, "co": lim[("co", "24h")].grade_2}  # fmt: skip
    total, parts = composite_index({"pm25": 31, "pm10": 53, "o3_8h": 140, "no2": 18, "so2": 9, "co": 1.4}, s)
    assert total == pytest.approx(3.47, abs=0.005)
    assert max(parts, key=parts.get) == "pm25"  # type: ignore[arg-type]


def test_gb3095_editions_by_date() -> None:
    # GB 3095-2012 grade II PM2.5 annual 35; GB 3095-2026 transition 30 (2026-03-01..2030), final 25
    assert gb3095_in_force(date(2025, 6, 1))[("pm25", "annual")].grade_2 == 35
    assert gb3095_in_force(date(2026, 6, 1))[("pm25", "annual")].grade_2 == 30
    assert gb3095_in_force(date(2031, 1, 1))[("pm25", "annual")].grade_2 == 25
    assert gb3095_in_force(date(2031, 1, 1))[("no2", "annual")].grade_2 == 30


def _items(
    body: str, names: list[str]
) -> dict[str, tuple[tuple[float, float, float, float, float], str, bool]]:
    out = {}
    for n in names:
        w = gb3838_item(n, body)
        out[n] = (w.limits, w.kind, w.evaluated)
    return out


def test_water_class_issue_example() -> None:
    # issue 3: CODMn 5.8, NH3-N 0.9, TP 0.12 in a river -> Class III
    r = section_class({"codmn": 5.8, "nh3n": 0.9, "tp": 0.12}, _items("river", ["codmn", "nh3n", "tp"]))
    assert r["class"] == "III" and set(r["worst"]) == {"codmn", "nh3n", "tp"}
    # the same TP in a lake is Class V (lake column 0.1 < 0.12 <= 0.2)
    lake = section_class({"codmn": 5.8, "nh3n": 0.9, "tp": 0.12}, _items("lake", ["codmn", "nh3n", "tp"]))
    assert lake["class"] == "V" and lake["worst"] == ["tp"]


def test_water_edges() -> None:
    items = _items("river", ["do", "ph", "nh3n"])
    assert section_class({"do": 7.5, "ph": 7, "nh3n": 0.15}, items)["class"] == "I"  # limits are inclusive
    assert section_class({"do": 1.9, "ph": 7, "nh3n": 0.15}, items)["class"] == "劣V"
    assert section_class({"do": 8, "ph": 9.2, "nh3n": 0.1}, items)["class"] == "劣V"


def test_noise_limits_and_plan_value() -> None:
    # GB 3096-2008 Table 1
    lim = gb3096_limits()
    assert {k: v[:2] for k, v in lim.items()} == {
        "0": (50, 40),
        "1": (55, 45),
        "2": (60, 50),
        "3": (65, 55),
        "4a": (70, 55),
        "4b": (70, 60),
    }
    # the plan's daytime mean 52.7 dB complies with a class-2 zone by 7.3 dB
    assert noise_exceedance_db(52.7, lim["2"][0]) == pytest.approx(-7.3)
