"""The viewer in a real browser: Debian's Chromium, headless, driven by Playwright (never a downloaded
browser), over runs made the way a user makes them (tests/web/produced.py: a real `glia compare` and a
real `glia solve`, driven by the fake model server).

It opens the runs list, a run, a context, a design timeline and a comparison; checks the plots are drawn
(the run's Fig. 7 view, the comparison's Figs. 3, 7 and 8, their numbers against results.json) and that
hovering and clicking a point work; watches a `glia solve` in progress update in place (a new turn, a
simulation, the verdict, the end of the run) without a reload; and opens every page of a run whose
transcript and run.json are attacks (scripted: every field) and of real runs whose Researcher printed
and said attacks, asserting that nothing ran (no dialog, no flag set, no page error, no CSP violation:
the escaping alone held). Screenshots of each page go to docs/screenshots/ when
GLIA_UPDATE_SCREENSHOTS=1.

Chromium missing is a failure, not a skip: `apt-get install -y chromium` (see .ci/run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from glia.metric import Metric
from glia.record.view import read_run
from glia.web.app import create_app
from tests.web.produced import FLAG, LiveSolve, Produced

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE_WAIT_MS = 8000  # a live page polls every 1.5 s
RUN_END_WAIT_MS = 240_000  # the live run's last turns and its trusted evaluation (Docker sandboxes)


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """The viewer over `root`, served by uvicorn on a free loopback port."""
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def address(root: Path) -> Iterator[str]:
    """The viewer over the scripted runs (the attack run in every field)."""
    with serving(root) as url:
        yield url


@pytest.fixture(scope="module")
def real_address(produced: Produced) -> Iterator[str]:
    """The viewer over the runs the fake model drove."""
    with serving(produced.root) as url:
        yield url


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
        found = self.page.evaluate(
            """() => ({
              scripts: Array.from(document.scripts, s => s.getAttribute('src')),
              handlers: Array.from(document.querySelectorAll('*')).flatMap(
                  e => Array.from(e.attributes).filter(a => a.name.startsWith('on')).map(a => a.name)),
              links: Array.from(document.querySelectorAll('[href],[src]'), e => e.getAttribute('href') || e.getAttribute('src'))
                  .filter(v => /^\\s*(javascript|data|vbscript):/i.test(v)),
              frames: document.querySelectorAll('iframe, object, embed, math, base').length,
            })"""
        )
        assert found == {"scripts": ["/static/live.js"], "handlers": [], "links": [], "frames": 0}, where


def shoot(page: Any, name: str, tmp: Path, full: bool = True) -> None:
    path = tmp / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    assert path.stat().st_size > 5000
    if os.environ.get("GLIA_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)


def open_all_details(page: Any) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


@pytest.mark.docker
def test_a_real_comparison_in_a_browser(browser: Any, real_address: str, produced: Produced,
                                        tmp_path: Path) -> None:  # fmt: skip
    results = json.loads((produced.comparison / "results.json").read_text())
    runs = {r["run_id"]: r for r in results["runs"]}
    metric = Metric.from_dict(results["metric"])
    name = produced.comparison.name
    par = f"{name}.mcg-par2-s2-r1"
    view = Watched(browser)
    page = view.open(f"{real_address}/")
    listed = page.locator("#runs tbody tr td:first-child").all_inner_texts()
    assert set(runs) <= set(listed)
    assert page.locator("#comparisons tbody tr").first.inner_text().startswith(name)
    assert "4 / 4" in page.locator("#comparisons tbody tr").first.inner_text()
    shoot(page, "runs", tmp_path)

    # a run of two contexts: each wrote its own router and benchmarked it once; the trusted evaluator
    # judged each context's design
    page = view.open(f"{real_address}/run/{par}")
    assert page.locator("#contexts thead th a").count() == 2
    plot = page.locator("svg.plot")
    assert plot.locator("polyline.trusted").count() == 2 and plot.locator("polyline.claimed").count() == 2
    assert plot.locator("a.point circle.claimed").count() == 2
    assert plot.locator("g.baseline").count() == 2  # the quick task's llq and round_robin
    box = plot.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 200  # drawn, at a readable size
    best = read_run(produced.root / par)
    point = plot.locator("a.point:has(circle.trusted)").first
    title = point.locator("title").text_content() or ""
    assert re.search(r"ctx-\d design sim1 \(([0-9a-f]{10})\): trusted \d+\.\d{3}", title), title
    assert best.contexts and page.locator("#contexts td.turns").first.inner_text() == str(
        best.contexts[0].turns
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    shoot(page, "run", tmp_path)
    point.hover()
    point.click()
    page.wait_for_url("**/designs?sha=*")
    wanted = page.locator(".design.wanted")
    assert wanted.count() == 1 and "trusted (sim1): " in wanted.inner_text()
    assert wanted.locator("details.diff").get_attribute("open") is not None
    assert "num_pending_requests" in wanted.locator("details.diff pre").inner_text()  # the router it wrote
    shoot(page, "designs", tmp_path)
    view.assert_nothing_ran("the run and its designs")

    # an SCG context's notes (its third command; MCG-Par2's contexts spent the budget first): the hostile output arrived through the Researcher's real shell, folded, as text
    scg = f"{name}.scg-s2-r1"
    page = view.open(f"{real_address}/run/{scg}/ctx/1")
    assert page.locator(".simulation.claim").count() == 1
    hostile = page.locator("details.output:has-text('pwned')").first
    assert not hostile.locator("pre").is_visible()
    hostile.locator("summary").click()
    shown = hostile.locator("pre").inner_text()
    assert f"<script>{FLAG}</script>" in shown and "\\x1b]8;;javascript:alert(1)" in shown
    open_all_details(page)
    view.assert_nothing_ran("a real context with hostile output")
    page = view.open(f"{real_address}/run/{scg}/search?q=pwned")
    assert page.locator("ol.hits li").count() >= 2
    view.assert_nothing_ran("a search of real hostile output")

    # the comparison: Fig. 3 bars with 90% whiskers, Fig. 7 per run, Fig. 8 per Glia variant
    page = view.open(f"{real_address}/compare/{name}")
    assert page.locator("svg.bars g.bar").count() == 2 and page.locator("svg.bars path.whisker").count() == 2
    assert page.locator("#compare-runs a").count() == 4
    fig7 = page.locator(".figure:not(.fig8) svg.plot")
    assert fig7.locator("polyline.trusted").count() == 4  # one curve per run
    fig8 = page.locator(".fig8 svg.plot")
    assert fig8.locator("polyline.trusted").count() == 2 and fig8.locator(".band").count() == 2
    box = fig8.bounding_box()
    assert box is not None and box["width"] > 500
    for label, key in (("SCG", "scg"), ("MCG-Par2", "mcg-par2")):
        first = [r["curve"][0] for r in runs.values() if r["method"] == key and r["curve"]]
        x = max(p[0] for p in first)  # by then every repeat has a trusted design
        values = [max((p for p in r["curve"] if p[0] <= x), key=lambda p: p[0])[1]
                  for r in runs.values() if r["method"] == key]  # fmt: skip
        titles = fig8.locator("a.point title").all_text_contents()
        expected = f"{label} after {x} simulations: mean {metric.format(sum(values) / len(values))} over 2 repeat(s), 90% CI ["
        assert any(t.startswith(expected) for t in titles), (expected, titles)
    shoot(page, "compare", tmp_path)
    view.assert_nothing_ran("the comparison")
    page.locator("#compare-runs a").first.click()
    page.wait_for_url(f"**/run/{name}.*")


@pytest.mark.docker
def test_a_real_glia_solve_updates_in_place(browser: Any, real_address: str, produced: Produced,
                                            tmp_path: Path) -> None:  # fmt: skip
    live = LiveSolve(produced.task, produced.root)
    try:
        live.wait_for_gate()  # the Supervisor sent the Researcher back; its next answer waits
        run_id = live.run_id
        turns = read_run(live.run_dir).contexts[0].turns
        runs_view, run_view, ctx_view = Watched(browser), Watched(browser), Watched(browser)
        home = runs_view.open(f"{real_address}/")
        row = home.locator(f"#runs tr:has(a[href='/run/{run_id}'])")
        assert row.locator(".status").inner_text().startswith("● running")
        run_page = run_view.open(f"{real_address}/run/{run_id}")
        ctx_page = ctx_view.open(f"{real_address}/run/{run_id}/ctx/1")
        for page in (home, run_page, ctx_page):
            page.evaluate("() => { window.__stayed = true; }")
        intervention = ctx_page.locator(".supervisor")
        assert intervention.count() == 1
        assert "trigger finish · verdict revise" in (intervention.locator(".who").text_content() or "")
        assert intervention.locator("a.next").get_attribute("href") == f"?turn={turns + 1}#turn-{turns + 1}"
        assert ctx_page.locator(f"#turn-{turns + 1}").count() == 0
        points = int(run_page.locator("svg.plot").get_attribute("data-points") or 0)

        live.release()
        ctx_page.wait_for_selector(f"#turn-{turns + 1}", timeout=LIVE_WAIT_MS)
        assert "Weigh waiting requests less." in ctx_page.locator(f"#turn-{turns + 1}").inner_text()
        # the experiment, then the second benchmark run, arrive while the page stays open
        ctx_page.wait_for_selector(".simulation.experiment", timeout=LIVE_WAIT_MS * 4)
        ctx_page.wait_for_function("() => document.querySelectorAll('.simulation.claim').length === 2",
                                   timeout=LIVE_WAIT_MS * 4)  # fmt: skip
        run_page.wait_for_function(
            f"() => Number(document.querySelector('svg.plot').dataset.points) >= {points + 2}",
            timeout=LIVE_WAIT_MS * 4,
        )
        assert run_page.locator("svg.plot a.point path.experiment").count() == 1
        # the end of the run: the verdict and the status change in place, and the polling stops
        run_page.wait_for_function(
            "() => document.querySelector('#run-live .status').textContent.trim() === 'finished'",
            timeout=RUN_END_WAIT_MS,
        )
        out = live.finish()
        assert f"Run {run_id}: finished." in out
        state = read_run(live.run_dir)
        score, _ = state.best_trusted()
        assert score is not None and run_page.locator("#run-live .facts strong").first.inner_text() == (
            state.metric.format(score)
        )
        assert run_page.locator("#run-live").get_attribute("data-live") is None  # polling stopped
        home.wait_for_function(
            f"() => document.querySelector(\"#runs a[href='/run/{run_id}']\").closest('tr').className === ''",
            timeout=LIVE_WAIT_MS,
        )
        for page in (home, run_page, ctx_page):
            assert page.evaluate("() => window.__stayed") is True  # updated without reloading
        ctx_page.locator(f"#turn-{turns}").scroll_into_view_if_needed()
        shoot(ctx_page, "context", tmp_path, full=False)
        open_all_details(ctx_page)
        for where, view in (
            ("runs list", runs_view),
            ("live run page", run_view),
            ("live context", ctx_view),
        ):
            view.assert_nothing_ran(where)
    finally:
        live.close()


def test_attack_transcripts_execute_nothing(browser: Any, address: str) -> None:
    view = Watched(browser)
    for url in ("/", "/run/attack", "/run/attack/ctx/1", "/run/attack/ctx/1/designs",
                "/run/attack/search?q=pwned", "/run/attack/search?q=%3Csvg"):  # fmt: skip
        page = view.open(address + url)
        open_all_details(page)
        for link in page.locator("svg a.point").all()[:6]:
            link.hover(force=True, timeout=2000)
        page.mouse.move(5, 5)
        page.wait_for_timeout(50)
        view.assert_nothing_ran(url)
    notes = view.open(f"{address}/run/attack/ctx/1")
    shown = notes.locator("#turn-6 .message.researcher").inner_text()  # the attacks start after 5 turns
    assert "<script>window.__pwned=1</script>" in shown
