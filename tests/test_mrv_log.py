"""The cycle's tamper-evident log (issue 13 §4): a clean log verifies; editing any column of a row,
deleting a row in the middle or the signed tail, swapping two rows, or recomputing the chain after
an edit is caught, and ``first_bad`` names the entry. On SQLite and PostgreSQL; ``greenpark audit
verify`` exits 0 or 1 accordingly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
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


def test_the_head_is_signed_at_every_entry_and_every_hundredth_is_kept(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    with session_scope(fresh_url) as s:
        for i in range(log.SIGN_EVERY + 1):
            log.append(s, actor="a", action="report.submit", entity="report", entity_id=i)
        # every hundredth head is kept; the newest is signed too
        assert [h.seq for h in s.scalars(select(m.MrvLogHead).order_by(m.MrvLogHead.seq))] == [
            log.SIGN_EVERY,
            log.SIGN_EVERY + 1,
        ]
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


# --------------------------------------------------------------------------- the fast walk

_text = st.text(max_size=40)  # any characters: quotes, backslashes, control characters, CJK
_int_or_none = st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**31 - 1), at=st.datetimes(), park=_int_or_none, ent=_int_or_none,
    actor=_text, action=_text, entity=_text, entity_id=_int_or_none, payload=_text,
)  # fmt: skip
def test_the_fast_hash_is_the_reference_hash(seq, at, park, ent, actor, action, entity, entity_id, payload) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    # the reference: core.mrv.log_entry_sha256 over the canonical fields (what append writes)
    want = log_entry_sha256(
        log.GENESIS, log._fields(seq, at, park, ent, actor, action, entity, entity_id, payload)
    )
    sqlite_text = at.isoformat(sep=" ", timespec="microseconds")  # the time as SQLite stores it
    for stored in (at, sqlite_text):
        got = log.entry_sha256(log.GENESIS, seq, stored, park, ent, actor, action, entity, entity_id, payload)
        assert got == want


def test_values_of_unexpected_types_go_through_the_reference_and_a_bad_time_never_matches() -> None:
    at = datetime(2025, 3, 1, 8, 0, 0, 5)
    for seq, entity_id in ((3, 4.0), (3, "4"), (3, True)):  # what a column edited by hand could hold
        want = log_entry_sha256(log.GENESIS, log._fields(seq, at, 1, None, "a", "b", "c", entity_id, "{}"))
        assert log.entry_sha256(log.GENESIS, seq, at, 1, None, "a", "b", "c", entity_id, "{}") == want
    assert (
        log.entry_sha256(log.GENESIS, 3, "2025-02-30 08:00:00.000005x", 1, None, "a", "b", "c", 4, "{}")
        is None
    )
    assert log.entry_sha256(log.GENESIS, 3, 1234, 1, None, "a", "b", "c", 4, "{}") is None


M = 12  # a log of M entries walked in two ranges: seq <= 6 here, seq > 6 in a second process


def _tamper(s, how: str) -> None:  # type: ignore[no-untyped-def]
    e = m.MrvLogEntry
    if how == "edit the first of the second range":
        entry(s, 7).actor = "someone-else"
    elif how == "edit the last of the first range":
        entry(s, 6).payload_json = "{}"
    elif how == "edit one deep in the second range":
        entry(s, 10).entity_id = 99
    elif how == "delete the first of the second range":
        s.execute(delete(e).where(e.seq == 7))
    elif how == "delete the last of the first range":
        s.execute(delete(e).where(e.seq == 6))
    elif how == "swap across the ranges":
        s.execute(update(e).where(e.seq == 5).values(seq=-5))
        s.execute(update(e).where(e.seq == 9).values(seq=5))
        s.execute(update(e).where(e.seq == -5).values(seq=9))
    elif how == "a row before the first":
        s.execute(update(e).where(e.seq == 1).values(seq=0))
    elif how == "delete the signed tail":
        s.execute(delete(e).where(e.seq >= M - 1))


@pytest.mark.parametrize(
    "how",
    [None, "edit the first of the second range", "edit the last of the first range",
     "edit one deep in the second range", "delete the first of the second range",
     "delete the last of the first range", "swap across the ranges", "a row before the first",
     "delete the signed tail"],
)  # fmt: skip
def test_walking_in_two_processes_gives_the_answer_of_one_walk(fresh_url: str, how: str | None) -> None:
    with session_scope(fresh_url) as s:
        for i in range(1, M + 1):
            log.append(s, actor=f"user{i}", action="evidence.submit", entity="evidence", entity_id=i,
                       payload={"month": i, "note": "月度存证\n\"引号\""})  # fmt: skip
        log.sign_head(s)
    if how is not None:
        with session_scope(fresh_url) as s:
            _tamper(s, how)
    with session_scope(fresh_url) as s:
        one, two = log.verify(s, processes=1), log.verify(s, processes=2)
    assert one == two
    assert one["ok"] is (how is None)
    if how is None:
        assert one["entries"] == M and one["signed_heads"] == 1


def test_an_unreadable_or_moved_time_is_caught(fresh_url: str) -> None:
    """SQLite keeps the word 'yesterday' as it is (a time the reader cannot parse); PostgreSQL reads it as
    yesterday's midnight (a time that is not the one hashed). Both are a row that no longer matches."""
    with session_scope(fresh_url) as s:
        for i in range(1, 4):
            log.append(s, actor="a", action="report.submit", entity="report", entity_id=i)
        s.execute(update(m.MrvLogEntry).where(m.MrvLogEntry.seq == 2).values(at_utc=text("'yesterday'")))
    out = verify(fresh_url)
    assert out["ok"] is False and out["first_bad"]["seq"] == 2
    assert "does not match its hash" in out["first_bad"]["reason"]


@pytest.mark.parametrize(
    "how", ["cut the newest entry", "rewrite the newest and recompute", "drop the newest head too"]
)
def test_the_newest_entries_are_covered_too(fresh_url: str, how: str) -> None:
    """The probe rewrote or cut entries after the last hundredth head unseen; every entry is now
    under a signed head."""
    with session_scope(fresh_url) as s:
        for i in range(1, log.SIGN_EVERY + 6):
            log.append(s, actor="a", action="report.submit", entity="report", entity_id=i, payload={"i": i})
    with session_scope(fresh_url) as s:
        last = s.scalars(select(m.MrvLogEntry).order_by(m.MrvLogEntry.seq.desc())).first()
        assert last is not None
        if how == "cut the newest entry":
            s.delete(last)
        else:
            fields = log._fields(last.seq, last.at_utc, last.park_id, last.enterprise_id, last.actor, last.action,
                                 last.entity, last.entity_id, '{"i": 0}')  # fmt: skip
            last.payload_json, last.sha256 = '{"i": 0}', log_entry_sha256(last.prev_sha256, fields)
            if how == "drop the newest head too":
                s.execute(delete(m.MrvLogHead).where(m.MrvLogHead.seq == last.seq))
    out = verify(fresh_url)
    assert out["ok"] is False, (how, out)
