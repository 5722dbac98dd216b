"""One simulation's lines in the notebook: a claim ranked against the running best claim, or an
experiment with its conditions and number, shown once, where the command that ran it stands."""

from __future__ import annotations

from glia.metric import Metric
from glia.progress import shorten
from glia.record.view import ContextView, Simulation
from glia.safe_text import md_code, md_inline


class SimulationLines:
    """Which simulations were shown, and the best claim shown so far, while the events are walked."""

    def __init__(self, view: ContextView, metric: Metric) -> None:
        self.view = view
        self.metric = metric
        self.started_shown: set[int] = set()
        self.indices: set[int] = set()
        self.best_shown: Simulation | None = None

    def started(self, index: int) -> list[str]:
        """The lines for a simulation_started event (the simulation with its outcome, as folded)."""
        index = self._index(index)
        sim = self.view.simulations.get(index)
        if sim is None:
            return []
        self.started_shown.add(index)
        return self._lines(sim)

    def ended(self, index: int) -> list[str]:
        """The lines for a simulation event: nothing when it was shown where it started."""
        index = self._index(index)
        if index in self.started_shown:
            return []
        sim = self.view.simulations.get(index)
        return self._lines(sim) if sim is not None else []

    def _index(self, index: int) -> int:
        """The simulation's number as the view folded it (an unreadable one is the next number)."""
        if index <= 0:
            index = max(self.indices, default=0) + 1
        self.indices.add(index)
        return index

    def _lines(self, sim: Simulation) -> list[str]:
        metric = self.metric
        lines = []
        if not sim.is_claim:
            value = sim.value(metric)
            number = f" · {metric.name} {metric.format(value, 3)}" if value is not None else ""
            state = self._state(sim)
            lines.append(
                f"\n## 🧪 Simulation {sim.index} · experiment ({md_inline(sim.conditions_text(), 200)}){number}{state} · "
                "not ranked against claims\n"
            )
        elif not sim.ended or not sim.valid:
            lines.append(f"\n## 🧪 Simulation {sim.index} · claim{self._state(sim)}\n")
        else:
            best = self.view.best_claim(upto=sim.index)
            if best is sim and best is not self.best_shown:
                flag = " · ★ new best"
                self.best_shown = best
            else:
                shown = self.best_shown.claimed_score if self.best_shown else None
                flag = f" · best so far {metric.format(shown, 3)}"
            lines.append(
                f"\n## 🧪 Simulation {sim.index} · claimed {metric.format(sim.claimed_score, 3)}{flag}\n"
            )
        facts = [f"results {md_code(sim.result_dir, 200)}" if sim.result_dir else ""]
        if sim.snapshot:
            facts.append(f"snapshot {md_code(sim.snapshot[:10])}")
        if facts := [f for f in facts if f]:
            label = "Benchmark" if sim.is_claim else "Experiment"
            lines.append(f"> **{label}:** {' · '.join(facts)}\n")
        return lines

    def _state(self, sim: Simulation) -> str:
        if not sim.ended:
            return " · still running" if self.view.live else " · no end recorded"
        if not sim.valid:
            return f" · invalid: {md_inline(shorten(sim.error or 'invalid run', 120), 120)}"
        return ""
