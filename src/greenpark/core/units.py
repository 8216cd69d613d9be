"""Physical units used by energy and carbon accounting, and exact conversions between them.

The set of units is closed and small (the units Chinese energy statistics report in), so the
conversions are an explicit table rather than a general unit system. Each unit maps to a
dimension and a factor to that dimension's base unit.

References
----------
GB/T 2589-2020 综合能耗计算通则, 3 (definition of 千克标准煤: 29 307.6 kJ, i.e. 7 000 kcal at
4.1868 kJ/kcal).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

#: Low heating value of one kilogram of standard coal [kJ/kgce]: 7 000 kcal x 4.1868 kJ/kcal.
#: GB/T 2589-2020 clause 3 (2008 edition prints the rounded 29 307 kJ).
KJ_PER_KGCE: Final = 29_307.6

#: Energy of one tonne of standard coal [GJ/tce].
GJ_PER_TCE: Final = KJ_PER_KGCE / 1_000.0

#: Mass ratio of CO2 to C [-] (molar masses 44.0095 / 12.011, rounded to 44/12 as every
#: Chinese and IPCC guideline does).
CO2_PER_C: Final = 44.0 / 12.0

#: unit -> (dimension, factor to the dimension's base unit)
#: Bases: mass kg, volume m3, energy GJ, electricity kWh, standard coal tce, carbon tC,
#: CO2 tCO2, money 10^4 yuan, ratio 1.
UNITS: Final[dict[str, tuple[str, float]]] = {
    "kg": ("mass", 1.0),
    "t": ("mass", 1_000.0),
    "10^4 t": ("mass", 1.0e7),
    "m3": ("volume", 1.0),
    "10^4 m3": ("volume", 1.0e4),
    "10^8 m3": ("volume", 1.0e8),
    "kJ": ("energy", 1.0e-6),
    "MJ": ("energy", 1.0e-3),
    "GJ": ("energy", 1.0),
    "TJ": ("energy", 1.0e3),
    "kWh": ("electricity", 1.0),
    "MWh": ("electricity", 1.0e3),
    "10^4 kWh": ("electricity", 1.0e4),
    "GWh": ("electricity", 1.0e6),
    "10^8 kWh": ("electricity", 1.0e8),
    "kgce": ("coal_equivalent", 1.0e-3),
    "tce": ("coal_equivalent", 1.0),
    "10^4 tce": ("coal_equivalent", 1.0e4),
    "kgC": ("carbon", 1.0e-3),
    "tC": ("carbon", 1.0),
    "kgCO2": ("co2", 1.0e-3),
    "tCO2": ("co2", 1.0),
    "10^4 tCO2": ("co2", 1.0e4),
    "10^4 yuan": ("money", 1.0),
    "10^8 yuan": ("money", 1.0e4),
    "yuan": ("money", 1.0e-4),
    "-": ("ratio", 1.0),
    "%": ("ratio", 1.0e-2),
}


class UnitError(ValueError):
    """A unit is unknown, or two units do not share a dimension."""


def dimension(unit: str) -> str:
    """Return the dimension of ``unit`` (mass, volume, energy, electricity, coal_equivalent).

    Examples
    --------
    >>> dimension("10^4 m3")
    'volume'
    """
    try:
        return UNITS[unit][0]
    except KeyError:
        raise UnitError(f"unknown unit {unit!r}; known: {', '.join(UNITS)}") from None


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Return the factor that converts a value in ``from_unit`` to ``to_unit``.

    Examples
    --------
    >>> conversion_factor("10^4 kWh", "MWh")
    10.0
    """
    dim_from, f_from = UNITS.get(from_unit, (None, 0.0))
    dim_to, f_to = UNITS.get(to_unit, (None, 0.0))
    if dim_from is None:
        raise UnitError(f"unknown unit {from_unit!r}")
    if dim_to is None:
        raise UnitError(f"unknown unit {to_unit!r}")
    if dim_from != dim_to:
        raise UnitError(f"cannot convert {from_unit!r} ({dim_from}) to {to_unit!r} ({dim_to})")
    return f_from / f_to


def convert(
    value: float | npt.NDArray[np.float64], from_unit: str, to_unit: str
) -> float | npt.NDArray[np.float64]:
    """Convert ``value`` from ``from_unit`` to ``to_unit`` (same dimension only).

    Examples
    --------
    >>> convert(1.0, "10^4 tce", "tce")
    10000.0
    """
    return value * conversion_factor(from_unit, to_unit)


def rate_conversion_factor(from_rate: str, to_rate: str) -> float:
    """Return the factor converting a ratio unit ``a/b`` into ``c/d`` (e.g. kgce/kg -> tce/t).

    Examples
    --------
    >>> round(rate_conversion_factor("kgce/kWh", "tce/10^4 kWh"), 6)
    10.0
    >>> round(20_908 * rate_conversion_factor("kJ/kg", "GJ/t"), 6)  # raw coal NCV
    20.908
    """
    if from_rate == to_rate:
        return 1.0
    if "/" not in from_rate and "/" not in to_rate:
        return conversion_factor(from_rate, to_rate)
    num_f, den_f = _split_rate(from_rate)
    num_t, den_t = _split_rate(to_rate)
    return conversion_factor(num_f, num_t) / conversion_factor(den_f, den_t)


def _split_rate(rate: str) -> tuple[str, str]:
    if rate.count("/") != 1:
        raise UnitError(f"a rate unit is 'numerator/denominator', got {rate!r}")
    num, den = rate.split("/")
    return num.strip(), den.strip()
