"""Air quality index per HJ 633-2012 and HJ 633-2026.

The tables (breakpoints, categories, each edition's special rules) are reference data loaded by
:mod:`greenpark.data.env` into :class:`AqiEdition`; this module only computes. Every function has a
readable scalar path and a vectorised one (numpy arrays of any shape), and both give the same
numbers because the scalar path calls the vectorised one.

References
----------
HJ 633-2012 环境空气质量指数（AQI）技术规定（试行）, Table 1, Formulas (1)-(2), §6.2;
HJ 633-2026 环境空气质量指数（AQI）技术规定, Table 3, §4.2;
GB/T 8170-2008 数值修约规则与极限数值的表示和判定, §3.3 (round half to even).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: IAQI values at the breakpoints of HJ 633 Table 1 (2012) / Table 3 (2026) [-].
IAQI_LEVELS: FloatArray = np.array([0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0])

#: Upper AQI of levels 1-5; above the last one is level 6 (HJ 633-2012 Table 2).
CATEGORY_UPPER_AQI = (50, 100, 150, 200, 300)

#: Decimals kept when rounding concentrations (GB/T 8170), so that 2.45 written in decimal is
#: treated as exactly 2.45 although its binary value is 2.4500000000000002.
_EXACT_DECIMALS = 9
#: Tolerance before the IAQI ceiling: an IAQI within 1e-9 above an integer is that integer (e.g.
#: PM2.5 35 ug/m3 -> 50, not 51). Float error here is ~1e-13; real IAQI steps are >= 1e-4.
_EXACT_EPSILON = 1e-9
#: Elements per chunk in the vectorised path (fits the CPU cache; chunks run on all cores).
_CHUNK = 1 << 16

#: Pollutants the caller may give, and the HJ 633 indicator each maps to per report period.
#: Hourly (real-time) report: 1-h values; PM uses the 24-h breakpoints (HJ 633-2012 §5.1: 24-h
#: sliding means; HJ 633-2026: 1-h values against the daily breakpoints, Table 3 note).
HOURLY_INDICATOR = {
    "so2": "so2_1h", "no2": "no2_1h", "co": "co_1h", "o3": "o3_1h", "o3_8h": "o3_8h",
    "pm10": "pm10_24h", "pm25": "pm25_24h",
}  # fmt: skip
#: Daily report: 24-h means, the O3 daily max 1-h (2012 only) and the daily max 8-h.
DAILY_INDICATOR = {
    "so2": "so2_24h", "no2": "no2_24h", "co": "co_24h", "o3": "o3_1h", "o3_8h": "o3_8h",
    "pm10": "pm10_24h", "pm25": "pm25_24h",
}  # fmt: skip
#: Concentration unit of each pollutant: ug/m3, except CO in mg/m3.
UNITS = {
    "so2": "ug/m3",
    "no2": "ug/m3",
    "co": "mg/m3",
    "o3": "ug/m3",
    "o3_8h": "ug/m3",
    "pm10": "ug/m3",
    "pm25": "ug/m3",
}


@dataclass(frozen=True)
class AqiEdition:
    """One edition of HJ 633: its breakpoints and rules (built from versioned data files)."""

    name: str
    valid_from: date
    breakpoints: Mapping[str, FloatArray]  # indicator -> concentrations at IAQI_LEVELS (NaN: none)
    so2_1h_above_top: str  # "use_24h" (2012) or "iaqi_200" (2026)
    o3_8h_above_top: str  # "use_1h" (2012) or "iaqi_300" (2026)
    concentration_rounding: str  # "none" (2012) or "gbt8170" (2026)
    daily_pollutants: tuple[str, ...] = field(default=())
    hourly_pollutants: tuple[str, ...] = field(default=())

    def top(self, indicator: str) -> float:
        """Highest concentration with a breakpoint [unit of the indicator]."""
        bp = self.breakpoints[indicator]
        return float(bp[~np.isnan(bp)][-1])


@dataclass(frozen=True)
class Category:
    level: int
    name_zh: str
    name_en: str
    color: str


@dataclass
class AqiResult:
    """AQI of one hour or day, with the edition that produced it."""

    aqi: int | None
    iaqi: dict[str, int]
    primary: list[str]
    level: int | None
    edition: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self, categories: Mapping[int, Category]) -> dict[str, Any]:
        cat = categories.get(self.level) if self.level else None
        out: dict[str, Any] = {
            "aqi": self.aqi,
            "iaqi": self.iaqi,
            "primary": self.primary,
            "category": None
            if cat is None
            else {"level": cat.level, "zh": cat.name_zh, "en": cat.name_en, "color": cat.color},
            "edition": self.edition,
        }
        if self.notes:
            out["notes"] = self.notes
        return out


def edition_for(day: date, editions: list[AqiEdition]) -> AqiEdition:
    """The edition in force on ``day`` (the latest whose ``valid_from`` is not after it).

    Examples
    --------
    >>> e12 = AqiEdition("HJ 633-2012", date(2016, 1, 1), {}, "use_24h", "use_1h", "none")
    >>> e26 = AqiEdition("HJ 633-2026", date(2026, 3, 1), {}, "iaqi_200", "iaqi_300", "gbt8170")
    >>> edition_for(date(2026, 2, 28), [e12, e26]).name, edition_for(date(2026, 3, 1), [e12, e26]).name
    ('HJ 633-2012', 'HJ 633-2026')
    """
    usable = [e for e in editions if e.valid_from <= day]
    if not usable:
        raise ValueError(f"no HJ 633 edition in force on {day}")
    return max(usable, key=lambda e: e.valid_from)


def round_half_even(x: float | FloatArray, decimals: int) -> FloatArray:
    """Round to ``decimals`` the way GB/T 8170 does (四舍六入五成双, half to even), on the decimal
    value the number was written as (2.45 -> 2.4, 2.55 -> 2.6, 0.35 -> 0.4).

    Parameters
    ----------
    x : float or array  [any unit]
    decimals : int

    Returns
    -------
    array  [same unit]

    References
    ----------
    GB/T 8170-2008, §3.3.

    Examples
    --------
    >>> [float(v) for v in round_half_even(np.array([74.5, 75.5, 2.45, 2.55, 0.35]), 0)][:2]
    [74.0, 76.0]
    >>> [float(v) for v in round_half_even(np.array([2.45, 2.55, 0.35]), 1)]
    [2.4, 2.6, 0.4]
    """
    scale = 10.0**decimals
    return np.asarray(np.rint(np.round(np.asarray(x, dtype=float) * scale, _EXACT_DECIMALS)) / scale)


def iaqi_from_breakpoints(conc: float | FloatArray, breakpoints: FloatArray) -> FloatArray:
    """Individual AQI of concentrations by HJ 633 Formula (1), rounded up (§6.2).

    IAQI_P = (IAQI_Hi - IAQI_Lo) / (BP_Hi - BP_Lo) x (C_P - BP_Lo) + IAQI_Lo, with the continuous
    breakpoints of Table 1; the result is raised to the next integer. NaN stays NaN. A value above
    the highest breakpoint gets the IAQI of that breakpoint (use :func:`above_top` to find them;
    the special rules for SO2 1-h and O3 8-h are applied by :func:`iaqi`).

    Parameters
    ----------
    conc : float or array  [ug/m3; CO mg/m3]
    breakpoints : array  [same unit]  concentrations at IAQI 0, 50, …, 500 (NaN where the
        standard gives none)

    Returns
    -------
    array  [-]

    References
    ----------
    HJ 633-2012, Formula (1) and §6.2; HJ 633-2026, Formula (1) and §4.2.6.

    Examples
    --------
    >>> pm25 = np.array([0, 35, 75, 115, 150, 250, 350, 500.0])
    >>> [int(v) for v in iaqi_from_breakpoints(np.array([35.0, 35.4, 75.5, 0.0]), pm25)]
    [50, 51, 101, 0]
    """
    bp, slope, intercept = _segments(breakpoints)
    c = np.asarray(conc, dtype=float)
    idx = np.clip(np.searchsorted(bp, c, side="right") - 1, 0, len(bp) - 2)
    raw = np.minimum(c, bp[-1])
    raw *= slope[idx]
    raw += intercept[idx]
    # an IAQI that is exactly an integer must not be pushed up by binary rounding error
    raw -= _EXACT_EPSILON
    return np.asarray(np.ceil(raw, out=raw) if isinstance(raw, np.ndarray) else np.ceil(raw))


def _segments(breakpoints: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Defined breakpoints and each segment's slope and intercept of Formula (1)."""
    b = np.asarray(breakpoints, dtype=float)
    defined = ~np.isnan(b)
    bp, lv = b[defined], IAQI_LEVELS[defined]
    slope = np.diff(lv) / np.diff(bp)
    intercept = lv[:-1] - slope * bp[:-1]
    return bp, np.r_[slope, slope[-1:]], np.r_[intercept, intercept[-1:]]


