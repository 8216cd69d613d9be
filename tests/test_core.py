"""Core formulas against numbers from outside greenpark: the standards' tables, the plan's
published figures and the independent reconstruction in shared/research/carbon-methods.md §6."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenpark.core import carbon, energy, intensity, units


class TestUnits:
    def test_kgce_definition(self) -> None:
        # GB/T 2589-2020 clause 3: 1 kgce = 7 000 kcal = 29 307.6 kJ (4.1868 kJ/kcal).
        assert pytest.approx(7000 * 4.1868) == units.KJ_PER_KGCE
        assert pytest.approx(29.3076) == units.GJ_PER_TCE

    @pytest.mark.parametrize(
        ("value", "frm", "to", "expected"),
        [
            (1.0, "10^4 kWh", "MWh", 10.0),
            (389.31, "GJ", "TJ", 0.38931),
            (2.5, "10^4 m3", "m3", 25_000.0),
            (51.39, "10^4 tCO2", "tCO2", 513_900.0),
        ],
    )
    def test_convert(self, value: float, frm: str, to: str, expected: float) -> None:
        assert units.convert(value, frm, to) == pytest.approx(expected)

    def test_incompatible_units_raise(self) -> None:
        with pytest.raises(units.UnitError):
            units.convert(1.0, "t", "m3")
        with pytest.raises(units.UnitError):
            units.convert(1.0, "furlong", "m3")

    def test_rate_conversion(self) -> None:
        # The plan prints 38 931 kJ/m3; the provincial guideline prints 389.31 GJ/10^4 m3.
        assert 38_931 * units.rate_conversion_factor("kJ/m3", "GJ/10^4 m3") == pytest.approx(389.31)
        # The plan's "5.257 per 10^4 kWh" is the NDRC 2012 Central China 0.5257 tCO2/MWh.
        assert 5.257 * units.rate_conversion_factor("tCO2/10^4 kWh", "tCO2/MWh") == pytest.approx(0.5257)

    @given(
        st.floats(min_value=1e-6, max_value=1e12, allow_nan=False),
        st.sampled_from([u for u, (d, _) in units.UNITS.items() if d == "electricity"]),
        st.sampled_from([u for u, (d, _) in units.UNITS.items() if d == "electricity"]),
    )
    def test_round_trip_is_identity(self, x: float, a: str, b: str) -> None:
        assert units.convert(units.convert(x, a, b), b, a) == pytest.approx(x, rel=1e-12)


class TestEnergy:
    def test_electricity_calorific_equivalent(self) -> None:
        # GB/T 2589 Appendix A: 3 600 kJ/kWh over 29 307.6 kJ/kgce, printed 0.1229 kgce/kWh.
        assert pytest.approx(energy.ELECTRICITY_CALORIFIC_KGCE_PER_KWH, abs=1e-4) == 3_600 / units.KJ_PER_KGCE

    def test_heat_calorific_equivalent(self) -> None:
        # GB/T 2589 Appendix A: 0.03412 kgce/MJ = 1 / 29.3076.
        assert pytest.approx(energy.HEAT_CALORIFIC_KGCE_PER_MJ, abs=1e-5) == 1 / units.GJ_PER_TCE

    def test_tce_energy_round_trip(self) -> None:
        x = np.array([0.0, 1.0, 161_400.0])
        np.testing.assert_allclose(energy.tce_from_energy_gj(energy.energy_gj_from_tce(x)), x)

    def test_electricity_from_tce(self) -> None:
        # carbon-methods.md §6: 46 900 tce / 0.1229 kgce/kWh = 381 611 MWh.
        assert energy.electricity_kwh_from_tce(46_900.0, 0.1229) / 1e3 == pytest.approx(381_611, abs=1)

    def test_share_plan_figures(self) -> None:
        # The plan, 2.4: industry 205 600.92 of 231 770.84 tce is 88.71 %.
        assert energy.share(205_600.92, 231_770.84) == pytest.approx(0.8871, abs=5e-5)


class TestCarbon:
    @pytest.mark.parametrize(
        ("cc", "ef_published"),
        # IPCC 2006 Vol.2 Ch.1 Table 1.4 (natural gas 56 100, motor gasoline 69 300) and the plan's
        # Table 2.4.5 (kerosene 71 867, diesel 74 067) — each equals CC x 44/12 x 1000.
        [(15.3, 56_100), (18.9, 69_300), (19.6, 71_867), (20.2, 74_067)],
    )
    def test_co2_factor_from_carbon_content(self, cc: float, ef_published: float) -> None:
        assert carbon.co2_factor_from_carbon_content_kg_per_tj(cc) == pytest.approx(ef_published, abs=1)

    def test_plan_2020_core_reconstruction(self) -> None:
        # carbon-methods.md §6 (independent grid-search script): NG 262 713 t, electricity
        # 200 613 t, oil products as diesel 50 439 t, total 513 765 t; tolerance 1 t (rounding).
        ng = carbon.co2_combustion_t(energy.energy_gj_from_tce(161_400.0), 15.3, 0.99)
        el = carbon.co2_purchased_electricity_t(
            energy.electricity_kwh_from_tce(46_900.0, 0.1229) / 1e3, 0.5257
        )
        oil = carbon.co2_combustion_t(energy.energy_gj_from_tce(23_470.84), 20.2, 0.99)
        assert ng == pytest.approx(262_713, abs=1)
        assert el == pytest.approx(200_613, abs=1)
        assert oil == pytest.approx(50_439, abs=1)
        total = ng + el + oil
        assert total == pytest.approx(513_765, abs=1)
        # and the plan's published 51.39万 t within 0.5 % (the plan rounds to 4 figures)
        assert abs(total - 513_900) / 513_900 < 0.005

    def test_ef_and_cc_paths_agree_when_consistent(self) -> None:
        gj = np.array([1_000.0, 5_000.0])
        a = carbon.co2_combustion_t(gj, 15.3, 1.0)
        b = carbon.co2_from_emission_factor_t(gj, 56_100.0)
        np.testing.assert_allclose(a, b, rtol=1e-4)

    def test_heat(self) -> None:
        assert carbon.co2_purchased_heat_t(1_000.0, 0.11) == pytest.approx(110.0)


class TestIntensity:
    def test_plan_intensities(self) -> None:
        # Table 2.4.2 / 2.4.4 / 2.4.1 against the plan's printed 0.331, 0.396, 0.625 (3 decimals).
        assert intensity.intensity(231_770.84, 700_000) == pytest.approx(0.331, abs=5e-4)
        assert intensity.intensity(200_460.90, 506_800) == pytest.approx(0.396, abs=5e-4)
        assert intensity.intensity(2_112_452.31, 3_380_000) == pytest.approx(0.625, abs=5e-4)

    def test_cagr_plan(self) -> None:
        # The plan: core energy grew 9.36 %/yr 2018-2020; park industry fell 1.76 %/yr.
        assert intensity.cagr(193_810.04, 231_770.84, 2) == pytest.approx(0.0936, abs=5e-5)
        assert intensity.cagr(2_188_630.94, 2_112_452.31, 2) == pytest.approx(-0.0176, abs=5e-5)

    def test_most_four_percent(self) -> None:
        # carbon-methods.md §5: r >= 4 %/yr over 2020-2025 <=> I_2025 <= 0.8154 I_2020.
        assert intensity.average_annual_reduction_rate(1.0, 0.8154, 5) == pytest.approx(0.04, abs=1e-4)

    def test_required_rate_issue_figure(self) -> None:
        # Issue: from 0.396 to 0.3 in five years needs about 5.4 %/yr (the plan rounded up to 5.5 %).
        r = intensity.required_annual_reduction_rate(0.396, 0.3, 5)
        assert 0.053 <= r <= 0.055
        assert r == pytest.approx(0.054, abs=5e-4)

    def test_growth_rate_plan(self) -> None:
        # The plan: 0.719 -> 0.625 is a 13.07 % fall.
        assert intensity.growth_rate(0.719, 0.625) == pytest.approx(-0.1307, abs=5e-5)

    @given(st.floats(0.01, 100), st.floats(0.01, 100), st.integers(1, 40))
    def test_reduction_rate_inverts(self, i0: float, it: float, n: int) -> None:
        r = intensity.average_annual_reduction_rate(i0, it, n)
        assert i0 * (1 - r) ** n == pytest.approx(it, rel=1e-9)

    def test_arrays(self) -> None:
        out = intensity.cagr(np.array([1.0, 2.0]), np.array([2.0, 2.0]), 1)
        np.testing.assert_allclose(out, [1.0, 0.0])
        assert math.isnan(float(intensity.intensity(np.float64(1.0), np.float64(np.nan))))
