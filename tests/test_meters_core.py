"""Counter cleaning against the research note's vectors (next-capabilities.md §4.1 MyEMS meters,
§4.2 emoncms accumulator, §1.8 evcc / sem-community / Home Assistant / ioBroker cases, §4.3 quality
rules). The readings are the published ones; the expected figures follow the greenpark proposal."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from greenpark.core.meters import (
    CounterSpec,
    Flag,
    completeness_pct,
    counter_steps,
    daily_monthly_deviation_pct,
    interval_steps,
    to_slots,
)


def ts(hms: str, day: int = 2) -> float:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2024, 1, day, h, m, s, tzinfo=UTC).timestamp()


def test_disconnect_spreads_the_outage_over_its_hours_never_into_one() -> None:
    """MyEMS meter 3315: 38312088 at 23:59:48, back at 06:14:49 with 38315900, then 38315928."""
    t = [ts("23:58:46", 1), ts("23:59:48", 1), ts("06:14:49"), ts("06:15:50")]
    v = [38312088, 38312088, 38315900, 38315928]
    steps = counter_steps(t, v, CounterSpec(max_rate_per_h=2000))
    assert steps.total == 3840
    hours = to_slots(steps, ts("23:00:00", 1), ts("07:00:00"), 3600, 60)
    assert hours.energy.sum() == pytest.approx(3840)
    # MyEMS books 3840 (or 0) in hour 06; here each full hour 00–05 gets 3812 × 3600 / 22 501 s.
    per_hour = 3812 * 3600 / (ts("06:14:49") - ts("23:59:48", 1))
    assert hours.energy[1:7] == pytest.approx([per_hour] * 6)
    assert hours.energy[7] == pytest.approx(3812 - 6 * per_hour - 3812 * 12 / 22501 + 28)
    assert all(Flag(f) & Flag.INTERPOLATED for f in hours.flags[0:8])
    assert hours.received[7] == 2 and hours.received[3] == 0


@pytest.mark.parametrize(
    ("rollover", "booked", "flag"), [(1_000_000, 35.9375 + 5, Flag.WRAP), (None, 5.0, Flag.RESET)]
)
def test_reset_or_wrap(rollover: float | None, booked: float, flag: Flag) -> None:
    """MyEMS meter 3336: 999984.0625 (×3) then 20 (×3); with the rollover value it is a wrap, without
    it a reset that books nothing across the drop (then 5 more as the counter climbs to 25)."""
    t = [
        ts("08:26:14"),
        ts("08:27:14"),
        ts("08:28:14"),
        ts("08:29:18"),
        ts("08:30:18"),
        ts("08:31:18"),
        ts("08:45:00"),
    ]
    v = [999984.0625] * 3 + [20.0] * 3 + [25.0]
    steps = counter_steps(t, v, CounterSpec(rollover=rollover, max_rate_per_h=5000))
    assert steps.total == pytest.approx(booked)
    assert int(flag) in steps.flags.tolist()


def test_a_flat_reset_waits_then_is_confirmed_by_time() -> None:
    """A drop that neither rises nor comes back stays pending (nothing after it booked) until it has
    lasted confirm_s; then it is a reset."""
    t = [0, 60, 120, 180]
    pending = counter_steps(t, [1000, 20, 20, 20], CounterSpec(confirm_s=3600))
    assert pending.pending_from == 60 and pending.total == 0
    done = counter_steps([*t, 3700], [1000, 20, 20, 20, 20], CounterSpec(confirm_s=3600))
    assert done.pending_from is None and Flag.RESET in [Flag(f) for f in done.flags]


def test_bad_zeros_then_recovery_is_a_glitch() -> None:
    """MyEMS meter 1003344: zeros 01:25–01:36, back at 01:37:06 with 1103325.75 … 02:03:20 1103860.625."""
    t = [ts("01:24:00")] + [ts(f"01:{m:02d}:00") for m in range(25, 37)] + [ts("01:37:06"), ts("02:03:20")]
    v = [1103300.0] + [0.0] * 12 + [1103325.75, 1103860.625]
    steps = counter_steps(t, v, CounterSpec(max_rate_per_h=5000))
    assert steps.total == pytest.approx(1103860.625 - 1103300.0)
    assert sum(1 for _, f in steps.events if f == Flag.GLITCH) == 12
    assert not (steps.flags & int(Flag.RESET)).any()


def _point_3333() -> tuple[list[float], list[float]]:
    """Point 3333 around the spike: a steady 9.125 a minute from 16:30, 1.832278249396618e21 from
    16:46 to 17:00, 115749.0078 at 17:01, then zeros 17:32–17:47 and 115969.0078 at 17:48."""
    t, v = [], []
    for minute in range(30, 46):
        t.append(ts(f"16:{minute:02d}:00"))
        v.append(115603.0078 - (45 - minute) * 9.125)
    for minute in range(46, 60):
        t.append(ts(f"16:{minute:02d}:00"))
        v.append(1.832278249396618e21)
    t.append(ts("17:00:00"))
    v.append(1.832278249396618e21)
    t += [ts("17:01:00"), ts("17:31:00")]
    v += [115749.0078, 115823.0078]
    for minute in range(32, 48):
        t.append(ts(f"17:{minute:02d}:00"))
        v.append(0.0)
    t.append(ts("17:48:00"))
    v.append(115969.0078)
    return t, v


@pytest.mark.parametrize("rated", [60.0 * 60, None])
def test_spike_and_zero_burst_book_only_the_real_rise(rated: float | None) -> None:
    """The spike is caught by the rated rate, and without one by the meter's own median rate."""
    t, v = _point_3333()
    steps = counter_steps(t, v, CounterSpec(max_rate_per_h=rated))
    assert steps.total == pytest.approx(115969.0078 - v[0])
    kinds = [Flag(f) for _, f in steps.events]
    assert kinds.count(Flag.SPIKE) == 15 and kinds.count(Flag.GLITCH) == 16
    hours = to_slots(steps, ts("16:00:00"), ts("18:00:00"), 3600, 60)
    # The 146 between 16:45 and 17:01 is spread by time (1 minute of it in hour 17), then 74 and 146.
    assert hours.energy[1] == pytest.approx(146 / 16 + 74 + 146)
    assert hours.energy.sum() == pytest.approx(steps.total)
    assert hours.flags[0] & Flag.SPIKE and hours.flags[1] & Flag.SPIKE and hours.flags[1] & Flag.GLITCH


