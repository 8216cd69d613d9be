"""The cycle's rules (``data/mrv/rules.yaml``) and a park's own deadlines over them."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.orm import Session

from greenpark.store import models as m

#: The deadlines a park may set for itself (the rest of the rules are the authorities').
PARK_DEADLINES = (
    "evidence_days_after_month_end",
    "report_due_month_day",
    "verification_due_month_day",
    "verification_min_days",
    "reminder_days_before",
)


@cache
def shipped_rules() -> dict[str, Any]:
    text = resources.files("greenpark.data").joinpath("mrv/rules.yaml").read_text(encoding="utf-8")
    rules: dict[str, Any] = yaml.safe_load(text)
    return rules


def _setting_key(park_id: int) -> str:
    return f"mrv.deadlines.{park_id}"


def deadlines(session: Session, park_id: int) -> dict[str, Any]:
    """The park's deadlines: the shipped defaults, overridden by what the park set."""
    out = dict(shipped_rules()["deadlines"])
    row = session.get(m.Setting, _setting_key(park_id))
    if row is not None:
        out.update({k: v for k, v in json.loads(row.value_json).items() if k in PARK_DEADLINES})
    return out


def set_deadlines(session: Session, park_id: int, values: dict[str, Any], by: str) -> dict[str, Any]:
    """Store the park's own deadlines (only the keys of :data:`PARK_DEADLINES`); returns them all."""
    unknown = sorted(set(values) - set(PARK_DEADLINES))
    if unknown:
        raise ValueError(f"unknown deadline setting(s): {', '.join(unknown)}")
    row = session.get(m.Setting, _setting_key(park_id))
    current = json.loads(row.value_json) if row is not None else {}
    current.update(values)
    if row is None:
        row = m.Setting(key=_setting_key(park_id), value_json="{}")
        session.add(row)
    row.value_json, row.updated_by = json.dumps(current, ensure_ascii=False), by
    session.flush()
    return deadlines(session, park_id)
