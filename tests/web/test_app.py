"""The viewer's server side through Starlette's TestClient: every page of every kind of run answers;
hostile run content comes out as text (checked on the parsed HTML, not by searching strings); every
answer carries the security headers; only GET is answered and nothing changes a run folder; no address
reaches outside the root; the token and the host check; live fragments; the incremental reader."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from glia.cli.view import is_loopback
from glia.record.index import RunIndex
from glia.record.transcript import Transcript
from glia.record.view import read_run
from glia.web.app import create_app
from glia.web.html import linkify, safe_href
from glia.web.security import CSP
from tests.web.support import append_turn

PAGES = [
    "/",
    "/run/done",
    "/run/done/ctx/1",
    "/run/done/ctx/2/designs",
    "/run/cut/ctx/2",
    "/run/live",
    "/run/attack",
    "/run/attack/ctx/1",
    "/run/attack/ctx/1?page=1",
    "/run/attack/ctx/1/designs",
    "/run/attack/search?q=script",
    "/run/attack/search?q=%3Cimg",
    "/compare/cmp",
    "/fragment/runs",
    "/fragment/run/attack",
    "/fragment/run/attack/ctx/1/after/0",
]


class Tags(HTMLParser):
    """Every start tag and its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def client(root: Path) -> TestClient:
    return TestClient(create_app(root, allowed_hosts=None))


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def test_every_page_answers_and_hostile_content_is_only_text(client: TestClient) -> None:
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        for tag, attrs in tags_of(response.text):
            assert tag not in {"iframe", "object", "embed", "math", "style", "base", "meta-refresh"}, url
            assert not [a for a in attrs if a.startswith("on")], (url, tag, attrs)
            if tag == "script":
                assert attrs == {"src": "/static/live.js", "defer": None}, (url, attrs)
            for name in ("href", "src", "action"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:", "//")), (url, tag, attrs)
    notes = client.get("/run/attack/ctx/1").text
    # each attack is on the page as the text it was, once rendered
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in notes
    assert "\\x1b[31mred" in notes and "\\u202e" in notes and "\\x00nul" in notes  # escapes made visible
    assert "{{ 7*7 }}" in notes  # no template evaluation of run content
    links = [a["href"] for t, a in tags_of(notes) if t == "a" and a.get("target") == "_blank"]
    assert links and all(href == "https://example.com/" for href in links)


def test_the_sanitiser_allows_only_web_and_relative_links() -> None:
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "vbscript:x", "//evil.example/",
                "java\tscript:x", "\\\\evil", "file:///etc/passwd", "https:/no-host", "x:y"):  # fmt: skip
        assert safe_href(bad) == "#", bad
    for good in ("https://example.com/a?b=1", "http://x.org", "/run/done", "designs?sha=ab", "#turn-3"):
        assert safe_href(good) == good
    assert str(linkify("<b>see https://e.org/x</b>")) == (
        '&lt;b&gt;see <a href="https://e.org/x" rel="noopener noreferrer nofollow" target="_blank">'
        "https://e.org/x</a>&lt;/b&gt;"
    )


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for method, url in [("GET", "/"), ("GET", "/run/nope"), ("GET", "/static/live.js"), ("POST", "/run/done"),
                        ("GET", "/compare/cmp/figure/fig3-trusted-s40.png"), ("GET", "/no/such/route")]:  # fmt: skip
        response = client.request(method, url)
        assert response.headers["content-security-policy"] == CSP, url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                 "base-uri 'none'"):  # fmt: skip
        assert part in CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert client.get("/static/live.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/compare/cmp/figure/fig3-trusted-s40.png").headers["content-type"] == "image/png"


def test_read_only_nothing_but_get_and_nothing_changes(client: TestClient, root: Path) -> None:
    before = folder_hash(root / "done")
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for url in ("/", "/run/done", "/run/done/ctx/1", "/fragment/run/done", "/static/style.css"):
            response = client.request(method, url, content=b"status=failed")
            assert response.status_code == 405, (method, url)
    for url in PAGES:
        client.get(url)
    assert client.head("/run/done").status_code == 200
    assert folder_hash(root / "done") == before


def test_no_address_reaches_outside_the_root(client: TestClient, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-run"
    shutil.copytree(root / "done", outside)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "cmp" / "fig9-secret-s1.png").symlink_to(root / "done" / "run.json")
    for url in ["/run/%2e%2e", "/run/..%2f..%2fetc", "/run/%2E%2E%2Fdone", "/run/.hidden",
                "/run/linked", "/run/linked/ctx/1", "/run/done/ctx/..%2f..", "/run/done/ctx/-1", "/run/done/ctx/9",
                "/run/done/ctx/1%2f..", "/compare/done", "/compare/cmp/figure/..%2frun.json",
                "/compare/cmp/figure/report.md", "/compare/cmp/figure/fig9-secret-s1.png",
                "/static/..%2f..%2fapp.py", "/static/../../app.py", "/run/done%00", "/run/" + "a" * 300]:  # fmt: skip
        response = client.get(url)
        assert response.status_code == 404, url
        assert "mean_e2e" not in response.text and "import" not in response.text, url
    assert "linked" not in client.get("/").text


