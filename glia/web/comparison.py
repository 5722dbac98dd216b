"""A comparison's page: the numbers `glia compare` wrote (results.json: per budget and method the trusted
score's mean with its 90% bootstrap interval, per run its curve) and its plan (compare.json), drawn as
the paper's Fig. 3 (trusted score per method, with intervals), Fig. 7 (each run's best trusted so far
against simulations used) and Fig. 8 (Glia's own variants: the mean curve across repeats with its 90%
band), with the PNG figures it wrote beside them and every run linked.

Nothing is re-measured here: a comparison is shown as its own files say; the Fig. 8 band is the same
arithmetic over the same curves as the PNG's (`glia.compare.curves.mean_band`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from glia.compare.curves import mean_band
from glia.compare.outputs import RESULTS_FILE
from glia.compare.plan import COMPARE_FILE
from glia.metric import Metric
from glia.strategies.method_names import is_blackbox
from glia.web.catalog import Catalog, NotFound, read_json
from glia.web.html import Markup, url_part
from glia.web.plot import Band, Chart, Line, Point, colour, short_number


def _state(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return read_json(folder / COMPARE_FILE), read_json(folder / RESULTS_FILE)


def _metric(results: dict[str, Any]) -> Metric:
    try:
        return Metric.from_dict(results.get("metric") or {})
    except (ValueError, TypeError):
        return Metric("score", "minimize")


def summary_row(folder: Path, catalog: Catalog) -> dict[str, Any]:
    state, results = _state(folder)
    runs = state.get("runs") if isinstance(state.get("runs"), dict) else {}
    plan = state.get("plan") if isinstance(state.get("plan"), dict) else {}
    statuses = [str(r.get("status")) for r in runs.values() if isinstance(r, dict)]
    live = []
    for run_id in runs:
        try:
            live.append(catalog.run_dir(str(run_id)))
        except NotFound:
            continue
    return {
        "id": folder.name,
        "status": str(state.get("status") or "?"),
        "task": str(plan.get("task_name") or ""),
        "methods": ", ".join(str(m.get("label")) for m in plan.get("methods") or [] if isinstance(m, dict)),
        "budgets": ", ".join(str(b) for b in plan.get("budgets") or []),
        "runs": len(runs),
        "finished": statuses.count("finished"),
        "has_results": bool(results),
    }


def page_values(folder: Path, catalog: Catalog) -> dict[str, Any]:
    state, results = _state(folder)
    metric = _metric(results)
    plan = state.get("plan") if isinstance(state.get("plan"), dict) else {}
    planned = state.get("runs") if isinstance(state.get("runs"), dict) else {}
    measured = {str(r.get("run_id")): r for r in results.get("runs") or [] if isinstance(r, dict)}
    summaries = [s for s in results.get("summaries") or [] if isinstance(s, dict)]
    budgets = sorted({int(s["budget"]) for s in summaries if isinstance(s.get("budget"), int)})
    runs = []
    for run_id, entry in planned.items():
        entry = entry if isinstance(entry, dict) else {}
        numbers = measured.get(str(run_id), {})
        try:
            catalog.run_dir(str(run_id))
            href = f"/run/{url_part(run_id)}"
        except NotFound:
            href = None
        runs.append({
            "id": str(run_id), "href": href, "method": str(entry.get("method")), "budget": entry.get("budget"),
            "repeat": entry.get("repeat"), "status": str(entry.get("status")), "error": entry.get("error"),
            "trusted": _fmt(metric, numbers.get("trusted")), "simulations": numbers.get("simulations", "—"),
            "dollars": _money(numbers.get("dollars")),
        })  # fmt: skip
    baselines = (results.get("baselines") or {}).get("scores") or {}
    baselines = {str(k): float(v) for k, v in baselines.items() if isinstance(v, int | float)}
    tables = [
        {"budget": b, "rows": [_summary(metric, s) for s in summaries if s.get("budget") == b],
         "bars": bar_chart(metric, [s for s in summaries if s.get("budget") == b], baselines),
         "curves": curve_chart(metric, results, b, baselines).svg(),
         "variants": variants_chart(metric, plan, results, b, baselines).svg(),
         "figures": [f.name for f in sorted(folder.glob(f"fig*-s{b}.png")) if not f.is_symlink()]}
        for b in budgets
    ]  # fmt: skip
    return {
        "id": folder.name,
        "status": str(state.get("status") or "?"),
        "task": str(plan.get("task_name") or ""),
        "metric": metric.describe(),
        "tables": tables,
        "runs": runs,
        "baselines": {k: metric.format(v) for k, v in sorted(baselines.items())},
        "has_results": bool(results),
        "seg": url_part(folder.name),
    }


def _fmt(metric: Metric, value: Any) -> str:
    return metric.format(value) if isinstance(value, int | float) and not isinstance(value, bool) else "—"


def _money(value: Any) -> str:
    return f"${value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else "—"


def _summary(metric: Metric, s: dict[str, Any]) -> dict[str, Any]:
    ci = s.get("ci") if isinstance(s.get("ci"), list) and len(s["ci"]) == 2 else None
    return {
        "label": str(s.get("label")), "runs": s.get("runs"), "finished": s.get("finished"),
        "mean": _fmt(metric, s.get("mean")),
        "ci": f"[{_fmt(metric, ci[0])}, {_fmt(metric, ci[1])}]" if ci else "—",
        "best": _fmt(metric, s.get("best")), "simulations": s.get("simulations"),
        "dollars": _money(s.get("dollars")), "designs": s.get("designs"),
        "invalid": s.get("invalid_designs"), "no_trusted": s.get("no_trusted"),
        "stopped_early": s.get("stopped_early"),
    }  # fmt: skip


def bar_chart(metric: Metric, summaries: list[dict[str, Any]], baselines: dict[str, float]) -> Markup:
    """Fig. 3: each method's mean trusted score across repeats, with its 90% interval as a whisker."""
    rows = [s for s in summaries if isinstance(s.get("mean"), int | float)]
    width, row_h, left = 760, 26, 130
    height = max(len(summaries), 1) * row_h + 40
    values = [float(s["mean"]) for s in rows]
    for s in rows:
        if isinstance(s.get("ci"), list):
            values += [float(v) for v in s["ci"] if isinstance(v, int | float)]
    values += list(baselines.values())
    parts = [Markup('<svg class="plot bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-label="trusted score per method">').format(width, height)]  # fmt: skip
    if not values:
        parts.append(Markup('<text x="20" y="30" class="empty">no trusted scores yet</text></svg>'))
        return Markup("").join(parts)
    high = max(values) * 1.08 if max(values) > 0 else 1.0
    scale = (width - left - 60) / high

    def sx(v: float) -> float:
        return round(left + v * scale, 1)

    for i, s in enumerate(summaries):
        y = 10 + i * row_h
        label = str(s.get("label"))
        parts.append(
            Markup('<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>').format(
                left - 6, y + 15, label
            )
        )
        mean = s.get("mean")
        if not isinstance(mean, int | float):
            parts.append(
                Markup('<text class="tick" x="{}" y="{}">no trusted design</text>').format(left + 4, y + 15)
            )
            continue
        ci = s.get("ci") if isinstance(s.get("ci"), list) and len(s["ci"]) == 2 else None
        title = f"{label}: mean {short_number(float(mean))}" + (
            f", 90% CI [{short_number(ci[0])}, {short_number(ci[1])}]" if ci else ""
        )
        parts.append(Markup('<g class="bar"><title>{}</title><rect x="{}" y="{}" width="{}" height="18" fill="{}"/>').format(
            title, left, y + 2, max(sx(float(mean)) - left, 1), colour(i)))  # fmt: skip
        if ci:
            parts.append(Markup('<path class="whisker" d="M{} {}H{}M{} {}v10M{} {}v10"/>').format(
                sx(ci[0]), y + 11, sx(ci[1]), sx(ci[0]), y + 6, sx(ci[1]), y + 6))  # fmt: skip
        parts.append(Markup("</g>"))
    for name, value in sorted(baselines.items()):
        parts.append(Markup('<g class="baseline"><title>baseline {}: {}</title><line x1="{}" x2="{}" y1="4" y2="{}"/><text x="{}" y="{}">{}</text></g>').format(
            name, short_number(value), sx(value), sx(value), height - 22, sx(value) - 10, height - 8, name))  # fmt: skip
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def curve_chart(metric: Metric, results: dict[str, Any], budget: int, baselines: dict[str, float]) -> Chart:
    """Fig. 7 across methods: each run's best trusted score so far against simulations used."""
    methods: list[str] = []
    lines: list[Line] = []
    points: list[Point] = []
    for run in results.get("runs") or []:
        if not isinstance(run, dict) or run.get("budget") != budget:
            continue
        method = str(run.get("method"))
        if method not in methods:
            methods.append(method)
        series = methods.index(method)
        curve = [(float(p[0]), float(p[1])) for p in run.get("curve") or []
                 if isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p)]  # fmt: skip
        if not curve:
            continue
        steps: list[tuple[float, float]] = []
        for x, y in curve:
            if steps:
                steps.append((x, steps[-1][1]))
            steps.append((x, y))
        lines.append(Line(steps, series, True, f"{method} r{run.get('repeat')}"))
        x, y = curve[-1]
        run_id = str(run.get("run_id"))
        points.append(
            Point(
                x,
                y,
                "trusted",
                series,
                f"{run_id}: best trusted {metric.format(y)}",
                f"/run/{url_part(run_id)}",
            )
        )
    return Chart(lines, points, baselines, "simulations used", metric.describe(), "no trusted designs yet")


