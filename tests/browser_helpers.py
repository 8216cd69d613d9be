"""A real greenpark server with the demo park, and Debian's chromium, for the browser tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

CHROMIUM = os.environ.get("GREENPARK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("GREENPARK_TEST_ARTIFACTS", "test-artifacts"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("GREENPARK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"chromium required but not found at {CHROMIUM}")
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM})")


@dataclass
class DemoServer:
    base: str
    data: Path
    logins: dict[str, str]


@contextmanager
def demo_server(
    data: Path, prepare: Callable[[Path], None] | None = None, serve: list[str] | None = None
) -> Iterator[DemoServer]:
    """`greenpark demo` into ``data``, then ``prepare(database file)``, then `greenpark serve` (with
    the extra ``serve`` arguments) on a free port until the block ends."""
    require_chromium()
    env = {**os.environ, "GREENPARK_DATA_DIR": str(data), "GREENPARK_ENV": "development"}
    env.pop("GREENPARK_DATABASE_URL", None)
    gp = [sys.executable, "-m", "greenpark.cli.main"]
    subprocess.run([*gp, "demo"], env=env, check=True, capture_output=True)
    logins = dict(line.split("\t")[:2] for line in (data / "demo-logins.txt").read_text().splitlines()[1:])
    if prepare is not None:
        prepare(data / "greenpark.sqlite")
    port = free_port()
    with (data / "server.log").open("wb") as log:
        # the hourly reminders would add messages while a test reads the inbox: off (tested on the CLI)
        cmd = [*gp, "serve", "--port", str(port), "--no-reminders", *(serve or [])]
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                pytest.fail("server did not start: " + (data / "server.log").read_text())
            yield DemoServer(base, data, logins)
        finally:
            proc.terminate()
            proc.wait(30)


# As a person does: through the login form and the menus.


def sign_in_as(page: Any, site: DemoServer, user: str) -> None:
    """Sign out whoever was signed in (drop the cookies) and sign in as ``user`` through the page."""
    page.context.clear_cookies()
    sign_in(page, site, user)


def sign_in(page: Any, site: DemoServer, user: str) -> None:
    page.goto(site.base + "/")
    page.click("#login-link")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", site.logins[user])
    page.click("form.stack button")
    page.wait_for_url(re.compile(re.escape(site.base) + "/.*"))
    assert page.is_visible("header .user")


def open_menu(page: Any, group: str, item: str) -> None:
    """Through the menu, as a person does: hover the group, click the section (a group with one
    section for this role is that section's link)."""
    direct = page.locator(f"nav a.menu-top[title='{item}']")
    if direct.count():
        direct.click()
    else:
        page.hover(f"nav .menu-top:has-text('{group}')")
        page.click(f"nav .menu-items a:has-text('{item}')")
    page.wait_for_selector("body[data-ready='1'], #error-page")


def shot(page: Any, name: str) -> None:
    (ARTIFACTS / "journeys").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "journeys" / f"{name}.png"), full_page=True)