def above_top(conc: float | FloatArray, breakpoints: FloatArray) -> npt.NDArray[np.bool_]:
    """True where a concentration exceeds the highest breakpoint of its indicator."""
    bp = np.asarray(breakpoints, dtype=float)
    return np.asarray(np.asarray(conc, dtype=float) > bp[~np.isnan(bp)][-1])


def prepare_concentration(conc: float | FloatArray, pollutant: str, edition: AqiEdition) -> FloatArray:
    """Concentrations as the edition wants them before Formula (1).

    HJ 633-2026 §4.2 rounds per GB/T 8170 first: integers in ug/m3, one decimal for CO in mg/m3;
    HJ 633-2012 uses them as given.

    Examples
    --------
    >>> e26 = AqiEdition("HJ 633-2026", date(2026, 3, 1), {}, "iaqi_200", "iaqi_300", "gbt8170")
    >>> float(prepare_concentration(60.5, "pm25", e26)), float(prepare_concentration(2.45, "co", e26))
    (60.0, 2.4)
    """
    c = np.asarray(conc, dtype=float)
    if edition.concentration_rounding == "gbt8170":
        return round_half_even(c, 1 if pollutant == "co" else 0)
    return c


def iaqi(
    pollutant: str,
    conc: float | FloatArray,
    edition: AqiEdition,
    period: str = "day",
    *,
    so2_24h: float | FloatArray | None = None,
    o3_1h: float | FloatArray | None = None,
) -> FloatArray:
    """IAQI of one pollutant for an hourly (real-time) or daily report, with the edition's rules.

    Special rules: SO2 1-h above 800 ug/m3 — 2012: IAQI from the 24-h mean (``so2_24h``; NaN if not
    given), 2026: IAQI = 200. O3 8-h above 800 ug/m3 — 2012: IAQI from the 1-h value (``o3_1h``;
    NaN if not given), 2026: IAQI = 300.

    Parameters
    ----------
    pollutant : {"so2", "no2", "co", "o3", "o3_8h", "pm10", "pm25"}
    conc : float or array  [ug/m3; CO mg/m3]
    edition : AqiEdition
    period : {"hour", "day"}
    so2_24h, o3_1h : float or array, optional  [ug/m3]  for the 2012 fall-back rules

    Returns
    -------
    array  [-]  NaN where no IAQI can be given

    References
    ----------
    HJ 633-2012 Table 1 notes (2)-(3); HJ 633-2026 Table 3 notes.
    """
    table = HOURLY_INDICATOR if period == "hour" else DAILY_INDICATOR
    if pollutant not in table:
        raise ValueError(f"unknown pollutant {pollutant!r}; known: {', '.join(table)}")
    indicator = table[pollutant]
    c = prepare_concentration(conc, pollutant, edition)
    bp = edition.breakpoints[indicator]
    out = iaqi_from_breakpoints(c, bp)
    high = above_top(c, bp)
    if indicator == "so2_1h" and high.any():
        if edition.so2_1h_above_top == "iaqi_200":
            out = np.where(high, 200.0, out)
        else:
            alt = (
                iaqi_from_breakpoints(
                    prepare_concentration(so2_24h, "so2", edition), edition.breakpoints["so2_24h"]
                )
                if so2_24h is not None
                else np.full(np.shape(out), np.nan)
            )
            out = np.where(high, alt, out)
    if indicator == "o3_8h" and high.any():
        if edition.o3_8h_above_top == "iaqi_300":
            out = np.where(high, 300.0, out)
        else:
            alt = (
                iaqi_from_breakpoints(
                    prepare_concentration(o3_1h, "o3", edition), edition.breakpoints["o3_1h"]
                )
                if o3_1h is not None
                else np.full(np.shape(out), np.nan)
            )
            out = np.where(high, alt, out)
    return np.asarray(out)


