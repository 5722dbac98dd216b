"""The `glia view` web application: read-only pages over the run and comparison folders under a root.

Pages: the runs list, a run, a context (its research notes, paginated), a context's design timeline, a
comparison, and a search across a run's transcripts. A page of something still running carries
`data-live` sections; `static/live.js` asks their fragment address every second and a half with the
version it shows, and the server answers 204 (nothing new) or the new fragment. Finished runs are
served from their files, folded once (`glia.record.index.RunIndex`).
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from glia.record.index import RunIndex
from glia.record.transcript import TRANSCRIPT_FILE
from glia.record.view import RunView
from glia.web import comparison, pages
from glia.web.catalog import Catalog, NotFound
from glia.web.html import environment, url_part
from glia.web.plot import run_chart
from glia.web.security import LOOPBACK_HOSTS, Guard

SEARCH_LIMIT = 200
FIGURE = re.compile(r"fig[0-9]+-[a-z]+-s[0-9]+\.png")


class Viewer:
    """The pages, over one root."""

    def __init__(self, root: Path) -> None:
        self.catalog = Catalog(root)
        self.index = RunIndex()
        self.env = environment()

    # -- helpers

    def render(self, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**values)
        return HTMLResponse(html, status_code=code)

    def not_found(self, what: str) -> HTMLResponse:
        return self.render("missing.html", code=404, what=what, title="not found")

    def run(self, request: Request) -> RunView:
        return self.index.run(self.catalog.run_dir(request.path_params["run"]))

    def context_of(self, request: Request) -> tuple[RunView, Any, Any]:
        state = self.run(request)
        raw = request.path_params["ctx"]
        if not raw.isdigit():
            raise NotFound(raw)
        ctx = state.context(int(raw))
        if ctx is None:
            raise NotFound(raw)
        index = self.index.transcript(state.run_dir, ctx.index, state.metric)
        return state, ctx, index

    @staticmethod
    def stamp(paths: list[Path], *extra: object) -> str:
        parts = [repr(extra)]
        for path in paths:
            try:
                st = os.stat(path)
                parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{path.name}:-")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def run_stamp(self, state: RunView) -> str:
        files = [state.run_dir / "run.json"] + [
            state.run_dir / c.name / TRANSCRIPT_FILE for c in state.contexts
        ]
        return self.stamp(files, state.live)

    @staticmethod
    def unchanged(request: Request, version: str) -> bool:
        return request.query_params.get("v") == version

    # -- the runs list

    def runs_values(self) -> dict[str, Any]:
        rows, stamps = [], []
        for run_dir in self.catalog.runs():
            state = self.index.run(run_dir)
            rows.append(pages.run_row(state))
            stamps.append(self.run_stamp(state))
        comparisons = [comparison.summary_row(folder, self.catalog) for folder in self.catalog.comparisons()]
        version = hashlib.sha256("".join(stamps).encode()).hexdigest()[:16]
        return {"runs": rows, "comparisons": comparisons, "version": version, "root": str(self.catalog.root)}

    def home(self, request: Request) -> Response:
        return self.render("runs.html", title="runs", **self.runs_values())

    def home_fragment(self, request: Request) -> Response:
        values = self.runs_values()
        if self.unchanged(request, values["version"]):
            return Response(status_code=204)
        return self.render("runs_fragment.html", **values)

    # -- a run

    def run_values(self, state: RunView) -> dict[str, Any]:
        base = f"/run/{pages_seg(state.run_dir.name)}"
        return {
            "run": pages.run_facts(state),
            "contexts": [pages.context_row(state, c) for c in state.contexts],
            "plot": run_chart(state, base).svg(),
            "version": self.run_stamp(state),
            "base": base,
        }

    def run_page(self, request: Request) -> Response:
        state = self.run(request)
        return self.render("run.html", title=state.run_id, **self.run_values(state))

    def run_fragment(self, request: Request) -> Response:
        state = self.run(request)
        values = self.run_values(state)
        if self.unchanged(request, values["version"]):
            return Response(status_code=204)
        return self.render("run_fragment.html", **values)

    # -- a context

    def context_page(self, request: Request) -> Response:
        state, ctx, index = self.context_of(request)
        index.refresh()
        total = pages.pages(index.turns, pages.TURNS_PER_PAGE)
        page = _int(request.query_params.get("page"), 0)
        turn = _int(request.query_params.get("turn"), 0)
        sim = _int(request.query_params.get("sim"), 0)
        if sim and sim in index.sim_turns:
            turn = index.sim_turns[sim]
        if turn:
            page = pages.page_of_turn(turn)
        page = min(max(page or 1, 1), total)
        turns = pages.turns_of_page(index, page, ctx)
        base = f"/run/{pages_seg(state.run_dir.name)}"
        return self.render(
            "context.html", title=f"{state.run_id} {ctx.name}", run=pages.run_facts(state),
            ctx=pages.context_row(state, ctx), turns=turns, page=page, pages=total, base=base,
            last_turn=index.turns, live=state.live and page == total, focus_turn=turn, focus_sim=sim,
        )  # fmt: skip

    def context_fragment(self, request: Request) -> Response:
        """The turns from `after` on and the context's line. Turn `after` is the last one the page shows,
        sent again because it may have been shown half done (its command still running); the page
        replaces it by its id."""
        state, ctx, index = self.context_of(request)
        index.refresh()
        after = _int(request.path_params.get("after"), 0)
        if index.turns <= after and self.unchanged(request, self.run_stamp(state)):
            return Response(status_code=204)
        first = max(after, 1)
        events = index.turn_events(first, index.turns) if index.turns >= first else []
        turns = [t for t in pages.build_turns(events, ctx) if t.number >= first]
        base = f"/run/{pages_seg(state.run_dir.name)}"
        return self.render(
            "context_fragment.html", turns=turns, ctx=pages.context_row(state, ctx), base=base,
            last_turn=index.turns, version=self.run_stamp(state), page=1, focus_sim=0,
        )  # fmt: skip

    def designs_page(self, request: Request) -> Response:
        state, ctx, index = self.context_of(request)
        index.refresh()
        designs = pages.designs_of(ctx, index)
        total = pages.pages(len(designs), pages.DESIGNS_PER_PAGE)
        page = _int(request.query_params.get("page"), 1)
        wanted = request.query_params.get("sha")
        if wanted:
            position = next((i for i, d in enumerate(designs) if d.sha == wanted), None)
            if position is not None:
                page = position // pages.DESIGNS_PER_PAGE + 1
        page = min(max(page, 1), total)
        shown = designs[(page - 1) * pages.DESIGNS_PER_PAGE : page * pages.DESIGNS_PER_PAGE]
        pages.add_diffs(shown, designs, state.run_dir / ctx.name / "history.git")
        base = f"/run/{pages_seg(state.run_dir.name)}"
        return self.render(
            "designs.html", title=f"{state.run_id} {ctx.name} designs", run=pages.run_facts(state),
            ctx=pages.context_row(state, ctx), designs=shown, page=page, pages=total, base=base,
            wanted=wanted or "", metric=state.metric,
        )  # fmt: skip

    # -- search

    def search_page(self, request: Request) -> Response:
        state = self.run(request)
        query = (request.query_params.get("q") or "").strip()[:200]
        hits = []
        if query:
            for ctx in state.contexts:
                index = self.index.transcript(state.run_dir, ctx.index, state.metric)
                hits += index.search(query, SEARCH_LIMIT - len(hits))
                if len(hits) >= SEARCH_LIMIT:
                    break
        base = f"/run/{pages_seg(state.run_dir.name)}"
        shown = [
            {"context": h.context, "turn": h.turn, "type": h.type, "text": _around(h.text, query)}
            for h in hits
        ]
        return self.render(
            "search.html", title=f"search {state.run_id}", run=pages.run_facts(state), query=query,
            hits=shown, limit=SEARCH_LIMIT, base=base,
        )  # fmt: skip

    # -- a comparison

    def compare_page(self, request: Request) -> Response:
        folder = self.catalog.compare_dir(request.path_params["name"])
        values = comparison.page_values(folder, self.catalog)
        return self.render("compare.html", title=values["id"], **values)

    def compare_figure(self, request: Request) -> Response:
        folder = self.catalog.compare_dir(request.path_params["name"])
        name = request.path_params["file"]
        path = folder / name
        if not FIGURE.fullmatch(name) or path.is_symlink() or not path.is_file():
            raise NotFound(name)
        return FileResponse(path, media_type="image/png")


def pages_seg(name: str) -> str:
    """A run folder's name as a path segment of an address."""
    return url_part(name)