def test_emoncms_accumulator() -> None:
    """§4.2: +50 Wh (3 000 W < 60 kW); reset to 0 and +30 Wh; 0 → 13 423 700 Wh in 60 s rejected."""
    spec = CounterSpec(max_rate_per_h=60_000)
    assert counter_steps([0, 60], [1000, 1050], spec).total == 50
    assert counter_steps([0, 60, 120, 180], [1000, 1050, 0, 30], spec).total == 80
    s = counter_steps([0, 60, 120], [0, 13_423_700, 13_423_700], spec)
    assert s.total == 0 and Flag.SPIKE in [Flag(f) for _, f in s.events]


def test_evcc_momentary_zero_is_not_a_new_baseline() -> None:
    """evcc PR #30592: a momentary 0 was taken as the baseline and the recovery booked 53.7 MWh on a
    5 kW system. Here the 0 is a glitch and the hour books what the meter really counted."""
    t = [0, 60, 120, 180]
    v = [53_700_000.0, 53_700_080.0, 0.0, 53_700_160.0]  # Wh
    s = counter_steps(t, v, CounterSpec(max_rate_per_h=5000))
    assert s.total == 160 and [f for _, f in s.events] == [Flag.GLITCH]


def test_a_counter_replaced_by_a_higher_one_is_a_step_not_a_spike_forever() -> None:
    """A rise that keeps its own plausible pace for confirm_s is re-based (nothing booked across it);
    readings after it count again."""
    t = [0, 900, 1800] + [1800 + 900 * k for k in range(1, 7)]
    v = [100.0, 110.0, 120.0] + [90_000.0 + 10 * k for k in range(1, 7)]
    s = counter_steps(t, v, CounterSpec(max_rate_per_h=100, confirm_s=3600))
    assert Flag.STEP in [Flag(f) for f in s.flags]
    assert s.total == pytest.approx(20 + 50)


