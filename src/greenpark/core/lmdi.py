"""Logarithmic Mean Divisia Index (LMDI) decomposition: why an aggregate changed.

An aggregate ``V = Σ_i V_i`` over sub-categories ``i`` (sectors, sector × carrier, …), each the
product of ``n`` factors ``V_i = x_1,i · x_2,i · … · x_n,i``, changes from period 0 to period T.
LMDI attributes the change to the factors:

- additive LMDI-I: ``ΔV_k = Σ_i L(V_i^T, V_i^0) · ln(x_k,i^T / x_k,i^0)``, with ``Σ_k ΔV_k = V^T − V^0``;
- multiplicative LMDI-I: ``D_k = exp(ΔV_k / L(V^T, V^0))``, with ``Π_k D_k = V^T / V^0``;
- multiplicative LMDI-II: ``ln D_k = Σ_i w_i · ln(x_k,i^T / x_k,i^0)``,
  ``w_i = L(s_i^T, s_i^0) / Σ_j L(s_j^T, s_j^0)``, ``s_i = V_i / V``.

``L(a, b) = (a − b) / (ln a − ln b)`` and ``L(a, a) = a`` is the logarithmic mean.

Zero values (a sub-category that appears or disappears) follow the analytical limits of Ang, Zhang &
Choi (1998, Table 2) as the R package LMDIR implements them: when ``V_i^0 = 0 < V_i^T`` the
factor(s) that were zero take ``+V_i^T`` and the others 0; when ``V_i^T = 0 < V_i^0`` the factor(s)
that became zero take ``−V_i^0``; both zero give 0. Where several factors of one sub-category are
zero at once, greenpark splits the sub-category's change equally among them, so the effects still
add up to the change (LMDIR would give each the whole change). Negative values cannot be
decomposed by logarithms: split sources and sinks and decompose each.

References
----------
B.W. Ang (2005), The LMDI approach to decomposition analysis: a practical guide, Energy Policy 33,
867–871, Eqs. (4)–(5) and Table 1. B.W. Ang (2015), LMDI decomposition approach: A guide for
implementation, Energy Policy 86, 233–238 (the eight LMDI models). B.W. Ang, F.Q. Zhang, K.-H. Choi
(1998), Energy 23(6), 489–495, Table 2 (zero values). R. Wood, M. Lenzen (2006), Energy Policy
34(12), 1326–1331 (analytical limits rather than small-value substitution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def logarithmic_mean(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """The logarithmic mean ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a``, ``L(a, 0) = 0``.

    Parameters
    ----------
    a, b : float or array  [any unit, the same for both; ≥ 0]

    Returns
    -------
    array  [the unit of a and b]

    References
    ----------
    Ang (2004), Energy Policy 32, 1131–1139, footnote to Eq. (4); Ang (2005), Eq. (4).

    Examples
    --------
    >>> float(logarithmic_mean(0.5913, 0.5650).round(3))  # NREL's PNNL check value ≈ 0.578
    0.578
    >>> float(logarithmic_mean(2.0, 2.0)), float(logarithmic_mean(3.0, 0.0))
    (2.0, 0.0)
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape, dtype=float)
    pos = (x > 0) & (y > 0)
    equal = pos & np.isclose(x, y, rtol=1e-12, atol=0.0)
    diff = pos & ~equal
    out[equal] = x[equal]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[diff] = (x[diff] - y[diff]) / (np.log(x[diff]) - np.log(y[diff]))
    return out


@dataclass(frozen=True)
class Decomposition:
    """The result of one LMDI decomposition from period 0 to period T.

    ``additive`` [unit of V] and ``multiplicative`` / ``multiplicative_ii`` [-] are per factor;
    ``by_subcategory`` [unit of V] is the additive effect of each factor in each sub-category,
    shape (sub-categories, factors)."""

    factors: tuple[str, ...]
    additive: FloatArray
    multiplicative: FloatArray
    multiplicative_ii: FloatArray
    by_subcategory: FloatArray
    value_0: float
    value_t: float

    @property
    def total_change(self) -> float:
        """V^T − V^0."""
        return self.value_t - self.value_0

    @property
    def total_ratio(self) -> float:
        """V^T / V^0 (nan when V^0 is 0)."""
        return self.value_t / self.value_0 if self.value_0 else float("nan")


def _check(x0: FloatArray, xt: FloatArray) -> None:
    if x0.shape != xt.shape or x0.ndim != 2:
        raise ValueError(
            f"factor arrays must both be (sub-categories, factors); got {x0.shape} and {xt.shape}"
        )
    if not (np.all(np.isfinite(x0)) and np.all(np.isfinite(xt))):
        raise ValueError("factors must be finite numbers")
    if np.any(x0 < 0) or np.any(xt < 0):
        raise ValueError("LMDI needs non-negative factors: decompose sources and sinks separately")


