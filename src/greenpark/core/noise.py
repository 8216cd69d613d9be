"""Environmental noise compliance per GB 3096-2008.

References
----------
GB 3096-2008 声环境质量标准, Table 1 (环境噪声限值, 等效声级 L_Aeq, dB(A)); §5.3 day 06:00-22:00,
night 22:00-06:00.
"""

from __future__ import annotations


def noise_exceedance_db(leq_db: float, limit_db: float) -> float:
    """How far an equivalent level exceeds its limit [dB(A)] (≤ 0: complies).

    Parameters
    ----------
    leq_db : float  [dB(A)]  equivalent continuous A-weighted level L_Aeq
    limit_db : float  [dB(A)]  the zone's day or night limit

    Returns
    -------
    float  [dB(A)]

    References
    ----------
    GB 3096-2008, Table 1.

    Examples
    --------
    >>> noise_exceedance_db(52.7, 60)  # the plan's daytime mean against a class-2 zone
    -7.3
    """
    return round(leq_db - limit_db, 10)


def period_of_hour(hour: int) -> str:
    """'day' for 06:00-22:00, 'night' otherwise (GB 3096-2008 §3.3 and §3.4).

    Examples
    --------
    >>> period_of_hour(6), period_of_hour(22)
    ('day', 'night')
    """
    return "day" if 6 <= hour < 22 else "night"
