"""Simulated meters: realistic load profiles as cumulative counters, with field faults on request.

Each simulated meter has a base load and follows an industrial day: two shifts (08:00–24:00 at full
load, the night at a third), weekends and the Spring Festival week lower, and a seasonal factor
(summer cooling, winter heating: +15 % in July–August, +8 % in December–January) — the shapes
MyEMS's demo data and the plan's monthly electricity show; the figures themselves are invented and
the readings are marked synthetic. The counter integrates the load; with ``faults`` it also
glitches to 0 for one reading, resets to 0 and keeps counting, wraps at its rollover value, sends a
corrupted 1.8e21 (the MyEMS point-3333 spike) and goes silent for an outage — the cases
``core/meters.py`` must survive.

Readings go out as the payload of :mod:`greenpark.services.energy.readings`: over MQTT (``publish``)
or straight to a callback (``make run`` without a broker, tests).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

BEIJING = timedelta(hours=8)
SPIKE_VALUE = 1.832278249396618e21


def load_factor(t_beijing: datetime) -> float:
    """The share of the base load drawn at a Beijing time (shifts, weekends, seasons)."""
    hour = t_beijing.hour + t_beijing.minute / 60
    shift = 1.0 if 8 <= hour < 24 else 0.33
    weekend = 0.55 if t_beijing.weekday() >= 5 else 1.0
    season = {7: 1.15, 8: 1.15, 12: 1.08, 1: 1.08, 2: 0.7}.get(t_beijing.month, 1.0)
    ramp = 0.85 + 0.15 * math.sin(math.pi * (hour - 8) / 16) if shift == 1.0 else 1.0
    return shift * weekend * season * ramp


@dataclass
class SimMeter:
    """One simulated counter: ``base_per_h`` energy per hour at full load (after the multiplier)."""

    code: str
    base_per_h: float
    multiplier: float = 1.0
    rollover: float | None = None
    value: float = 0.0  # the counter, in counter units
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - a simulation, not a secret
    silent_until: datetime | None = None

    def advance(self, t_beijing: datetime, dt_s: float) -> None:
        energy = self.base_per_h * load_factor(t_beijing) * dt_s / 3600 * (1 + self.rng.uniform(-0.05, 0.05))
        self.value += energy / self.multiplier
        if self.rollover is not None and self.value >= self.rollover:
            self.value -= self.rollover

    def reading(self, t_beijing: datetime, faults: bool) -> float | None:
        """The value sent at ``t_beijing`` (None: nothing sent — an outage)."""
        if self.silent_until is not None:
            if t_beijing < self.silent_until:
                return None
            self.silent_until = None
        if not faults:
            return round(self.value, 3)
        # about two outages, three glitches, one spike and half a reset a week at 5-minute readings
        p = self.rng.random()
        if p < 0.001:
            self.silent_until = t_beijing + timedelta(hours=self.rng.choice((1, 3, 6)))
            return None
        if p < 0.0025:
            return 0.0  # a glitch: one bad zero
        if p < 0.003:
            return SPIKE_VALUE
        if p < 0.00325:
            self.value = 0.0  # a reset: the counter restarts and keeps counting
        return round(self.value, 3)


def readings(
    meters: list[SimMeter], start_utc: datetime, end_utc: datetime, step_s: int, faults: bool = False
) -> Iterator[tuple[datetime, list[dict[str, object]]]]:
    """For each time step in [start, end): (time UTC, the step's readings as payload items)."""
    t = start_utc
    while t < end_utc:
        local = t + BEIJING
        items: list[dict[str, object]] = []
        for mt in meters:
            mt.advance(local, step_s)
            v = mt.reading(local, faults)
            if v is not None:
                items.append({"meter": mt.code, "t": t.replace(tzinfo=UTC).isoformat(), "v": v})
        yield t, items
        t += timedelta(seconds=step_s)


def payloads(items: list[dict[str, object]], per_message: int = 500) -> Iterator[bytes]:
    """The items in messages of at most ``per_message`` readings."""
    for i in range(0, len(items), per_message):
        yield json.dumps({"readings": items[i : i + per_message]}, ensure_ascii=False).encode()


def run_live(
    meters: list[SimMeter],
    send: Callable[[bytes], None],
    step_s: int,
    stop: Callable[[], bool],
    faults: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Follow the wall clock: every ``step_s`` send each meter's reading; returns how many were sent."""
    import time

    pause = sleep or time.sleep
    sent = 0
    t = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    while not stop():
        for _t, items in readings(meters, t, t + timedelta(seconds=step_s), step_s, faults):
            for body in payloads(items):
                send(body)
            sent += len(items)
        t += timedelta(seconds=step_s)
        wait = (t - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
        if wait > 0:
            pause(min(wait, step_s))
    return sent
