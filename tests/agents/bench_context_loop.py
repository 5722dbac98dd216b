"""How much time the context loop itself adds per Researcher turn (no model latency, local backend).

Run: python -m tests.agents.bench_context_loop [turns]

Prints wall time per turn, split into the command itself and Glia's own work (transcript writes with
fsync, ledger scans and snapshots, notes rendering), plus the cost of rendering the transcript for the
Supervisor at the end. Figures, not assertions: the test suite stays fast and deterministic.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from glia.agents.supervisor import render_transcript
from glia.context import run_context
from glia.record.transcript import read_events
from glia.task import SupervisorSettings

from .scripting import ScriptedProvider, bash, finish, make_budget, make_spec, make_task, write_template


def main(turns: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        quiet = SupervisorSettings(every_k_turns=10_000, stall_after_sims=10_000, max_interventions=5)
        task = make_task(write_template(root), quiet)
        script = [
            bash("python sim.py" if i % 10 == 9 else f"echo step {i} && ls", text=f"turn {i} " + "x" * 400)
            for i in range(turns - 1)
        ]
        researcher = ScriptedProvider("r", [*script, finish()], record=False)
        spec = make_spec(root, task, researcher, max_steps=turns + 5)
        started = time.perf_counter()
        result = run_context(spec, make_budget(), threading.Event())
        wall = time.perf_counter() - started

        events = read_events(spec.ctx_dir / "transcript.jsonl")
        command_time = sum(e.get("duration_s") or 0.0 for e in events if e["type"] == "tool_result")
        ledger = [r.claimed_score for r in result.snapshots]
        t0 = time.perf_counter()
        rendered = render_transcript(events, [], char_budget=60_000)
        render_s = time.perf_counter() - t0
        size_kb = (spec.ctx_dir / "transcript.jsonl").stat().st_size / 1024

    print(
        f"turns: {result.steps}, end: {result.end_reason}, simulations: {result.simulations} {ledger[:3]}..."
    )
    print(f"wall: {wall:.2f} s total, {1000 * wall / result.steps:.1f} ms per turn")
    print(
        f"commands themselves: {command_time:.2f} s; Glia's own work: {1000 * (wall - command_time) / result.steps:.1f} ms per turn"
    )
    print(f"transcript: {len(events)} events, {size_kb:.0f} KiB")
    print(f"supervisor rendering of the final transcript: {1000 * render_s:.1f} ms, {len(rendered)} chars")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
