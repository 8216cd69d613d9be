"""Every page, for every role, in both languages, in a real browser (issue 11):

- a screenshot of each at 1280 and 1920 px wide under test-artifacts/pages/, so anyone can look at
  what a user sees;
- the language check: the page's text as the reader sees it (read from the DOM, chart titles,
  axis names, legends and series names included) has, in Chinese, no snake_case identifier, no
  English word outside a short list of proper terms and no ``10^4``; in English, no Chinese outside
  names. Names and other data (an enterprise's name, a file name, a code) are marked
  ``translate="no"`` and left out, as the HTML standard means that attribute.

A failure names the page, the element and the text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_helpers import ARTIFACTS, DemoServer, demo_server
from tests.language import problems

pytestmark = pytest.mark.browser

ROLES = ("anonymous", "public", "enterprise", "verifier", "staff", "admin")
PAGES = (
    "/", "/inventory", "/sankey", "/factors", "/reproduce", "/environment", "/monitoring", "/alarms",
    "/enterprises", "/tracing", "/indicators", "/projects", "/land", "/roadmap", "/import", "/admin",
    "/monitoring/outlet/1", "/login", "/nope", "/inbox", "/mrv/status", "/mrv/units", "/mrv/enterprise",
    "/mrv/reports", "/mrv/verification", "/energy",
)  # fmt: skip
#: While working on some pages: GREENPARK_PAGES=/roadmap,/land pytest tests/test_browser_pages.py -k "staff"
#: (the full problem list of a role and language is written beside the screenshots).
if os.environ.get("GREENPARK_PAGES"):
    PAGES = tuple(os.environ["GREENPARK_PAGES"].split(","))

#: Text of every visible element that is the reader's language (data marked translate="no" left
#: out), each with a short path to find it; plus the texts of the charts' options.
READ_TEXT = """
() => {
  const out = [];
  const skip = (el) => el.closest('[translate="no"], script, style, noscript, svg, canvas, .swagger-ui, code');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    const t = n.textContent.trim();
    if (t) out.push([el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''), t]);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
    if (skip(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label']) if (el.getAttribute(a)) out.push([el.tagName.toLowerCase() + '@' + a, el.getAttribute(a)]);
  }
  for (const [id, c] of Object.entries((window.GP && window.GP.charts) || {})) {
    const o = c.getOption ? c.getOption() : {};
    const texts = [];
    for (const k of ['title', 'xAxis', 'yAxis', 'legend']) for (const x of (o[k] || [])) { if (x.text) texts.push(x.text); if (x.name) texts.push(x.name); for (const d of (k === 'legend' ? (x.data || []) : [])) texts.push(typeof d === 'string' ? d : d.name || ''); }
    for (const s of (o.series || [])) if (s.name && !String(s.name).startsWith('band-') && !['base', 'up', 'down'].includes(s.name)) texts.push(s.name);
    for (const t of texts) if (t) out.push(['chart#' + id, String(t)]);
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("pages")) as srv:
        yield srv


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_in_one_language(site: DemoServer, browser: Any, role: str, lang: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN" if lang == "zh" else "en-US"
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.goto(f"{site.base}/login?lang={lang}")
    if role != "anonymous":
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", site.logins[role])
        page.click("form.stack button")
        page.wait_for_url(site.base + "/")
    out = ARTIFACTS / "pages"
    out.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    for path in PAGES:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(site.base + path)
        page.wait_for_selector("body[data-ready='1'], #error-page", timeout=30_000)
        name = path.strip("/").replace("/", "-") or "cockpit"
        page.screenshot(path=str(out / f"{role}-{lang}-{name}-1280.png"), full_page=True)
        found += [f"{path} {p}" for p in problems(lang, page.evaluate(READ_TEXT))]
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.wait_for_timeout(300)  # the charts redraw at the new width
        page.screenshot(path=str(out / f"{role}-{lang}-{name}-1920.png"), full_page=True)
    ctx.close()
    (out / f"{role}-{lang}-problems.txt").write_text("\n".join(found), encoding="utf-8")
    assert not errors, errors
    assert not found, f"{len(found)} texts in the wrong language ({role}, {lang}):\n" + "\n".join(found[:60])


def test_the_menu_fits_1280_and_shows_each_role_what_it_can_use(site: DemoServer, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    seen: dict[str, set[str]] = {}
    for role in ("anonymous", "enterprise", "verifier", "staff", "admin"):
        page.goto(site.base + "/login")
        if role != "anonymous":
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", site.logins[role])
            page.click("form.stack button")
            page.wait_for_url(site.base + "/")
        for lang in ("en", "zh"):
            page.goto(f"{site.base}/?lang={lang}")
            for sel in ("header.top", "header.top nav", "header.top .who"):
                wide = page.eval_on_selector(sel, "h => [h.scrollWidth, h.clientWidth]")
                assert wide[0] <= wide[1], f"{role}, {lang}: {sel} is cut at 1280 px ({wide})"
            right = page.eval_on_selector("header.top", "h => h.getBoundingClientRect().right")
            ends = page.eval_on_selector_all(
                "header.top nav .menu-top, header.top .who > *",
                "es => es.map(e => e.getBoundingClientRect().right)",
            )
            assert max(ends) <= right, f"{role}, {lang}: a menu or the user's name runs off the header"
        seen[role] = set(page.eval_on_selector_all("nav a", "as => as.map(a => new URL(a.href).pathname)"))
        ctx.clear_cookies()
    assert {"/monitoring", "/import", "/admin", "/land"}.isdisjoint(seen["anonymous"])
    assert {"/monitoring", "/alarms", "/import"} <= seen["enterprise"] and "/land" not in seen["enterprise"]
    assert "/land" in seen["verifier"] and "/import" not in seen["verifier"]
    assert "/import" in seen["staff"] and "/admin" not in seen["staff"]
    assert "/admin" in seen["admin"]
    ctx.close()


def test_made_up_years_and_the_boundary_are_said_on_the_page(site: DemoServer, browser: Any) -> None:
    """The demo's 2021–2025 are illustrative: the cockpit, the inventory and the indicators say so
    for such a year; the cockpit names the boundary of its energy and CO₂."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    for path in ("/", "/inventory", "/indicators"):
        page.goto(site.base + path)
        page.wait_for_selector("body[data-ready='1']")
        note = page.locator("#illustrative-note")
        assert note.is_visible() and "2025年的数据为示意性延续数据" in note.inner_text(), path
    page.goto(site.base + "/")
    page.wait_for_selector("body[data-ready='1']")
    assert "全社会" in page.inner_text("#kpi-boundary")
    page.select_option("#scope", "park")
    page.wait_for_selector("#kpi-boundary:has-text('规模以上工业')")
    page.select_option("#year", "2020")
    page.wait_for_selector("#illustrative-note", state="hidden")  # 2020 is the plan's own data
    assert "单位工业增加值二氧化碳排放" in page.inner_text("#kpi-int1-label")
    assert "吨二氧化碳/万元" in page.inner_text("#kpi-int1-unit")
    page.close()
