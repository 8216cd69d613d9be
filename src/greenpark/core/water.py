"""Surface-water quality class per GB 3838-2002 (single-factor evaluation).

References
----------
GB 3838-2002 地表水环境质量标准, Table 1; 《地表水环境质量评价办法（试行）》 环办〔2011〕22号
(section class = worst evaluated item; exceedance multiple against the Class III limit).
"""

from __future__ import annotations

import math

CLASSES = ("I", "II", "III", "IV", "V", "劣V")


def item_class(value: float, limits: tuple[float, float, float, float, float], kind: str) -> int:
    """Class index 0-5 (I … V, 劣V) of one item's concentration.

    Parameters
    ----------
    value : float  [mg/L; pH dimensionless]
    limits : five floats  [same unit]  the Class I-V limits of GB 3838 Table 1
    kind : {"max", "min", "range"}  "max": value ≤ limit (most items); "min": value ≥ limit
        (dissolved oxygen); "range": pH within 6-9 for every class

    Returns
    -------
    int  0 = Class I … 4 = Class V, 5 = worse than Class V

    References
    ----------
    GB 3838-2002, Table 1.

    Examples
    --------
    >>> item_class(0.9, (0.15, 0.5, 1.0, 1.5, 2.0), "max")  # NH3-N 0.9 mg/L
    2
    >>> item_class(4.0, (7.5, 6, 5, 3, 2), "min")  # DO 4 mg/L
    3
    >>> item_class(9.5, (6, 6, 6, 6, 6), "range")
    5
    """
    if math.isnan(value):
        raise ValueError("no value")
    if kind == "range":
        return 0 if 6.0 <= value <= 9.0 else 5
    for i, lim in enumerate(limits):
        if (kind == "max" and value <= lim) or (kind == "min" and value >= lim):
            return i
    return 5


def exceedance_multiple(value: float, limit: float) -> float:
    """超标倍数 = (C - C_s) / C_s against a limit (negative when within it).

    Parameters
    ----------
    value, limit : float  [mg/L]

    Returns
    -------
    float  [-]

    References
    ----------
    环办〔2011〕22号, §4.2 (超标倍数).

    Examples
    --------
    >>> round(exceedance_multiple(0.3, 0.2), 2)
    0.5
    """
    return (value - limit) / limit


def section_class(
    values: dict[str, float], items: dict[str, tuple[tuple[float, float, float, float, float], str, bool]]
) -> dict[str, object]:
    """Class of a section from its items' concentrations: the worst evaluated item decides.

    Parameters
    ----------
    values : item -> concentration  [mg/L; pH dimensionless]
    items : item -> (Class I-V limits, kind, evaluated)  from GB 3838 Table 1 (for total
        phosphorus, the river or lake column as the section requires)

    Returns
    -------
    dict with ``class`` (I … 劣V), ``items`` (item -> class), ``worst`` (items of the worst class,
    only evaluated ones).

    References
    ----------
    环办〔2011〕22号 §3.1 (断面水质类别 = 参评指标中类别最高的一项).

    Examples
    --------
    >>> items = {"nh3n": ((0.15, 0.5, 1.0, 1.5, 2.0), "max", True), "tp": ((0.02, 0.1, 0.2, 0.3, 0.4), "max", True)}
    >>> section_class({"nh3n": 0.9, "tp": 0.12}, items)["class"]
    'III'
    """
    classes = {k: item_class(v, items[k][0], items[k][1]) for k, v in values.items()}
    evaluated = {k: c for k, c in classes.items() if items[k][2]}
    if not evaluated:
        raise ValueError("no evaluated item given")
    worst = max(evaluated.values())
    return {
        "class": CLASSES[worst],
        "items": {k: CLASSES[c] for k, c in classes.items()},
        "worst": sorted(k for k, c in evaluated.items() if c == worst),
    }