@pytest.mark.parametrize(
    ("rollover", "before", "after"),
    [(1_200_000.0, 1_199_990.0, 5.0), (838_860.7, 838_850.7, 3.0)],
)
def test_home_assistant_and_iobroker_wraps(rollover: float, before: float, after: float) -> None:
    """HA #119825 booked 20 183.7 kWh in one hour from a meter wrapping at ~1.2 MWh; ioBroker #594's
    23-bit counter overflows at 838 860.7 Wh. With the rollover value the hour books the real rise."""
    s = counter_steps([0, 900], [before, after], CounterSpec(rollover=rollover, max_rate_per_h=1000))
    assert s.total == pytest.approx(rollover - before + after)


def test_multiplier_and_slot_conservation() -> None:
    """A CT 200/5 × PT 10 kV/100 V meter (multiplier 4 000); any slotting conserves the energy."""
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.uniform(50, 1200, 400))
    v = np.cumsum(rng.uniform(0, 0.05, 400))
    s = counter_steps(t, v, CounterSpec(multiplier=4000, max_rate_per_h=10_000))
    for slot in (900, 3600, 86400):
        start = (t[0] // slot) * slot
        sl = to_slots(s, start, t[-1] + slot, slot, 900)
        assert sl.energy.sum() == pytest.approx((v[-1] - v[0]) * 4000)


def test_interval_meter_gaps_book_nothing() -> None:
    s = interval_steps([0, 900, 2700], [3.0, 4.0, 5.0], 900)
    sl = to_slots(s, 0, 3600, 900, 900)
    assert sl.energy.tolist() == [3.0, 4.0, 0.0, 5.0] and sl.received.tolist() == [1, 1, 0, 1]


def test_key_unit_quality_rules() -> None:
    """§4.3: 87 of 96 is 90.6 % (passes ≥ 90 %), 86 is 89.6 % (fails); Σ days 1 030 vs month 1 000 is 3 %."""
    assert completeness_pct(87, 96) >= 90 > completeness_pct(86, 96)
    assert daily_monthly_deviation_pct(1030, 1000) == 3.0


@pytest.mark.parametrize(
    "values",
    [
        [1000, 1e7, 1000, 1e7, 1000, 1e7, 1000, 1e7],  # half the readings are spikes: the cap learns nothing
        [1000, 1001, 1002, 1e7 + 3, 1004, 1e7 + 5, 1006, 1e7 + 7, 1008],
    ],
)
def test_frequent_spikes_without_a_rated_rate_are_not_energy(values: list[float]) -> None:
    """The security probe: without a rated maximum the median-based cap rose with the spikes and
    booked 10^7. A reading whose next one falls back between the baseline and it is a spike,
    whatever the cap."""
    t = [300.0 * k for k in range(len(values))]
    s = counter_steps(t, values, CounterSpec())
    real = [x for x in values if x < 1e6]
    assert s.total == pytest.approx(real[-1] - real[0])
    assert Flag.SPIKE in [Flag(f) for _, f in s.events]


def test_a_long_falling_run_books_nothing() -> None:
    """A run that keeps falling below the baseline (20 000 readings) resolves by time, hour by hour."""
    t = [0.0] + [float(k) for k in range(1, 20_001)]
    v = [1e6] + [5e5 - k for k in range(20_000)]
    s = counter_steps(t, v, CounterSpec(confirm_s=3600))
    # each hour of falling is one more reset; nothing is ever booked from a falling counter
    assert s.total == 0 and {Flag(f) for f in s.flags} == {Flag.RESET}