def category_level(aqi_value: float | FloatArray) -> npt.NDArray[np.int64]:
    """Category level 1-6 of an AQI (HJ 633-2012 Table 2; 0 where the AQI is NaN).

    Examples
    --------
    >>> [int(v) for v in category_level(np.array([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500]))]
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    """
    a = np.asarray(aqi_value, dtype=float)
    level = np.searchsorted(np.array(CATEGORY_UPPER_AQI, dtype=float), a, side="left") + 1
    return np.asarray(np.where(np.isnan(a), 0, level), dtype=np.int64)


def aqi_arrays(
    values: Mapping[str, float | FloatArray], edition: AqiEdition, period: str = "day"
) -> dict[str, Any]:
    """Vectorised AQI: IAQI per pollutant, AQI = max IAQI (Formula 2), level, primary-pollutant masks.

    Large inputs are processed in cache-sized chunks on all cores; the result does not depend on
    the chunking.

    Parameters
    ----------
    values : mapping pollutant -> array  [ug/m3; CO mg/m3]  (all of one shape; NaN = missing).
        ``so2_24h`` may be given for the 2012 SO2 1-h rule.
    edition : AqiEdition
    period : {"hour", "day"}

    Returns
    -------
    dict with ``iaqi`` (pollutant -> array), ``aqi`` (array, NaN where no pollutant is valid),
    ``level`` (int array), ``primary`` (pollutant -> bool array: IAQI equals the AQI and AQI > 50).

    References
    ----------
    HJ 633-2012 Formula (2), §3.3 (primary pollutant only when AQI > 50; ties all count).
    """
    used = HOURLY_INDICATOR if period == "hour" else DAILY_INDICATOR
    allowed = edition.hourly_pollutants if period == "hour" else edition.daily_pollutants
    pollutants = [p for p in values if p != "so2_24h" and not (allowed and p not in allowed)]
    for p in pollutants:
        if p not in used:
            raise ValueError(f"unknown pollutant {p!r}")
    if not pollutants:
        raise ValueError("no pollutant given")
    shape = np.shape(np.asarray(values[pollutants[0]]))
    flat = {p: np.asarray(v, dtype=float).reshape(-1) for p, v in values.items()}
    n = flat[pollutants[0]].size
    iaqis = {p: np.empty(n) for p in pollutants}
    total = np.empty(n)

    def work(lo: int) -> None:
        hi = min(lo + _CHUNK, n)
        best = np.full(hi - lo, np.nan)
        for p in pollutants:
            v = iaqi(
                p, flat[p][lo:hi], edition, period,
                so2_24h=flat["so2_24h"][lo:hi] if "so2_24h" in flat else None,
                o3_1h=flat["o3"][lo:hi] if "o3" in flat else None,
            )  # fmt: skip
            iaqis[p][lo:hi] = v
            np.fmax(best, v, out=best)  # NaN-ignoring maximum
        total[lo:hi] = best

    starts = range(0, n, _CHUNK)
    if n > _CHUNK and (os.cpu_count() or 1) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            list(pool.map(work, starts))
    else:
        for lo in starts:
            work(lo)
    primary = {p: ((v == total) & (total > 50)).reshape(shape) for p, v in iaqis.items()}
    return {
        "iaqi": {p: v.reshape(shape) for p, v in iaqis.items()},
        "aqi": total.reshape(shape),
        "level": category_level(total).reshape(shape),
        "primary": primary,
    }


