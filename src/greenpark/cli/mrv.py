"""CLI of the reporting and verification cycle (issue 13): ``greenpark mrv …`` and ``greenpark audit
verify``. Thin: every command calls ``services/mrv`` and prints (``--json`` for machines). Acts
name the user they are done as (``--by USER``), who must be allowed them as on the pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from greenpark.cli.main import _fail, _url, app
from greenpark.services.mrv.access import AccessDenied, Actor, NotFound, actor_for_user
from greenpark.services.park import auth
from greenpark.services.park.parks import get_park
from greenpark.store.db import session_scope

mrv_app = typer.Typer(help="The reporting and verification cycle: key units, plans, evidence, reports, verification.", no_args_is_help=True)  # fmt: skip
report_app = typer.Typer(help="Annual GHG reports: template, submit, list, review.", no_args_is_help=True)
verify_app = typer.Typer(help="Verification: bodies, assignments, review, non-conformities, conclusion, appeals.", no_args_is_help=True)  # fmt: skip
audit_app = typer.Typer(help="The tamper-evident log of the cycle.", no_args_is_help=True)
mrv_app.add_typer(report_app, name="report")
mrv_app.add_typer(verify_app, name="verify")
app.add_typer(mrv_app, name="mrv")
app.add_typer(audit_app, name="audit")

#: What a command of the cycle answers with its reason and exit code 2 (a ParkError is a ValueError).
REFUSALS = (AccessDenied, NotFound, auth.AuthError, ValueError)


@contextmanager
def acting(by: str | None, *, house_users: bool = False) -> Iterator[tuple[Session, Actor]]:
    """A session on the command's park (``--park``, else the only one) and the actor: the user
    ``by`` (``--by``), else the house's operator ``cli``, an admin of the park (the command line
    runs where the database is). ``house_users``: ``by`` may also be a user of no one park (the
    verification, status and inbox commands); else only a user of this park. A refusal
    (:data:`REFUSALS`) exits 2 with its reason, and nothing is stored."""
    try:
        with session_scope(_url()) as s:
            park = get_park(s)
            if by is None:
                actor = Actor(username="cli", role=auth.Role.ADMIN, park_id=park.id)
            else:
                user = auth.get_user(s, by, within=None if house_users else park.id)
                actor = actor_for_user(user, park.id)
            yield s, actor
    except REFUSALS as exc:
        _fail(str(exc), 2)


# Each part of the cycle registers its commands on the apps above.
from greenpark.cli import mrv_audit as _mrv_audit  # noqa: E402,F401
from greenpark.cli import mrv_cycle as _mrv_cycle  # noqa: E402,F401
from greenpark.cli import mrv_report as _mrv_report  # noqa: E402,F401
from greenpark.cli import mrv_verify as _mrv_verify  # noqa: E402,F401
