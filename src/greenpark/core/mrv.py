"""The reporting and verification cycle's rules as pure functions: who is a key unit, the report's
rounding, deadlines in natural and in Chinese working days, and the log's hash chain.

References
----------
《重点用能单位节能管理办法》(2018) 第二条 (key energy users: ≥ 1 万 tce, or 0.5–1 万 tce designated);
《碳排放权交易管理办法（试行）》(MEE 部令第19号, 2021) 第八条 and the national reporting threshold of
2.6 万 t CO₂e; 《企业温室气体排放报告核查指南（试行）》(环办气候函〔2021〕130号) 4.1 and 5; the
monthly-evidence rule (enterprise ≤ 20 natural days after month end). The numbers themselves are
reference data (``data/mrv/rules.yaml``) — these functions take them as arguments.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
from datetime import date, timedelta
from typing import Any

import chinese_calendar


class CalendarNotKnown(ValueError):
    """The working-day calendar does not cover the date (the State Council publishes each year's
    holiday swaps in the November before; update chinese-calendar)."""


def key_unit_reason(value: float | None, threshold: float, designable_from: float | None) -> str | None:
    """Why a unit is (or may be) a key unit by one measure.

    Parameters
    ----------
    value : float or None  [tce or t CO2e]  the unit's yearly energy or emissions
    threshold : float  [same unit]  at or above it the unit is a key unit by rule
    designable_from : float or None  [same unit]  from here up to the threshold the park may designate it

    Returns
    -------
    ``"over_threshold"``, ``"designable"`` or None.

    References
    ----------
    《重点用能单位节能管理办法》(2018) 第二条: 年综合能源消费量一万吨标准煤及以上 … 五千吨及以上不满一万吨
    标准煤的，由省级管理节能工作的部门确定.

    Examples
    --------
    >>> key_unit_reason(12_000.0, 10_000.0, 5_000.0)
    'over_threshold'
    >>> key_unit_reason(6_000.0, 10_000.0, 5_000.0)
    'designable'
    >>> key_unit_reason(4_999.0, 10_000.0, 5_000.0) is None
    True
    """
    if value is None:
        return None
    if value >= threshold:
        return "over_threshold"
    if designable_from is not None and value >= designable_from:
        return "designable"
    return None


def round_reported_t(co2_t: float) -> int:
    """An emission figure rounded as the enterprise guidelines ask: whole tonnes, halves up.

    Parameters
    ----------
    co2_t : float  [t CO2]

    Returns
    -------
    int  [t CO2]

    References
    ----------
    NDRC MRV Q&A (2016): 不同类型的排放量 … 以及最终排放请保留个位数 (research note §2.4, [V]).

    Examples
    --------
    >>> round_reported_t(1234.5), round_reported_t(1234.49), round_reported_t(-0.5)
    (1235, 1234, -1)
    """
    return int(math.copysign(math.floor(abs(co2_t) + 0.5), co2_t))


def month_end(year: int, month: int) -> date:
    """The last day of a month.

    >>> month_end(2024, 2)
    datetime.date(2024, 2, 29)
    """
    return date(year, month, calendar.monthrange(year, month)[1])


def evidence_due_date(year: int, month: int, days_after_month_end: int) -> date:
    """When a month's evidence is due: ``days_after_month_end`` natural days after the month ends.

    References
    ----------
    Municipal implementation of the power-sector guideline: 每月结束后的20个自然日内上传 (research
    note §2.2, [V]).

    Examples
    --------
    >>> evidence_due_date(2025, 1, 20)
    datetime.date(2025, 2, 20)
    >>> evidence_due_date(2025, 12, 20)
    datetime.date(2026, 1, 20)
    """
    return month_end(year, month) + timedelta(days=days_after_month_end)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day on the Chinese calendar, with its holiday swaps (调休).

    Raises :class:`CalendarNotKnown` for a year the calendar library does not yet cover.

    >>> is_working_day(date(2026, 10, 1)), is_working_day(date(2026, 12, 3))
    (False, True)
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as e:
        raise CalendarNotKnown(
            f"the working-day calendar does not cover {day.isoformat()}; update chinese-calendar"
        ) from e


def add_working_days(start: date, working_days: int) -> date:
    """The date ``working_days`` working days after ``start`` (``start`` itself not counted).

    References
    ----------
    《碳排放权交易管理办法（试行）》第二十七条 and the 2021 verification guide §5: an appeal within 7
    working days of notice, a decision within 10 working days of the appeal.

    Examples
    --------
    Notice on Monday 28 September 2026: the National Day holiday (1–7 October) does not count.

    >>> add_working_days(date(2026, 9, 28), 7)
    datetime.date(2026, 10, 13)
    """
    day, left = start, working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def log_entry_sha256(prev_sha256: str, fields: dict[str, Any]) -> str:
    """The hash of one log entry: SHA-256 over the previous entry's hash and the entry's fields as
    canonical JSON (sorted keys, no spaces, UTF-8), so that any change of a field, a deletion or a
    reordering breaks every later link.

    Examples
    --------
    >>> h = log_entry_sha256("0" * 64, {"seq": 1, "action": "report.submit"})
    >>> len(h), h == log_entry_sha256("0" * 64, {"action": "report.submit", "seq": 1})
    (64, True)
    """
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_sha256 + body).encode("utf-8")).hexdigest()


def co2_process_t(activity: float, factor_tco2_per_unit: float) -> float:
    """CO₂ of an industrial process source: activity data times its emission factor.

    Parameters
    ----------
    activity : float  [unit of the source, e.g. t of pure carbonate]
    factor_tco2_per_unit : float  [t CO2 / unit]

    Returns
    -------
    float  [t CO2]

    References
    ----------
    GB/T 32150-2015, 6.5 and Appendix A: E_过程 = AD × EF; 《工业其他行业企业温室气体排放核算方法与
    报告指南（试行）》(发改办气候〔2015〕1722号) 碳酸盐使用过程 E = Σ AD_i × EF_i × PUR_i (the activity
    here is the pure carbonate); IPCC 2006 GL Vol. 3 Ch. 2 Eq. 2.14 and Table 2.1.

    Examples
    --------
    50 t of pure limestone at the stoichiometric 0.43971 t CO₂/t:

    >>> round(co2_process_t(50.0, 0.43971), 4)
    21.9855
    """
    return activity * factor_tco2_per_unit
