"""The progress plot of the paper's Fig. 7 as SVG drawn on the server: no chart code runs in the browser.

Per context, the best trusted score so far (solid) and the best claimed score so far (light, dashed)
against the run's simulations used, with the baselines as dotted lines, experiments (other conditions,
never ranked) as crosses and rejected designs as red crosses. Every point is a link (click opens the
design or the turn that ran it) with an SVG <title> (hover shows what it was). All markup is built with
`glia.web.html.Markup.format`, which escapes every value. A chart may also carry shaded bands (the
comparison page's Fig. 8: a method's 90% interval across repeats).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from glia.record.view import ContextView, RunView
from glia.web.html import Markup, clean_text, safe_href, url_part

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 120, 16, 40


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    kind: str  # trusted, claimed, experiment, rejected
    series: int  # colour index
    title: str
    href: str


@dataclass(frozen=True)
class Line:
    points: Sequence[tuple[float, float]]
    series: int
    solid: bool
    label: str


@dataclass(frozen=True)
class Band:
    """A shaded interval held as steps from each x to the next: (x, low, high) in order of x."""

    points: Sequence[tuple[float, float, float]]
    series: int
    label: str


@dataclass
class Chart:
    """What to draw; `svg()` draws it."""

    lines: list[Line]
    points: list[Point]
    baselines: dict[str, float]
    x_label: str
    y_label: str
    empty_text: str = "no scores yet"
    bands: list[Band] = field(default_factory=list)

    def svg(self) -> Markup:
        xs = [x for line in self.lines for x, _ in line.points] + [p.x for p in self.points]
        ys = (
            [y for line in self.lines for _, y in line.points]
            + [p.y for p in self.points]
            + [y for band in self.bands for _, low, high in band.points for y in (low, high)]
            + list(self.baselines.values())
        )
        head = Markup(
            '<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
            'aria-label="{}" data-points="{}">'
        ).format(WIDTH, HEIGHT, self.y_label, len(self.points))
        if not ys:
            return head + Markup('<text x="{}" y="{}" class="empty">{}</text></svg>').format(
                WIDTH / 2 - 40, HEIGHT / 2, self.empty_text
            )
        x_max = max(max(xs, default=1), 1)
        y_low, y_high = _padded(min(ys), max(ys))
        plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

        def sx(x: float) -> float:
            return round(LEFT + plot_w * x / x_max, 1)

        def sy(y: float) -> float:
            return round(TOP + plot_h * (y_high - y) / (y_high - y_low), 1)

        parts = [head, _axes(sx, sy, x_max, y_low, y_high, self.x_label, self.y_label)]
        for name, value in sorted(self.baselines.items()):
            parts.append(
                Markup(
                    '<g class="baseline"><title>baseline {}: {}</title><line x1="{}" x2="{}" y1="{}" y2="{}"/>'
                    '<text x="{}" y="{}" text-anchor="end">{}</text></g>'
                ).format(
                    name,
                    short_number(value),
                    LEFT,
                    LEFT + plot_w,
                    sy(value),
                    sy(value),
                    LEFT + plot_w - 4,
                    sy(value) - 3,
                    name,
                )  # fmt: skip
            )
        for band in self.bands:
            parts.append(_band(band, sx, sy))
        for line in self.lines:
            path = " ".join(f"{sx(x)},{sy(y)}" for x, y in line.points)
            parts.append(
                Markup('<polyline class="{}" stroke="{}" points="{}"><title>{}</title></polyline>').format(
                    "trusted" if line.solid else "claimed", colour(line.series), path, line.label
                )
            )
        for p in self.points:
            parts.append(_marker(p, sx(p.x), sy(p.y)))
        parts.append(_legend(self.lines))
        parts.append(Markup("</svg>"))
        return Markup("").join(parts)


def colour(series: int) -> str:
    return COLOURS[series % len(COLOURS)]


def short_number(value: float) -> str:
    return f"{value:.4g}"


def _padded(low: float, high: float) -> tuple[float, float]:
    pad = (abs(low) * 0.05 or 1.0) if math.isclose(low, high) else (high - low) * 0.08
    return low - pad, high + pad


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low
    step = 10 ** math.floor(math.log10(span / count)) if span > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _axes(sx: Callable, sy: Callable, x_max: float, y_low: float, y_high: float, x_label: str,
          y_label: str) -> Markup:  # fmt: skip
    parts = [
        Markup('<g class="axes"><line x1="{}" x2="{}" y1="{}" y2="{}"/><line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(
            LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, HEIGHT - BOTTOM, LEFT, LEFT, TOP, HEIGHT - BOTTOM
        )
    ]  # fmt: skip
    for y in _ticks(y_low, y_high):
        parts.append(
            Markup('<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>').format(LEFT - 6, sy(y) + 4, short_number(y))
        )  # fmt: skip
    for x in _ticks(0, x_max):
        if x == int(x):
            parts.append(
                Markup('<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                    sx(x), HEIGHT - BOTTOM + 16, int(x)
                )
            )
    parts.append(
        Markup('<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>').format(
            LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT - 6, x_label
        )
    )
    parts.append(
        Markup('<text class="label" transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text></g>').format(
            TOP + (HEIGHT - TOP - BOTTOM) / 2, y_label
        )
    )  # fmt: skip
    return Markup("").join(parts)


def _band(band: Band, sx: Callable, sy: Callable) -> Markup:
    """The band as one polygon: along the highs as steps, back along the lows (a band at one x only, as
    a method that stopped after its first simulation has, as a narrow bar there)."""
    if len({x for x, _, _ in band.points}) == 1:
        x, low, high = band.points[-1]
        return Markup('<rect class="band" fill="{}" x="{}" y="{}" width="8" height="{}"><title>{}</title></rect>').format(
            colour(band.series), sx(x) - 4, sy(high), max(sy(low) - sy(high), 1), band.label
        )  # fmt: skip
    upper: list[tuple[float, float]] = []
    lower: list[tuple[float, float]] = []
    for i, (x, low, high) in enumerate(band.points):
        if i:
            upper.append((x, upper[-1][1]))
            lower.append((x, lower[-1][1]))
        upper.append((x, high))
        lower.append((x, low))
    outline = " ".join(f"{sx(x)},{sy(y)}" for x, y in upper + lower[::-1])
    return Markup('<polygon class="band" fill="{}" points="{}"><title>{}</title></polygon>').format(
        colour(band.series), outline, band.label
    )


def _marker(p: Point, x: float, y: float) -> Markup:
    shade = colour(p.series)
    if p.kind in ("experiment", "rejected"):
        shape = Markup('<path class="{}" stroke="{}" d="M{} {}l8 8m0 -8l-8 8"/>').format(
            p.kind, "#d62728" if p.kind == "rejected" else shade, x - 4, y - 4
        )
    else:
        shape = Markup('<circle class="{}" fill="{}" cx="{}" cy="{}" r="{}"/>').format(
            p.kind, shade, x, y, 5 if p.kind == "trusted" else 3.5
        )
    return Markup('<a class="point" href="{}"><title>{}</title>{}</a>').format(
        safe_href(p.href), p.title, shape
    )


def _legend(lines: list[Line]) -> Markup:
    parts, y = [], TOP + 4
    for line in lines:
        parts.append(
            Markup('<g class="legend"><line class="{}" stroke="{}" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                   '<text x="{}" y="{}">{}</text></g>').format(
                "trusted" if line.solid else "claimed", colour(line.series), WIDTH - RIGHT + 8, WIDTH - RIGHT + 26,
                y, y, WIDTH - RIGHT + 30, y + 4, line.label)
        )  # fmt: skip
        y += 15
    return Markup("").join(parts)


# ------------------------------------------------------------------------------------- the run plot


def run_chart(state: RunView, base: str) -> Chart:
    """The Fig. 7 view of one run; `base` is the run page's address (links are made under it)."""
    metric = state.metric
    lines: list[Line] = []
    points: list[Point] = []
    drawn: dict[tuple[int, float, float], int] = {}  # (context, x, score) -> its trusted point
    for i, ctx in enumerate(state.contexts):
        end = max((ctx.run_axis(s) for s in ctx.sims), default=0)
        ctx_base = f"{base}/ctx/{ctx.index}"
        claimed, trusted = _best_lines(state, ctx)
        if claimed:
            lines.append(Line(_steps(claimed, end), i, False, f"{ctx.name} claimed"))
        if trusted:
            lines.append(Line(_steps(trusted, end), i, True, f"{ctx.name} trusted"))
        for sim in ctx.sims:
            if not (sim.ended and sim.valid):
                continue
            value = sim.value(metric)
            if value is None:
                continue
            x = ctx.run_axis(sim)
            if sim.is_claim:
                title = f"{ctx.name} simulation {sim.index}: claimed {metric.format(value)}"
                title += f" (design {sim.snapshot[:10]})" if sim.snapshot else ""
                href = (
                    f"{ctx_base}/designs?sha={url_part(sim.snapshot)}"
                    if sim.snapshot
                    else f"{ctx_base}?sim={sim.index}"
                )
                points.append(Point(x, value, "claimed", i, clean_text(title), href))
            else:
                title = f"{ctx.name} simulation {sim.index}: experiment ({sim.conditions_text()}) {metric.format(value)}"
                points.append(
                    Point(x, value, "experiment", i, clean_text(title), f"{ctx_base}?sim={sim.index}")
                )
        end_x = max((ctx.run_axis(s) for s in ctx.sims), default=0)
        for verdict in ctx.verdicts:
            entry = verdict.entry
            sim = ctx.simulations.get(entry.sim_index) if entry.sim_index else None
            x = entry.run_total if entry.run_total is not None else (ctx.run_axis(sim) if sim else end_x)
            href = f"{ctx_base}/designs?sha={url_part(entry.sha)}"
            if verdict.valid and verdict.score is not None:
                same = drawn.get((i, x, verdict.score))
                if (
                    same is not None
                ):  # the same design judged again under another label: one point, both named
                    points[same] = replace(
                        points[same], title=clean_text(f"{points[same].title}; also {entry.label}")
                    )
                    continue
                title = (
                    f"{ctx.name} design {entry.label} ({entry.sha[:10]}): trusted {verdict.describe(metric)}"
                )
                drawn[(i, x, verdict.score)] = len(points)
                points.append(Point(x, verdict.score, "trusted", i, clean_text(title), href))
            elif not entry.duplicate_of:
                y = sim.claimed_score if sim is not None and sim.claimed_score is not None else None
                if y is None:
                    best = ctx.best_claim()
                    y = best.claimed_score if best else None
                if y is not None:
                    title = f"{ctx.name} design {entry.label} ({entry.sha[:10]}): {verdict.describe(metric)}"
                    points.append(Point(x, y, "rejected", i, clean_text(title), href))
    unit = f" ({metric.unit})" if getattr(metric, "unit", "") else ""
    word = "lower is better" if metric.lower_is_better else "higher is better"
    return Chart(lines, points, state.baseline_scores(), "simulations used (the run's count)",
                 f"{metric.name}{unit}, {word}")  # fmt: skip


