"""CO2 from energy use: fuel combustion and purchased electricity and heat.

C = C_combustion + C_purchased_electricity (+ C_purchased_heat), the plan's 2.4 formula, which is
GB/T 32150-2015 Eq. (1) without process emissions, exports and recovery.

References
----------
GB/T 32150-2015 工业企业温室气体排放核算和报告通则, 6.5 and Appendix A;
省级温室气体清单编制指南（试行）(2011), 第一章 能源活动;
IPCC 2006 Guidelines, Vol. 2, Ch. 2, Eq. 2.1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from greenpark.core.units import CO2_PER_C

FloatOrArray = float | npt.NDArray[np.float64]


def co2_combustion_t(
    energy_gj: FloatOrArray,
    carbon_content_tc_per_tj: FloatOrArray,
    oxidation_fraction: FloatOrArray,
) -> FloatOrArray:
    """CO2 from burning a fuel, by carbon content and oxidation rate.

    E = AD x CC x OF x 44/12, with AD the fuel's energy (FC x NCV).

    Parameters
    ----------
    energy_gj : float or array  [GJ]  activity data (fuel quantity x NCV)
    carbon_content_tc_per_tj : float or array  [tC/TJ]  单位热值含碳量
    oxidation_fraction : float or array  [-]  碳氧化率 (0.99 = 99 %)

    Returns
    -------
    float or array  [tCO2]

    References
    ----------
    GB/T 32150-2015, Appendix A, Eqs. (A.1)-(A.3); the plan's Table 2.4.5 note
    (燃烧量 x 平均低位发热量 x 单位热值含碳量 x 碳氧化率 x 44/12).

    Examples
    --------
    1 TJ of natural gas at 15.3 tC/TJ and 99 % oxidation:

    >>> round(co2_combustion_t(1000.0, 15.3, 0.99), 3)
    55.539
    """
    return energy_gj / 1_000.0 * carbon_content_tc_per_tj * oxidation_fraction * CO2_PER_C


def co2_from_emission_factor_t(energy_gj: FloatOrArray, ef_kgco2_per_tj: FloatOrArray) -> FloatOrArray:
    """CO2 from burning a fuel, by a CO2 emission factor per unit of energy.

    Parameters
    ----------
    energy_gj : float or array  [GJ]
    ef_kgco2_per_tj : float or array  [kgCO2/TJ]

    Returns
    -------
    float or array  [tCO2]

    References
    ----------
    IPCC 2006 Guidelines, Vol. 2, Ch. 2, Eq. 2.1 (Tier 1) with Table 2.2 defaults.

    Examples
    --------
    >>> round(co2_from_emission_factor_t(1000.0, 56_100.0), 1)
    56.1
    """
    return energy_gj / 1_000.0 * ef_kgco2_per_tj / 1_000.0


def co2_purchased_electricity_t(
    electricity_mwh: FloatOrArray, grid_factor_tco2_per_mwh: FloatOrArray
) -> FloatOrArray:
    """Indirect CO2 of purchased electricity (location-based).

    Parameters
    ----------
    electricity_mwh : float or array  [MWh]
    grid_factor_tco2_per_mwh : float or array  [tCO2/MWh]  grid average emission factor

    Returns
    -------
    float or array  [tCO2]

    References
    ----------
    GB/T 32150-2015, Eq. (A.5); NDRC《2011年和2012年中国区域电网平均二氧化碳排放因子》.

    Examples
    --------
    >>> round(co2_purchased_electricity_t(381_611.0, 0.5257))
    200613
    """
    return electricity_mwh * grid_factor_tco2_per_mwh


def co2_purchased_heat_t(heat_gj: FloatOrArray, ef_tco2_per_gj: FloatOrArray) -> FloatOrArray:
    """Indirect CO2 of purchased heat.

    Parameters
    ----------
    heat_gj : float or array  [GJ]
    ef_tco2_per_gj : float or array  [tCO2/GJ]  (NDRC industry guidelines default 0.11)

    Returns
    -------
    float or array  [tCO2]

    References
    ----------
    GB/T 32150-2015, Eq. (A.6).

    Examples
    --------
    >>> co2_purchased_heat_t(100.0, 0.11)
    11.0
    """
    return heat_gj * ef_tco2_per_gj


def co2_factor_from_carbon_content_kg_per_tj(
    carbon_content_tc_per_tj: FloatOrArray, oxidation_fraction: FloatOrArray = 1.0
) -> FloatOrArray:
    """CO2 emission factor implied by a carbon content and oxidation rate.

    Parameters
    ----------
    carbon_content_tc_per_tj : float or array  [tC/TJ]
    oxidation_fraction : float or array  [-]

    Returns
    -------
    float or array  [kgCO2/TJ]

    References
    ----------
    IPCC 2006 Guidelines, Vol. 2, Ch. 1, Table 1.4 (EF = CC x 44/12 with oxidation 1).

    Examples
    --------
    >>> round(co2_factor_from_carbon_content_kg_per_tj(15.3))
    56100
    """
    return carbon_content_tc_per_tj * oxidation_fraction * CO2_PER_C * 1_000.0