def test_a_token_is_needed_on_every_request_when_given(root: Path) -> None:
    guarded = TestClient(create_app(root, token="s3cret-token", allowed_hosts=None))
    for url in ("/", "/run/done", "/static/live.js", "/fragment/runs", "/run/done?token=wrong"):
        assert guarded.get(url).status_code == 401, url
    first = guarded.get("/run/done?token=s3cret-token&page=2", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/run/done?page=2"
    assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=strict" in first.headers["set-cookie"]
    assert guarded.get("/run/done").status_code == 200  # the cookie now
    bare = TestClient(create_app(root, token="s3cret-token", allowed_hosts=None))
    assert bare.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert bare.get("/", headers={"Authorization": "Bearer s3cret-toke"}).status_code == 401
    forged = TestClient(
        create_app(root, token="s3cret-token", allowed_hosts=None), cookies={"glia_view_token": "no"}
    )
    assert forged.get("/").status_code == 401


def test_on_loopback_only_loopback_host_names_are_answered(root: Path) -> None:
    local = TestClient(create_app(root), base_url="http://127.0.0.1:8321")
    assert local.get("/").status_code == 200
    assert local.get("/", headers={"host": "localhost:8321"}).status_code == 200
    assert local.get("/", headers={"host": "attacker.example:8321"}).status_code == 400  # DNS rebinding
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("example.com")


def test_live_fragments_answer_only_what_changed(client: TestClient, root: Path) -> None:
    run_dir = root / "live"
    turns_before = read_run(run_dir).contexts[0].turns
    page = client.get("/run/live")
    assert 'data-live="/fragment/run/live"' in page.text
    version = page.text.split('data-version="', 1)[1].split('"', 1)[0]
    assert client.get(f"/fragment/run/live?v={version}").status_code == 204
    tail = client.get(f"/fragment/run/live/ctx/1/after/{turns_before}?v={version}")
    assert tail.status_code == 204
    append_turn(run_dir, 1, turns_before + 1, 38.5)
    changed = client.get(f"/fragment/run/live?v={version}")
    assert changed.status_code == 200 and version not in changed.text
    tail = client.get(f"/fragment/run/live/ctx/1/after/{turns_before}?v={version}")
    assert tail.status_code == 200
    assert f'id="turn-{turns_before + 1}"' in tail.text and f'id="turn-{turns_before - 1}"' not in tail.text
    assert (
        f'id="turn-{turns_before}"' in tail.text
    )  # the last turn shown is sent again (it may have been half done)
    assert "Live turn" in tail.text and "38.50" in tail.text
    assert f'data-after="{turns_before + 1}"' in tail.text
    # a turn shown while its command runs gets its simulation and output when they arrive
    now = turns_before + 2
    with Transcript(run_dir / "ctx-1" / "transcript.jsonl") as transcript:
        transcript.append("assistant", text="A long benchmark.", reasoning="",
                          tool_calls=[{"id": "half", "name": "bash", "arguments": {"command": "./run_all.sh ai"}}])  # fmt: skip
        transcript.append("command_started", id="half", command="./run_all.sh ai", timeout_s=300)
    half = client.get(f"/fragment/run/live/ctx/1/after/{now - 1}")
    assert f'id="turn-{now}"' in half.text and 'id="sim-' + str(now) not in half.text
    with Transcript(run_dir / "ctx-1" / "transcript.jsonl") as transcript:
        transcript.append("simulation_started", index=now, kind="claim", conditions={"router": "ai"}, snapshot=None,
                          call_id="half", run_total=now)  # fmt: skip
        transcript.append("simulation", index=now, kind="claim", outcome="ended", valid=True, claimed_score=36.25,
                          values={"mean_e2e": 36.25}, call_id="half")  # fmt: skip
        transcript.append("tool_result", id="half", name="bash", command="./run_all.sh ai", exit_code=0,
                          output="mean_e2e: 36.25")  # fmt: skip
    done = client.get(f"/fragment/run/live/ctx/1/after/{now}")
    assert done.status_code == 200 and f'id="turn-{now}"' in done.text and f'id="sim-{now}"' in done.text
    assert "36.25" in done.text and f'data-after="{now}"' in done.text
    finished = client.get("/run/done").text
    assert "data-live=" not in finished.split("<main>", 1)[1]  # a finished run is not polled


def test_the_incremental_reader_agrees_with_read_run(root: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "copy"
    shutil.copytree(root / "done", run_dir)
    index = RunIndex()
    for _ in range(2):
        cached, fresh = index.run(run_dir), read_run(run_dir)
        for a, b in zip(cached.contexts, fresh.contexts, strict=True):
            assert (a.turns, a.cost_usd, a.simulation_count, a.status, a.verdict_text()) == (
                b.turns, b.cost_usd, b.simulation_count, b.status, b.verdict_text())  # fmt: skip
        append_turn(run_dir, 1, 6, 37.0)
    transcript = index.transcript(run_dir, 1, cached.metric)
    assert transcript.turns == 6 and transcript.sim_turns[6] == 6
    path = run_dir / "ctx-1" / "transcript.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5]) + b'{"type": "assis')  # replaced by a shorter file with a torn tail
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    assert index.run(run_dir).contexts[0].turns == read_run(run_dir).contexts[0].turns == 1


def test_context_pages_paginate_and_link_to_turns_and_simulations(root: Path) -> None:
    client = TestClient(create_app(root, allowed_hosts=None))
    run_dir = root / "cut"
    start = read_run(run_dir).contexts[0].turns
    for n in range(start + 1, 46):
        append_turn(run_dir, 1, n, 30.0 + n / 100)
    first = client.get("/run/cut/ctx/1").text
    assert 'id="turn-1"' in first and 'id="turn-20"' in first and 'id="turn-21"' not in first
    assert "page 1 of 3" in first
    second = client.get("/run/cut/ctx/1?turn=25").text
    assert 'id="turn-21"' in second and 'id="turn-40"' in second and "page 2 of 3" in second
    assert 'id="turn-45"' in client.get("/run/cut/ctx/1?sim=45").text
    hits = client.get("/run/cut/search?q=restart+counts").text
    assert hits.count('href="/run/cut/ctx/') >= 2  # the Supervisor's words in both contexts
    assert "/run/cut/ctx/1?turn=1#turn-1" in hits
    supervisor = client.get("/run/done/ctx/1").text
    assert "trigger <strong>periodic</strong>" in supervisor and 'href="?turn=2#turn-2"' in supervisor


def test_the_design_timeline_shows_diffs_claims_and_verdicts(client: TestClient) -> None:
    page = client.get("/run/done/ctx/1/designs").text
    assert "design 2" in page and "trusted (final): 41.000" in page and "90% CI [39.500, 42.500]" in page
    assert "+        return self.headroom_pick()" in page and "diff from the template" in page
    assert "simulation 5: invalid: router raised KeyError" in page


def test_the_comparison_page_has_tables_figures_and_links(client: TestClient) -> None:
    page = client.get("/compare/cmp").text
    assert "SCG" in page and "MCG-Par2" in page
    assert "<td>39.75</td><td>[39.00, 40.50]</td>" in page  # SCG: trusted 40.5 and 39.0 over two repeats
    for run in ("scg-s40-r1", "scg-s40-r2", "mcg-par2-s40-r1", "mcg-par2-s40-r2"):
        assert f'href="/run/cmp.{run}"' in page
    assert page.count('<svg class="plot') == 3 and 'src="/compare/cmp/figure/fig3-trusted-s40.png"' in page
    fig8 = page.split('class="figure fig8"', 1)[1].split("</svg>", 1)[0]  # Glia's variants, from results.json
    assert fig8.count('class="band"') == 2 and fig8.count('<polyline class="trusted"') == 2
    assert re.search(
        r"<title>SCG after \d+ simulations: mean 39\.75 over 2 repeat\(s\), 90% CI \[39\.00, 40\.50\]</title>",
        fig8,
    )
    assert "cmp" in client.get("/").text


def test_glia_view_prints_its_address_and_off_loopback_a_token(root: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-m", "glia.cli", "view", "done", "--root", str(root), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("glia view: http://0.0.0.0:") and "/run/done?token=" in line, line
        address = line.split()[2]
        port = address.split(":")[2].split("/")[0]
        token = address.split("token=")[1]
        assert len(token) >= 30
        with httpx.Client(trust_env=False, base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(50):
                try:
                    refused = http.get("/run/done")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert refused.status_code == 401 and "mean_e2e" not in refused.text
            assert http.get(f"/run/done?token={token}", follow_redirects=True).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_glia_view_without_the_view_extra_says_how_to_install_it(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from glia.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    assert main(["view", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "uvicorn is missing" in err and "pip install 'glia[view]'" in err


def test_the_plot_draws_the_same_lines_as_the_report(root: Path) -> None:
    from glia.report import progress_series
    from glia.web.plot import _best_lines

    for name in ("done", "cut", "live", "attack"):
        state = read_run(root / name)
        series = progress_series(state)
        for ctx in state.contexts:
            claimed, trusted = _best_lines(state, ctx)
            assert claimed == [(float(x), y) for x, y in series[ctx.name].claimed], (name, ctx.name)
            assert trusted == [(float(x), y) for x, y in series[ctx.name].trusted], (name, ctx.name)
            assert claimed or name == "attack"