def _best_lines(
    state: RunView, ctx: ContextView
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The running best claim and best trusted score of a context, in one pass each (the same lines as
    the report's `progress_series`, whose claim curve re-ranks every claim at each step: too slow for a
    page redrawn every few seconds on a run of hundreds of simulations)."""
    metric = state.metric
    claimed: list[tuple[float, float]] = []
    best = None
    for sim in ctx.claims():
        if not (sim.ended and sim.valid and sim.claimed_score is not None):
            continue
        now = (
            sim
            if best is None
            else metric.best(
                [best, sim], score=lambda s: s.claimed_score, feasible=lambda s: s.feasible(metric)
            )
        )
        if now is not best:
            best = now
            claimed.append((ctx.run_axis(sim), float(now.claimed_score)))  # type: ignore[arg-type]
    points = state.timeline(ctx.index, "trusted")
    if not points:  # a run recorded before verdicts had run totals: the verdicts where they ran
        end = max((ctx.run_axis(s) for s in ctx.sims), default=0)
        for verdict in ctx.verdicts:
            sim = ctx.simulations.get(verdict.entry.sim_index) if verdict.entry.sim_index else None
            if verdict.valid and verdict.score is not None:
                points.append((ctx.run_axis(sim) if sim else end, verdict.score))
    trusted: list[tuple[float, float]] = []
    for x, y in sorted(points):
        if not trusted or metric.better(y, trusted[-1][1]):
            trusted.append((x, y))
    return claimed, trusted


def _steps(points: Sequence[tuple[float, float]], end: float) -> list[tuple[float, float]]:
    """A running best drawn as steps held until the context's last simulation."""
    out: list[tuple[float, float]] = []
    for x, y in points:
        if out:
            out.append((x, out[-1][1]))
        out.append((x, y))
    if out and end > out[-1][0]:
        out.append((end, out[-1][1]))
    return out


__all__ = ["Band", "Chart", "Line", "Point", "colour", "run_chart", "short_number"]
