"""Early-warning rules over a channel's recent data: pure functions, no I/O.

Each rule returns a :class:`Finding` (the rule fires, with its value, threshold and evidence) or
None. Thresholds are arguments; the park's settings and each channel's own values supply them.

References
----------
Exceedance on the hourly mean, of the converted (折算) value where the permit sets a reference
oxygen content: the hourly-mean limits of the discharge standards and permits (for flue gas the
data handling of HJ 75-2017, for waste water HJ 353/354/355-2019 — cited, not reproduced here).
Abnormal flags: HJ 212-2017 Table 8 (F, M, D, C, T, B). Fraud signs (flat line, concentration
collapsing with unchanged flow, values held just under the limit, long maintenance around
inspections) are the patterns enforcement practice looks for; no standard gives numbers for them,
so every threshold here is an argument, supplied from the park's settings and each channel.
Wrong access password: the PW field of every frame (HJ 212-2017 §6.3.2 Table 3) must match the
device's registered one; a mismatch is the standard's own refusal reason QnRtn=3 "PW 错误"
(Table 7). Such frames are counted on the device and alarmed, never taken as a new device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from greenpark.i18n import Msg

#: Data flags that mean the instrument is not measuring normally (HJ 212-2017 Table 8).
ABNORMAL_FLAGS = frozenset("FMDCTB")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # info | warning | critical
    value: float | None
    threshold: float | None
    message: str  # a Msg: English as text, any language where it is shown
    evidence: dict[str, object] = field(default_factory=dict)


def shown(value: float) -> str:
    """A measured value as a message shows it: three significant figures, whole numbers from 1 000
    (an hourly mean of 0.605444 mg/L reads 0.605; 118.701 reads 119).

    >>> shown(0.605444), shown(17.9114), shown(118.701), shown(12345.6), shown(30.0)
    ('0.605', '17.9', '119', '12346', '30')
    """
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def exceedance(hourly_value: float | None, limit: float | None, pre_alarm_ratio: float) -> Finding | None:
    """Hourly mean (converted value where the permit requires it) against the permit limit:
    ``exceedance`` (critical) when above the limit, ``pre_alarm`` (warning) at ≥ ratio × limit.

    >>> exceedance(120.0, 100.0, 0.8).rule, exceedance(85.0, 100.0, 0.8).rule, exceedance(70.0, 100.0, 0.8)
    ('exceedance', 'pre_alarm', None)
    """
    if hourly_value is None or limit is None or limit <= 0:
        return None
    if hourly_value > limit:
        return Finding("exceedance", "critical", hourly_value, limit,
                       Msg("hourly mean {value} exceeds the limit {limit} ({times}×)", value=shown(hourly_value),
                           limit=f"{limit:g}", times=f"{hourly_value / limit:.2f}"))  # fmt: skip
    if hourly_value >= pre_alarm_ratio * limit:
        return Finding("pre_alarm", "warning", hourly_value, pre_alarm_ratio * limit,
                       Msg("hourly mean {value} reached {share} of the limit {limit}", value=shown(hourly_value),
                           share=f"{hourly_value / limit:.0%}", limit=f"{limit:g}"))  # fmt: skip
    return None


def missing_data(hours_without_data: int, max_hours: int) -> Finding | None:
    """No hourly value for ``max_hours`` complete hours or more.

    >>> missing_data(3, 2).severity, missing_data(1, 2)
    ('warning', None)
    """
    if hours_without_data >= max_hours:
        return Finding("missing_data", "warning", float(hours_without_data), float(max_hours),
                       Msg("no hourly data for {hours} h", hours=hours_without_data))  # fmt: skip
    return None


def offline(minutes_since_last_frame: float | None, max_minutes: float) -> Finding | None:
    """The data logger has sent nothing for ``max_minutes`` (None: never seen)."""
    if minutes_since_last_frame is None:
        return None
    if minutes_since_last_frame >= max_minutes:
        return Finding("offline", "critical", minutes_since_last_frame, max_minutes,
                       Msg("no frame for {minutes} min", minutes=f"{minutes_since_last_frame:.0f}"))  # fmt: skip
    return None


def abnormal_flag_run(hourly_flags: Sequence[str], max_hours: int) -> Finding | None:
    """The latest hours carry an abnormal flag (F, M, D, C, T or B) for ``max_hours`` or more in a
    row; ``hourly_flags`` are oldest first, each the set of flags seen in that hour.

    >>> abnormal_flag_run(["N", "M", "M", "MN", "M"], 3).value
    4.0
    >>> abnormal_flag_run(["M", "N"], 1) is None
    True
    """
    run, seen = 0, set()
    for flags in reversed(hourly_flags):
        bad = set(flags) & ABNORMAL_FLAGS
        if not bad:
            break
        run += 1
        seen |= bad
    if run >= max_hours:
        return Finding("abnormal_flag", "warning", float(run), float(max_hours),
                       Msg("flags {flags} for {hours} h in a row", flags="".join(sorted(seen)), hours=run),
                       {"flags": "".join(sorted(seen))})  # fmt: skip
    return None


def flat_line(
    values: Sequence[float | None], n: int, running: bool = True, tolerance: float = 0.0
) -> Finding | None:
    """The last ``n`` readings are the same value (within ``tolerance``) while the process runs —
    a stuck sensor, or a value typed in.

    >>> flat_line([3.1, 5.0, 5.0, 5.0, 5.0], 4).value
    5.0
    >>> flat_line([5.0, 5.0, 5.0], 4) is None, flat_line([5.0] * 4, 4, running=False) is None
    (True, True)
    """
    if n < 2 or len(values) < n or not running:
        return None
    tail = values[-n:]
    if any(v is None for v in tail):
        return None
    vals = [float(v) for v in tail if v is not None]
    if max(vals) - min(vals) <= tolerance:
        return Finding("flat_line", "warning", vals[-1], float(n),
                       Msg("the same value {value} for {n} readings in a row", value=shown(vals[-1]), n=n))  # fmt: skip
    return None


def concentration_collapse(conc_before: Sequence[float], conc_now: float | None, flow_before: Sequence[float],
                           flow_now: float | None, ratio: float, flow_tolerance: float) -> Finding | None:  # fmt: skip
    """The concentration falls below ``ratio`` × its earlier mean while the flow stays within
    ± ``flow_tolerance`` of its earlier mean (dilution or a bypass rarely look like that; a
    tampered analyser does).

    >>> concentration_collapse([80, 82, 78], 10.0, [5.0, 5.1, 4.9], 5.0, 0.3, 0.2).rule
    'concentration_collapse'
    >>> concentration_collapse([80, 82, 78], 10.0, [5.0, 5.1, 4.9], 1.0, 0.3, 0.2) is None
    True
    """
    if conc_now is None or flow_now is None or not conc_before or not flow_before:
        return None
    c0 = math.fsum(conc_before) / len(conc_before)
    f0 = math.fsum(flow_before) / len(flow_before)
    if c0 <= 0 or f0 <= 0:
        return None
    if conc_now < ratio * c0 and abs(flow_now - f0) <= flow_tolerance * f0:
        return Finding("concentration_collapse", "critical", conc_now, ratio * c0,
                       Msg("concentration fell to {share} of its earlier mean {mean} while the flow stayed at {flow}",
                           share=f"{conc_now / c0:.0%}", mean=f"{c0:.3g}", flow=f"{flow_now / f0:.0%}"),
                       {"conc_mean_before": c0, "flow_mean_before": f0, "flow_now": flow_now})  # fmt: skip
    return None


def held_below_limit(values: Sequence[float], limit: float | None, low: float, share: float, max_cv: float,
                     min_hours: int) -> Finding | None:  # fmt: skip
    """Values held just under the limit: at least ``share`` of the last ``min_hours`` hourly means
    lie in [low × limit, limit) and their coefficient of variation is at most ``max_cv``.

    >>> held_below_limit([95, 96, 95, 97, 96, 95], 100, 0.9, 0.8, 0.05, 6).rule
    'held_below_limit'
    >>> held_below_limit([60, 96, 40, 97, 20, 95], 100, 0.9, 0.8, 0.05, 6) is None
    True
    """
    if limit is None or limit <= 0 or len(values) < min_hours or min_hours < 2:
        return None
    tail = [float(v) for v in values[-min_hours:]]
    inside = sum(1 for v in tail if low * limit <= v < limit)
    mean = math.fsum(tail) / len(tail)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in tail) / (len(tail) - 1))
    cv = sd / mean if mean > 0 else math.inf
    if inside / len(tail) >= share and cv <= max_cv:
        return Finding("held_below_limit", "warning", mean, limit,
                       Msg("{inside} of {n} hourly means held between {low} and 100% of the limit {limit}, variation {cv}",
                           inside=inside, n=len(tail), low=f"{low:.0%}", limit=f"{limit:g}", cv=f"{cv:.3f}"),
                       {"share": inside / len(tail), "cv": cv})  # fmt: skip
    return None


def long_maintenance(hourly_flags: Sequence[str], max_hours: int) -> Finding | None:
    """Hours flagged M (maintenance) within the window reach ``max_hours`` (maintenance is often
    declared around inspections to hide what the analyser would show).

    >>> long_maintenance(["M"] * 12 + ["N"] * 36, 12).value
    12.0
    """
    n = sum(1 for f in hourly_flags if "M" in f)
    if n >= max_hours:
        return Finding("long_maintenance", "warning", float(n), float(max_hours),
                       Msg("{n} h flagged maintenance in the last {window} h", n=n, window=len(hourly_flags)))  # fmt: skip
    return None


def wrong_password(failures: int, minutes_since_last: float | None, quiet_minutes: float, peer: str,
                   from_device_address: bool | None = None) -> Finding | None:  # fmt: skip
    """Frames named this device's MN with a wrong access password (PW): someone else claims to be
    the device, or the logger's PW was changed in the field. Fires while the last such frame is
    less than ``quiet_minutes`` old; ``failures`` counts them since the PW was last set.
    ``critical`` when they came from another address than the device's own
    (``from_device_address`` False), else ``warning``.

    Parameters
    ----------
    failures : int  [frames]  wrong-PW frames counted on the device since its PW was last set
    minutes_since_last : float or None  [min]  age of the latest one (None: never)
    quiet_minutes : float  [min]  the episode clears when none came for this long
    peer : str  address and port the latest one came from
    from_device_address : bool or None  whether that address is the one the device itself uses

    References
    ----------
    HJ 212-2017 §6.3.2 Table 3 (PW 访问密码) and Table 7 (QnRtn=3 PW 错误).

    >>> f = wrong_password(3, 2.0, 60, "203.0.113.9:40112", from_device_address=False)
    >>> f.rule, f.severity, f.message
    ('wrong_password', 'critical', '3 frame(s) with a wrong PW, the last from 203.0.113.9:40112 2 min ago')
    >>> wrong_password(3, 61.0, 60, "203.0.113.9:40112") is None, wrong_password(0, None, 60, "") is None
    (True, True)
    """
    if failures <= 0 or minutes_since_last is None or minutes_since_last >= quiet_minutes:
        return None
    severity = "critical" if from_device_address is False else "warning"
    return Finding("wrong_password", severity, float(failures), None,
                   Msg("{n} frame(s) with a wrong PW, the last from {peer} {minutes} min ago", n=failures, peer=peer,
                       minutes=f"{minutes_since_last:.0f}"),
                   {"peer": peer, "minutes_since_last": minutes_since_last,
                    "from_device_address": from_device_address})  # fmt: skip