def _zero_limit(v0: FloatArray, vt: FloatArray, x0: FloatArray, xt: FloatArray, scale0: FloatArray,
                scalet: FloatArray) -> FloatArray:  # fmt: skip
    """Contributions of sub-categories that appear or disappear (Ang, Zhang & Choi 1998, Table 2):
    ``scalet`` (entry) or ``−scale0`` (exit) shared equally by the factors that are zero."""
    out = np.zeros(x0.shape, dtype=float)
    entry = (v0 == 0) & (vt > 0)
    exit_ = (v0 > 0) & (vt == 0)
    enter_k = entry[:, None] & (x0 == 0)
    leave_k = exit_[:, None] & (xt == 0)
    n_enter = np.maximum(enter_k.sum(axis=1, keepdims=True), 1)
    n_leave = np.maximum(leave_k.sum(axis=1, keepdims=True), 1)
    out += np.where(enter_k, scalet[:, None] / n_enter, 0.0)
    out -= np.where(leave_k, scale0[:, None] / n_leave, 0.0)
    return out


def additive_effects(x0: npt.ArrayLike, xt: npt.ArrayLike) -> FloatArray:
    """Additive LMDI-I effect of each factor in each sub-category.

    Parameters
    ----------
    x0, xt : array (sub-categories, factors)  [each factor in its own unit; V_i is the row product]

    Returns
    -------
    array (sub-categories, factors)  [unit of V]; summed over sub-categories it is ``ΔV_k``

    References
    ----------
    Ang (2005), Eq. (5); Ang (2015), Table 2, additive LMDI-I.

    Examples
    --------
    >>> e = additive_effects([[2.0, 3.0]], [[4.0, 3.0]])  # V 6 → 12, only the first factor moved
    >>> [round(float(v), 9) for v in e[0]]
    [6.0, 0.0]
    """
    a = np.asarray(x0, dtype=float)
    b = np.asarray(xt, dtype=float)
    _check(a, b)
    v0, vt = a.prod(axis=1), b.prod(axis=1)
    both = (v0 > 0) & (vt > 0)
    out = _zero_limit(v0, vt, a, b, v0, vt)
    if np.any(both):
        w = logarithmic_mean(vt[both], v0[both])
        out[both] = w[:, None] * np.log(b[both] / a[both])
    return out


def decompose(x0: npt.ArrayLike, xt: npt.ArrayLike, factors: tuple[str, ...] | list[str] | None = None,
              ) -> Decomposition:  # fmt: skip
    """Additive LMDI-I, multiplicative LMDI-I and multiplicative LMDI-II of one period.

    Parameters
    ----------
    x0, xt : array (sub-categories, factors)  [factor units; V_i = Π_k x_k,i]
    factors : names of the factors (default ``x1 … xn``)

    Returns
    -------
    Decomposition

    References
    ----------
    Ang (2005), Eqs. (4)–(5); Ang (2015), Table 2 (LMDI-I and LMDI-II weights).

    Examples
    --------
    >>> d = decompose([[1, 10, 2], [4, 5, 3]], [[4, 5, 3], [5, 6, 4]], ["a", "b", "c"])
    >>> round(d.total_change, 6), round(float(d.additive.sum()), 6), round(float(d.multiplicative.prod()), 6)
    (100.0, 100.0, 2.25)
    """
    a = np.asarray(x0, dtype=float)
    b = np.asarray(xt, dtype=float)
    _check(a, b)
    names = tuple(factors) if factors is not None else tuple(f"x{k + 1}" for k in range(a.shape[1]))
    if len(names) != a.shape[1]:
        raise ValueError(f"{len(names)} factor names for {a.shape[1]} factors")
    by_sub = additive_effects(a, b)
    v0_i, vt_i = a.prod(axis=1), b.prod(axis=1)
    v0, vt = float(v0_i.sum()), float(vt_i.sum())
    additive = by_sub.sum(axis=0)
    if v0 > 0 and vt > 0:
        multiplicative = np.exp(additive / float(logarithmic_mean(vt, v0)))
        s0, st = v0_i / v0, vt_i / vt
        w = logarithmic_mean(st, s0)
        # the same zero limits on shares: an entering sub-category adds s_i^T, a leaving one −s_i^0
        terms = _zero_limit(v0_i, vt_i, a, b, s0, st)
        both = (v0_i > 0) & (vt_i > 0)
        terms[both] = w[both][:, None] * np.log(b[both] / a[both])
        multiplicative_ii = np.exp(terms.sum(axis=0) / w.sum())
    else:
        multiplicative = np.full(len(names), np.nan)
        multiplicative_ii = np.full(len(names), np.nan)
    return Decomposition(names, additive, multiplicative, multiplicative_ii, by_sub, v0, vt)


def chained(series: Sequence[npt.ArrayLike], factors: tuple[str, ...] | list[str] | None = None,
            ) -> list[Decomposition]:  # fmt: skip
    """Year-on-year (chained) decompositions of a sequence of periods: period k−1 → k for each k.
    The additive effects of the links add up to the whole change; the multiplicative ones multiply
    to the whole ratio (Ang 2015, section 4, chaining).

    Examples
    --------
    >>> links = chained([[[1.0, 2.0]], [[2.0, 2.0]], [[2.0, 3.0]]], ["q", "i"])
    >>> [round(float(x), 9) for x in links[0].additive], [round(float(x), 9) for x in links[1].additive]
    ([2.0, 0.0], [0.0, 2.0])
    """
    return [decompose(series[k - 1], series[k], factors) for k in range(1, len(series))]
