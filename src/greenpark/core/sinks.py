"""Forest carbon sinks: biomass carbon by the IPCC stock-difference and gain–loss methods.

Carbon in tree biomass [tC] of a stand of area A [ha] and growing-stock volume V [m³/ha]:
``C = A × V × D × BEF × (1 + R) × CF`` (D basic wood density [t d.m./m³], BEF biomass expansion
factor [-], R root–shoot ratio [-], CF carbon fraction [tC/t d.m.]). A sink is a positive removal
of CO₂: ``ΔC × 44/12`` [tCO₂/yr]. Bamboo and economic (orchard) forest have no growing-stock
volume in the Chinese forest inventory; their annual removals are screened with a per-area rate.

References
----------
IPCC 2006 Guidelines, Vol. 4, Ch. 2: Eq. 2.7 (gain–loss), Eq. 2.8 (stock-difference), Eqs. 2.9–2.10
(annual increase in biomass carbon, G_W = I_V × D × BEF), Eq. 2.12 (loss by wood removals),
Eq. 2.14 (loss by disturbance); Ch. 4, Tables 4.3–4.4 (carbon fraction, root–shoot ratios).
国家发展改革委 AR-CM-001-V01《碳汇造林项目方法学》(2013), the same biomass equation
``C = 44/12 × Σ A × V × WD × BEF × (1+R) × CF``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from greenpark.core.units import CO2_PER_C

FloatOrArray = float | npt.NDArray[np.float64]


def biomass_carbon_tc(area_ha: FloatOrArray, volume_m3_per_ha: FloatOrArray, wood_density_t_per_m3: FloatOrArray,
                      bef: FloatOrArray, root_shoot: FloatOrArray, carbon_fraction: FloatOrArray) -> FloatOrArray:  # fmt: skip
    """Carbon in above- and below-ground tree biomass of a stand.

    C = A × V × D × BEF × (1 + R) × CF

    Parameters
    ----------
    area_ha : float or array  [ha]
    volume_m3_per_ha : float or array  [m³/ha] growing stock
    wood_density_t_per_m3 : float or array  [t d.m./m³]
    bef : float or array  [-] biomass expansion factor (stem → above-ground)
    root_shoot : float or array  [-]
    carbon_fraction : float or array  [tC/t d.m.]

    Returns
    -------
    float or array  [tC]

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eq. 2.8 with the biomass of Eq. 2.10; AR-CM-001-V01.

    Examples
    --------
    >>> round(biomass_carbon_tc(1.0, 100.0, 0.5, 1.5, 0.2, 0.5), 6)  # 100 × 0.5 × 1.5 × 1.2 × 0.5
    45.0
    """
    return area_ha * volume_m3_per_ha * wood_density_t_per_m3 * bef * (1.0 + root_shoot) * carbon_fraction


def stock_difference_tc_per_yr(carbon_t1_tc: FloatOrArray, carbon_t2_tc: FloatOrArray, year_1: FloatOrArray,
                               year_2: FloatOrArray) -> FloatOrArray:  # fmt: skip
    """Annual change in biomass carbon between two inventories: ΔC = (C_t2 − C_t1) / (t2 − t1).

    Parameters
    ----------
    carbon_t1_tc, carbon_t2_tc : float or array  [tC]
    year_1, year_2 : float or array  [year]

    Returns
    -------
    float or array  [tC/yr]; positive when the stock grows

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eq. 2.8.

    Examples
    --------
    >>> stock_difference_tc_per_yr(1000.0, 1500.0, 2020, 2025)
    100.0
    """
    return (carbon_t2_tc - carbon_t1_tc) / (year_2 - year_1)


def biomass_gain_tc_per_yr(area_ha: FloatOrArray, increment_m3_per_ha_yr: FloatOrArray,
                           wood_density_t_per_m3: FloatOrArray, bef: FloatOrArray, root_shoot: FloatOrArray,
                           carbon_fraction: FloatOrArray) -> FloatOrArray:  # fmt: skip
    """Annual increase in biomass carbon from growth: ΔC_G = A × I_V × D × BEF × (1 + R) × CF.

    Parameters
    ----------
    area_ha : float or array  [ha]
    increment_m3_per_ha_yr : float or array  [m³/(ha·yr)] net annual volume increment
    wood_density_t_per_m3, bef, root_shoot, carbon_fraction : as in :func:`biomass_carbon_tc`

    Returns
    -------
    float or array  [tC/yr]

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eqs. 2.9 and 2.10 (G_TOTAL = I_V × BCEF_I × (1 + R),
    BCEF_I = D × BEF).

    Examples
    --------
    >>> round(biomass_gain_tc_per_yr(100.0, 5.0, 0.38, 1.39, 0.167, 0.4596), 3)  # Masson pine-like
    141.651
    """
    return biomass_carbon_tc(
        area_ha, increment_m3_per_ha_yr, wood_density_t_per_m3, bef, root_shoot, carbon_fraction
    )


def wood_removal_loss_tc_per_yr(harvest_m3_per_yr: FloatOrArray, wood_density_t_per_m3: FloatOrArray,
                                bef: FloatOrArray, root_shoot: FloatOrArray, carbon_fraction: FloatOrArray,
                                ) -> FloatOrArray:  # fmt: skip
    """Annual carbon loss by wood removals: L = H × D × BEF × (1 + R) × CF.

    Parameters
    ----------
    harvest_m3_per_yr : float or array  [m³/yr] of round wood (stem volume) removed
    wood_density_t_per_m3, bef, root_shoot, carbon_fraction : as in :func:`biomass_carbon_tc`

    Returns
    -------
    float or array  [tC/yr]

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eq. 2.12 (with BCEF_R = D × BEF).

    Examples
    --------
    >>> round(wood_removal_loss_tc_per_yr(100.0, 0.5, 1.5, 0.2, 0.5), 6)
    45.0
    """
    return biomass_carbon_tc(1.0, harvest_m3_per_yr, wood_density_t_per_m3, bef, root_shoot, carbon_fraction)


def disturbance_loss_tc_per_yr(area_disturbed_ha: FloatOrArray, biomass_t_per_ha: FloatOrArray,
                               root_shoot: FloatOrArray, carbon_fraction: FloatOrArray,
                               fraction_lost: FloatOrArray) -> FloatOrArray:  # fmt: skip
    """Annual carbon loss by disturbance (fire, pests, storms): L = A × B_W × (1 + R) × CF × f_d.

    Parameters
    ----------
    area_disturbed_ha : float or array  [ha/yr]
    biomass_t_per_ha : float or array  [t d.m./ha] above-ground biomass of the area
    root_shoot, carbon_fraction : as in :func:`biomass_carbon_tc`
    fraction_lost : float or array  [-]

    Returns
    -------
    float or array  [tC/yr]

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eq. 2.14.

    Examples
    --------
    >>> round(disturbance_loss_tc_per_yr(10.0, 100.0, 0.2, 0.5, 0.5), 6)
    300.0
    """
    return area_disturbed_ha * biomass_t_per_ha * (1.0 + root_shoot) * carbon_fraction * fraction_lost


def gain_loss_tc_per_yr(gain_tc_per_yr: FloatOrArray, loss_tc_per_yr: FloatOrArray) -> FloatOrArray:
    """Annual change in biomass carbon by the gain–loss method: ΔC = ΔC_G − ΔC_L.

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, Eq. 2.7.

    Examples
    --------
    >>> gain_loss_tc_per_yr(141.6, 41.6)
    100.0
    """
    return gain_tc_per_yr - loss_tc_per_yr


def area_rate_removal_tco2_per_yr(area_ha: FloatOrArray, rate_tco2_per_ha_yr: FloatOrArray) -> FloatOrArray:
    """Screening estimate of annual removals from an area and a per-area rate (bamboo, orchards).

    Parameters
    ----------
    area_ha : float or array  [ha]
    rate_tco2_per_ha_yr : float or array  [tCO₂/(ha·yr)]

    Returns
    -------
    float or array  [tCO₂/yr]

    References
    ----------
    ``shared/research/carbon-methods.md`` §3.4 (per-ha rates for screening only).

    Examples
    --------
    >>> area_rate_removal_tco2_per_yr(100.0, 18.7)
    1870.0
    """
    return area_ha * rate_tco2_per_ha_yr


def removal_tco2(carbon_change_tc: FloatOrArray) -> FloatOrArray:
    """CO₂ removed [t] for a gain in carbon [tC]: ΔC × 44/12 (positive = a sink).

    References
    ----------
    IPCC 2006 Guidelines Vol. 4, Ch. 2, section 2.2 (CO₂ = C × 44/12, removals as negative emissions).

    Examples
    --------
    >>> round(removal_tco2(12.0), 6)
    44.0
    """
    return carbon_change_tc * CO2_PER_C
