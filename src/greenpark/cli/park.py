"""Parks: ``--park CODE`` on every command that reads or writes a park's data, and the commands
that onboard and list parks (``greenpark park …``, ``greenpark parks overview``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from greenpark.cli.main import JsonOpt, _dump, _fail, _rejected, _url, app
from greenpark.services.park.parks import PROCESS_PARK, ParkError, find_park
from greenpark.store.db import session_scope

park_app = typer.Typer(
    no_args_is_help=True, help="Parks: onboarding workbook, create a park, list the parks."
)
parks_app = typer.Typer(
    no_args_is_help=True, help="Across parks: the overview a city or provincial bureau watches."
)
app.add_typer(park_app, name="park")
app.add_typer(parks_app, name="parks")

PARK_HELP = "The park's code (default: the only park; required when there are several)."
ParkOpt = Annotated[str | None, typer.Option("--park", help=PARK_HELP)]

#: Commands that do not work on one park's data: house-wide jobs (the ingestion server, the
#: webhook outbox, the alarm rules over every device), pure calculators, the shared factor library,
#: user administration (``users add`` takes its own ``--park``), and the park commands themselves.
HOUSE_WIDE = {
    "init", "demo", "serve", "aqi", "aqi-file", "water-class", "noise", "lmdi",
    "factors", "users", "hj212", "alarms deliver", "alarms evaluate", "park", "parks", "audit",
}  # fmt: skip


def parked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with a ``--park CODE`` option: the process works on that park (every service's
    :func:`~greenpark.services.park.parks.get_park` answers it); an unknown code, or several
    parks and none named, is a clear error naming the parks (exit 2)."""
    if "park" in inspect.signature(fn).parameters:
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, park: str | None = None, **kwargs: Any) -> Any:
        if park is not None:
            with session_scope(_url()) as s:
                try:
                    find_park(s, park)
                except ParkError as exc:
                    _fail(str(exc), 2)
        token = PROCESS_PARK.set(park)
        try:
            return fn(*args, **kwargs)
        except ParkError as exc:
            _fail(str(exc), 2)
        finally:
            PROCESS_PARK.reset(token)

    sig = inspect.signature(fn, eval_str=True)  # the options' Annotated metadata, resolved in fn's module
    option = inspect.Parameter("park", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ParkOpt)
    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), option])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{k: p.annotation for k, p in sig.parameters.items() if p.annotation is not inspect.Parameter.empty},
        "park": ParkOpt,
    }
    return wrapper


def add_park_option(root: typer.Typer) -> list[str]:
    """Give every command of ``root`` that works on a park's data its ``--park`` option; returns
    their names (tests check that none is missed)."""
    done: list[str] = []

    def walk(t: typer.Typer, prefix: str) -> None:
        for c in t.registered_commands:
            name = (prefix + (c.name or (c.callback.__name__ if c.callback else ""))).strip()
            name = name if c.name else name.replace("_", "-")
            if c.callback is None or name in HOUSE_WIDE or name.split(" ")[0] in HOUSE_WIDE:
                continue
            c.callback = parked(c.callback)
            done.append(name)
        for g in t.registered_groups:
            if g.typer_instance is not None and g.name:
                walk(g.typer_instance, f"{prefix}{g.name} ")

    walk(root, "")
    return done


@park_app.command("list")
def park_list(json_out: JsonOpt = False) -> None:
    """The parks in this house with their zones and enterprises."""
    from greenpark.services.park.parks import park_summaries

    with session_scope(_url()) as s:
        rows = park_summaries(s)
    if json_out:
        _dump(rows)
        return
    if not rows:
        typer.echo(
            "no park yet: `greenpark park template -o park.xlsx`, fill it in, `greenpark park create park.xlsx`"
        )
    for r in rows:
        typer.echo(
            f"{r['code']:<16} {r['name_zh']}  ({r['name_en']})  zones {r['zones']}, enterprises {r['enterprises']}"
        )


@park_app.command("template")
def park_template(
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the workbook (.xlsx).")],
    of: Annotated[
        str | None, typer.Option("--of", help="Fill it with this park's records (to edit and import again).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Sheet names and instructions: zh or en.")] = "zh",
) -> None:
    """Write the park onboarding workbook: blank, or with a park's records (``--of CODE``)."""
    from greenpark.services.portfolio.onboarding import park_workbook

    if lang not in ("zh", "en"):
        _fail("--lang is zh or en", 2)
    with session_scope(_url()) as s:
        park = None
        if of is not None:
            try:
                park = find_park(s, of)
            except ParkError as exc:
                _fail(str(exc), 2)
        out.write_bytes(park_workbook(s, park, lang))
    typer.echo(f"{out}: park onboarding workbook" + (f" of {of}" if of else " (blank)"))


@park_app.command("create")
def park_create(
    file: Annotated[
        Path, typer.Argument(help="The filled-in onboarding workbook (.xlsx).", exists=True, dir_okay=False)
    ],
    json_out: JsonOpt = False,
    by: Annotated[str, typer.Option(help="Who does it (kept in the record history).")] = "cli",
) -> None:
    """Create the park the workbook describes, or bring an existing park (same code) up to it.
    A bad cell is named (file, sheet, row, column) and nothing is created; running it twice
    changes nothing."""
    from greenpark.services.portfolio.onboarding import ParkWorkbookRejected, create_park
    from greenpark.services.tabular import check_size

    content = file.read_bytes()
    try:
        check_size(file.name, content, ParkWorkbookRejected)
        with session_scope(_url()) as s:
            res = create_park(s, file.name, content, by=by)
    except ParkWorkbookRejected as exc:
        if json_out:
            _dump(
                {
                    "ok": False,
                    "file": file.name,
                    "errors": [str(e) for e in exc.errors],
                    "errors_total": exc.total,
                }
            )
            raise typer.Exit(2) from None
        _rejected(file, exc.errors)
    if json_out:
        _dump({"ok": True, **res.as_dict()})
        return
    what = "created" if res.created else ("unchanged" if not res.changed else "updated")
    typer.echo(f"park {res.park} {what}" + "".join(f"; {k} {v}" for k, v in sorted(res.changed.items())))