def aqi(values: Mapping[str, float | None], edition: AqiEdition, period: str = "day") -> AqiResult:
    """AQI of one hour or day from pollutant concentrations (the readable scalar path).

    Pollutants left out (or None) are left out of the result.

    Examples
    --------
    See ``tests/test_aqi.py`` for the standards' tables and edge rules.
    """
    given = {p: float(v) for p, v in values.items() if v is not None}
    notes = []
    allowed = edition.hourly_pollutants if period == "hour" else edition.daily_pollutants
    for p in list(given):
        if allowed and p not in allowed and p != "so2_24h":
            notes.append(f"{p} is not an indicator of the {period} report in {edition.name}; ignored")
            del given[p]
    arr = aqi_arrays({p: np.array([v]) for p, v in given.items()}, edition, period)
    iaqi_out: dict[str, int] = {}
    for p, v in arr["iaqi"].items():
        if np.isnan(v[0]):
            notes.append(f"no IAQI for {p} (above the table and no fall-back value given)")
        else:
            iaqi_out[p] = int(v[0])
    total = arr["aqi"][0]
    if np.isnan(total):
        return AqiResult(None, iaqi_out, [], None, edition.name, notes)
    for p, v in given.items():
        table = HOURLY_INDICATOR if period == "hour" else DAILY_INDICATOR
        special = table.get(p) in ("so2_1h", "o3_8h")  # their own rules, applied in iaqi()
        if (
            p in table
            and not special
            and above_top(prepare_concentration(v, p, edition), edition.breakpoints[table[p]]).any()
        ):
            notes.append(f"{p} {v} is above the top of the table; IAQI capped at 500")
    primary = [p for p, mask in arr["primary"].items() if bool(mask[0])]
    return AqiResult(int(total), iaqi_out, primary, int(arr["level"][0]), edition.name, notes)
