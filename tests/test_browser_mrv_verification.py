"""The verification page in Chromium, as people use it: the park officer assigns, the verifier
declares, reviews, visits and raises a non-conformity, the enterprise answers it with a file, the
verifier closes it and concludes, the officer notifies, and the enterprise sees the appeal deadline
and downloads the signed statement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from greenpark.services.mrv import statement
from greenpark.services.mrv import verification as ver
from greenpark.services.mrv.access import actor_for_user
from greenpark.services.mrv.evidence import beijing_today
from greenpark.services.park import auth
from greenpark.store import models as m
from greenpark.store.db import dispose_engine, session_scope
from tests.browser_helpers import DemoServer, demo_server, shot, sign_in

pytestmark = pytest.mark.browser
YEAR = 2025
#: The name of the enterprise this test verifies (the demo carries another one to assignment).
OURS: list[str] = []


def _prepare(db: Path) -> None:
    """An accepted report of the demo enterprise user's enterprise and a body with the demo verifier."""
    url = f"sqlite:///{db}"
    with session_scope(url) as s:
        ent_user = auth.get_user(s, "enterprise")
        ent = s.get(m.Enterprise, ent_user.enterprise_id)
        assert ent is not None
        OURS.append(ent.name)
        s.add(m.MrvReport(park_id=ent.park_id, enterprise_id=ent.id, year=YEAR, version=1, status="accepted",
                          total_co2_t=41_000.0, submitted_by="enterprise"))  # fmt: skip
        staff = actor_for_user(auth.get_user(s, "staff"), ent.park_id)
        ver.add_body(s, staff, code="CQC", name="中环联合认证中心")
        ver.add_member(s, staff, "CQC", "verifier")
    dispose_engine(url)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("verify"), prepare=_prepare) as srv:
        yield srv


def _open(page: Any, site: DemoServer, user: str) -> None:
    page.context.clear_cookies()
    sign_in(page, site, user)
    page.goto(site.base + "/mrv/verification")
    page.wait_for_selector("body[data-ready='1']")


def _detail(page: Any) -> None:
    page.locator("#ver-table tr", has_text=OURS[0]).locator("a.ver-open").click()
    page.wait_for_selector("#ver-detail:not([hidden]) h2")


def test_a_verification_on_the_page(page: Any, site: DemoServer, tmp_path: Path) -> None:
    _open(page, site, "staff")
    page.select_option("#ver-year", str(YEAR))
    page.wait_for_selector("#ver-assign-ent option", state="attached")
    page.click("#ver-assign-form button")
    page.wait_for_selector("#ver-table a.ver-open")
    shot(page, "verification-assigned")

    _open(page, site, "verifier")
    _detail(page)
    page.fill("#ver-declare textarea[name=statement]", "本机构与受核查企业无利益冲突。")
    page.click("#ver-declare button[name=ok]")
    page.wait_for_selector("#ver-review")
    page.click("#ver-review button")
    page.wait_for_selector("#ver-visit")
    page.fill("#ver-visit input[name=date]", beijing_today().isoformat())  # after the declaration
    page.fill("#ver-visit input[name=team]", "核查员甲、核查员乙")
    page.fill("#ver-visit textarea[name=record]", "查阅台账，询问能源管理员，查看计量器具。")
    page.click("#ver-visit button")
    page.wait_for_selector("#ver-conclude")
    page.fill("#ver-ncr input[name=description]", "外购电力缺少结算单")
    page.click("#ver-ncr button")
    page.wait_for_selector("li.ncr")

    _open(page, site, "enterprise")
    _detail(page)
    evidence = tmp_path / "结算单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% settlement\n")
    page.fill("form.ncr-answer textarea[name=response]", "补充电费结算单")
    page.set_input_files("form.ncr-answer input[type=file]", str(evidence))
    page.click("form.ncr-answer button")
    page.wait_for_selector("li.ncr a[download]")

    _open(page, site, "verifier")
    _detail(page)
    page.fill("form.ncr-close input[name=note]", "结算单与报告一致")
    page.click("form.ncr-close button")
    page.wait_for_selector("#ver-conclude")
    page.click("#ver-conclude button:not([type=button])")
    page.wait_for_selector("#ver-docx")
    shot(page, "verification-concluded")

    _open(page, site, "staff")
    _detail(page)
    page.click("#ver-notify")
    page.wait_for_selector("#ver-detail:has-text('2026'), #ver-detail:has-text('20')")

    _open(page, site, "enterprise")
    _detail(page)
    page.wait_for_selector("#ver-detail h3")
    with page.expect_download() as dl:
        page.click("#ver-docx")
    docx = Path(dl.value.path()).read_bytes()
    shot(page, "verification-notified")
    url = f"sqlite:///{site.data / 'greenpark.sqlite'}"
    with session_scope(url) as s:
        v = s.scalars(select(m.MrvVerification).where(m.MrvVerification.stage == "notified")).one()
        body = s.get(m.MrvBody, v.body_id)
        assert v.stage == "notified" and v.appeal_due_date is not None and body is not None
        assert v.appeal_due_date.isoformat() in page.inner_text("#ver-detail")
        assert statement.check(docx, v.statement_signature_b64.encode(), body.public_key_pem)["valid"]
    dispose_engine(url)