def variants_chart(
    metric: Metric, plan: dict[str, Any], results: dict[str, Any], budget: int, baselines: dict[str, float]
) -> Chart:
    """Fig. 8: Glia's own variants (SCG, MCG-Seq, MCG-Par-N; not the black-box methods), each as the mean
    best trusted score so far across its repeats, with the 90% band where two or more have a design."""
    lines: list[Line] = []
    points: list[Point] = []
    bands: list[Band] = []
    methods = [m for m in plan.get("methods") or [] if isinstance(m, dict)]
    variants = [m for m in methods if not is_blackbox(str(m.get("strategy")))]
    for series, method in enumerate(variants):
        key, label = str(method.get("key")), str(method.get("label"))
        runs = [r for r in results.get("runs") or [] if isinstance(r, dict)
                and r.get("budget") == budget and r.get("method") == key]  # fmt: skip
        curves = [_curve(r) for r in runs]
        curves = [c for c in curves if c]
        if not curves:
            continue
        used = [r.get("simulations") for r in runs if isinstance(r.get("simulations"), int)]
        end = max([*used, *(x for c in curves for x, _ in c)])
        band = mean_band(curves, end)
        if not band:
            continue
        name = f"{label} (n={len(runs)})"
        steps: list[tuple[float, float]] = []
        for p in band:
            if steps:
                steps.append((p.x, steps[-1][1]))
            steps.append((p.x, p.mean))
        shade = [(float(p.x), p.low, p.high) for p in band]
        if end > band[-1].x:
            steps.append((end, band[-1].mean))
            shade.append((float(end), band[-1].low, band[-1].high))
        lines.append(Line(steps, series, True, name))
        bands.append(Band(shade, series, f"{label}: 90% interval across repeats"))
        for p in band:
            ci = f", 90% CI [{metric.format(p.low)}, {metric.format(p.high)}]" if p.repeats >= 2 else ""
            title = f"{label} after {p.x} simulations: mean {metric.format(p.mean)} over {p.repeats} repeat(s){ci}"
            points.append(Point(p.x, p.mean, "trusted", series, title, "#compare-runs"))
    return Chart(lines, points, baselines, "simulations used", metric.describe(),
                 "no Glia variant has a trusted design yet", bands)  # fmt: skip


def _curve(run: dict[str, Any]) -> list[tuple[int, float]]:
    """A run's (simulations used, best trusted so far) points, as results.json holds them."""
    return [(int(p[0]), float(p[1])) for p in run.get("curve") or []
            if isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) and not isinstance(p[0], bool)
            and isinstance(p[1], int | float) and not isinstance(p[1], bool) and math.isfinite(p[1])]  # fmt: skip
