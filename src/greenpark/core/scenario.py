"""The carbon-peak roadmap as an accounting (bottom-up) model: pure functions over arrays.

For every year t, sector i and carrier j (the sector-level Kaya identity of
``shared/research/carbon-methods.md`` §4.1):

    E_ij  = G × S_i × I_i × M_ij                          energy [tce, calorific]
    C_ij  = E_ij × U_j × P_j × (1 − K_ij)                 CO₂ emitted [t]

with G the value added of the scope [10⁴ yuan], S_i the sector's share of it [-], I_i the sector's
energy intensity [tce/10⁴ yuan], M_ij the carrier's share of the sector's energy [-], U_j the
carrier's CO₂ per tce [tCO₂/tce] (for electricity: grid factor ÷ 0.1229 kgce/kWh), P_j the share
of electricity bought from the grid (1 − local renewables ÷ demand; 1 for other carriers) and K_ij
the share of fossil combustion CO₂ captured (CCUS). Net emissions are emitted CO₂ minus the
carbon sink. Every array may carry a leading axis of Monte Carlo paths.

Peak, plateau and neutrality follow the conventions written down in the research note §4.3 (none
is an official definition): the peak year is the first year of maximum emitted CO₂, reported as
*peaked* only when there is a later year and every later year is lower; the plateau is the run of
consecutive years around the peak whose emissions are within δ of the peak (null when the run is
the peak year alone); the neutrality year is the first year whose net emissions are ≤ 0.

References
----------
Kaya identity (Kaya 1990) in its sector form; the plan's section 4.2 (方案一/方案二);
GB/T 2589-2008 Appendix A (0.1229 kgce/kWh, 29.3076 GJ/tce);
IPCC 2006 Guidelines Vol. 2, Ch. 2, Box 2.1 (biomass CO₂ is reported as a memo item, not emitted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from greenpark.core.energy import ELECTRICITY_CALORIFIC_KGCE_PER_KWH
from greenpark.core.units import GJ_PER_TCE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PATH_KINDS = ("values", "growth", "targets")


class PathError(ValueError):
    """A driver path cannot be resolved (its ``where`` names the driver)."""


def _points(spec: Mapping[Any, Any], where: str) -> list[tuple[int, float]]:
    try:
        pts = sorted((int(y), float(v)) for y, v in spec.items())
    except (TypeError, ValueError):
        raise PathError(f"{where}: years and values must be numbers") from None
    for y, v in pts:
        if not np.isfinite(v):
            raise PathError(f"{where}.{y}: {v} is not a finite number")
    return pts


def path(years: npt.ArrayLike, base_value: float, spec: Mapping[str, Any] | None, where: str = "path",
         ) -> FloatArray:  # fmt: skip
    """A driver's value for every year, from its value in the first (base) year and a path spec.

    ``spec`` is one of

    - ``{"growth": {year: rate}}`` — the annual growth rate from that year until the next given year
      (before the first given year the value stays at the base): ``v_t = v_(t−1) × (1 + r_t)``;
    - ``{"targets": {year: value}, "interp": "linear" | "log"}`` — values in given years, interpolated
      linearly (or log-linearly) from the base value, held after the last given year;
    - ``{"values": {year: value}}`` — annual values (missing years interpolated linearly, held
      after the last); a value for the base year replaces the base value;
    - ``None`` or ``{}`` — the base value held.

    Parameters
    ----------
    years : array of int  [year]; the first is the base year
    base_value : float  [the driver's unit]
    spec : mapping or None

    Returns
    -------
    array (years,)  [the driver's unit]

    Examples
    --------
    >>> path([2020, 2021, 2022, 2023], 100.0, {"growth": {2021: 0.1, 2023: 0.0}}).round(6).tolist()
    [100.0, 110.0, 121.0, 121.0]
    >>> path([2020, 2021, 2022], 1.0, {"targets": {2022: 0.5}}).tolist()
    [1.0, 0.75, 0.5]
    >>> path([2020, 2021, 2022], 4.0, {"targets": {2022: 1.0}, "interp": "log"}).tolist()
    [4.0, 2.0, 1.0]
    """
    yrs = np.asarray(years, dtype=np.int64)
    n = len(yrs)
    if n == 0:
        raise PathError(f"{where}: no years")
    if not spec:
        return np.full(n, float(base_value))
    kinds = [k for k in PATH_KINDS if k in spec]
    extra = set(spec) - {*PATH_KINDS, "interp"}
    if len(kinds) != 1 or extra:
        raise PathError(f"{where}: give exactly one of values, growth or targets (got {sorted(spec)})")
    kind = kinds[0]
    body = spec[kind]
    if not isinstance(body, Mapping) or not body:
        raise PathError(f"{where}.{kind}: a mapping of year to number is needed")
    pts = _points(body, f"{where}.{kind}")
    y0 = int(yrs[0])
    for y, _ in pts:
        if not y0 <= y <= int(yrs[-1]):
            raise PathError(f"{where}.{kind}.{y}: outside {y0}–{int(yrs[-1])}")
    if kind == "growth":
        rate = np.zeros(n)
        for y, r in pts:
            if r <= -1.0:
                raise PathError(f"{where}.growth.{y}: a growth rate must be above −100 %")
            rate[yrs >= y] = r
        rate[0] = 0.0
        return np.asarray(float(base_value) * np.cumprod(1.0 + rate), dtype=np.float64)
    interp = spec.get("interp", "linear")
    if interp not in ("linear", "log"):
        raise PathError(f"{where}.interp: linear or log, not {interp!r}")
    xs = [y0] + [y for y, _ in pts if y != y0]
    vs = [next((v for y, v in pts if y == y0), float(base_value))] + [v for y, v in pts if y != y0]
    if interp == "log":
        if min(vs) <= 0:
            raise PathError(f"{where}: log interpolation needs positive values")
        return np.exp(np.interp(yrs, xs, np.log(vs)))
    return np.asarray(
        np.interp(yrs.astype(float), np.asarray(xs, dtype=float), np.asarray(vs, dtype=float)),
        dtype=np.float64,
    )


def shares(base: npt.ArrayLike, given: Mapping[int, FloatArray], where: str = "shares") -> FloatArray:
    """Shares of categories over time: the ``given`` categories follow their own paths, the others
    share what is left in proportion to their base shares (so they keep their relative mix).

    Parameters
    ----------
    base : array (K,)  [-]; the base-year shares, summing to 1
    given : {category index: array (..., T)}  [-]; paths of the categories that are set

    Returns
    -------
    array (..., T, K)  [-]; every row sums to 1

    Examples
    --------
    >>> s = shares([0.5, 0.3, 0.2], {0: np.array([0.5, 0.8])})
    >>> s.round(6).tolist()
    [[0.5, 0.3, 0.2], [0.8, 0.12, 0.08]]
    """
    b = np.asarray(base, dtype=float)
    k = len(b)
    if not given:
        return b[None, :].copy()
    arrays = {i: np.asarray(v, dtype=float) for i, v in given.items()}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    out = np.zeros((*shape, k))
    for i, a in arrays.items():
        if np.any(a < -1e-12) or np.any(a > 1 + 1e-12):
            raise PathError(f"{where}: category {i} leaves 0–1 ({float(a.min()):.4g}…{float(a.max()):.4g})")
        out[..., i] = np.broadcast_to(np.clip(a, 0.0, 1.0), shape)
    rest = 1.0 - out.sum(axis=-1)
    if np.any(rest < -1e-9):
        raise PathError(
            f"{where}: the given shares add up to more than 1 (up to {float(1 - rest.min()):.4f})"
        )
    free = np.array([i not in arrays for i in range(k)])
    free_base = np.where(free, b, 0.0)
    if free_base.sum() > 0:
        out += np.clip(rest, 0.0, None)[..., None] * (free_base / free_base.sum())
    elif np.any(rest > 1e-9):
        if not free.any():
            raise PathError(f"{where}: every category is given and they add up to less than 1")
        out[..., free] += (np.clip(rest, 0.0, None) / free.sum())[..., None]
    return out


def ras(prior: npt.ArrayLike, row_totals: npt.ArrayLike, col_totals: npt.ArrayLike, tol: float = 1e-10,
        max_iter: int = 10_000) -> FloatArray:  # fmt: skip
    """Biproportional fitting (RAS): the matrix closest to ``prior`` (in the information sense) whose
    rows and columns add up to the given totals; zeros of the prior stay zero.

    Parameters
    ----------
    prior : array (R, C)  [≥ 0]; relative plausibility of each cell
    row_totals : array (R,), col_totals : array (C,)  [the matrix's unit; equal grand totals]

    Returns
    -------
    array (R, C)

    References
    ----------
    M. Bacharach (1970), Biproportional Matrices and Input-Output Change, Cambridge UP;
    R. Stone (1961), Input-Output and National Accounts, OEEC.

    Examples
    --------
    >>> ras([[1, 1], [1, 0]], [3, 1], [2, 2]).round(6).tolist()
    [[1.0, 2.0], [1.0, 0.0]]
    """
    x = np.asarray(prior, dtype=float).copy()
    r = np.asarray(row_totals, dtype=float)
    c = np.asarray(col_totals, dtype=float)
    if np.any(x < 0) or np.any(r < 0) or np.any(c < 0):
        raise ValueError("RAS needs non-negative priors and totals")
    if not np.isclose(r.sum(), c.sum(), rtol=1e-6):
        raise ValueError(f"row totals ({r.sum():.6g}) and column totals ({c.sum():.6g}) differ")
    for name, tot, have in (("row", r, x.sum(axis=1)), ("column", c, x.sum(axis=0))):
        bad = np.flatnonzero((tot > 0) & (have == 0))
        if bad.size:
            raise ValueError(f"{name} {int(bad[0])} has a total but no allowed cell in the prior")
    for _ in range(max_iter):
        rs = x.sum(axis=1)
        x *= np.divide(r, rs, out=np.zeros_like(r), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(c, cs, out=np.zeros_like(c), where=cs > 0)[None, :]
        if np.allclose(x.sum(axis=1), r, rtol=tol, atol=tol * max(1.0, float(r.max(initial=0.0)))):
            return x
    raise ValueError("RAS did not converge: the prior cannot meet these totals")


@dataclass(frozen=True)
class Inputs:
    """Resolved drivers, each with a leading axis of paths (1 for a deterministic run).

    Shapes: N paths, T years, S sectors, C carriers."""

    years: IntArray  # (T,)
    sectors: tuple[str, ...]
    carriers: tuple[str, ...]
    value_added_10k_yuan: FloatArray  # (N, T)       G
    sector_share: FloatArray  # (N, T, S)              S_i
    energy_intensity_tce_per_10k_yuan: FloatArray  # (N, T, S)   I_i
    carrier_share: FloatArray  # (N, T, S, C)          M_ij
    co2_t_per_tce: FloatArray  # (N, T, C)             U_j (electricity from the grid factor)
    local_renewables_mwh: FloatArray  # (N, T)         displaces purchased electricity
    capture_share: FloatArray  # (N, T, S, C)          K_ij (0 where CCUS does not apply)
    sinks_tco2: FloatArray  # (N, T)                   removals, positive
    coal_rate_kgce_per_kwh: FloatArray  # (N, T)       equal-value convention for electricity


@dataclass(frozen=True)
class Projection:
    """Results per path and year (and sector, carrier)."""

    years: IntArray
    energy_tce: FloatArray  # (N, T, S, C) calorific
    co2_gross_t: FloatArray  # (N, T, S, C) before capture
    co2_t: FloatArray  # (N, T, S, C) emitted
    captured_t: FloatArray  # (N, T)
    sinks_tco2: FloatArray  # (N, T)
    purchased_share: FloatArray  # (N, T) of electricity
    energy_equal_value_tce: FloatArray  # (N, T)

    @property
    def co2_total_t(self) -> FloatArray:
        """(N, T) emitted CO₂ of the scope [t]."""
        return np.asarray(self.co2_t.sum(axis=(2, 3)), dtype=np.float64)

    @property
    def net_co2_t(self) -> FloatArray:
        """(N, T) emitted CO₂ minus sinks [t]."""
        return self.co2_total_t - self.sinks_tco2


def electricity_mwh_from_tce(energy_tce: FloatArray) -> FloatArray:
    """Electricity [MWh] from its calorific tce: MWh = tce ÷ 0.1229 kgce/kWh (GB/T 2589 Appendix A).

    >>> float(electricity_mwh_from_tce(np.array(0.1229)))
    1.0
    """
    return energy_tce / ELECTRICITY_CALORIFIC_KGCE_PER_KWH


def grid_co2_t_per_tce(grid_tco2_per_mwh: FloatArray) -> FloatArray:
    """The grid factor per tce of electricity (calorific): tCO₂/MWh ÷ 0.1229 tce/MWh.

    >>> round(float(grid_co2_t_per_tce(np.array(0.5257))), 4)  # the plan's 2012 Central China grid
    4.2775
    """
    return grid_tco2_per_mwh / ELECTRICITY_CALORIFIC_KGCE_PER_KWH


def grid_tco2_per_mwh(co2_t_per_tce: float) -> float:
    """The grid factor from electricity's CO₂ per tce (calorific): the inverse of :func:`grid_co2_t_per_tce`.

    >>> round(grid_tco2_per_mwh(4.2775), 4)
    0.5257
    """
    return co2_t_per_tce * ELECTRICITY_CALORIFIC_KGCE_PER_KWH


def coal_rate_kgce_per_kwh(energy_equal_value_tce: float, energy_calorific_tce: float) -> float:
    """The coal rate of power supply behind an electricity figure given in both conventions:
    tce(等价值) ÷ tce(当量值) × 0.1229 kgce/kWh (GB/T 2589 Appendix A).

    >>> round(coal_rate_kgce_per_kwh(116582.18, 46900.0), 4)  # the core area's 2020 electricity
    0.3055
    """
    return energy_equal_value_tce / energy_calorific_tce * ELECTRICITY_CALORIFIC_KGCE_PER_KWH


def heat_tco2_per_gj(co2_t_per_tce: float) -> float:
    """The heat factor from heat's CO₂ per tce: the inverse of :func:`heat_co2_t_per_tce`.

    >>> round(heat_tco2_per_gj(3.2238), 4)
    0.11
    """
    return co2_t_per_tce / GJ_PER_TCE


def heat_co2_t_per_tce(heat_tco2_per_gj: FloatArray) -> FloatArray:
    """The heat factor per tce of heat: tCO₂/GJ × 29.3076 GJ/tce.

    >>> round(float(heat_co2_t_per_tce(np.array(0.11))), 4)
    3.2238
    """
    return heat_tco2_per_gj * GJ_PER_TCE


def project(inp: Inputs, electricity: str = "electricity") -> Projection:
    """Run the accounting model for every path and year (the identity of the module docstring).

    Local renewable electricity first meets the scope's own electricity demand; a surplus is
    exported and earns nothing (no negative emissions are booked for it).

    Examples
    --------
    >>> one = lambda *s: np.ones(s)
    >>> inp = Inputs(np.array([2020, 2021]), ("industry",), ("natural_gas", "electricity"),
    ...     value_added_10k_yuan=np.array([[100.0, 110.0]]), sector_share=one(1, 2, 1),
    ...     energy_intensity_tce_per_10k_yuan=np.full((1, 2, 1), 0.5),
    ...     carrier_share=np.array([[[[0.5, 0.5]], [[0.5, 0.5]]]]),
    ...     co2_t_per_tce=np.array([[[1.6, 4.0], [1.6, 4.0]]]), local_renewables_mwh=np.zeros((1, 2)),
    ...     capture_share=np.zeros((1, 2, 1, 2)), sinks_tco2=np.zeros((1, 2)),
    ...     coal_rate_kgce_per_kwh=np.full((1, 2), 0.3))
    >>> project(inp).co2_total_t.round(6).tolist()  # 50 tce × (0.5×1.6 + 0.5×4.0) × 1.1 in 2021
    [[140.0, 154.0]]
    """
    va_s = inp.value_added_10k_yuan[..., None] * inp.sector_share  # (N,T,S)
    energy_s = va_s * inp.energy_intensity_tce_per_10k_yuan  # (N,T,S)
    energy = energy_s[..., None] * inp.carrier_share  # (N,T,S,C)
    n, t = energy.shape[:2]
    u = np.broadcast_to(inp.co2_t_per_tce, (n, t, len(inp.carriers))).copy()
    purchased = np.ones((n, t))
    eq_extra = np.zeros((n, t))
    if electricity in inp.carriers:
        e = inp.carriers.index(electricity)
        demand_mwh = electricity_mwh_from_tce(energy[..., e].sum(axis=2))  # (N,T)
        with np.errstate(divide="ignore", invalid="ignore"):
            local = np.where(demand_mwh > 0, inp.local_renewables_mwh / demand_mwh, 0.0)
        purchased = 1.0 - np.clip(local, 0.0, 1.0)
        u[..., e] *= purchased
        ratio = inp.coal_rate_kgce_per_kwh / ELECTRICITY_CALORIFIC_KGCE_PER_KWH - 1.0
        eq_extra = energy[..., e].sum(axis=2) * ratio
    co2_gross = energy * u[:, :, None, :]
    captured = co2_gross * inp.capture_share
    co2 = co2_gross - captured
    return Projection(
        years=inp.years, energy_tce=energy, co2_gross_t=co2_gross, co2_t=co2,
        captured_t=captured.sum(axis=(2, 3)), sinks_tco2=np.broadcast_to(inp.sinks_tco2, (n, t)),
        purchased_share=purchased,
        energy_equal_value_tce=energy.sum(axis=(2, 3)) + eq_extra,
    )  # fmt: skip


@dataclass(frozen=True)
class PeakStats:
    """Per path: peak year and value, whether it peaked, the plateau and the neutrality year.
    Years are ``-1`` where there is none."""

    peak_year: IntArray  # (N,)
    peak_value: FloatArray  # (N,)
    peaked: npt.NDArray[np.bool_]  # (N,)
    plateau_first: IntArray  # (N,)
    plateau_last: IntArray  # (N,)
    neutral_year: IntArray  # (N,)


def peak_statistics(years: npt.ArrayLike, co2: npt.ArrayLike, net: npt.ArrayLike, delta: float = 0.03,
                    ) -> PeakStats:  # fmt: skip
    """Peak, plateau and neutrality of each path (conventions in the module docstring).

    Parameters
    ----------
    years : array (T,)  [year]
    co2 : array (N, T) or (T,)  [tCO₂]; emitted
    net : array (N, T) or (T,)  [tCO₂]; emitted minus sinks
    delta : float  [-]; the plateau band below the peak (the issue's default 3 %)

    Returns
    -------
    PeakStats

    References
    ----------
    ``shared/research/carbon-methods.md`` §4.3 (operational definitions; ties: earliest year).

    Examples
    --------
    >>> s = peak_statistics([2020, 2021, 2022, 2023, 2024], [90, 100, 99, 95, 80], [10, 5, 0, -1, -5])
    >>> int(s.peak_year[0]), bool(s.peaked[0]), int(s.plateau_first[0]), int(s.plateau_last[0]), int(s.neutral_year[0])
    (2021, True, 2021, 2022, 2022)
    """
    yrs = np.asarray(years, dtype=np.int64)
    c = np.atleast_2d(np.asarray(co2, dtype=float))
    z = np.atleast_2d(np.asarray(net, dtype=float))
    n, t = c.shape
    k = np.argmax(c, axis=1)  # first maximum
    rows = np.arange(n)
    peak = c[rows, k]
    # the maximum of the years after the peak (−inf when the peak is the last year)
    later = np.full((n, t), -np.inf)
    later[:, :-1] = np.maximum.accumulate(c[:, ::-1], axis=1)[:, ::-1][:, 1:]
    peaked = (k < t - 1) & (later[rows, k] < peak)
    inside = c >= peak[:, None] * (1.0 - delta)
    idx = np.arange(t)[None, :]
    # nearest year on each side of the peak that leaves the band
    left_out = np.where(~inside & (idx < k[:, None]), idx, -1).max(axis=1)
    right_out = np.where(~inside & (idx > k[:, None]), idx, t).min(axis=1)
    first, last = left_out + 1, right_out - 1
    has_plateau = last > first
    neutral_any = (z <= 0).any(axis=1)
    neutral = np.where(neutral_any, yrs[np.argmax(z <= 0, axis=1)], -1)
    return PeakStats(
        peak_year=yrs[k], peak_value=peak, peaked=peaked,
        plateau_first=np.where(has_plateau, yrs[first], -1), plateau_last=np.where(has_plateau, yrs[last], -1),
        neutral_year=neutral,
    )  # fmt: skip


def draw(dist: Mapping[str, Any], n: int, rng: np.random.Generator, where: str = "uncertainty") -> FloatArray:
    """``n`` draws of one uncertain driver: ``normal`` (mean, sd), ``triangular`` (low, mode, high)
    or ``uniform`` (low, high). A degenerate distribution (sd 0, low = high) returns its one value
    exactly, so that a run with it equals the deterministic run.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> draw({"dist": "triangular", "low": 0, "mode": 0, "high": 0}, 3, rng).tolist()
    [0.0, 0.0, 0.0]
    >>> bool((draw({"dist": "uniform", "low": 0.9, "high": 1.1}, 1000, rng) < 1.1).all())
    True
    """
    kind = dist.get("dist")
    try:
        if kind == "normal":
            mean, sd = float(dist.get("mean", 0.0)), float(dist["sd"])
            if sd < 0:
                raise PathError(f"{where}: sd must be ≥ 0")
            return np.full(n, mean) if sd == 0 else rng.normal(mean, sd, n)
        if kind == "triangular":
            lo, mode, hi = float(dist["low"]), float(dist["mode"]), float(dist["high"])
            if not lo <= mode <= hi:
                raise PathError(f"{where}: triangular needs low ≤ mode ≤ high")
            return np.full(n, mode) if lo == hi else rng.triangular(lo, mode, hi, n)
        if kind == "uniform":
            lo, hi = float(dist["low"]), float(dist["high"])
            if lo > hi:
                raise PathError(f"{where}: uniform needs low ≤ high")
            return np.full(n, lo) if lo == hi else rng.uniform(lo, hi, n)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PathError):
            raise
        raise PathError(f"{where}: {kind} distribution needs numeric parameters ({exc})") from None
    raise PathError(f"{where}: dist must be normal, triangular or uniform, not {kind!r}")


def perturb_growth(p: FloatArray, delta: FloatArray) -> FloatArray:
    """A level path with ``delta`` added to every year's growth rate after the base year:
    ``p_t × (1 + δ)^(t − t0)``; δ = 0 returns ``p`` exactly.

    Parameters
    ----------
    p : array (..., T)  [driver unit]
    delta : array (N,)  [1/year]

    Returns
    -------
    array (N, ..., T)

    Examples
    --------
    >>> perturb_growth(np.array([100.0, 100.0, 100.0]), np.array([0.0, 0.1])).round(6).tolist()
    [[100.0, 100.0, 100.0], [100.0, 110.0, 121.0]]
    """
    d = np.asarray(delta, dtype=float).reshape((-1,) + (1,) * np.ndim(p))
    steps = np.arange(p.shape[-1], dtype=float)
    return p * (1.0 + d) ** steps


def perturb_scale(p: FloatArray, factor: FloatArray) -> FloatArray:
    """A path whose change from the base year is scaled by ``factor``: ``p + (m − 1)(p − p_0)``;
    m = 1 returns ``p`` exactly.

    Examples
    --------
    >>> perturb_scale(np.array([0.5, 0.4, 0.3]), np.array([1.0, 0.5])).round(6).tolist()
    [[0.5, 0.4, 0.3], [0.5, 0.45, 0.4]]
    """
    m = np.asarray(factor, dtype=float).reshape((-1,) + (1,) * np.ndim(p))
    return p + (m - 1.0) * (p - p[..., :1])


def percentile_bands(x: npt.ArrayLike, q: tuple[float, ...] = (5, 25, 50, 75, 95)) -> FloatArray:
    """Percentiles across paths for every year: array (len(q), T).

    >>> percentile_bands(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (50,)).tolist()
    [[3.0, 4.0]]
    """
    return np.asarray(np.percentile(np.asarray(x, dtype=float), q, axis=0), dtype=np.float64)
