"""Indicator evaluation and reachability (可达性分析): pure functions over a series of yearly values.

Conventions: ``direction`` is ``"lower"`` (lower is better, e.g. an intensity) or ``"higher"``.
Rates are *improvement rates* per year: for a lower-is-better indicator the annual-average reduction
rate r = 1 − (V_T / V_0)^(1/n) (国科发火〔2021〕28号's 年均削减率), for a higher-is-better one the annual
growth rate g = (V_T / V_0)^(1/n) − 1. A positive rate always means "getting better".

References
----------
The plan's section 3.4 (reachability analysis) and Table 3.3.1 notes (e.g. "若到2025年达到0.3，则每年至少
下降5.5%"); 国科发火〔2021〕28号 for the annual-average reduction rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: How far (relative) an actual value may miss its target and still count as "at risk", not
#: "missed": binding (约束性) targets are held tighter than expected (预期性) ones.
AT_RISK_TOLERANCE = {"binding": 0.02, "expected": 0.05}


def meets(value: float, target: float, comparator: str) -> bool:
    """Whether ``value`` satisfies ``comparator target`` (one of < <= > >= =).

    >>> meets(0.37, 0.38, "<"), meets(343, 343, ">"), meets(0.30, 0.30, "<=")
    (True, False, True)
    """
    if comparator == "<":
        return value < target
    if comparator == "<=":
        return value <= target
    if comparator == ">":
        return value > target
    if comparator == ">=":
        return value >= target
    if comparator == "=":
        return math.isclose(value, target, rel_tol=1e-9)
    raise ValueError(f"unknown comparator {comparator!r}")


def target_status(value: float | None, target: float | None, comparator: str, kind: str) -> str:
    """``met`` when the value satisfies the target; ``at_risk`` when it misses by no more than
    :data:`AT_RISK_TOLERANCE` of the target (2 % binding, 5 % expected); ``missed`` beyond that;
    ``no_data`` without a value or a numeric target.

    >>> target_status(0.37, 0.38, "<", "binding"), target_status(0.385, 0.38, "<", "binding")
    ('met', 'at_risk')
    >>> target_status(0.40, 0.38, "<", "binding"), target_status(None, 0.38, "<", "binding")
    ('missed', 'no_data')
    """
    if value is None or target is None or (isinstance(value, float) and math.isnan(value)):
        return "no_data"
    if meets(value, target, comparator):
        return "met"
    tol = AT_RISK_TOLERANCE.get(kind, 0.02)
    return "at_risk" if abs(value - target) <= tol * abs(target) else "missed"


def improvement_rate(value_start: float, value_end: float, n_years: float, direction: str) -> float:
    """Annual-average improvement rate from ``value_start`` to ``value_end`` over ``n_years``.

    >>> round(improvement_rate(0.396, 0.3, 5, "lower"), 4)  # the plan: 每年至少下降 5.4–5.5 %
    0.054
    >>> round(improvement_rate(273, 450, 5, "higher"), 4)
    0.1051
    """
    if n_years <= 0 or value_start <= 0 or value_end <= 0:
        raise ValueError("rates need positive values and a positive number of years")
    ratio = float((value_end / value_start) ** (1.0 / n_years))
    return 1.0 - ratio if direction == "lower" else ratio - 1.0


def required_rate(latest: float, target: float, n_years: float, direction: str) -> float:
    """The improvement rate needed each year from ``latest`` to reach ``target`` in ``n_years``;
    0 when the target is already met.

    >>> required_rate(0.28, 0.3, 5, "lower")
    0.0
    """
    already = latest <= target if direction == "lower" else latest >= target
    if already:
        return 0.0
    return improvement_rate(latest, target, n_years, direction)


def required_change_per_year(latest: float, target: float, n_years: float, direction: str) -> float:
    """The absolute improvement needed each year (target − latest) / n, in the indicator's own unit
    (percentage points, count, m²), as the plan writes "每年至少新增30000m²"; 0 when already met.

    >>> round(required_change_per_year(69000, 250000, 6, "higher"))  # indicator 10: 2019 → 2025
    30167
    >>> round(required_change_per_year(273, 450, 5, "higher"), 1)  # indicator 11: 年均新增35-40家
    35.4
    >>> required_change_per_year(0.28, 0.3, 5, "lower")
    0.0
    """
    if n_years <= 0:
        raise ValueError("a positive number of years is needed")
    gap = (target - latest) if direction == "higher" else (latest - target)
    return max(0.0, gap / n_years)


def trend_rate(years: Sequence[float], values: Sequence[float], direction: str) -> float:
    """Improvement rate of the log-linear least-squares trend through the series
    (ln V = a + b·year; growth exp(b) − 1).

    >>> round(trend_rate([2016, 2017, 2018], [1.0, 0.9, 0.81], "lower"), 6)
    0.1
    """
    if len(years) < 2:
        raise ValueError("a trend needs at least two years")
    b = float(np.polyfit(np.asarray(years, dtype=float), np.log(np.asarray(values, dtype=float)), 1)[0])
    growth = math.exp(b) - 1.0
    return -growth if direction == "lower" else growth


def reach_probability(values: Sequence[float], target: float, n_years: int, direction: str,
                      n_paths: int = 10_000, seed: int = 2025) -> float | None:  # fmt: skip
    """Probability of reaching ``target`` after ``n_years`` if each future year's change is drawn
    (with replacement) from the historical year-on-year log changes: a bootstrap of the series' own
    spread. Seeded, so reproducible; None with fewer than two historical changes.

    The final value is ``latest × exp(Σ sampled changes)``; a constant change series gives 0 or 1.

    >>> reach_probability([1.0, 0.9, 0.81], 0.6, 3, "lower")  # keeps falling 10 %/yr: 0.59 by then
    1.0
    >>> reach_probability([1.0, 0.9, 0.81], 0.5, 3, "lower")
    0.0
    """
    v = np.asarray(values, dtype=float)
    if len(v) < 3 or np.any(v <= 0):
        return None
    changes = np.diff(np.log(v))
    rng = np.random.default_rng(seed)
    draws = rng.choice(changes, size=(n_paths, n_years), replace=True).sum(axis=1)
    final = v[-1] * np.exp(draws)
    ok = final <= target * (1 + 1e-12) if direction == "lower" else final >= target * (1 - 1e-12)
    return float(ok.mean())


def verdict(required: float, observed: float | None, probability: float | None) -> str:
    """``on_track`` when the observed rate is at least the required one (and, where a probability
    exists, it is at least 0.5); ``off_track`` when the observed rate is below half the required
    one or the probability is under 0.2; ``at_risk`` in between.

    >>> verdict(0.054, 0.06, 0.7), verdict(0.054, 0.04, 0.35), verdict(0.054, 0.01, None)
    ('on_track', 'at_risk', 'off_track')
    >>> verdict(0.0, None, None)
    'on_track'
    """
    if required <= 0:
        return "on_track"
    if observed is None:
        return "at_risk" if probability is None or probability >= 0.2 else "off_track"
    if observed >= required and (probability is None or probability >= 0.5):
        return "on_track"
    if observed < 0.5 * required or (probability is not None and probability < 0.2):
        return "off_track"
    return "at_risk"
