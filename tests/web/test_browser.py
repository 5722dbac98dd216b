"""The viewer in a real browser: Debian's Chromium, headless, driven by Playwright (never a downloaded
browser). It opens the runs list, a run, a context, a design timeline and a comparison; checks the plot is
drawn and that hovering and clicking a point work; watches a live run update in place after events are
appended to its transcript; and opens every page of a run whose transcript and run.json are attacks,
asserting that nothing ran (no dialog, no flag set, no page error, no CSP violation: the escaping alone
held). Screenshots of each page go to docs/screenshots/ when GLIA_UPDATE_SCREENSHOTS=1.

Chromium missing is a failure, not a skip: `apt-get install -y chromium` (see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from glia.record.view import read_run
from glia.web.app import create_app
from tests.web.support import append_turn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE_WAIT_MS = 8000


@pytest.fixture(scope="module")
def address(root: Path) -> Iterator[str]:
    """The viewer over the test root, served by uvicorn on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(root), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the viewer did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with every way script could show itself recorded."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1000, "height": 760})
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        return self.page

    def assert_nothing_ran(self, where: str) -> None:
        flag = self.page.evaluate("() => window.__pwned")
        assert flag is None, where
        assert not self.dialogs and not self.errors, (where, self.dialogs, self.errors)
        assert not self.console, (where, self.console)  # a blocked inline script would be logged here


def shoot(page: Any, name: str, tmp: Path, full: bool = True) -> None:
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    assert path.stat().st_size > 5000
    if os.environ.get("GLIA_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)


def test_pages_plot_and_links_in_a_browser(browser: Any, address: str, tmp_path: Path) -> None:
    view = Watched(browser)
    page = view.open(f"{address}/")
    assert page.locator("#runs tbody tr").count() >= 6
    assert page.locator("#runs tr.live .status").first.inner_text().startswith("●")
    shoot(page, "runs", tmp_path)

    page = view.open(f"{address}/run/done")
    assert page.locator("#contexts thead th a").count() == 2
    plot = page.locator("svg.plot")
    assert plot.locator("polyline.trusted").count() == 2 and plot.locator("polyline.claimed").count() == 2
    assert plot.locator("a.point circle.trusted").count() == 2
    assert plot.locator("a.point path.experiment").count() == 2
    assert plot.locator("g.baseline").count() == 3
    box = plot.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 200  # drawn, at a readable size
    point = plot.locator("a.point:has(circle.trusted)").first
    assert "trusted 41.000" in point.locator("title").text_content()
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, "run", tmp_path)
    point.hover()
    point.click()
    page.wait_for_url("**/designs?sha=*")
    wanted = page.locator(".design.wanted")
    assert wanted.count() == 1 and "trusted (final): 41.000" in wanted.inner_text()
    assert wanted.locator("details.diff").get_attribute("open") is not None
    shoot(page, "designs", tmp_path)

    page = view.open(f"{address}/run/done/ctx/1")
    assert page.locator("section.turn").count() == 6
    assert page.locator(".supervisor").count() == 1
    output = page.locator("details.output").first
    assert not output.locator("pre").is_visible()
    output.locator("summary").click()
    assert "mean_e2e: 47.0" in output.locator("pre").inner_text()
    shoot(page, "context", tmp_path, full=False)
    page.locator(".supervisor a.next").click()
    assert page.url.endswith("#turn-2")

    page = view.open(f"{address}/compare/cmp")
    assert page.locator("svg.plot").count() == 2 and page.locator("svg.bars g.bar").count() == 2
    assert page.locator("#compare-runs a").count() == 4
    assert page.locator("svg.bars path.whisker").count() == 2  # the 90% intervals
    shoot(page, "compare", tmp_path)
    page.locator("#compare-runs a").first.click()
    page.wait_for_url("**/run/cmp.*")
    view.assert_nothing_ran("the ordinary pages")


def test_a_live_run_updates_in_place(browser: Any, address: str, root: Path) -> None:
    run_dir = root / "live"
    turns = read_run(run_dir).contexts[0].turns
    run_view, ctx_view = Watched(browser), Watched(browser)
    run_page = run_view.open(f"{address}/run/live")
    ctx_page = ctx_view.open(f"{address}/run/live/ctx/1")
    for page in (run_page, ctx_page):
        page.evaluate("() => { window.__stayed = true; }")
    points = run_page.locator("svg.plot a.point").count()
    append_turn(run_dir, 1, turns + 1, 36.5)
    ctx_page.wait_for_selector(f"#turn-{turns + 1}", timeout=LIVE_WAIT_MS)
    assert "Live turn" in ctx_page.locator(f"#turn-{turns + 1}").inner_text()
    assert ctx_page.locator(".ctx-turns").inner_text() == str(turns + 1)
    run_page.wait_for_function(
        f"() => document.querySelector('#contexts td.turns').textContent.trim() === '{turns + 1}'",
        timeout=LIVE_WAIT_MS,
    )
    assert run_page.locator("svg.plot a.point").count() == points + 1
    for page in (run_page, ctx_page):
        assert page.evaluate("() => window.__stayed") is True  # updated without reloading
    run_view.assert_nothing_ran("live run page")
    ctx_view.assert_nothing_ran("live context page")


def test_attack_transcripts_execute_nothing(browser: Any, address: str) -> None:
    view = Watched(browser)
    for url in ("/", "/run/attack", "/run/attack/ctx/1", "/run/attack/ctx/1/designs",
                "/run/attack/search?q=pwned", "/run/attack/search?q=%3Csvg"):  # fmt: skip
        page = view.open(address + url)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for link in page.locator("svg a.point").all()[:6]:
            link.hover(force=True, timeout=2000)
        page.mouse.move(5, 5)
        page.wait_for_timeout(50)
        view.assert_nothing_ran(url)
        found = page.evaluate(
            """() => ({
              scripts: Array.from(document.scripts, s => s.getAttribute('src')),
              handlers: Array.from(document.querySelectorAll('*')).flatMap(
                  e => Array.from(e.attributes).filter(a => a.name.startsWith('on')).map(a => a.name)),
              links: Array.from(document.querySelectorAll('[href],[src]'), e => e.getAttribute('href') || e.getAttribute('src'))
                  .filter(v => /^\\s*(javascript|data|vbscript):/i.test(v)),
              frames: document.querySelectorAll('iframe, object, embed, math, base').length,
            })"""
        )
        assert found == {"scripts": ["/static/live.js"], "handlers": [], "links": [], "frames": 0}, url
    notes = view.open(f"{address}/run/attack/ctx/1")
    shown = notes.locator("#turn-6 .message.researcher").inner_text()  # the attacks start after 5 turns
    assert "<script>window.__pwned=1</script>" in shown
