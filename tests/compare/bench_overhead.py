"""Glia's own overhead per method, per simulation, measured with the fake model (not a test: run it).

    python -m tests.compare.bench_overhead [SIMULATIONS] [METHODS, comma-separated]
    python -m tests.compare.bench_overhead --from FOLDER   # the table again, from earlier run folders

Runs the three black-box methods, SCG and MCG-Par4 (by default) on the bundled routing task (its full benchmark, a cheap trusted
evaluation) with the fake model answering at once, and splits each search's wall time into sandbox start
and stop, model calls, benchmark commands, and the rest: Glia's own work. Prints one Markdown table.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from glia.blackbox.initial import LLQ_ROUTER
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import ALL_TO_ZERO, LEAST_ACTIVE, MODEL, ROUTER, Roles, quick_routing_task, unique
from tests.fake_llm import reply, tool_call

METHODS = ("sample", "loop", "openevolve", "scg", "mcg-par4")
LLQ_REPLY = f"Idea: least loaded queue.\n\n```python\n{LLQ_ROUTER}```\n"


class RoutingResearcher(Roles):
    """The Researcher writes a router and runs the benchmark, again and again, until the budget ends."""

    def _researcher(self, request: Any) -> Any:
        turn = request.assistant_turns
        code = LLQ_ROUTER if turn % 4 == 0 else LEAST_ACTIVE.split("```python\n")[1].split("```")[0]
        command = f"cat > {ROUTER} <<'PY'\n{code}PY" if turn % 2 == 0 else "./run_all.sh | tail -1"
        return reply(
            f"Step {turn + 1}.", [tool_call("bash", {"command": command})], input_tokens=800, output_tokens=60
        )

    def _edit(self, text: str) -> Any:
        """OpenEvolve's edits: swap the load measure between LLQ's and fewest-active, back and forth."""
        both = "self.replicas[rid].num_pending_requests + self.replicas[rid].num_active_requests,"
        active = "self.replicas[rid].num_active_requests,"
        match = re.search(r"# Current Program\n```\w*\n(.*?)```", text, re.S)  # not the other programs shown
        current = match.group(1) if match else text
        old, new = (both, active) if both in current else (active, both)
        indent = " " * 20
        diff = f"<<<<<<< SEARCH\n{indent}{old}\n=======\n{indent}{new}\n>>>>>>> REPLACE\n"
        return reply(f"Another load measure.\n{diff}", input_tokens=1000, output_tokens=200)


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def context_split(transcript: Path) -> dict[str, float]:
    """One Glia context's split, from its transcript: wall time from its start to its end, sandbox start
    (until the first model call), wind-down (from the last event to the context's end: removing its
    container and taking the final snapshot), model calls, and the Researcher's commands."""
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    start = seconds(events[0]["ts"])
    end = seconds(next(e for e in events if e["type"] == "context_end")["ts"])
    model = sum(e.get("latency_s") or 0.0 for e in events if e["type"] == "model_call")
    commands = sum(e.get("duration_s") or 0.0 for e in events if e["type"] == "tool_result")
    first_call = next(e for e in events if e["type"] == "model_call")
    setup = seconds(first_call["ts"]) - first_call["latency_s"] - start
    last = max(seconds(e["ts"]) for e in events if e["type"] != "context_end")
    return {
        "wall_s": end - start,
        "setup_s": setup,
        "teardown_s": end - last,
        "model_s": model,
        "bench_s": commands,
    }


def glia_split(run_dir: Path) -> dict[str, float]:
    """The split summed over the run's contexts (for MCG-Par-N, contexts overlap: their times add up)."""
    total: dict[str, float] = {}
    for transcript in sorted(run_dir.glob("ctx-*/transcript.jsonl")):
        for key, value in context_split(transcript).items():
            total[key] = total.get(key, 0.0) + value
    return total


def measure(run_dir: Path, total: float | None = None) -> tuple[str, int, float, dict[str, float], float]:
    """(label, simulations, whole run s, split, Glia's own s per simulation) of one run folder."""
    data = load_run(run_dir)
    split = data["blackbox"]["timings_total"] if data.get("blackbox") else glia_split(run_dir)
    sims = data["usage"]["simulations"]
    own = split["wall_s"] - split["setup_s"] - split["teardown_s"] - split["model_s"] - split["bench_s"]
    if total is None:  # from the run record: first session's start to the run's end
        total = seconds(data["ended"]) - seconds(data["sessions"][0]["started"])
    return data["strategy_label"], sims, total, split, own / max(sims, 1)


def print_table(rows: list[tuple[str, int, float, dict[str, float], float]]) -> None:
    print(
        "| method | simulations | whole run s | search s | sandbox start+stop s | model s | benchmark s | Glia's own s per simulation |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, sims, total, s, own in rows:
        print(f"| {label} | {sims} | {total:.0f} | {s['wall_s']:.1f} | {s['setup_s'] + s['teardown_s']:.1f} | "
              f"{s['model_s']:.2f} | {s['bench_s']:.1f} | {own:.2f} |")  # fmt: skip


def main(simulations: int, methods: tuple[str, ...] = METHODS) -> None:
    folder = Path(tempfile.mkdtemp(prefix="glia-overhead-"))
    task = quick_routing_task(folder)
    rows = []
    from tests.fake_llm import FakeLLMServer

    for method in methods:
        roles = RoutingResearcher([LLQ_REPLY, LEAST_ACTIVE, ALL_TO_ZERO], edits=[])
        with FakeLLMServer() as server:
            server.handler("*", roles)
            config = RunConfig(task_path=task, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                               base_url=server.openai_base_url, budgets=BudgetLimits(simulations=simulations, steps=200),
                               workspaces_root=folder / "ws", run_id=unique(f"overhead-{method}"), blackbox={"workers": 1})  # fmt: skip
            started = time.monotonic()
            run_dir = prepare_run(config)
            execute_run(run_dir)
            total = time.monotonic() - started
        rows.append(measure(run_dir, total))
    print_table(rows)
    print(f"(run folders under {folder}; `--from {folder / 'ws'}` prints this table again)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--from":  # the table again, from earlier run folders
        print_table([measure(d) for d in sorted(Path(sys.argv[2]).iterdir()) if (d / "run.json").is_file()])
    else:
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 10,
            tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 else METHODS,
        )
