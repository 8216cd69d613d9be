"""CLI of the reporting and verification cycle (issue 13): ``greenpark mrv …`` and ``greenpark audit
verify``. Thin: every command calls ``services/mrv`` and prints (``--json`` for machines). Acts
name the user they are done as (``--by USER``), who must be allowed them as on the pages."""

from __future__ import annotations

import typer

from greenpark.cli.main import app

mrv_app = typer.Typer(help="The reporting and verification cycle: key units, plans, evidence, reports, verification.", no_args_is_help=True)  # fmt: skip
report_app = typer.Typer(help="Annual GHG reports: template, submit, list, review.", no_args_is_help=True)
verify_app = typer.Typer(help="Verification: bodies, assignments, review, non-conformities, conclusion, appeals.", no_args_is_help=True)  # fmt: skip
audit_app = typer.Typer(help="The tamper-evident log of the cycle.", no_args_is_help=True)
mrv_app.add_typer(report_app, name="report")
mrv_app.add_typer(verify_app, name="verify")
app.add_typer(mrv_app, name="mrv")
app.add_typer(audit_app, name="audit")

# Each part of the cycle registers its commands on the apps above.
from greenpark.cli import mrv_audit as _mrv_audit  # noqa: E402,F401
from greenpark.cli import mrv_cycle as _mrv_cycle  # noqa: E402,F401
from greenpark.cli import mrv_report as _mrv_report  # noqa: E402,F401
from greenpark.cli import mrv_verify as _mrv_verify  # noqa: E402,F401
