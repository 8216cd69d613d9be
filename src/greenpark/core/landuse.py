"""Land-use intensity (亩均效益): per-mu figures and a configurable A/B/C/D class. Pure.

References
----------
The plan's section 4.1: new industrial projects at least 3 000 000 yuan/mu investment
(300 万元/亩) and, after production starts, at least 250 000 yuan/mu tax (25 万元/亩); "三年清零" of
idle land. The A–D grading is a common provincial practice (亩均效益综合评价); its thresholds here
are settings, not published numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The plan's thresholds [10^4 yuan/mu].
INVESTMENT_PER_MU_MIN = 300.0
TAX_PER_MU_MIN = 25.0


def per_mu(value: float | None, land_mu: float) -> float | None:
    """A figure per mu of land (None when the figure is unknown).

    >>> per_mu(6000, 20), per_mu(None, 20)
    (300.0, None)
    """
    if land_mu <= 0:
        raise ValueError("land area must be positive")
    return None if value is None else value / land_mu


@dataclass(frozen=True)
class Grading:
    """Classes by tax per mu as a share of the plan's 25 万元/亩: A ≥ a, B ≥ b, C ≥ c, else D; an
    enterprise below the investment threshold drops one class (not below D)."""

    a: float = 1.0
    b: float = 0.6
    c: float = 0.3
    investment_min: float = INVESTMENT_PER_MU_MIN
    tax_min: float = TAX_PER_MU_MIN


def grade(tax_per_mu: float | None, investment_per_mu: float | None, g: Grading = Grading()) -> str:
    """A, B, C or D (``-`` without a tax figure).

    >>> grade(30, 350), grade(20, 350), grade(20, 250), grade(5, 400), grade(None, 400)
    ('A', 'B', 'C', 'D', '-')
    """
    if tax_per_mu is None:
        return "-"
    share = tax_per_mu / g.tax_min
    cls = "A" if share >= g.a else "B" if share >= g.b else "C" if share >= g.c else "D"
    if investment_per_mu is not None and investment_per_mu < g.investment_min and cls != "D":
        cls = "ABCD"["ABCD".index(cls) + 1]
    return cls