def _int(value: Any, default: int) -> int:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 9 else default


def _around(text: str, query: str, width: int = 240) -> str:
    at = text.lower().find(query.lower())
    start = max(at - width // 2, 0)
    snippet = text[start : start + width]
    return ("…" if start else "") + snippet + ("…" if start + width < len(text) else "")


def create_app(
    root: Path, token: str | None = None, allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS
) -> Guard:
    """The application over `root`; `token` is required on every request when given; only `allowed_hosts`
    are answered (None: any, for a viewer bound to a public address, which needs the token)."""
    viewer = Viewer(root)

    def guarded(handler: Any) -> Any:
        def endpoint(request: Request) -> Response:
            try:
                return handler(request)
            except NotFound:
                return viewer.not_found(request.url.path)

        return endpoint

    static = resources.files("glia.web") / "static"
    routes = [
        Route("/", guarded(viewer.home)),
        Route("/fragment/runs", guarded(viewer.home_fragment)),
        Route("/run/{run}", guarded(viewer.run_page)),
        Route("/fragment/run/{run}", guarded(viewer.run_fragment)),
        Route("/run/{run}/search", guarded(viewer.search_page)),
        Route("/run/{run}/ctx/{ctx}", guarded(viewer.context_page)),
        Route("/run/{run}/ctx/{ctx}/designs", guarded(viewer.designs_page)),
        Route("/fragment/run/{run}/ctx/{ctx}/after/{after}", guarded(viewer.context_fragment)),
        Route("/compare/{name}", guarded(viewer.compare_page)),
        Route("/compare/{name}/figure/{file}", guarded(viewer.compare_figure)),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_exception_handler(404, lambda request, exc: viewer.not_found(request.url.path))
    return Guard(app, token=token, allowed_hosts=allowed_hosts)
