"""Excel/CSV import: a bad cell names file, sheet, row and column and nothing is imported;
re-importing the same file changes nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from greenpark.services.carbon.inventory import compute_inventory
from greenpark.services.carbon.io import ImportRejected, import_file, inventory_workbook, template_workbook
from greenpark.store import models as m
from greenpark.store.db import session_scope


def _workbook(
    rows: list[list[object]], econ: list[list[object]] | None = None, url: str | None = None
) -> bytes:
    with session_scope(url) as s:  # type: ignore[arg-type]
        data = template_workbook(s)
    wb = load_workbook(io.BytesIO(data))
    for name, extra in (("activity", rows), ("economic", econ or [])):
        ws = wb[name]
        ws.delete_rows(2, ws.max_row)
        for r in extra:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    [
        "zone:xianan",
        2024,
        None,
        "industry",
        "all",
        "natural_gas",
        12.5,
        "10^4 m3",
        None,
        "calorific",
        "企业报表",
        "reported",
        None,
    ],
    [
        "zone:xianan",
        2024,
        None,
        "industry",
        "all",
        "electricity",
        3000,
        "MWh",
        None,
        "calorific",
        "电网",
        "measured",
        None,
    ],
]
ECON = [["zone:xianan", 2024, "industrial_value_added", 50000, "current", "统计", None]]


def _count(url: str) -> int:
    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(m.ActivityRecord)) or 0)


def test_template_has_sheets_and_lists(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        wb = load_workbook(io.BytesIO(template_workbook(s)))
    assert {"activity", "economic", "lists"} <= set(wb.sheetnames)
    header = [c.value for c in wb["activity"][1]]
    assert header[:6] == ["entity", "year", "month", "sector", "boundary", "carrier"]
    assert "zone:core" in [c.value for c in wb["lists"]["A"]]


def test_import_then_reimport_changes_nothing(fresh_plan_url: str) -> None:
    url = fresh_plan_url  # the plan alone: an import of 2024 would replace illustrative 2024 rows
    data = _workbook(GOOD, ECON, url)
    before = _count(url)
    with session_scope(url) as s:
        res = import_file(s, "energy-2024.xlsx", data)
    assert res.rows == {"activity": 2, "economic": 1} and res.changed == {"activity": 2, "economic": 1}
    assert _count(url) == before + 2
    with session_scope(url) as s:
        again = import_file(s, "energy-2024.xlsx", data)
    assert again.changed == {"activity": 0, "economic": 0} and again.already_imported
    assert _count(url) == before + 2
    with session_scope(url) as s:
        r = compute_inventory(s, scope_code="xianan", year=2024)
    assert r["totals"]["co2_t"] == pytest.approx(12.5 * 389.31 / 1000 * 15.3 * 0.99 * 44 / 12 + 3000 * 0.5257)
    assert "industry_energy_per_industrial_value_added" in r["intensities"]


@pytest.mark.parametrize(
    ("col", "value", "column", "reason"),
    [
        (5, "unobtainium", "carrier", "unknown carrier"),
        (6, "lots", "quantity", "not a number"),
        (7, "furlong", "unit", "unknown unit"),
        (7, "t", "unit", "does not measure"),
        (1, 1850, "year", "outside"),
        (0, "zone:atlantis", "entity", "unknown zone"),
        (3, "farming", "sector", "not one of"),
        (6, -5, "quantity", "negative"),
    ],
)
def test_bad_cell_rejects_whole_file(
    fresh_demo_url: str, col: int, value: object, column: str, reason: str
) -> None:
    url = fresh_demo_url
    rows = [list(r) for r in GOOD] + [list(GOOD[0])]
    rows[2][col] = value
    rows[2][10] = "third row"
    data = _workbook(rows, ECON, url)
    before = _count(url)
    with pytest.raises(ImportRejected) as exc, session_scope(url) as s:
        import_file(s, "bad.xlsx", data)
    errs = exc.value.errors
    assert any(
        e.file == "bad.xlsx"
        and e.sheet == "activity"
        and e.row == 4
        and e.column == column
        and reason in e.reason
        for e in errs
    ), errs
    assert _count(url) == before  # nothing imported, not even the good rows


def test_csv_import_and_errors(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    head = "entity,year,month,sector,boundary,carrier,quantity,unit,energy_tce,tce_basis,source_ref,quality,note\n"
    good = head + "zone:jiayu,2023,,industry,all,diesel,5,t,,calorific,x,reported,\n"
    with session_scope(url) as s:
        assert import_file(s, "jiayu-activity.csv", good.encode()).changed["activity"] == 1
    bad = head + "zone:jiayu,2023,,industry,all,diesel,,,,calorific,y,reported,\n"
    with pytest.raises(ImportRejected) as exc, session_scope(url) as s:
        import_file(s, "jiayu-activity.csv", bad.encode())
    e = exc.value.errors[0]
    assert (e.file, e.sheet, e.row, e.column) == ("jiayu-activity.csv", "", 2, "quantity")


def test_not_a_spreadsheet(fresh_demo_url: str) -> None:
    with pytest.raises(ImportRejected, match="not a readable Excel"), session_scope(fresh_demo_url) as s:
        import_file(s, "x.xlsx", b"\x00garbage")
    with pytest.raises(ImportRejected, match=r"only \.xlsx and \.csv"), session_scope(fresh_demo_url) as s:
        import_file(s, "x.pdf", b"%PDF")


def test_enterprise_user_only_own(fresh_demo_url: str) -> None:
    url = fresh_demo_url
    with session_scope(url) as s:
        user = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one()
        own = s.get(m.Enterprise, user.enterprise_id)
        other = s.scalars(select(m.Enterprise).where(m.Enterprise.id != user.enterprise_id)).first()
        assert own is not None and other is not None
        own_code, other_code = own.code, other.code
    rows = [
        [
            f"enterprise:{other_code}",
            2024,
            None,
            "industry",
            "all",
            "diesel",
            1,
            "t",
            None,
            "calorific",
            "x",
            "reported",
            None,
        ]
    ]
    with pytest.raises(ImportRejected, match="own enterprise"), session_scope(url) as s:
        u = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one()
        import_file(s, "e.xlsx", _workbook(rows, None, url), user=u)
    rows[0][0] = f"enterprise:{own_code}"
    with session_scope(url) as s:
        u = s.scalars(select(m.AppUser).where(m.AppUser.username == "enterprise")).one()
        assert import_file(s, "e.xlsx", _workbook(rows, None, url), user=u).changed["activity"] == 1


def test_inventory_export(demo_url: str) -> None:
    with session_scope(demo_url) as s:
        r = compute_inventory(s, scope_code="core", year=2020)
    wb = load_workbook(io.BytesIO(inventory_workbook(r)))
    assert {"summary", "by_carrier", "by_sector", "checks"} <= set(wb.sheetnames)
    rows = list(wb["by_carrier"].iter_rows(min_row=2, values_only=True))
    assert sum(row[7] for row in rows) == pytest.approx(r["totals"]["co2_t"])
