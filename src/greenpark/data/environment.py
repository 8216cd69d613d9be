"""Versioned environmental-standard tables: HJ 633 (AQI), GB 3095 (ambient limits), GB 3838
(surface water), GB 3096 (noise). Files in ``data/env/``, each row with its source table and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import yaml

from greenpark.core.aqi import AqiEdition, Category
from greenpark.data import DATA_DIR, read_csv

ENV_DIR = DATA_DIR / "env"
_LEVEL_COLUMNS = ("bp_0", "bp_50", "bp_100", "bp_150", "bp_200", "bp_300", "bp_400", "bp_500")


@lru_cache(maxsize=1)
def aqi_editions() -> tuple[AqiEdition, ...]:
    """HJ 633-2012 and HJ 633-2026, oldest first."""
    meta = yaml.safe_load((ENV_DIR / "hj633_editions.yaml").read_text(encoding="utf-8"))
    rows = read_csv(ENV_DIR / "hj633.csv")
    out = []
    for m in meta:
        bps = {
            r["indicator"]: np.array([float(r[c]) if r[c] else np.nan for c in _LEVEL_COLUMNS])
            for r in rows
            if r["edition"] == m["edition"]
        }
        out.append(
            AqiEdition(
                name=m["edition"],
                valid_from=m["valid_from"],
                breakpoints=bps,
                so2_1h_above_top=m["so2_1h_above_top"],
                o3_8h_above_top=m["o3_8h_above_top"],
                concentration_rounding=m["concentration_rounding"],
                daily_pollutants=tuple(m["daily_pollutants"]),
                hourly_pollutants=tuple(m["hourly_pollutants"]),
            )
        )
    return tuple(sorted(out, key=lambda e: e.valid_from))


def aqi_edition(name: str) -> AqiEdition:
    """An edition by name: 'HJ 633-2012', '2012', 'HJ 633-2026' or '2026'."""
    for e in aqi_editions():
        if name in (e.name, e.name[-4:]):
            return e
    raise ValueError(f"unknown HJ 633 edition {name!r}; known: {', '.join(e.name for e in aqi_editions())}")


@lru_cache(maxsize=1)
def aqi_categories() -> dict[int, Category]:
    return {
        int(r["level"]): Category(int(r["level"]), r["name_zh"], r["name_en"], r["color"])
        for r in read_csv(ENV_DIR / "aqi_categories.csv")
    }


@dataclass(frozen=True)
class AirLimit:
    standard: str
    phase: str
    valid_from: date
    valid_to: date | None
    pollutant: str
    averaging: str
    grade_1: float
    grade_2: float
    unit: str
    source_table: str
    status: str


@lru_cache(maxsize=1)
def gb3095_limits() -> tuple[AirLimit, ...]:
    return tuple(
        AirLimit(
            r["standard"],
            r["phase"],
            date.fromisoformat(r["valid_from"]),
            date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
            r["pollutant"],
            r["averaging"],
            float(r["grade_1"]),
            float(r["grade_2"]),
            r["unit"],
            r["source_table"],
            r["status"],
        )
        for r in read_csv(ENV_DIR / "gb3095.csv")
    )


def gb3095_in_force(day: date) -> dict[tuple[str, str], AirLimit]:
    """Limits in force on ``day``, keyed by (pollutant, averaging)."""
    return {
        (lim.pollutant, lim.averaging): lim
        for lim in gb3095_limits()
        if lim.valid_from <= day and (lim.valid_to is None or day <= lim.valid_to)
    }


@dataclass(frozen=True)
class WaterItem:
    item: str
    name_zh: str
    name_en: str
    unit: str
    kind: str  # max | min | range
    water_body: str  # all | river | lake
    limits: tuple[float, float, float, float, float]  # class I..V
    evaluated: bool
    source_table: str


@lru_cache(maxsize=1)
def gb3838_items() -> tuple[WaterItem, ...]:
    return tuple(
        WaterItem(
            r["item"],
            r["name_zh"],
            r["name_en"],
            r["unit"],
            r["kind"],
            r["water_body"],
            (
                float(r["class_1"]),
                float(r["class_2"]),
                float(r["class_3"]),
                float(r["class_4"]),
                float(r["class_5"]),
            ),
            r["evaluated"] == "true",
            r["source_table"],
        )
        for r in read_csv(ENV_DIR / "gb3838.csv")
    )


def gb3838_item(item: str, water_body: str) -> WaterItem:
    for w in gb3838_items():
        if w.item == item and w.water_body in ("all", water_body):
            return w
    raise ValueError(f"unknown GB 3838 item {item!r} for {water_body}")


@lru_cache(maxsize=1)
def gb3096_limits() -> dict[str, tuple[float, float, str]]:
    """Zone class -> (day limit, night limit, description) [dB(A)]."""
    return {
        r["zone_class"]: (float(r["day_db"]), float(r["night_db"]), r["name_zh"])
        for r in read_csv(ENV_DIR / "gb3096.csv")
    }
