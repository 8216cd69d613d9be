"""Metered energy into the accounts (issue 14 §4) on the demo's synthetic meters: a month of
cleaned meter energy becomes activity records of quality "metered" in the carrier's unit of account,
with lineage to the meters and coverage; a sub-meter is not counted twice; where the enterprise has
records of another kind for the month, the two are shown side by side and not added; booking again
changes nothing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from greenpark.cli.main import app as cli
from greenpark.services.energy.rollup import BEIJING, series
from greenpark.store import models as m
from greenpark.store.db import session_scope


def _this_month() -> tuple[int, int]:
    local = m.utcnow() + BEIJING
    return local.year, local.month


def test_a_month_of_meters_becomes_metered_records(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_demo_url)
    year, month = _this_month()
    with session_scope(fresh_demo_url) as s:
        e02 = s.scalars(select(m.Enterprise).where(m.Enterprise.code == "E02")).one()
        park = s.get(m.Park, e02.park_id)
        assert park is not None
        # E02 also has a bill for this month's electricity: the meters' figure is shown beside it
        s.add(m.ActivityRecord(natural_key=f"{park.id}|bill|E02|{year}|{month}", park_id=park.id, zone_id=e02.zone_id,
                               enterprise_id=e02.id, year=year, month=month, sector="industry", boundary="all",
                               carrier_code="electricity", quantity=1.5, unit="10^4 kWh", quality="reported"))  # fmt: skip
    r = CliRunner().invoke(cli, ["energy", "book", "--year", str(year), "--month", str(month), "--json"])
    assert r.exit_code == 0, r.output
    out = {x["enterprise"]: x for x in json.loads(r.stdout)}
    e01 = out["E01"]
    assert e01["booked"] and {x["carrier"] for x in e01["records"]} == {"electricity", "natural_gas"}
    with session_scope(fresh_demo_url) as s:
        meter = s.scalars(select(m.EnergyMeter).where(m.EnergyMeter.code == "E01-EL-IN")).one()
        start = datetime(year, month, 1) - BEIJING
        kwh = sum(x["energy"] for x in series(s, meter, start, m.utcnow(), "month"))
        rec = s.scalars(select(m.ActivityRecord).where(m.ActivityRecord.enterprise_id == meter.enterprise_id,
                                                       m.ActivityRecord.quality == "metered",
                                                       m.ActivityRecord.carrier_code == "electricity")).one()  # fmt: skip
        # the incomer only (the compressed-air sub-meter is under it), kWh → 10⁴ kWh
        assert rec.quantity == pytest.approx(kwh / 10_000) and rec.unit == "10^4 kWh" and rec.month == month
        assert (
            "E01-EL-IN" in rec.source_ref
            and "E01-EL-AIR" not in rec.source_ref
            and "coverage" in rec.source_ref
        )
    e02 = out["E02"]
    assert not e02["booked"] and e02["records"] == []
    (el,) = [x for x in e02["reconciliation"] if x["carrier"] == "electricity"]
    assert el["recorded"] == 1.5 and el["difference"] == pytest.approx(el["metered"] - 1.5)
    again = json.loads(
        CliRunner()
        .invoke(cli, ["energy", "book", "--year", str(year), "--month", str(month), "--json"])
        .stdout
    )
    assert all(x["changed"] == 0 for x in again)
    bad = CliRunner().invoke(cli, ["energy", "book", "--year", "2999", "--month", "1"])
    assert bad.exit_code == 2
