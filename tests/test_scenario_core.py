"""The pure scenario model: paths, shares, RAS, the accounting identity, peak/plateau/neutrality,
Monte Carlo draws and perturbations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenpark.core import scenario as core

YEARS = np.arange(2020, 2031)


def test_path_kinds() -> None:
    g = core.path(YEARS, 100.0, {"growth": {2021: 0.10, 2026: 0.05}})
    assert (
        g[1] == pytest.approx(110)
        and g[5] == pytest.approx(100 * 1.1**5)
        and g[6] == pytest.approx(100 * 1.1**5 * 1.05)
    )
    t = core.path(YEARS, 0.5, {"targets": {2025: 0.3, 2030: 0.3}})
    assert (
        t[0] == 0.5
        and t[5] == pytest.approx(0.3)
        and t[2] == pytest.approx(0.42)
        and t[-1] == pytest.approx(0.3)
    )
    held = core.path(YEARS, 1.0, {"targets": {2025: 2.0}})
    assert held[-1] == 2.0  # held after the last target
    v = core.path(YEARS, 9.0, {"values": {2020: 1.0, 2030: 11.0}})
    assert v.tolist() == pytest.approx(list(range(1, 12)))  # a base-year value replaces the base
    assert core.path(YEARS, 3.0, None).tolist() == [3.0] * len(YEARS)
    with pytest.raises(core.PathError, match="exactly one"):
        core.path(YEARS, 1.0, {"growth": {2021: 0.1}, "targets": {2030: 1}}, "drivers.gdp")
    with pytest.raises(core.PathError, match=r"drivers.gdp.growth.2040: outside 2020–2030"):
        core.path(YEARS, 1.0, {"growth": {2040: 0.1}}, "drivers.gdp")
    with pytest.raises(core.PathError, match="above −100"):
        core.path(YEARS, 1.0, {"growth": {2021: -1.5}})


@given(st.floats(-0.2, 0.3), st.floats(1, 1e6))
def test_a_constant_growth_path_compounds(rate: float, base: float) -> None:
    p = core.path(YEARS, base, {"growth": {2021: rate}})
    assert p[-1] == pytest.approx(base * (1 + rate) ** 10, rel=1e-12)


def test_shares_keep_the_free_categories_in_proportion() -> None:
    s = core.shares([0.2, 0.5, 0.3], {0: np.array([0.2, 0.6, 1.0])})
    assert s.sum(axis=-1) == pytest.approx([1, 1, 1])
    assert s[1, 1] / s[1, 2] == pytest.approx(0.5 / 0.3)  # the others keep their mix
    assert s[2].tolist() == pytest.approx([1, 0, 0])
    # a category that did not exist in the base year (hydrogen) takes its share from the others
    h = core.shares([0.5, 0.5, 0.0], {2: np.array([0.0, 0.1])})
    assert h[1].tolist() == pytest.approx([0.45, 0.45, 0.1])
    with pytest.raises(core.PathError, match="more than 1"):
        core.shares([0.5, 0.5], {0: np.array([0.7]), 1: np.array([0.6])})
    with pytest.raises(core.PathError, match="leaves 0–1"):
        core.shares([0.5, 0.5], {0: np.array([1.2])})


def test_ras_meets_both_margins_and_keeps_zeros() -> None:
    # the Xianning core area: sectors (industry, transport, commercial) × carriers (electricity, gas, oil),
    # totals of Table 2.4.3 and section 2.4(一)2; transport uses only oil, commerce no oil
    prior = np.array([[1, 1, 1], [0, 0, 1], [1, 1, 0]], dtype=float)
    rows = np.array([205600.92, 23177.08, 2992.84])
    cols = np.array([46900.0, 161400.0, 23470.84])
    x = core.ras(prior, rows, cols)
    assert x.sum(axis=1) == pytest.approx(rows) and x.sum(axis=0) == pytest.approx(cols)
    assert x[1, 0] == 0 and x[1, 1] == 0 and x[2, 2] == 0 and x[1, 2] == pytest.approx(23177.08)
    with pytest.raises(ValueError, match="differ"):
        core.ras(prior, rows, cols * 2)
    with pytest.raises(ValueError, match="no allowed cell"):
        core.ras(np.array([[1, 0], [1, 0]]), [1, 1], [1, 1])


def _inputs(n: int = 1, t: int = 3) -> core.Inputs:
    return core.Inputs(
        years=np.arange(2020, 2020 + t), sectors=("industry", "transport"), carriers=("natural_gas", "electricity"),
        value_added_10k_yuan=np.full((n, t), 1000.0), sector_share=np.broadcast_to([0.8, 0.2], (n, t, 2)).copy(),
        energy_intensity_tce_per_10k_yuan=np.broadcast_to([0.5, 0.2], (n, t, 2)).copy(),
        carrier_share=np.broadcast_to([[0.6, 0.4], [1.0, 0.0]], (n, t, 2, 2)).copy(),
        co2_t_per_tce=np.broadcast_to([1.6, 4.0], (n, t, 2)).copy(), local_renewables_mwh=np.zeros((n, t)),
        capture_share=np.zeros((n, t, 2, 2)), sinks_tco2=np.full((n, t), 100.0),
        coal_rate_kgce_per_kwh=np.full((n, t), 0.3),
    )  # fmt: skip


def test_the_accounting_identity() -> None:
    p = core.project(_inputs())
    # industry 1000×0.8×0.5 = 400 tce (240 gas, 160 electricity); transport 1000×0.2×0.2 = 40 tce gas
    assert p.energy_tce[0, 0] == pytest.approx(np.array([[240, 160], [40, 0]]))
    assert p.co2_total_t[0, 0] == pytest.approx(240 * 1.6 + 160 * 4.0 + 40 * 1.6)
    assert p.net_co2_t[0, 0] == pytest.approx(p.co2_total_t[0, 0] - 100)
    # equal value: electricity 160 tce calorific = 1301.9 MWh, at 0.3 kgce/kWh = 390.56 tce
    assert p.energy_equal_value_tce[0, 0] == pytest.approx(280 + 160 / 0.1229 * 0.3)
    inp = _inputs()
    local = core.Inputs(**{**inp.__dict__, "local_renewables_mwh": np.full((1, 3), 160 / 0.1229 / 2)})
    half = core.project(local)
    assert half.purchased_share[0, 0] == pytest.approx(0.5)
    assert half.co2_total_t[0, 0] == pytest.approx(240 * 1.6 + 80 * 4.0 + 40 * 1.6)  # half the grid CO2
    captured = core.project(core.Inputs(**{**inp.__dict__, "capture_share": np.full((1, 3, 2, 2), 0.25)}))
    assert captured.captured_t[0, 0] == pytest.approx(0.25 * p.co2_total_t[0, 0])


def test_peak_plateau_and_neutrality_conventions() -> None:
    y = np.arange(2020, 2030)
    rising = np.arange(10, 20, dtype=float)
    s = core.peak_statistics(y, rising, rising)
    assert (int(s.peak_year[0]), bool(s.peaked[0]), int(s.neutral_year[0])) == (
        2029,
        False,
        -1,
    )  # the last year is no peak
    flat_tie = np.array([1, 5, 5, 4, 3, 2, 1, 1, 1, 1], dtype=float)
    s = core.peak_statistics(y, flat_tie, np.array([3, 7, 7, 6, 5, 0, -1, 1, 1, 1]))
    assert int(s.peak_year[0]) == 2021 and not s.peaked[0]  # a tie later is not lower: not peaked
    assert (int(s.plateau_first[0]), int(s.plateau_last[0])) == (2021, 2022)
    assert int(s.neutral_year[0]) == 2025  # the first year with net ≤ 0
    sharp = np.array([1, 2, 10, 5, 4, 3, 2, 1, 0.5, 0.2])
    s = core.peak_statistics(y, sharp, sharp, delta=0.03)
    assert bool(s.peaked[0]) and int(s.plateau_first[0]) == -1  # a peak year alone is no plateau
    band = np.array([90, 97.5, 100, 99, 98, 97, 96, 90, 80, 70], dtype=float)
    s = core.peak_statistics(y, np.vstack([band, band]), np.vstack([band, band - 200]), delta=0.03)
    assert s.plateau_first.tolist() == [2021, 2021] and s.plateau_last.tolist() == [2025, 2025]
    assert s.neutral_year.tolist() == [-1, 2020]


def test_draws_and_perturbations() -> None:
    rng = np.random.default_rng(7)
    for d in ({"dist": "normal", "mean": 0.01, "sd": 0}, {"dist": "triangular", "low": 0.01, "mode": 0.01, "high": 0.01},
              {"dist": "uniform", "low": 0.01, "high": 0.01}):  # fmt: skip
        assert core.draw(d, 5, rng).tolist() == [0.01] * 5  # degenerate distributions are exact
    x = core.draw(
        {"dist": "triangular", "low": -0.02, "mode": 0.0, "high": 0.01}, 20000, np.random.default_rng(1)
    )
    assert x.min() >= -0.02 and x.max() <= 0.01 and x.mean() == pytest.approx(-0.01 / 3, abs=5e-4)
    a = core.draw({"dist": "normal", "mean": 0, "sd": 1}, 10, np.random.default_rng(3))
    b = core.draw({"dist": "normal", "mean": 0, "sd": 1}, 10, np.random.default_rng(3))
    assert a.tolist() == b.tolist()  # seeded: reproducible
    p = np.array([1.0, 2.0, 4.0])
    assert (core.perturb_growth(p, np.zeros(3)) == p).all() and (core.perturb_scale(p, np.ones(3)) == p).all()
    with pytest.raises(core.PathError, match="normal, triangular or uniform"):
        core.draw({"dist": "lognormal"}, 1, rng)
    with pytest.raises(core.PathError, match="low ≤ mode ≤ high"):
        core.draw({"dist": "triangular", "low": 1, "mode": 0, "high": 2}, 1, rng)
