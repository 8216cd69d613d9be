"""Intensities and rates of change: per-GDP and per-value-added intensities, growth rates, CAGR,
annual-average reduction rates and the rate required to reach a target.

References
----------
国科发火〔2021〕28号《国家高新区绿色发展专项行动实施方案》(indicators on industrial value added);
国家发展改革委《单位GDP二氧化碳排放降低目标责任考核评估办法》 (annual-average reduction rate).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatOrArray = float | npt.NDArray[np.float64]


def intensity(numerator: FloatOrArray, denominator: FloatOrArray) -> FloatOrArray:
    """An intensity: quantity per unit of economic output (e.g. tce per 10^4 yuan).

    Parameters
    ----------
    numerator : float or array  [e.g. tce or tCO2]
    denominator : float or array  [e.g. 10^4 yuan]

    Returns
    -------
    float or array  [numerator unit / denominator unit]

    Examples
    --------
    >>> round(intensity(231_770.84, 700_000.0), 3)
    0.331
    """
    return numerator / denominator


def growth_rate(value_start: FloatOrArray, value_end: FloatOrArray) -> FloatOrArray:
    """Relative change from one value to another.

    Parameters
    ----------
    value_start, value_end : float or array  [same unit]

    Returns
    -------
    float or array  [-]  (negative for a decline)

    Examples
    --------
    >>> round(growth_rate(0.719, 0.625), 4)
    -0.1307
    """
    return value_end / value_start - 1.0


def cagr(value_start: FloatOrArray, value_end: FloatOrArray, n_years: FloatOrArray) -> FloatOrArray:
    """Compound annual growth rate over ``n_years``.

    (V_T / V_0)^(1/n) - 1

    Parameters
    ----------
    value_start, value_end : float or array  [same unit]
    n_years : float or array  [year]

    Returns
    -------
    float or array  [1/year]

    Examples
    --------
    >>> round(cagr(193_810.04, 231_770.84, 2), 4)
    0.0936
    """
    return (value_end / value_start) ** (1.0 / n_years) - 1.0


def average_annual_reduction_rate(
    intensity_start: FloatOrArray, intensity_end: FloatOrArray, n_years: FloatOrArray
) -> FloatOrArray:
    """Annual-average reduction rate of an intensity (年均削减率/年均下降率).

    r = 1 - (I_T / I_0)^(1/n)

    Parameters
    ----------
    intensity_start : float or array  [any intensity unit]  I_0
    intensity_end : float or array  [same unit]  I_T
    n_years : float or array  [year]  T - t0

    Returns
    -------
    float or array  [1/year]  positive when the intensity falls

    References
    ----------
    国科发火〔2021〕28号 (单位工业增加值二氧化碳排放年均削减率 ≥ 4 %); NDRC carbon-intensity
    assessment method.

    Examples
    --------
    >>> round(average_annual_reduction_rate(1.0, 0.96 ** 5, 5), 6)
    0.04
    """
    return 1.0 - (intensity_end / intensity_start) ** (1.0 / n_years)


def required_annual_reduction_rate(
    current: FloatOrArray, target: FloatOrArray, n_years: FloatOrArray
) -> FloatOrArray:
    """Annual reduction rate needed to bring ``current`` down to ``target`` in ``n_years``.

    The same formula as :func:`average_annual_reduction_rate`, read forward.

    Parameters
    ----------
    current : float or array  [intensity unit]
    target : float or array  [same unit]
    n_years : float or array  [year]

    Returns
    -------
    float or array  [1/year]

    References
    ----------
    The plan's Table 3.3.1, indicator 1 note (每年至少下降 5.5%).

    Examples
    --------
    >>> round(required_annual_reduction_rate(0.396, 0.3, 5), 4)
    0.054
    """
    return average_annual_reduction_rate(current, target, n_years)


def relative_difference(value: FloatOrArray, reference: FloatOrArray) -> FloatOrArray:
    """Relative difference of ``value`` from ``reference``.

    Parameters
    ----------
    value, reference : float or array  [same unit]

    Returns
    -------
    float or array  [-]

    Examples
    --------
    >>> round(relative_difference(513_765.0, 513_900.0), 5)
    -0.00026
    """
    return (value - reference) / reference
