"""How fast `glia view` opens a large run: 4 contexts x 300 turns with about 100 MB of transcripts.

Generates such a run folder synthetically in /tmp (transcript format 2, run.json version 2), then times,
on a viewer that has never seen it (cold: every transcript is folded once) and again (warm: only the
files' sizes are checked), the run page, a context page (its last page of turns), the design timeline
and a search across every transcript. Targets: run page under 2 s, context page under 3 s.

    python benchmarks/viewer_speed.py [--turns 300] [--contexts 4] [--mb 100]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from glia.metric import Metric
from glia.web.app import create_app

METRIC = Metric("mean_e2e", "minimize", "s")


def write_run(root: Path, contexts: int, turns: int, megabytes: float) -> Path:
    run_dir = root / "big"
    output_size = int(megabytes * 1e6 / (contexts * turns)) - 900
    total = 0
    entries, timeline = [], []
    for k in range(1, contexts + 1):
        ctx_dir = run_dir / f"ctx-{k}"
        ctx_dir.mkdir(parents=True)
        with (ctx_dir / "transcript.jsonl").open("w") as handle:
            seq = 0

            def put(event: dict, handle=handle) -> None:
                nonlocal seq
                handle.write(
                    json.dumps({"v": 2, "seq": seq, "ts": "2026-12-01T00:00:00+00:00", **event}) + "\n"
                )
                seq += 1

            put({"type": "context_start", "context": f"ctx-{k}", "run_id": "big", "strategy": "mcg-par"})
            put({"type": "user", "text": "Design a router that lowers mean e2e latency."})
            for t in range(1, turns + 1):
                call = f"c{k}-{t}"
                command = f"./run_all.sh ai --seed {t}"
                total += 1
                put({"type": "assistant", "text": f"Turn {t}: try variant {t}.", "reasoning": "Queue depth matters.",
                     "tool_calls": [{"id": call, "name": "bash", "arguments": {"command": command}}]})  # fmt: skip
                put(
                    {
                        "type": "model_call",
                        "agent": "researcher",
                        "model": "o3",
                        "tokens": 900,
                        "cost_usd": 0.01,
                    }
                )
                put({"type": "command_started", "id": call, "command": command, "timeout_s": 300})
                score = 50.0 - (t % 40) / 4 - k / 10
                sha = f"{k:02x}{t:038x}"
                put({"type": "simulation_started", "index": t, "kind": "claim", "conditions": {"router": "ai"},
                     "snapshot": sha, "call_id": call, "run_total": (t - 1) * contexts + k})  # fmt: skip
                put({"type": "simulation", "index": t, "kind": "claim", "outcome": "ended", "valid": True,
                     "claimed_score": score, "values": {"mean_e2e": score}, "snapshot": sha, "call_id": call})  # fmt: skip
                output = ("simulating replica state ... " * (output_size // 29 + 1))[:output_size]
                put({"type": "tool_result", "id": call, "name": "bash", "command": command, "exit_code": 0,
                     "duration_s": 3.0, "output": output + f"\nmean_e2e: {score}"})  # fmt: skip
                if t % 25 == 0:
                    put(
                        {
                            "type": "supervisor",
                            "trigger": "periodic",
                            "verdict": "revise",
                            "text": "Check the tail.",
                        }
                    )
                timeline.append(
                    {"simulations": (t - 1) * contexts + k, "context": k, "kind": "claimed", "score": score}
                )
        entries.append(
            {"context": k, "name": f"ctx-{k}", "status": "running", "steps": turns, "simulations": turns}
        )
    run = {"version": 2, "run_id": "big", "status": "running", "strategy": "mcg-par", "strategy_label": "MCG-Par4",
           "task": {"name": "llm_routing", "title": "Request routing", "metric": METRIC.to_dict()},
           "budgets": {"simulations": total}, "usage": {"simulations": total},
           "baselines": {"llq": {"score": 50.0, "valid": True}}, "reference_baseline": "llq",
           "contexts": entries, "timeline": timeline, "best": None}  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps(run))
    return run_dir


def timed(client: TestClient, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=4)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--mb", type=float, default=100.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="glia-viewer-speed-"))
    try:
        run_dir = write_run(root, args.contexts, args.turns, args.mb)
        size = sum(p.stat().st_size for p in run_dir.rglob("transcript.jsonl")) / 1e6
        print(f"run: {args.contexts} contexts x {args.turns} turns, transcripts {size:.1f} MB ({run_dir})")
        last = (args.turns + 19) // 20
        pages = [("run page", "/run/big", 2.0), ("context page", f"/run/big/ctx/1?page={last}", 3.0),
                 ("design timeline", "/run/big/ctx/2/designs?page=3", None),
                 ("search", "/run/big/search?q=Check+the+tail", None), ("runs list", "/", None)]  # fmt: skip
        print(f"{'page':<16} {'cold s':>8} {'warm s':>8} {'target s':>9}")
        for name, url, target in pages:
            cold = timed(TestClient(create_app(root, allowed_hosts=None)), url)  # a viewer that never saw it
            client = TestClient(create_app(root, allowed_hosts=None))
            timed(client, url)
            warm = timed(client, url)
            mark = "" if target is None else ("  ok" if cold < target else "  SLOW")
            print(f"{name:<16} {cold:8.2f} {warm:8.2f} {target if target else '—':>9}{mark}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
