"""The paper's views of a comparison, drawn from the collected runs (matplotlib, no display needed).

- Fig. 3: per budget, each method's mean trusted score with its 90% interval across repeats; the
  baselines as horizontal lines.
- Fig. 7: per budget, the best trusted score so far against simulations used: each method's mean over
  repeats, with a 90% band where at least two repeats have a design by then.
- Fig. 2: the `sample` designs' benchmark scores (claims, measured in the sandbox), with the baselines;
  designs that failed are counted in the title, not drawn.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from glia.compare.curves import mean_band
from glia.compare.plan import ComparePlan, is_glia
from glia.compare.results import Baselines, RunOutcome
from glia.compare.table import MethodSummary
from glia.metric import Metric

BAR_FILE = "fig3-trusted-s{budget}.png"
CURVE_FILE = "fig7-progress-s{budget}.png"
HISTOGRAM_FILE = "fig2-sample-s{budget}.png"
GLIA_COLOR = "C0"


def _axis_label(metric: Metric) -> str:
    unit = f" ({metric.unit})" if metric.unit else ""
    direction = metric.better_word
    return f"trusted {metric.name}{unit}, {direction} is better"


def _baseline_lines(axes: Axes, baselines: Baselines, horizontal: bool = True) -> None:
    for j, (name, score) in enumerate(sorted(baselines.scores.items(), key=lambda item: item[1])):
        style = "--" if name == baselines.reference else ":"
        if horizontal:
            axes.axhline(score, color="0.35", linestyle=style, linewidth=1)
            axes.annotate(name, (0, score), xycoords=("axes fraction", "data"), xytext=(3, 2 + 9 * (j % 2)),
                          textcoords="offset points", color="0.3", fontsize=8)  # fmt: skip
        else:
            axes.axvline(score, color="0.35", linestyle=style, linewidth=1)
            axes.annotate(name, (score, 1), xycoords=("data", "axes fraction"), xytext=(2, -10 - 9 * (j % 2)),
                          textcoords="offset points", color="0.3", fontsize=8)  # fmt: skip


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(8, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def bar_chart(
    summaries: list[MethodSummary], baselines: Baselines, metric: Metric, budget: int, path: Path
) -> Path | None:
    rows = [s for s in summaries if s.budget == budget and s.mean is not None]
    if not rows:
        return None
    figure, axes = _new_figure()
    xs = list(range(len(rows)))
    means = [s.mean for s in rows]
    low = [s.mean - s.ci[0] if s.ci else 0.0 for s in rows]
    high = [s.ci[1] - s.mean if s.ci else 0.0 for s in rows]
    colors = [GLIA_COLOR if is_glia(s.key) else "C1" for s in rows]
    axes.bar(xs, means, yerr=[low, high], capsize=5, color=colors, alpha=0.85)
    for x, s in zip(xs, rows, strict=True):
        top = max(s.mean, s.ci[1]) if s.ci else s.mean  # above the interval's cap, not across it
        axes.annotate(f"{s.mean:.3g}\n(n={len(s.scores)})", (x, top), xytext=(0, 4), textcoords="offset points",
                      ha="center", fontsize=8)  # fmt: skip
    _baseline_lines(axes, baselines)
    axes.set_xticks(xs, [s.label for s in rows])
    axes.set_ylabel(_axis_label(metric))
    axes.set_title(
        f"Trusted score of each method's design, {budget}-simulation budget (90% CI across repeats)",
        fontsize=10,
    )
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def progress_curves(plan: ComparePlan, outcomes: list[RunOutcome], baselines: Baselines, metric: Metric,
                    budget: int, path: Path) -> Path | None:  # fmt: skip
    figure, axes = _new_figure()
    drawn = False
    for i, spec in enumerate(plan.methods):
        runs = [o for o in outcomes if o.entry.budget == budget and o.entry.method == spec.key and o.curve]
        if not runs:
            continue
        end = max(max(o.simulations for o in runs), max(x for o in runs for x, _ in o.curve))
        band = mean_band([o.curve for o in runs], end)
        if not band:
            continue
        xs = [p.x for p in band]
        means, lows, highs = [p.mean for p in band], [p.low for p in band], [p.high for p in band]
        color = f"C{i % 10}"
        axes.step(xs, means, where="post", color=color, linewidth=2, label=f"{spec.label} (n={len(runs)})")
        # markers: a method that stopped after one simulation has a curve of one point, a step of no length
        axes.plot(xs, means, linestyle="none", marker="o", markersize=4, color=color)
        axes.fill_between(xs, lows, highs, step="post", color=color, alpha=0.18)
        drawn = True
    if not drawn:
        return None
    _baseline_lines(axes, baselines)
    axes.set_xlabel("simulations used")
    axes.set_ylabel(f"best {_axis_label(metric)}")
    axes.set_title(
        f"Best trusted design so far, {budget}-simulation budget (mean and 90% band across repeats)",
        fontsize=10,
    )
    axes.set_xlim(left=0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def sample_histogram(outcomes: list[RunOutcome], baselines: Baselines, metric: Metric, budget: int,
                     path: Path) -> Path | None:  # fmt: skip
    runs = [o for o in outcomes if o.entry.budget == budget and o.entry.method == "sample"]
    claims = [c for o in runs for c in o.sample_claims]
    failed = sum(o.sample_failed for o in runs)
    if not claims and not failed:
        return None
    figure, axes = _new_figure()
    if claims:
        axes.hist(claims, bins=min(30, max(5, len(claims) // 3)), color="C1", alpha=0.8, edgecolor="white")
    _baseline_lines(axes, baselines, horizontal=False)
    unit = f" ({metric.unit})" if metric.unit else ""
    axes.set_xlabel(
        f"benchmark {metric.name}{unit} of each sampled design (claimed, measured in the sandbox)"
    )
    axes.set_ylabel("designs")
    axes.set_title(f"The model as it is: {len(claims) + failed} designs from one prompt, {failed} failed "
                   f"(not drawn)", fontsize=10)  # fmt: skip
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path
