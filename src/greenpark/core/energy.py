"""Energy accounting: physical quantity -> energy (GJ) -> standard coal (tce).

Two conventions exist for electricity (and heat): the calorific equivalent 当量值, the energy the
kWh itself carries (0.1229 kgce/kWh), and the equal value 等价值, the primary energy spent to
generate it (the year's coal rate of power supply). Every total must say which it used.

References
----------
GB/T 2589-2020 综合能耗计算通则, clauses 3.6-3.8 and Appendix A (reference coefficients);
GB/T 2589-2008, Appendix A.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

from greenpark.core.units import GJ_PER_TCE

FloatOrArray = float | npt.NDArray[np.float64]

#: Calorific equivalent of electricity [kgce/kWh]: 3 600 kJ/kWh / 29 307.6 kJ/kgce = 0.1228...,
#: printed 0.1229 in GB/T 2589 Appendix A (860 kcal/kWh / 7 000 kcal/kgce).
ELECTRICITY_CALORIFIC_KGCE_PER_KWH = 0.1229

#: Calorific equivalent of heat [kgce/MJ], GB/T 2589 Appendix A (1 / 29.3076).
HEAT_CALORIFIC_KGCE_PER_MJ = 0.03412

#: Energy of one kilowatt-hour [GJ/kWh]: 3.6 MJ by definition of the kWh (SI Brochure, 9th ed.,
#: Table 8; GB/T 2589 Appendix A prints 3 600 kJ/kWh).
GJ_PER_KWH = 0.0036


class ElectricityConvention(StrEnum):
    """How electricity (and heat) are converted to standard coal."""

    CALORIFIC = "calorific"  # 当量值
    EQUAL_VALUE = "equal_value"  # 等价值

    @property
    def label_zh(self) -> str:
        return {"calorific": "当量值", "equal_value": "等价值"}[self.value]

    @property
    def label_en(self) -> str:
        return {"calorific": "calorific equivalent", "equal_value": "equal value"}[self.value]


def energy_gj_from_quantity(quantity: FloatOrArray, ncv_gj_per_unit: FloatOrArray) -> FloatOrArray:
    """Energy content of a fuel from its quantity and net calorific value.

    Parameters
    ----------
    quantity : float or array  [unit of the carrier, e.g. t or 10^4 m3]
    ncv_gj_per_unit : float or array  [GJ/unit]  net (low) calorific value 平均低位发热量

    Returns
    -------
    float or array  [GJ]

    References
    ----------
    GB/T 32150-2015, 附录 A, Eq. (A.2): AD_i = NCV_i x FC_i.

    Examples
    --------
    >>> energy_gj_from_quantity(1.0, 389.31)  # 10^4 m3 of natural gas
    389.31
    """
    return quantity * ncv_gj_per_unit


def tce_from_quantity(quantity: FloatOrArray, coefficient_tce_per_unit: FloatOrArray) -> FloatOrArray:
    """Standard coal of a quantity by its standard-coal coefficient (折标准煤系数).

    Parameters
    ----------
    quantity : float or array  [unit of the carrier]
    coefficient_tce_per_unit : float or array  [tce/unit]

    Returns
    -------
    float or array  [tce]

    References
    ----------
    GB/T 2589-2020, clause 4.3 and Appendix A.

    Examples
    --------
    >>> round(tce_from_quantity(100.0, 0.7143), 2)  # 100 t raw coal at 0.7143 kgce/kg
    71.43
    """
    return quantity * coefficient_tce_per_unit


def quantity_from_tce(energy_tce: FloatOrArray, coefficient_tce_per_unit: FloatOrArray) -> FloatOrArray:
    """Physical quantity behind a standard-coal figure, undoing :func:`tce_from_quantity`.

    Parameters
    ----------
    energy_tce : float or array  [tce]
    coefficient_tce_per_unit : float or array  [tce/unit]

    Returns
    -------
    float or array  [unit of the carrier]

    References
    ----------
    GB/T 2589-2020, clause 4.3 and Appendix A.

    Examples
    --------
    >>> round(quantity_from_tce(14.571, 1.4571), 6)  # t of diesel
    10.0
    """
    return energy_tce / coefficient_tce_per_unit


def tce_from_energy_gj(energy_gj: FloatOrArray) -> FloatOrArray:
    """Standard coal equivalent of an energy amount.

    Parameters
    ----------
    energy_gj : float or array  [GJ]

    Returns
    -------
    float or array  [tce]  using 1 kgce = 29 307.6 kJ

    References
    ----------
    GB/T 2589-2020, clause 3 (千克标准煤的定义).

    Examples
    --------
    >>> round(tce_from_energy_gj(29.3076), 12)
    1.0
    """
    return energy_gj / GJ_PER_TCE


def energy_gj_from_tce(energy_tce: FloatOrArray) -> FloatOrArray:
    """Energy of an amount of standard coal.

    Parameters
    ----------
    energy_tce : float or array  [tce]

    Returns
    -------
    float or array  [GJ]

    References
    ----------
    GB/T 2589-2020, clause 3.

    Examples
    --------
    >>> round(energy_gj_from_tce(161_400.0))
    4730247
    """
    return energy_tce * GJ_PER_TCE


def electricity_kwh_from_tce(
    energy_tce: FloatOrArray, coefficient_kgce_per_kwh: FloatOrArray
) -> FloatOrArray:
    """Electricity amount behind a standard-coal figure, undoing a kgce/kWh conversion.

    Statistical tables often report electricity only in tce; the kWh are recovered with the
    coefficient the table used (0.1229 for the calorific equivalent).

    Parameters
    ----------
    energy_tce : float or array  [tce]
    coefficient_kgce_per_kwh : float or array  [kgce/kWh]

    Returns
    -------
    float or array  [kWh]

    References
    ----------
    GB/T 2589-2020, Appendix A (电力 当量值 0.1229 kgce/kWh).

    Examples
    --------
    >>> round(electricity_kwh_from_tce(46_900.0, 0.1229) / 1e3)  # MWh
    381611
    """
    return energy_tce * 1_000.0 / coefficient_kgce_per_kwh


def electricity_tce(electricity_kwh: FloatOrArray, coefficient_kgce_per_kwh: FloatOrArray) -> FloatOrArray:
    """Standard coal of electricity under a convention's coefficient.

    Parameters
    ----------
    electricity_kwh : float or array  [kWh]
    coefficient_kgce_per_kwh : float or array  [kgce/kWh]  0.1229 (当量值) or the year's coal rate
        of power supply (等价值, about 0.30 around 2020)

    Returns
    -------
    float or array  [tce]

    References
    ----------
    GB/T 2589-2020, clauses 3.7 (当量值) and 3.8 (等价值), Appendix A.

    Examples
    --------
    >>> round(electricity_tce(1.0e7, 0.1229), 1)
    1229.0
    """
    return electricity_kwh * coefficient_kgce_per_kwh / 1_000.0


def energy_gj_from_electricity_kwh(electricity_kwh: FloatOrArray) -> FloatOrArray:
    """Energy carried by an amount of electricity (its calorific equivalent).

    Parameters
    ----------
    electricity_kwh : float or array  [kWh]

    Returns
    -------
    float or array  [GJ]

    References
    ----------
    GB/T 2589-2020, Appendix A (电力 3 600 kJ/kWh).

    Examples
    --------
    >>> energy_gj_from_electricity_kwh(1000.0)
    3.6
    """
    return electricity_kwh * GJ_PER_KWH


def share(part: FloatOrArray, total: FloatOrArray) -> FloatOrArray:
    """Fraction of a total.

    Parameters
    ----------
    part, total : float or array  [same unit]

    Returns
    -------
    float or array  [-]

    Examples
    --------
    >>> round(share(205_600.92, 231_770.84), 4)
    0.8871
    """
    return part / total


__all__ = [
    "ELECTRICITY_CALORIFIC_KGCE_PER_KWH",
    "GJ_PER_KWH",
    "HEAT_CALORIFIC_KGCE_PER_MJ",
    "ElectricityConvention",
    "electricity_kwh_from_tce",
    "electricity_tce",
    "energy_gj_from_electricity_kwh",
    "energy_gj_from_quantity",
    "energy_gj_from_tce",
    "quantity_from_tce",
    "share",
    "tce_from_energy_gj",
    "tce_from_quantity",
]
