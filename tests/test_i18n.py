"""The catalogue: every message id used in the code, the templates and the page scripts has its
Chinese; messages raised by services are shown in the reader's language."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from greenpark.i18n import Msg, catalogue, render, tr
from greenpark.i18n.update import extracted, missing
from greenpark.settings import Settings
from greenpark.web.app import create_app
from tests.conftest import demo_logins


def test_every_message_has_its_chinese() -> None:
    gaps = missing()
    assert not gaps, "untranslated: " + "; ".join(
        f"{k!r} ({v[0][0]}:{v[0][1]})" for k, v in sorted(gaps.items())[:30]
    )
    found = extracted()
    # the extractor sees the three kinds of source
    kinds = {where[0].rsplit(".", 1)[-1] for places in found.values() for where in places}
    assert {"py", "html", "js"} <= kinds, kinds


def test_messages_render_in_either_language() -> None:
    m = Msg("{value} is not a number", value="'12O'")
    assert str(m) == "'12O' is not a number"
    assert render(m, "zh") == "'12O' 不是数字"
    assert render({"errors": [{"reason": m}]}, "zh") == {"errors": [{"reason": "'12O' 不是数字"}]}
    assert pickle.loads(pickle.dumps(m)).params == {"value": "'12O'"}
    assert tr("Log in", "zh") == "登录" and tr("Log in", "en") == "Log in"
    assert catalogue("en") == {} and catalogue("zh")["Log in"] == "登录"


@pytest.fixture
def client(demo_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), database_url=demo_url)) as c:
        yield c


def test_an_import_error_reads_in_the_readers_language(client: TestClient, demo_url: str) -> None:
    r = client.post("/api/auth/login", json={"username": "staff", "password": demo_logins[demo_url]["staff"]})
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    files = {
        "file": (
            "bad-activity.csv",
            b"entity,year,boundary,carrier,energy_tce\nzone:core,12O,all,diesel,1\n",
            "text/csv",
        )
    }
    en = client.post("/api/import", files=files, headers=h).json()["errors"][0]
    zh = client.post("/api/import", files=files, headers={**h, "Accept-Language": "zh-CN,zh;q=0.9"}).json()[
        "errors"
    ][0]
    assert en["reason"] == "'12O' is not a number"
    assert zh["reason"] == "'12O' 不是数字" and zh["column"] == "year" and zh["row"] == 2
    assert zh["text"] == "bad-activity.csv，第 2 行，year 列：'12O' 不是数字"


def test_page_scripts_get_the_same_catalogue(client: TestClient) -> None:
    js = client.get("/i18n/zh.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert '"Log in": "登录"' in js.text
    en = client.get("/i18n/en.js").text
    assert en.startswith("window.GP_MESSAGES = {};")  # English is the identity
    assert '"10^4 kWh": "10⁴ kWh"' in en and '"10^4 kWh": "万千瓦时"' in js.text  # names of codes (GP.label)
    assert client.get("/i18n/fr.js").status_code == 422
