"""CLI for the history of records (issue 12 §3): who changed which record, when, from what to what,
in which batch. Thin: the command calls ``services/park/audit`` and prints (``--json`` for
machines, ``-o file.xlsx`` or ``.csv`` to export)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _url, app


@app.command("history")
def history_cmd(
    entity: Annotated[
        str | None, typer.Option(help="Kind of record: activity_record, indicator_value, outlet, channel, …")
    ] = None,
    key: Annotated[str | None, typer.Option(help="The record's key, e.g. 2|2024 for indicator 2's 2024 value.")] = None,
    batch: Annotated[str | None, typer.Option(help="Only the changes of this batch (a file's name and digest, form, api).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Only the records of this enterprise (its code).")] = None,
    since: Annotated[str | None, typer.Option(help="Only changes from this day on (YYYY-MM-DD, UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most events listed (an export takes up to 100 000).")] = 200,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write an .xlsx (or .csv) file.", dir_okay=False)] = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """The history of a record, of a kind of record, of a batch or of the whole park, newest first:
    who, when, which field, from what, to what, which batch."""
    from sqlalchemy import select

    from greenpark.services.park import audit
    from greenpark.services.park.parks import ParkError, get_park
    from greenpark.store import models as m
    from greenpark.store.db import session_scope

    try:
        day = datetime.combine(date.fromisoformat(since), time()) if since else None
    except ValueError:
        _fail(f"--since {since!r} is not a date (YYYY-MM-DD)", 2)
    with session_scope(_url()) as s:
        try:
            park = get_park(s)
        except ParkError as exc:
            _fail(str(exc), 2)
        enterprise_id = None
        if enterprise is not None:
            enterprise_id = s.scalar(
                select(m.Enterprise.id).where(
                    m.Enterprise.park_id == park.id, m.Enterprise.code == enterprise
                )
            )
            if enterprise_id is None:
                _fail(f"no enterprise {enterprise!r} in park {park.code}", 2)
        rows = audit.history(s, entity, key, park.id, batch=batch, since=day, enterprise_id=enterprise_id,
                             limit=audit.EXPORT_LIMIT if output else limit)  # fmt: skip
    if output is not None:
        body = audit.history_csv(rows) if output.suffix.lower() == ".csv" else audit.history_workbook(rows)
        output.write_bytes(body)
        typer.echo(f"{len(rows)} change(s) written to {output}")
        return
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo("no changes recorded")
    for r in rows:
        what = (
            f"{r['field']}: {r['old_text'] or '–'} → {r['new_text'] or '–'}"
            if r["field"]
            else r["new_text"] or r["old_text"]
        )
        typer.echo(
            f"{r['at_utc'][:19]}  {r['actor']:<16} {r['action']:<7} {r['entity']} {r['key']}  {what}  [{r['batch']}]"
        )
