"""``greenpark mrv verify …``: verification bodies, assignments, the verifier's steps, the
officer's notice and appeal decision, and checking a signed statement. Thin over
:mod:`greenpark.services.mrv.verification`; acts name the user they are done as (``--by USER``).
Refusals exit 2 with the reason; ``check-statement`` exits 0 for a valid signature, 1 otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail
from greenpark.cli.mrv import acting, verify_app

body_app = typer.Typer(help="Verification bodies: register, members, public key, list.", no_args_is_help=True)
verify_app.add_typer(body_app, name="body")

ByOpt = Annotated[str, typer.Option("--by", help="The user this is done as (who must be allowed it).")]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="The date deadlines are counted from (YYYY-MM-DD; default today)."),
]


#: A session and the actor; a verification command may be done by a house-wide user too.
_acting = partial(acting, house_users=True)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"not a date (YYYY-MM-DD): {text}", 2)


def _json_arg(text: str | None, what: str) -> Any:
    if text is None:
        return []
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        _fail(f"{what}: not JSON ({exc})", 2)


def _out(obj: dict[str, Any], json_out: bool, line: Callable[[dict[str, Any]], str]) -> None:
    _dump(obj) if json_out else typer.echo(line(obj))


def _show(d: dict[str, Any]) -> str:
    return (f"verification {d['id']}: {d['enterprise']} {d['year']} by {d['body']} — {d['stage']}"
            + (f", {d['conclusion']}" if d["conclusion"] else "")
            + (f", verified {d['verified_total_co2_t']:,.0f} t CO2" if d["verified_total_co2_t"] is not None else "")
            + (f", appeal until {d['appeal_due_date']}" if d["appeal_due_date"] else ""))  # fmt: skip


# --------------------------------------------------------------------------- bodies


@body_app.command("add")
def body_add(
    code: str,
    name: Annotated[str, typer.Option("--name", help="The body's name.")],
    by: ByOpt,
    uscc: Annotated[str, typer.Option("--uscc", help="The body's unified social credit code.")] = "",
    accreditation: Annotated[
        str, typer.Option("--accreditation", help="Its accreditation (e.g. CNAS).")
    ] = "",
    contact: Annotated[str, typer.Option("--contact", help="Contact person and phone.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Register a verification body (a signing key is made for it). Who: park officers."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        b = ver.add_body(
            s, actor, code=code, name=name, uscc=uscc, accreditation=accreditation, contact=contact
        )
        out = ver.body_dict(s, b)
    _out(out, json_out, lambda d: f"body {d['code']} registered: {d['name']}")


@body_app.command("member")
def body_member(code: str, username: str, by: ByOpt, json_out: JsonOpt = False) -> None:
    """Add a verifier user of the park to the body. Who: park officers."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        ver.add_member(s, actor, code, username)
        out = ver.body_dict(s, ver.get_body(s, actor.park_id, code))
    _out(out, json_out, lambda d: f"body {d['code']}: {', '.join(x['username'] for x in d['members'])}")


