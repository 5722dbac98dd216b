"""How long the notes, the live view's folder read and the report take on a long context.

Run: `python -m tests.cli.benchmark_notes [TURNS]`. Prints figures; asserts nothing (timing targets
belong here, not in the tests). The context loop re-renders notes as it goes, so rendering a long
transcript must stay well under a second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from glia.notes import write_notes
from glia.record.view import read_run
from glia.report import write_report
from tests.cli.run_fixtures import write_events


def long_transcript(turns: int) -> list[dict]:
    """`turns` Researcher turns, each with a command and ~8 kB of output, a simulation every third."""
    events: list[dict] = [
        {"type": "context_start", "context": 1, "run_id": "bench"},
        {"type": "user", "text": "brief"},
    ]
    output = "\n".join(f"line {i}: " + "x" * 70 for i in range(100))
    for turn in range(1, turns + 1):
        call = f"c{turn}"
        events.append(
            {
                "type": "assistant",
                "text": f"Turn {turn}. Trying a variation of the idea.",
                "reasoning": "Restarts look like the problem. " * 10,
                "tool_calls": [
                    {"id": call, "name": "bash", "arguments": {"command": f"./run_all.sh ai {turn}"}}
                ],
            }
        )
        events.append({"type": "model_call", "agent": "researcher", "cost_usd": 0.05, "usage": {}})
        events.append(
            {
                "type": "tool_result",
                "id": call,
                "command": f"./run_all.sh ai {turn}",
                "exit_code": 0,
                "output": output,
            }
        )
        if turn % 3 == 0:
            events.append(
                {"type": "simulation", "index": turn // 3, "claimed_score": 50 - turn / 10, "valid": True}
            )
        if turn % 12 == 0:
            events.append(
                {"type": "supervisor", "trigger": "periodic", "verdict": None, "text": "Check restarts."}
            )
    events.append({"type": "context_end", "reason": "budget", "final_snapshot": None})
    return events


def timed(label: str, action, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<40} {best * 1000:8.1f} ms")


def main(turns: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "bench"
        ctx = run_dir / "ctx-1"
        write_events(ctx / "transcript.jsonl", long_transcript(turns))
        (run_dir / "run.json").write_text(
            '{"run_id": "bench", "status": "finished", "strategy_label": "SCG"}'
        )
        size_mb = (ctx / "transcript.jsonl").stat().st_size / 1e6
        print(f"transcript: {turns} turns, {size_mb:.1f} MB")
        timed("write_notes", lambda: write_notes(ctx))
        print(f"{'notes.md size':<40} {(ctx / 'notes.md').stat().st_size / 1e6:8.2f} MB")
        timed("read_run (one live-view poll)", lambda: read_run(run_dir))
        timed("write_report (report.md + progress.png)", lambda: write_report(run_dir), repeat=1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
