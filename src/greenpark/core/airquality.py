"""Ambient air statistics: data validity, daily and 8-hour means, annual evaluation, composite index.

Hourly data come as arrays shaped (days, 24) — hour h of a day covers h:00 to h+1:00, NaN where
missing or invalid. Nothing is silently computed from too few values: an invalid period is NaN and
the counts that made it invalid are returned beside it.

References
----------
GB 3095-2012 (2018 amendment) and GB 3095-2026, Table 4 data validity (数据统计的有效性规定);
HJ 663-2013 环境空气质量评价技术规范（试行）, §3 definitions, Appendix A (percentile);
MEE 《城市环境空气质量排名技术规定》 (环境空气质量综合指数).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: GB 3095 Table 4: a daily mean needs at least 20 hourly values.
MIN_HOURS_DAILY_MEAN = 20
#: GB 3095 Table 4: an 8-hour mean needs at least 6 hourly values in the 8 hours.
MIN_HOURS_8H_MEAN = 6
#: Daily max 8-h: at least this many valid 8-hour means among the 17 ending 08:00-24:00.
#: [unconfirmed] recalled from HJ 663-2013 Table 3; no primary text was available to check it.
MIN_WINDOWS_DAILY_MAX_8H = 14
#: GB 3095 Table 4: an annual mean needs at least 324 daily means (and 27 a month, 25 in February).
MIN_DAYS_ANNUAL_MEAN = 324
MIN_DAYS_MONTH = 27
MIN_DAYS_FEBRUARY = 25


def daily_mean(hourly: FloatArray, min_hours: int = MIN_HOURS_DAILY_MEAN) -> tuple[FloatArray, IntArray]:
    """Daily means of hourly values, NaN where fewer than ``min_hours`` values exist.

    Parameters
    ----------
    hourly : array (days, 24)  [ug/m3; CO mg/m3]  NaN = missing
    min_hours : int  [h]

    Returns
    -------
    (means, counts) : arrays (days,)  [same unit], [h]

    References
    ----------
    GB 3095-2026 Table 4 (SO2, NO2, CO, PM10, PM2.5, NOx 日平均: 每日至少有20个小时平均浓度值).

    Examples
    --------
    >>> h = np.full((2, 24), 10.0); h[1, :5] = np.nan
    >>> m, n = daily_mean(h)
    >>> [float(x) for x in m], [int(x) for x in n]  # 19 hours is too few
    ([10.0, nan], [24, 19])
    """
    h = np.asarray(hourly, dtype=float)
    counts = np.sum(~np.isnan(h), axis=-1)
    with np.errstate(invalid="ignore"):
        sums = np.nansum(h, axis=-1)
        means = np.where(counts >= min_hours, sums / np.maximum(counts, 1), np.nan)
    return np.asarray(means), np.asarray(counts, dtype=np.int64)


def daily_max_1h(hourly: FloatArray, min_hours: int = MIN_HOURS_DAILY_MEAN) -> tuple[FloatArray, IntArray]:
    """Daily maximum of hourly values (O3 daily max 1-h of the HJ 633-2012 daily report).

    GB 3095 Table 4 gives no validity rule for it; the daily-mean rule (≥ 20 hours) is applied so
    that a day with few hours cannot report a maximum — an assumption, stated here.

    Parameters
    ----------
    hourly : array (days, 24)  [ug/m3]
    min_hours : int  [h]

    Returns
    -------
    (maxima, counts) : arrays (days,)

    References
    ----------
    HJ 633-2012 §5.1 (日报: 臭氧日最大1小时平均).

    Examples
    --------
    >>> h = np.full((1, 24), 80.0); h[0, 14] = 190.0
    >>> float(daily_max_1h(h)[0][0])
    190.0
    """
    h = np.asarray(hourly, dtype=float)
    counts = np.sum(~np.isnan(h), axis=-1)
    best = np.max(np.where(np.isnan(h), -np.inf, h), axis=-1)
    return np.asarray(np.where(counts >= min_hours, best, np.nan)), np.asarray(counts, dtype=np.int64)


def moving_8h_mean(hourly: FloatArray, min_hours: int = MIN_HOURS_8H_MEAN) -> tuple[FloatArray, IntArray]:
    """8-hour moving means of a continuous hourly series, labelled by the window's last hour.

    Element t is the mean of hours t-7 … t; NaN where fewer than ``min_hours`` of those 8 exist
    (including the first 7 hours of the series, which have no full window).

    Parameters
    ----------
    hourly : array (..., n)  [ug/m3]
    min_hours : int  [h]

    Returns
    -------
    (means, counts) : arrays (..., n)

    References
    ----------
    HJ 663-2013 §3 (8小时平均, 8小时滑动平均); GB 3095-2026 Table 4 (每8小时至少有6个小时平均浓度值).

    Examples
    --------
    >>> m, n = moving_8h_mean(np.arange(10, dtype=float))
    >>> float(m[7]), int(n[7]), bool(np.isnan(m[4]))
    (3.5, 8, True)
    """
    h = np.asarray(hourly, dtype=float)
    valid = ~np.isnan(h)
    filled = np.where(valid, h, 0.0)
    pad = [(0, 0)] * (h.ndim - 1) + [(8, 0)]
    csum = np.cumsum(np.pad(filled, pad), axis=-1)
    ccnt = np.cumsum(np.pad(valid.astype(np.int64), pad), axis=-1)
    sums = csum[..., 8:] - csum[..., :-8]
    counts = ccnt[..., 8:] - ccnt[..., :-8]
    n = h.shape[-1]
    first = np.arange(n) < 7  # no full 8-hour window yet
    counts = np.where(first, np.minimum(counts, 0), counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts >= min_hours, sums / counts, np.nan)
    return np.asarray(means), np.asarray(counts, dtype=np.int64)


def daily_max_8h(
    hourly: FloatArray,
    min_hours: int = MIN_HOURS_8H_MEAN,
    min_windows: int = MIN_WINDOWS_DAILY_MAX_8H,
) -> tuple[FloatArray, IntArray]:
    """Daily maximum 8-hour mean (O3): the largest 8-hour moving mean ending 08:00-24:00.

    With hours labelled by their start (hour h covers h:00-h+1:00), the 17 windows are hours
    0-7 … 16-23 of the same calendar day.

    Parameters
    ----------
    hourly : array (days, 24)  [ug/m3]
    min_hours : int  [h]  per 8-hour window (GB 3095 Table 4)
    min_windows : int  valid windows a day needs ([unconfirmed] HJ 663-2013: 14)

    Returns
    -------
    (max8h, valid_windows) : arrays (days,)

    References
    ----------
    HJ 663-2013 §3 (臭氧日最大8小时平均: 一个自然日内8时至24时的所有8小时滑动平均浓度中的最大值).

    Examples
    --------
    >>> h = np.tile(np.r_[np.full(12, 50.0), np.full(12, 150.0)], (1, 1))
    >>> m, w = daily_max_8h(h)
    >>> float(m[0]), int(w[0])
    (150.0, 17)
    """
    h = np.asarray(hourly, dtype=float)
    means, _ = moving_8h_mean(h, min_hours)  # per day: element t = hours t-7..t of that day
    windows = means[..., 7:24]  # windows ending at hours 7..23, i.e. 08:00..24:00
    n_valid = np.sum(~np.isnan(windows), axis=-1)
    with np.errstate(invalid="ignore"):
        best = np.where(
            n_valid > 0, np.nanmax(np.where(np.isnan(windows), -np.inf, windows), axis=-1), np.nan
        )
    best = np.where(n_valid >= min_windows, best, np.nan)
    return np.asarray(best), np.asarray(n_valid, dtype=np.int64)


def percentile_hj663(values: FloatArray, p: float) -> float:
    """The p-th percentile as HJ 663 Appendix A defines it (NaN values are left out).

    k = 1 + (n - 1) p/100; s = int(k); m_p = X(s) + (X(s+1) - X(s)) (k - s) on the ascending X.

    Parameters
    ----------
    values : array  [any unit]
    p : float  [%]

    Returns
    -------
    float  [same unit]

    References
    ----------
    HJ 663-2013, Appendix A, Formulas (A.1)-(A.2).

    Examples
    --------
    The standard-practice worked example {2, 3, 4, 4, 5, 8}, P90:

    >>> percentile_hj663(np.array([2, 3, 4, 4, 5, 8.0]), 90)
    6.5
    """
    x = np.sort(np.asarray(values, dtype=float)[~np.isnan(np.asarray(values, dtype=float))])
    n = len(x)
    if n == 0:
        return float("nan")
    k = 1 + (n - 1) * p / 100.0
    s = int(np.floor(k))
    if s >= n:
        return float(x[-1])
    return float(x[s - 1] + (x[s] - x[s - 1]) * (k - s))


def annual_mean_valid(daily: FloatArray, months: IntArray) -> tuple[bool, dict[int, int]]:
    """Whether daily means suffice for an annual mean (GB 3095 Table 4), with the count per month.

    Parameters
    ----------
    daily : array (days,)  NaN = invalid day
    months : array (days,)  month 1-12 of each day

    Returns
    -------
    (valid, days per month)

    References
    ----------
    GB 3095-2026 Table 4 (年平均: 每年至少有324个日平均浓度值; 每月至少有27个 (二月至少有25个)).
    """
    ok = ~np.isnan(np.asarray(daily, dtype=float))
    per_month = {m: int(np.sum(ok & (months == m))) for m in range(1, 13)}
    enough_months = all(c >= (MIN_DAYS_FEBRUARY if m == 2 else MIN_DAYS_MONTH) for m, c in per_month.items())
    return bool(ok.sum() >= MIN_DAYS_ANNUAL_MEAN and enough_months), per_month


def composite_index(
    concentrations: Mapping[str, float], denominators: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """环境空气质量综合指数: I_sum = Σ C_i / S_i over the pollutants given.

    Parameters
    ----------
    concentrations : mapping pollutant -> C_i  [ug/m3; CO mg/m3]  annual means for SO2, NO2, PM10,
        PM2.5; the CO daily-mean 95th percentile; the O3 daily-max-8-h 90th percentile
    denominators : mapping pollutant -> S_i  [same units]  GB 3095 grade II annual limits (SO2, NO2,
        PM10, PM2.5) and daily limits (CO 24 h, O3 8 h)

    Returns
    -------
    (I_sum, {pollutant: I_i})

    References
    ----------
    MEE 《城市环境空气质量排名技术规定》; research note hj212-and-env-standards.md §3.4.

    Examples
    --------
    Heyuan 2022-02 (bulletin 1.73, inputs rounded):

    >>> c = {"so2": 3, "no2": 13, "pm10": 16, "pm25": 13, "co": 0.9, "o3_8h": 87}
    >>> s = {"so2": 60, "no2": 40, "pm10": 70, "pm25": 35, "co": 4, "o3_8h": 160}
    >>> round(composite_index(c, s)[0], 2)
    1.74
    """
    parts = {p: float(c) / float(denominators[p]) for p, c in concentrations.items()}
    return float(sum(parts.values())), parts
