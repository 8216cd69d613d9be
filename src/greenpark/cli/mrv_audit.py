"""``greenpark audit verify|sign`` (the cycle's tamper-evident log) and ``greenpark mrv status``,
``mrv inbox``, ``mrv remind`` (the status board, a user's tasks, reminders and their delivery).
Thin: every command calls ``services/mrv`` and prints (``--json`` for machines)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _url
from greenpark.cli.mrv import acting, audit_app, mrv_app

TodayOpt = Annotated[str | None, typer.Option("--today", help="The day to judge deadlines by (YYYY-MM-DD; default: today).")]  # fmt: skip


def _today(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"--today {text!r} is not a date (YYYY-MM-DD)", 2)


def _plain(value: Any) -> Any:
    """Messages rendered in English (the command line's language), for JSON."""
    from greenpark.i18n import render

    return render(value, "en")


@audit_app.command("verify")
def audit_verify(json_out: JsonOpt = False) -> None:
    """Walk the whole log: every entry's hash and link, and every signed head. Exit 0 when the log
    is intact, 1 when an entry was edited, deleted or reordered (``first_bad`` names the first)."""
    from greenpark.services.mrv import log
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        result = log.verify(s)
    if json_out:
        _dump(result)
    elif result["ok"]:
        typer.echo(f"ok: {result['entries']} entries, {result['signed_heads']} signed head(s), chain intact")
    else:
        bad = result["first_bad"]
        typer.secho(f"TAMPERED at entry {bad['seq']} (row id {bad['id']}): {bad['reason']}", fg=typer.colors.RED, err=True)  # fmt: skip
    raise typer.Exit(0 if result["ok"] else 1)


@audit_app.command("sign")
def audit_sign(json_out: JsonOpt = False) -> None:
    """Sign the log's head now with the house key (it is also signed every 100 entries)."""
    from greenpark.services.mrv import log
    from greenpark.store.db import session_scope

    with session_scope(_url()) as s:
        head = log.sign_head(s)
        out = (
            None
            if head is None
            else {"seq": head.seq, "sha256": head.sha256, "public_key_pem": head.public_key_pem}
        )
    if json_out:
        _dump(out)
    elif out is None:
        typer.echo("the log is empty: nothing to sign")
    else:
        typer.echo(f"signed the head at entry {out['seq']} ({out['sha256']})")


@mrv_app.command("status")
def mrv_status(
    year: Annotated[int, typer.Option(min=1900, max=2200, help="The reporting year.")],
    by: Annotated[str | None, typer.Option("--by", help="See the board as this user (a zone officer sees their zone).")] = None,
    today: TodayOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write an .xlsx (or .csv) file.", dir_okay=False)] = None,
    json_out: JsonOpt = False,
) -> None:  # fmt: skip
    """The status board: key units × months of evidence (on time, late, missing, not due) and ×
    report stages, with what is overdue."""
    from greenpark.services.mrv import status

    day = _today(today)
    with acting(by, house_users=True) as (s, actor):
        board = status.status(s, actor, year, day)
    if output is not None:
        body = status.board_csv(board) if output.suffix.lower() == ".csv" else status.workbook(board)
        output.write_bytes(body)
        typer.echo(f"{len(board['months'])} enterprise(s) × months and {len(board['reports'])} report(s) written to {output}")  # fmt: skip
        return
    if json_out:
        _dump(_plain(board))
        return
    marks = {"on_time": "✓", "late": "L", "missing": "✗", "not_due": "·"}
    typer.echo(f"monthly evidence {year} (✓ on time, L late, ✗ missing, · not due)")
    for r in board["months"]:
        typer.echo(f"  {r['code']:<12} {''.join(marks[c['state']] for c in r['cells'])}  {r['name']}")
    typer.echo(f"annual reports {year}")
    for r in board["reports"]:
        flag = f"  OVERDUE ({r['why']}, due {r['due']})" if r["overdue"] else ""
        typer.echo(f"  {r['code']:<12} {r['stage']:<12}{flag}  {r['name']}")
    typer.echo(f"overdue: {board['counts']['overdue']}")


@mrv_app.command("inbox")
def mrv_inbox(
    by: Annotated[str, typer.Option("--by", help="Whose inbox.")],
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A user's tasks (due, returned, assigned, overdue) and messages."""
    from greenpark.services.mrv import inbox

    day = _today(today)
    with acting(by, house_users=True) as (s, actor):
        out = {"tasks": inbox.tasks(s, actor, day), "messages": inbox.messages(s, actor)}
    if json_out:
        _dump(_plain(out))
        return
    if not out["tasks"]:
        typer.echo("no tasks")
    for t in out["tasks"]:
        due = f" (due {t['due']})" if t["due"] else ""
        typer.echo(f"{'OVERDUE' if t['overdue'] else t['kind']:<9} {t['title']}{due}  {t['link']}")
    unread = [x for x in out["messages"] if not x["read"]]
    if unread:
        typer.echo(f"{len(unread)} unread message(s):")
        for x in unread:
            typer.echo(f"  {x['created_utc'][:16]}  {x['title']}")


@mrv_app.command("remind")
def mrv_remind(today: TodayOpt = None, json_out: JsonOpt = False) -> None:
    """Make the reminders due today (days before each deadline, and notices of deadlines passed)
    and deliver every message not yet sent by e-mail and group robot. Run it daily."""
    from greenpark.services.mrv import inbox
    from greenpark.store.db import engine_for

    day = _today(today)
    with acting(None) as (s, actor):
        made = inbox.remind(s, day, actor.park_id)
    sent = inbox.deliver(engine_for(_url()))
    if json_out:
        _dump({**made, **sent})
        return
    typer.echo(f"{made['reminders']} reminder(s), {made['overdue']} overdue notice(s) made; "
               f"e-mail {sent['email_sent']} sent, {sent['email_failed']} failed; "
               f"robots {sent['robot_sent']} sent, {sent['robot_failed']} failed")  # fmt: skip
