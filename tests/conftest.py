"""Test harness: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from GREENPARK_TEST_POSTGRES_URL (default: the local server, database ``test``);
each test run creates its own databases there and drops them afterwards. When the server cannot
be reached the PostgreSQL tests are skipped with a clear message, unless
GREENPARK_REQUIRE_POSTGRES=1 (set by .ci/run), in which case they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from greenpark.demo import load_demo
from greenpark.settings import get_settings
from greenpark.store.db import dispose_engine, session_scope
from greenpark.store.migrate import upgrade

PG_URL = os.environ.get("GREENPARK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("GREENPARK_REQUIRE_POSTGRES") == "1"
_pg_state: dict[str, object] = {}
_created_pg: list[str] = []


def postgres_available() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as c:
                c.execute(text("select 1"))
            eng.dispose()
            _pg_state.update(ok=True, why="")
        except Exception as exc:  # the reason is shown to the user
            _pg_state.update(ok=False, why=f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def pytest_report_header(config: pytest.Config) -> list[str]:
    ok, why = postgres_available()
    where = make_url(PG_URL).render_as_string(hide_password=True)
    if ok:
        return [f"greenpark: PostgreSQL tests ON ({where})"]
    return [f"greenpark: PostgreSQL tests SKIPPED — cannot reach {where} ({why})"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ok, why = postgres_available()
    if not ok:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests were skipped: {why}. Set GREENPARK_TEST_POSTGRES_URL to run them.",
            yellow=True,
        )
    try:
        socket.create_connection(
            ("127.0.0.1", int(os.environ.get("GREENPARK_TEST_MQTT_PORT", "1883"))), timeout=1
        ).close()
    except OSError:
        terminalreporter.write_line(
            "NOTE: MQTT tests were skipped: no broker at 127.0.0.1:1883 (install mosquitto).", yellow=True
        )
    if not Path("/usr/bin/chromium").exists() and not os.environ.get("GREENPARK_CHROMIUM"):
        terminalreporter.write_line(
            "NOTE: browser tests were skipped: Debian's chromium is not installed.", yellow=True
        )


def _new_pg_database() -> str:
    ok, why = postgres_available()
    if not ok:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (GREENPARK_REQUIRE_POSTGRES=1) but unreachable: {why}")
        pytest.skip(f"PostgreSQL not reachable: {why}")
    name = f"gp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _created_pg.append(name)
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _new_sqlite_database(tmp: Path) -> str:
    return f"sqlite:///{tmp / f'gp-{uuid.uuid4().hex[:8]}.sqlite'}"


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_databases() -> Iterator[None]:
    yield
    if not _created_pg:
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for name in _created_pg:
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            dispose_engine(url)
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def new_database(backend: str, tmp: Path) -> str:
    url = _new_pg_database() if backend == "postgresql" else _new_sqlite_database(tmp)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def demo_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database with the demo park, shared by read-only tests of one backend."""
    url = new_database(backend, tmp_path_factory.mktemp("db"))
    with session_scope(url) as s:
        report = load_demo(s)
    demo_logins[url] = {u: p for u, p, _r in report.logins}
    return url


demo_logins: dict[str, dict[str, str]] = {}


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty migrated database for tests that change data."""
    url = new_database(backend, tmp_path)
    yield url
    dispose_engine(url)


def _fresh_demo(
    backend: str, tmp_path: Path, synthetic_air: bool, continuation: bool = True
) -> Iterator[str]:
    url = new_database(backend, tmp_path)
    with session_scope(url) as s:
        report = load_demo(s, synthetic_air=synthetic_air, continuation=continuation)
    demo_logins[url] = {u: p for u, p, _r in report.logins}
    yield url
    dispose_engine(url)


@pytest.fixture
def fresh_demo_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new demo database (without the synthetic hourly air data) for tests that change data."""
    yield from _fresh_demo(backend, tmp_path, synthetic_air=False)


@pytest.fixture
def fresh_plan_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new demo database with the plan's own data only (no illustrative continuation 2021-2025,
    no synthetic hours): for tests that start from the plan's state (a project without reports)."""
    yield from _fresh_demo(backend, tmp_path, synthetic_air=False, continuation=False)


@pytest.fixture
def fresh_demo_air_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new demo database with the synthetic hourly air data."""
    yield from _fresh_demo(backend, tmp_path, synthetic_air=True)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("GREENPARK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("GREENPARK_DATABASE_URL", raising=False)
    monkeypatch.delenv("GREENPARK_ENV", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.browser_helpers import ARGS, CHROMIUM

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A Chinese-language page at 1280 px that downloads; an error in its scripts or a dialog fails
    the test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("dialog", lambda d: (errors.append("a dialog: " + d.message), d.dismiss()))
    yield p
    ctx.close()
    assert not errors, errors
