"""The cycle's tamper-evident log (issue 13 §4): a clean log verifies; editing any column of a row,
deleting a row in the middle or the signed tail, swapping two rows, or recomputing the chain after
an edit is caught, and ``first_bad`` names the entry. On SQLite and PostgreSQL; ``greenpark audit
verify`` exits 0 or 1 accordingly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core.mrv import log_entry_sha256
from greenpark.services.mrv import log
from greenpark.store import models as m
from greenpark.store.db import session_scope

runner = CliRunner()
N = 6


@pytest.fixture
def url(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A log of N entries, its head signed at entry N."""
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    with session_scope(fresh_url) as s:
        for i in range(1, N + 1):
            log.append(s, actor=f"user{i}", action="evidence.submit", entity="evidence", entity_id=i,
                       payload={"month": i, "energy_tce": 100.5 + i, "note": "月度存证"})  # fmt: skip
        log.sign_head(s)
    yield fresh_url


def verify(url: str) -> dict:
    with session_scope(url) as s:
        return log.verify(s)


def entry(s, seq: int) -> m.MrvLogEntry:  # type: ignore[no-untyped-def]
    return s.scalars(select(m.MrvLogEntry).where(m.MrvLogEntry.seq == seq)).one()


def test_a_clean_log_verifies_and_the_command_says_so(url: str) -> None:
    out = verify(url)
    assert out == {"ok": True, "entries": N, "signed_heads": 1, "first_bad": None}
    res = runner.invoke(app, ["audit", "verify", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert {k: body[k] for k in ("ok", "entries", "first_bad")} == {
        "ok": True,
        "entries": N,
        "first_bad": None,
    }
    res = runner.invoke(app, ["audit", "verify"])
    assert res.exit_code == 0 and "chain intact" in res.output


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload_json", '{"energy_tce": 1.0, "month": 3, "note": "月度存证"}'),
        ("actor", "someone-else"),
        ("action", "evidence.withdraw"),
        ("entity_id", 99),
        ("at_utc", None),  # moved by one second
    ],
)
def test_editing_any_column_of_a_row_is_caught_at_that_row(url: str, column: str, value: object) -> None:
    with session_scope(url) as s:
        e = entry(s, 3)
        row_id = e.id
        setattr(e, column, value if column != "at_utc" else e.at_utc + timedelta(seconds=1))
    out = verify(url)
    assert out["ok"] is False
    assert out["first_bad"]["seq"] == 3 and out["first_bad"]["id"] == row_id
    assert "does not match its hash" in out["first_bad"]["reason"]
    res = runner.invoke(app, ["audit", "verify", "--json"])
    assert res.exit_code == 1
    assert json.loads(res.output)["first_bad"]["seq"] == 3


def test_deleting_a_middle_row_is_caught(url: str) -> None:
    with session_scope(url) as s:
        s.execute(delete(m.MrvLogEntry).where(m.MrvLogEntry.seq == 4))
    out = verify(url)
    assert out["ok"] is False and out["first_bad"]["seq"] == 4
    assert "entry 4 is missing" in out["first_bad"]["reason"]
    res = runner.invoke(app, ["audit", "verify"])
    assert res.exit_code == 1 and "entry 4" in res.output


def test_deleting_the_first_row_is_caught(url: str) -> None:
    with session_scope(url) as s:
        s.execute(delete(m.MrvLogEntry).where(m.MrvLogEntry.seq == 1))
    out = verify(url)
    assert out["ok"] is False and out["first_bad"]["seq"] == 1


def test_deleting_the_last_rows_after_a_signed_head_is_caught(url: str) -> None:
    with session_scope(url) as s:
        s.execute(delete(m.MrvLogEntry).where(m.MrvLogEntry.seq >= N - 1))
    out = verify(url)
    assert out["ok"] is False and out["first_bad"]["seq"] == N
    assert f"signed up to entry {N}" in out["first_bad"]["reason"]


def test_swapping_two_rows_is_caught(url: str) -> None:
    with session_scope(url) as s:  # seq is unique: move one aside first
        s.execute(update(m.MrvLogEntry).where(m.MrvLogEntry.seq == 2).values(seq=-2))
        s.execute(update(m.MrvLogEntry).where(m.MrvLogEntry.seq == 5).values(seq=2))
        s.execute(update(m.MrvLogEntry).where(m.MrvLogEntry.seq == -2).values(seq=5))
    out = verify(url)
    assert out["ok"] is False and out["first_bad"]["seq"] == 2


def test_a_chain_recomputed_after_an_edit_no_longer_matches_the_signed_head(url: str) -> None:
    with session_scope(url) as s:
        rows = list(s.scalars(select(m.MrvLogEntry).order_by(m.MrvLogEntry.seq)))
        rows[1].payload_json = '{"energy_tce": 0.0}'
        prev = log.GENESIS
        for e in rows:  # what someone with write access to the database would do
            fields = log._fields(e.seq, e.at_utc, e.park_id, e.enterprise_id, e.actor, e.action, e.entity,
                                 e.entity_id, e.payload_json)  # fmt: skip
            e.prev_sha256, e.sha256 = prev, log_entry_sha256(prev, fields)
            prev = e.sha256
    out = verify(url)
    assert out["ok"] is False and out["first_bad"]["seq"] == N
    assert "no longer matches the head signed" in out["first_bad"]["reason"]
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 1


def test_a_forged_head_signature_is_caught(url: str) -> None:
    with session_scope(url) as s:
        head = s.scalars(select(m.MrvLogHead)).one()
        head.signature_b64 = head.signature_b64[:-4] + (
            "AAA=" if not head.signature_b64.endswith("AAA=") else "BBB="
        )
    out = verify(url)
    assert out["ok"] is False and "signature" in out["first_bad"]["reason"]


def test_the_head_is_signed_every_hundred_entries_and_on_demand(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    with session_scope(fresh_url) as s:
        for i in range(log.SIGN_EVERY + 1):
            log.append(s, actor="a", action="report.submit", entity="report", entity_id=i)
        assert [h.seq for h in s.scalars(select(m.MrvLogHead))] == [log.SIGN_EVERY]
    res = runner.invoke(app, ["audit", "sign", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["seq"] == log.SIGN_EVERY + 1
    assert verify(fresh_url) == {
        "ok": True,
        "entries": log.SIGN_EVERY + 1,
        "signed_heads": 2,
        "first_bad": None,
    }


def test_an_empty_log_verifies(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    assert verify(fresh_url)["ok"] is True
    res = runner.invoke(app, ["audit", "sign"])
    assert res.exit_code == 0 and "empty" in res.output
