"""Meter readings -> energy per time slot, without inventing or losing energy.

A cumulative meter (电能表 kWh counter, gas or steam totaliser) reports an ever-growing counter; the
energy of an interval is the counter's rise times the meter's multiplier (CT × PT ratio). Field
counters also drop (a glitch that comes back, a reset that keeps rising, a wrap at the rollover
value), jump (a corrupted frame: 1.8e21) and fall silent (an outage). Every open-source EMS has
been burnt by one of these (research note next-capabilities.md §1.8, §4.1–4.2):

* MyEMS books a counter's rise across an outage into the one hour the meter came back, or drops it
  when it exceeds the hourly limit ("may cause the loss of energy"); it re-bases on any drop.
* emoncms re-bases on any drop (one interval lost) and caps each step by a power limit.
* evcc accepted a momentary 0 as a new baseline and booked 53.7 MWh on the recovery.

The rules here (greenpark's proposal in the note, marked [G] there; the vectors are [R]):

1. A drop below the baseline starts a *pending run*. If a later reading comes back to the baseline
   or above, the run was a **glitch**: its readings are skipped and nothing is re-based.
2. If the run keeps rising below the baseline (or lasts ``confirm_s`` without coming back), it was
   a **reset**: the counter is re-based at the run's first reading; the interval across the reset
   books nothing (its energy is unknown) and is flagged. With a ``rollover`` value and a plausible
   step it is a **wrap** instead: rollover − baseline + first reading is booked.
3. A rise above the plausible rate (rated maximum × Δt, or without one a multiple of the meter's
   own median rate) is a **spike**: rejected, flagged, not re-based. A run of rises that keeps
   its own plausible pace for ``confirm_s`` is a **step** (a counter replaced by a higher one):
   re-based there, nothing booked across it.
4. Energy between two accepted readings is spread over the time between them in proportion to
   time (the counter is interpolated linearly at slot boundaries). A step longer than ``gap_s`` is
   an **outage**: it is spread the same way and the slots it covers are flagged *interpolated* —
   never booked into the one slot the meter came back in.

All times are epoch seconds (floats); energies are in the meter's energy unit after the multiplier.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntFlag

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Without a rated maximum rate, a rise faster than this multiple of the meter's median rate (over
#: the readings in hand) is implausible. [G] a choice, stated in docs/energy.md.
DEFAULT_SPIKE_FACTOR = 50.0


class Flag(IntFlag):
    """What happened in a slot (or to a reading). Stored as an integer bit set."""

    NONE = 0
    GLITCH = 1  # a drop (or zero burst) that came back: readings skipped
    RESET = 2  # the counter restarted: re-based, the interval across it books nothing
    WRAP = 4  # the counter wrapped at its rollover value: booked rollover − baseline + new
    SPIKE = 8  # a rise above the plausible rate: rejected
    INTERPOLATED = 16  # energy spread across an outage longer than gap_s
    PENDING = 32  # a drop not yet resolved (glitch or reset): nothing after it is booked yet
    STEP = 64  # the counter stepped up to a new plausible track: re-based, nothing booked
    INVALID = 128  # a reading that is not a number, or negative: skipped
    GAP = 256  # an interval meter's period that did not arrive (nothing booked, nothing assumed)


@dataclass(frozen=True)
class CounterSpec:
    """How to read one cumulative meter.

    multiplier : energy per counter unit (CT ratio × PT ratio for an electricity meter).
    rollover : the counter value at which it wraps to 0 (e.g. 1 000 000, or 838 860.7 for a 23-bit
        Wh counter), or None.
    max_rate_per_h : rated maximum energy per hour after the multiplier (rated power, rated flow),
        or None (then DEFAULT_SPIKE_FACTOR × the median rate caps a step).
    gap_s : a step longer than this is an outage (its slots are flagged interpolated).
    confirm_s : how long a drop must stay below the baseline (or a fast rise keep its own pace)
        before it is taken as a reset (or step) rather than a glitch (or spike).
    """

    multiplier: float = 1.0
    rollover: float | None = None
    max_rate_per_h: float | None = None
    gap_s: float = 1800.0
    confirm_s: float = 3600.0


@dataclass
class Steps:
    """Contiguous steps between accepted readings: [t0[i], t1[i]) carries energy[i] with flags[i].

    ``events`` are reading-level happenings (time, flag) — glitches, spikes, invalid readings —
    shown on the slot they fall in. ``accepted`` are the times of readings the steps rest on.
    ``pending_from`` is the time of an unresolved drop at the end of the data (or None).
    """

    t0: FloatArray
    t1: FloatArray
    energy: FloatArray
    flags: npt.NDArray[np.int64]
    accepted: FloatArray
    events: list[tuple[float, int]] = field(default_factory=list)
    pending_from: float | None = None

    @property
    def total(self) -> float:
        return float(self.energy.sum())


def _median_rate_per_s(t: FloatArray, v: FloatArray) -> float:
    dt, dv = np.diff(t), np.diff(v)
    ok = (dt > 0) & (dv > 0) & np.isfinite(dv)
    if not ok.any():
        return math.inf
    return float(np.median(dv[ok] / dt[ok])) if int(ok.sum()) >= 4 else math.inf


def counter_steps(
    times_s: npt.ArrayLike,
    values: npt.ArrayLike,
    spec: CounterSpec,
    baseline: tuple[float, float] | None = None,
) -> Steps:
    """Clean a cumulative counter's readings into energy steps (rules 1–4 in the module docstring).

    Parameters
    ----------
    times_s : epoch seconds of the readings, ascending (duplicates of one time are taken once).
    values : the raw counter values [counter units].
    spec : the meter's multiplier, rollover, rated rate and windows.
    baseline : the last accepted (time, value) before these readings, if any.

    Returns
    -------
    Steps whose energies are in the meter's energy unit (counter rise × multiplier).

    Examples
    --------
    The emoncms accumulator vector (note §4.2): 1000 → 1050 Wh in 60 s, a reset to 0, then 30 Wh.

    >>> s = counter_steps([0, 60, 120, 180], [1000, 1050, 0, 30], CounterSpec(max_rate_per_h=60_000))
    >>> s.total, [Flag(f).name for f in s.flags]
    (80.0, ['NONE', 'RESET', 'NONE'])
    """
    t = np.asarray(times_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.shape != v.shape:
        raise ValueError("times and values differ in length")
    mult = spec.multiplier
    if baseline is None:
        ok = np.isfinite(v) & (v >= 0)
        if not ok.any():
            return _empty([(float(x), int(Flag.INVALID)) for x in t])
        first = int(np.argmax(ok))
        events0 = [(float(x), int(Flag.INVALID)) for x in t[:first]]
        tb, vb = float(t[first]), float(v[first])
        t, v = t[first + 1 :], v[first + 1 :]
    else:
        events0 = []
        tb, vb = baseline
    cap_per_s = spec.max_rate_per_h / 3600.0 if spec.max_rate_per_h else None
    if cap_per_s is None:
        med = _median_rate_per_s(np.concatenate(([tb], t)), np.concatenate(([vb], v)) * mult)
        cap_per_s = DEFAULT_SPIKE_FACTOR * med if med > 0 else None

    # Fast path: every step rises within the cap and no step is an outage.
    if len(t):
        dt_all = np.diff(np.concatenate(([tb], t)))
        dv_all = np.diff(np.concatenate(([vb], v)))
        clean = np.isfinite(dv_all) & (dv_all >= 0) & (dt_all > 0) & (dt_all <= spec.gap_s)
        if cap_per_s is not None:
            clean &= dv_all * mult <= cap_per_s * dt_all
        if clean.all():
            t0 = np.concatenate(([tb], t[:-1]))
            return Steps(
                t0, t.copy(), dv_all * mult, np.zeros(len(t), np.int64), np.concatenate(([tb], t)), events0
            )

    out_t0: list[float] = []
    out_t1: list[float] = []
    out_e: list[float] = []
    out_f: list[int] = []
    accepted = [tb]
    events = events0
    run: list[tuple[float, float]] = []  # pending drop below the baseline
    run_rising = False  # some reading of the run is above its first
    fast: list[tuple[float, float]] = []  # pending rises above the plausible rate
    fast_paced = True  # the pending rises keep a plausible pace among themselves
    rates: list[float] = []  # the rates of the rises taken (energy per second)

    def book(t1: float, v1: float, energy: float, flag: int) -> None:
        nonlocal tb, vb
        if t1 > tb:
            f = flag | (int(Flag.INTERPOLATED) if t1 - tb > spec.gap_s and energy > 0 else 0)
            out_t0.append(tb)
            out_t1.append(t1)
            out_e.append(energy)
            out_f.append(f)
        tb, vb = t1, v1
        accepted.append(t1)

    def plausible(energy: float, dt: float) -> bool:
        return cap_per_s is None or energy <= cap_per_s * max(dt, 1e-9)

    i = 0
    n = len(t)
    while i < n:
        ti, vi = float(t[i]), float(v[i])
        i += 1
        if ti <= tb and not run and not fast:
            continue  # a repeat of an accepted time
        if not math.isfinite(vi) or vi < 0:
            events.append((ti, int(Flag.INVALID)))
            continue
        if run:
            if vi >= vb:  # came back: the run was a glitch
                events.extend((rt, int(Flag.GLITCH)) for rt, _ in run)
                run = []
            else:
                r0t, r0v = run[0]
                run.append((ti, vi))
                run_rising = run_rising or vi > r0v
                if run_rising or ti - r0t >= spec.confirm_s:
                    _resolve_drop(run, tb, vb, spec, plausible, book)
                    rest, run = run[1:], []
                    for rt, rv in rest:  # the run's later readings follow the new baseline
                        if rt > tb and rv >= vb:
                            book(rt, rv, (rv - vb) * mult, 0)
                continue
        if fast:
            # A rise above the cap is pending: a return to the old track rejects it (spike); a run
            # that keeps its own plausible pace for confirm_s is a step.
            f0t, f0v = fast[0]
            if vi >= vb and plausible((vi - vb) * mult, ti - tb):
                events.extend((ft, int(Flag.SPIKE)) for ft, _ in fast)
                fast = []
            else:
                lt, lv = fast[-1]
                fast_paced = fast_paced and vi >= lv and plausible((vi - lv) * mult, ti - lt)
                fast.append((ti, vi))
                if fast_paced and ti - f0t >= spec.confirm_s:
                    book(f0t, f0v, 0.0, int(Flag.STEP))
                    for ft, fv in fast[1:]:
                        book(ft, fv, (fv - vb) * mult, 0)
                    fast = []
                elif not fast_paced:
                    events.extend((ft, int(Flag.SPIKE)) for ft, _ in fast[:-1])
                    fast, fast_paced = fast[-1:], True
                continue
        d = vi - vb
        if d < 0:
            if spec.rollover is not None:
                wrapped = (spec.rollover - vb + vi) * mult
                if wrapped >= 0 and plausible(wrapped, ti - tb) and vb > 0.5 * spec.rollover:
                    book(ti, vi, wrapped, int(Flag.WRAP))
                    continue
            run, run_rising = [(ti, vi)], False
            continue
        energy = d * mult
        if not plausible(energy, ti - tb):
            fast, fast_paced = [(ti, vi)], True
            continue
        if d > 0 and _falls_back(t, v, i, ti, vb, vi):
            events.append((ti, int(Flag.SPIKE)))  # the next reading falls back between: a spike
            continue
        rate = energy / max(ti - tb, 1e-9)
        if d > 0 and i == n and not _typical(rates, rate) and any(f == Flag.SPIKE for _, f in events):
            # the last reading, after spikes, far above the rises taken: judged when the next comes
            events.append((ti, int(Flag.PENDING)))
            continue
        if d > 0:
            rates.append(rate)
        book(ti, vi, energy, 0)
    pending_from = None
    if run:
        pending_from = run[0][0]
        events.extend((rt, int(Flag.PENDING)) for rt, _ in run)
    if fast:
        events.extend((ft, int(Flag.SPIKE)) for ft, _ in fast)
    return Steps(
        np.asarray(out_t0, np.float64),
        np.asarray(out_t1, np.float64),
        np.asarray(out_e, np.float64),
        np.asarray(out_f, np.int64),
        np.asarray(accepted, np.float64),
        events,
        pending_from,
    )


def _typical(rates: list[float], rate: float) -> bool:
    """Whether a rise's rate is within DEFAULT_SPIKE_FACTOR of the median of the rises taken (at
    least four of them; else nothing is typical)."""
    if len(rates) < 4:
        return False
    return rate <= DEFAULT_SPIKE_FACTOR * float(np.median(rates[-96:]))


def _falls_back(t: FloatArray, v: FloatArray, i: int, ti: float, vb: float, vi: float) -> bool:
    """Whether the next usable reading after index ``i - 1`` lies at or above the baseline but below
    ``vi``: then ``vi`` stood out of the track (a spike, whatever the cap). Rejecting it loses
    nothing: the next accepted reading books the rise from the baseline."""
    n = len(t)
    while i < n:
        tj, vj = float(t[i]), float(v[i])
        if tj > ti and math.isfinite(vj) and vj >= 0:
            return vb <= vj < vi
        i += 1
    return False


def _resolve_drop(
    run: list[tuple[float, float]],
    tb: float,
    vb: float,
    spec: CounterSpec,
    plausible: Callable[[float, float], bool],
    book: Callable[[float, float, float, int], None],
) -> None:
    """A confirmed drop: a wrap when the rollover makes a plausible step, else a reset."""
    r0t, r0v = run[0]
    if spec.rollover is not None:
        wrapped = (spec.rollover - vb + r0v) * spec.multiplier
        if wrapped >= 0 and plausible(wrapped, r0t - tb):
            book(r0t, r0v, wrapped, int(Flag.WRAP))
            return
    book(r0t, r0v, 0.0, int(Flag.RESET))


def _empty(events: list[tuple[float, int]]) -> Steps:
    z = np.zeros(0, np.float64)
    return Steps(z, z.copy(), z.copy(), np.zeros(0, np.int64), z.copy(), events)


def interval_steps(
    times_s: npt.ArrayLike, values: npt.ArrayLike, period_s: float, max_rate_per_h: float | None = None
) -> Steps:
    """Clean an interval meter's readings (each value is the energy of [t, t + period_s), the
    period-start convention of the key-unit monitoring system, DB34/T 4689-2024 §5.4.1).

    A negative or non-numeric value is invalid; a value above the rated rate × period is a spike;
    both are skipped (never booked). A period that does not arrive books nothing and lowers
    coverage: no energy is assumed for it.

    >>> s = interval_steps([0, 900, 1800], [2.0, -1.0, 5.0], 900, max_rate_per_h=16)
    >>> s.total, [Flag(f).name for _, f in s.events]
    (2.0, ['INVALID', 'SPIKE'])
    """
    t = np.asarray(times_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & (v >= 0)
    events = [(float(x), int(Flag.INVALID)) for x in t[~ok]]
    if max_rate_per_h is not None:
        spike = ok & (v > max_rate_per_h * period_s / 3600.0)
        events += [(float(x), int(Flag.SPIKE)) for x in t[spike]]
        ok &= ~spike
    events.sort()
    return Steps(t[ok], t[ok] + period_s, v[ok], np.zeros(int(ok.sum()), np.int64), t[ok], events)


@dataclass
class Slots:
    """Energy per slot [start + k·slot_s, start + (k+1)·slot_s) with flags and reading counts."""

    start_s: float
    slot_s: float
    energy: FloatArray
    flags: npt.NDArray[np.int64]
    received: npt.NDArray[np.int64]
    expected: float  # readings expected per slot

    @property
    def coverage(self) -> FloatArray:
        """Received over expected readings per slot, capped at 1."""
        return (
            np.minimum(1.0, self.received / self.expected) if self.expected > 0 else np.ones(len(self.energy))
        )


def to_slots(steps: Steps, start_s: float, end_s: float, slot_s: float, reading_interval_s: float) -> Slots:
    """Spread steps over fixed slots in proportion to time (rule 4), with each slot's flags and how
    many accepted readings fell in it (coverage against ``slot_s / reading_interval_s`` expected).

    The sum of the slots equals the steps' energy inside [start_s, end_s): nothing is invented or
    lost at slot boundaries.

    >>> s = counter_steps([0, 3600 * 3], [100.0, 400.0], CounterSpec())   # a 3-hour outage
    >>> sl = to_slots(s, 0, 3600 * 3, 3600, 900)
    >>> sl.energy.tolist(), [Flag(f).name for f in sl.flags]
    ([100.0, 100.0, 100.0], ['INTERPOLATED', 'INTERPOLATED', 'INTERPOLATED'])
    """
    n = max(0, math.ceil((end_s - start_s) / slot_s - 1e-9))
    edges = start_s + slot_s * np.arange(n + 1, dtype=np.float64)
    energy = np.zeros(n)
    flags = np.zeros(n, np.int64)
    if len(steps.t0):
        knots_t = np.concatenate((steps.t0[:1], steps.t1))
        gaps = steps.t0[1:] != steps.t1[:-1]
        if not gaps.any():
            knots_e = np.concatenate(([0.0], np.cumsum(steps.energy)))
            cum = np.interp(edges, knots_t, knots_e)
            energy = np.diff(cum)
        else:  # non-contiguous (interval meters): spread each step by itself
            for a, b, e in zip(steps.t0, steps.t1, steps.energy, strict=True):
                lo, hi = np.maximum(edges[:-1], a), np.minimum(edges[1:], b)
                energy += e * np.clip(hi - lo, 0, None) / (b - a)
        marked = np.nonzero(steps.flags)[0]
        for j in marked:
            a = int(np.searchsorted(edges, steps.t0[j], side="right")) - 1
            b = int(np.searchsorted(edges, steps.t1[j], side="left"))
            flags[max(a, 0) : min(b, n)] |= int(steps.flags[j])
    for at, f in steps.events:
        k = int((at - start_s) // slot_s)
        if 0 <= k < n:
            flags[k] |= f
    idx = ((steps.accepted - start_s) // slot_s).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n)]
    received = np.bincount(idx, minlength=n).astype(np.int64)
    return Slots(start_s, slot_s, energy, flags, received, slot_s / reading_interval_s)


def completeness_pct(received: int, expected: int) -> float:
    """实际采集上传数据个数 / 应采集上传数据个数 × 100 % (key-unit monitoring rule: ≥ 90 %).

    >>> round(completeness_pct(87, 96), 1), round(completeness_pct(86, 96), 1)
    (90.6, 89.6)
    """
    return 100.0 * received / expected if expected else 100.0


#: The key-unit monitoring system's thresholds (note §1.3, [V]): completeness ≥ 90 %, daily vs
#: monthly deviation ≤ 5 %, timestamp drift ≤ 60 s for daily data and ≤ 1 day for monthly data.
COMPLETENESS_MIN_PCT = 90.0
DAILY_MONTHLY_MAX_PCT = 5.0
DAILY_DRIFT_MAX_S = 60.0
MONTHLY_DRIFT_MAX_S = 86400.0


def daily_monthly_deviation_pct(sum_of_days: float, monthly: float) -> float:
    """|Σ daily − monthly| / monthly × 100 (key-unit monitoring consistency rule: ≤ 5 %).

    >>> daily_monthly_deviation_pct(1030, 1000)
    3.0
    """
    if monthly == 0:
        return 0.0 if sum_of_days == 0 else math.inf
    return round(abs(sum_of_days - monthly) / abs(monthly) * 100.0, 9)


def period_start_drift_s(timestamp_s: float, period_start_s: float) -> float:
    """How far a period value's time label is from its period's start (the label must be the start
    of the statistics period, DB34/T 4689-2024 §5.4.1)."""
    return abs(timestamp_s - period_start_s)