@body_app.command("list")
def body_list(
    by: Annotated[
        str | None, typer.Option("--by", help="As this user (default: every body of the park).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The park's verification bodies with their members and public keys."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        rows = ver.bodies(s, actor)
    if json_out:
        _dump(rows)
        return
    for b in rows:
        typer.echo(
            f"{b['code']:<12} {b['name']}  members: {', '.join(x['username'] for x in b['members']) or '–'}"
        )


@body_app.command("key")
def body_key(
    code: str,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the PEM here.")] = None,
) -> None:
    """The body's public key (PEM) that checks its statements (public: anyone may have it)."""
    from greenpark.services.mrv import verification as ver

    with _acting(None) as (s, actor):
        pem = ver.body_public_key(s, actor.park_id, code)
    if output is None:
        typer.echo(pem, nl=False)
    else:
        output.write_text(pem, encoding="ascii")
        typer.echo(f"{output}: public key of {code}")


# --------------------------------------------------------------------------- assignments and acts


@verify_app.command("list")
def verify_list(
    by: ByOpt, year: Annotated[int | None, typer.Option("--year")] = None, json_out: JsonOpt = False
) -> None:
    """The verifications in reach of the user."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        rows = ver.list_verifications(s, actor, year)
    if json_out:
        _dump(rows)
        return
    for r in rows:
        typer.echo(_show(r))


@verify_app.command("show")
def verify_show(vid: int, by: ByOpt, json_out: JsonOpt = False) -> None:
    """One verification with its checklists, non-conformities, appeal and log."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        d = ver.detail(s, actor, vid)
    _out(d, json_out, _show)


@verify_app.command("assign")
def verify_assign(
    enterprise: Annotated[str, typer.Option("--enterprise", help="The enterprise's code.")],
    year: Annotated[int, typer.Option("--year")],
    body: Annotated[str, typer.Option("--body", help="The body's code.")],
    by: ByOpt,
    json_out: JsonOpt = False,
) -> None:
    """Assign the verification of an enterprise's accepted report to a body. Who: park officers."""
    from sqlalchemy import select

    from greenpark.services.mrv import verification as ver
    from greenpark.store import models as m

    with _acting(by) as (s, actor):
        ent = s.scalar(select(m.Enterprise.id).where(m.Enterprise.park_id == actor.park_id, m.Enterprise.code == enterprise))  # fmt: skip
        if ent is None:
            raise ValueError(f"no enterprise {enterprise!r}")
        v = ver.assign(s, actor, enterprise_id=ent, year=year, body_code=body)
        d = ver.summary(s, v)
    _out(d, json_out, _show)


@verify_app.command("declare")
def verify_declare(
    vid: int,
    statement: Annotated[str, typer.Option("--statement", help="The declaration's text.")],
    by: ByOpt,
    conflict: Annotated[
        bool, typer.Option("--conflict/--no-conflict", help="Whether there is a conflict.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """The verifier's conflict-of-interest declaration (a conflict withdraws the body)."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        v = ver.declare(s, actor, vid, statement_text=statement, no_conflict=not conflict)
        d = ver.summary(s, v)
    _out(d, json_out, _show)


@verify_app.command("review")
def verify_review(
    vid: int,
    items: Annotated[
        str, typer.Option("--items", help='JSON list (or @file) of {"item", "result", "note"}.')
    ],
    by: ByOpt,
    json_out: JsonOpt = False,
) -> None:
    """The document review checklist (result conforms | nonconform | na per item)."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        ver.doc_review(s, actor, vid, _json_arg(items, "--items"))
        d = ver.detail(s, actor, vid)
    _out(d, json_out, _show)


@verify_app.command("site-visit")
def verify_site_visit(
    vid: int,
    on: Annotated[str, typer.Option("--date", help="The visit's date (YYYY-MM-DD).")],
    team: Annotated[str, typer.Option("--team")],
    record: Annotated[str, typer.Option("--record", help="What was checked, asked, seen and tested.")],
    items: Annotated[str, typer.Option("--items", help="JSON list (or @file) of the site checklist.")],
    by: ByOpt,
    json_out: JsonOpt = False,
) -> None:
    """The site visit record and checklist."""
    from greenpark.services.mrv import verification as ver

    day = _day(on)
    assert day is not None
    with _acting(by) as (s, actor):
        ver.site_visit(
            s, actor, vid, visit_date=day, team=team, record=record, items=_json_arg(items, "--items")
        )
        d = ver.detail(s, actor, vid)
    _out(d, json_out, _show)


@verify_app.command("ncr")
def verify_ncr(
    vid: int,
    description: Annotated[str, typer.Option("--description")],
    by: ByOpt,
    clause: Annotated[str, typer.Option("--clause")] = "",
    due: Annotated[str | None, typer.Option("--due", help="Answer by (YYYY-MM-DD).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Open a non-conformity."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        n = ver.open_ncr(s, actor, vid, clause=clause, description=description, due_date=_day(due))
        out = {"id": n.id, "number": n.number, "status": n.status}
    _out(out, json_out, lambda d: f"non-conformity #{d['number']} (id {d['id']}) opened")


@verify_app.command("ncr-answer")
def verify_ncr_answer(
    ncr_id: int,
    response: Annotated[str, typer.Option("--response")],
    by: ByOpt,
    files: Annotated[list[Path] | None, typer.Option("--file", help="Evidence (repeat).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The enterprise's answer to a non-conformity, with evidence files."""
    from greenpark.services.mrv import verification as ver

    got = [(f.name, f.read_bytes()) for f in files or []]
    with _acting(by) as (s, actor):
        n = ver.answer_ncr(s, actor, ncr_id, response=response, files=got)
        out = {"id": n.id, "number": n.number, "status": n.status}
    _out(out, json_out, lambda d: f"non-conformity #{d['number']}: {d['status']}")


@verify_app.command("ncr-close")
def verify_ncr_close(
    ncr_id: int,
    by: ByOpt,
    note: Annotated[str | None, typer.Option("--note", help="Close as remedied, with this note.")] = None,
    estimate: Annotated[
        float | None, typer.Option("--estimate", help="Settle by a conservative estimate (t CO2).")
    ] = None,
    reasoning: Annotated[str, typer.Option("--reasoning", help="The estimate's reasoning.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Close a non-conformity (--note) or settle it by a conservative estimate (--estimate, --reasoning)."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        if estimate is not None:
            n = ver.estimate_ncr(s, actor, ncr_id, estimate_co2_t=estimate, reasoning=reasoning)
        else:
            n = ver.close_ncr(s, actor, ncr_id, note=note or "")
        out = {"id": n.id, "number": n.number, "status": n.status}
    _out(out, json_out, lambda d: f"non-conformity #{d['number']}: {d['status']}")


@verify_app.command("conclude")
def verify_conclude(
    vid: int,
    conclusion: Annotated[str, typer.Option("--conclusion", help="pass or fail.")],
    verified: Annotated[float, typer.Option("--verified", help="The verified total (t CO2).")],
    by: ByOpt,
    differences: Annotated[
        str | None,
        typer.Option(
            "--differences", help='JSON list (or @file) of {"item", "reported_t", "verified_t", "reason"}.'
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="The statement's language: zh or en.")] = "zh",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the statement (.docx) and its .sig.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The conclusion; the statement is built and signed with the body's key."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        v = ver.conclude(s, actor, vid, conclusion=conclusion, verified_total_co2_t=verified,
                         differences=_json_arg(differences, "--differences"), lang=lang)  # fmt: skip
        d = ver.summary(s, v) | {"statement_sha256": v.statement_sha256}
        docx, sig, _pem, _code = ver.statement_files(s, actor, vid)
    if output is not None:
        output.write_bytes(docx)
        output.with_suffix(".sig").write_bytes(sig)
    _out(d, json_out, _show)


@verify_app.command("statement")
def verify_statement(
    vid: int,
    by: ByOpt,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The .docx to write (and its .sig beside it).")
    ],
) -> None:
    """Download a signed statement and its detached signature."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        docx, sig, _pem, code = ver.statement_files(s, actor, vid)
    output.write_bytes(docx)
    output.with_suffix(".sig").write_bytes(sig)
    typer.echo(f"{output} and {output.with_suffix('.sig')} (signed by body {code})")


@verify_app.command("notify")
def verify_notify(vid: int, by: ByOpt, today: TodayOpt = None, json_out: JsonOpt = False) -> None:
    """Tell the enterprise the concluded result; the appeal window starts. Who: park officers."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        v = ver.notify_result(s, actor, vid, today=_day(today))
        d = ver.summary(s, v)
    _out(d, json_out, _show)


@verify_app.command("appeal")
def verify_appeal(
    vid: int,
    grounds: Annotated[str, typer.Option("--grounds")],
    by: ByOpt,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The enterprise's appeal within the window."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        a = ver.file_appeal(s, actor, vid, grounds=grounds, today=_day(today))
        out = {"id": a.id, "verification": vid, "decision_due_date": a.decision_due_date.isoformat()}
    _out(out, json_out, lambda d: f"appeal filed; decision due {d['decision_due_date']}")


@verify_app.command("decide")
def verify_decide(
    vid: int,
    decision: Annotated[str, typer.Option("--decision", help="upheld or revised.")],
    note: Annotated[str, typer.Option("--note")],
    by: ByOpt,
    revised: Annotated[float | None, typer.Option("--revised", help="The revised total (t CO2).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Decide an appeal. Who: park officers."""
    from greenpark.services.mrv import verification as ver

    with _acting(by) as (s, actor):
        ver.decide_appeal(s, actor, vid, decision=decision, note=note, revised_total_co2_t=revised)
        d = ver.detail(s, actor, vid)
    _out(d, json_out, _show)


@verify_app.command("close-due")
def verify_close_due(today: TodayOpt = None, json_out: JsonOpt = False) -> None:
    """Close every verification whose appeal window passed or whose appeal was decided."""
    from greenpark.services.mrv import verification as ver

    with _acting(None) as (s, _actor):
        closed = ver.close_due(s, _day(today))
    _dump({"closed": closed}) if json_out else typer.echo(f"closed: {', '.join(map(str, closed)) or 'none'}")


@verify_app.command("check-statement")
def check_statement(
    file: Path,
    signature: Annotated[
        Path, typer.Option("--signature", help="The detached signature (.sig, raw or base64).")
    ],
    key: Annotated[Path, typer.Option("--key", help="The body's public key (PEM).")],
    json_out: JsonOpt = False,
) -> None:
    """Check a statement's signature with the body's public key: exit 0 if valid, 1 if not.
    Needs no database."""
    from greenpark.services.mrv import statement

    try:
        res = statement.check(file.read_bytes(), signature.read_bytes(), key.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(str(exc), 2)
    res["file"] = str(file)
    if json_out:
        _dump(res)
    else:
        typer.echo(f"{file}: {'valid' if res['valid'] else 'INVALID'} signature (sha256 {res['sha256']})")
    if not res["valid"]:
        raise typer.Exit(1)
