"""The greenpark command, driven as a user would (exit codes and output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenpark.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_db(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    return fresh_url


def run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def test_init_demo_inventory_explain(cli_db: str, tmp_path: Path) -> None:
    run("init")
    out = run("demo")
    assert "demo logins" in out and "admin" in out
    assert "ILLUSTRATIVE continuation 2021–2025" in out  # says what is made up
    assert "demo users exist" in run("demo")  # idempotent
    data = json.loads(run("inventory", "--year", "2020", "--scope", "core", "--json"))
    assert data["totals"]["co2_t"] == pytest.approx(513_765, abs=1)
    text = run("inventory", "--year", "2020", "--scope", "core", "--by", "sector")
    assert "工业" in text and "205,600.92" in text
    xlsx = tmp_path / "inv.xlsx"
    run("inventory", "--year", "2020", "--scope", "core", "--xlsx", str(xlsx))
    assert xlsx.stat().st_size > 1000
    ex = run("explain", "core_co2_2020_t", "--carrier", "electricity")
    assert "grid-ndrc-2011-2012" in ex and "0.5257" in ex and "方案2.4" in ex
    ex_json = json.loads(run("explain", "--scope", "core", "--year", "2020", "--json"))
    assert ex_json["records"] and ex_json["carriers"]


def test_factors_commands(cli_db: str) -> None:
    run("init")
    listing = run("factors", "list")
    assert "xianning-plan-2021" in listing and "gbt2589-2020" in listing
    shown = json.loads(run("factors", "show", "xianning-plan-2021", "--json"))
    assert any(r["parameter"] == "grid_factor" for r in shown["rows"])
    res = runner.invoke(app, ["factors", "show", "nope"])
    assert res.exit_code == 1


def test_template_and_import_rejection(cli_db: str, tmp_path: Path) -> None:
    run("init")
    run("demo")
    tpl = tmp_path / "t.xlsx"
    run("template", "-o", str(tpl))
    assert tpl.exists()
    bad = tmp_path / "bad-activity.csv"
    bad.write_text(
        "entity,year,boundary,carrier,energy_tce\nzone:core,2020,all,plutonium,1\n", encoding="utf-8"
    )
    res = runner.invoke(app, ["import", str(bad), "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["errors"][0]
    assert (err["row"], err["column"]) == (2, "carrier")
    good = tmp_path / "good-activity.csv"
    good.write_text(
        "entity,year,boundary,carrier,energy_tce\nzone:core,2021,all,diesel,10\n", encoding="utf-8"
    )
    assert json.loads(run("import", str(good), "--json"))["changed"]["activity"] == 1
    assert json.loads(run("import", str(good), "--json"))["changed"]["activity"] == 0


def test_reproduce_exit_code(cli_db: str) -> None:
    run("demo")
    res = runner.invoke(app, ["reproduce"])
    assert (
        res.exit_code == 0
        and "core_co2_2020_t" in res.stdout
        and "0.276" not in res.stdout.split("inconsistencies")[0]
    )


def test_serve_refuses_an_old_schema(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import command

    from greenpark.store.migrate import alembic_config, schema_status

    command.downgrade(alembic_config(fresh_url), "0001")  # an install from before the monitoring tables
    monkeypatch.setenv("GREENPARK_DATABASE_URL", fresh_url)
    current, head = schema_status(fresh_url)
    assert current == "0001" and head != "0001"
    res = runner.invoke(app, ["serve", "--port", "1"])
    assert res.exit_code == 1 and "greenpark init" in res.output


def test_users_accounts_tokens_and_sessions(cli_db: str) -> None:
    """An admin without the web: deactivate, reactivate, reset a password, list and revoke tokens,
    end sessions — each kept in the audit trail."""
    from greenpark.services.park import audit, auth
    from greenpark.store.db import session_scope

    run("init")
    run("demo")
    token = run("users", "token", "verifier", "--name", "gateway", "--days", "7").strip()
    assert token.startswith("gp_")
    rows = json.loads(run("users", "tokens", "--json"))
    mine = next(t for t in rows if t["name"] == "gateway")
    assert mine["state"] == "active" and mine["username"] == "verifier" and "token" not in mine
    with session_scope(cli_db) as s:
        assert auth.user_for_token(s, token) is not None
        user = auth.get_user(s, "staff")
        auth.start_session(s, user, 3600)
    assert "staff" in run("users", "sessions", "staff")
    run("users", "sessions", "staff", "--end")
    run("users", "revoke-token", str(mine["id"]))
    run("users", "deactivate", "staff")
    assert "DEACTIVATED" in run("users", "list")
    new = run("users", "reset-password", "staff").split(": ")[-1].strip()
    run("users", "activate", "staff")
    with session_scope(cli_db) as s:
        assert auth.user_for_token(s, token) is None  # revoked
        assert auth.live_sessions(s, auth.get_user(s, "staff").id) == []
        assert auth.authenticate(s, "staff", new) is not None
        actions = {e["action"] for e in audit.changes(s, entity="app_user", key="staff")}
    assert {"deactivate", "activate", "reset_password"} <= actions
    assert runner.invoke(app, ["users", "token", "nobody"]).exit_code != 0
    assert runner.invoke(app, ["users", "token", "staff", "--days", "5000"]).exit_code != 0
