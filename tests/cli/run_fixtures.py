"""Run folders built from hand-written events, shaped like contracts 4 and 5 of docs/architecture.md.

They let the read-only commands (runs, show, report) and the renderers be tested without a model,
a simulator or Docker, including runs that were interrupted half way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from git import Actor, Repo

DESIGN_FILE = "llmsim/global_schedulers/ai_global_scheduler.py"
TEMPLATE_CODE = "class AIGlobalScheduler:\n    def schedule(self):\n        return []  # like LLQ\n"
BEST_CODE = (
    "class AIGlobalScheduler:\n    def schedule(self):\n"
    "        # keep head-room for decode growth\n        return self.headroom_pick()\n"
)
BASELINES = {"llq": 50.0, "lor": 55.0, "round_robin": 60.0}


def write_events(path: Path, events: list[dict[str, Any]], torn_tail: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for seq, event in enumerate(events):
            handle.write(
                json.dumps({"v": 1, "seq": seq, "ts": f"2026-11-22T05:{seq:02d}:00Z", **event}) + "\n"
            )
        if torn_tail:
            handle.write('{"v": 1, "seq": 999, "type": "assis')


def make_repo(repo_dir: Path) -> tuple[str, str]:
    """A context repository: template commit, then one design commit. Returns (template_sha, design_sha)."""
    repo = Repo.init(repo_dir)
    who = Actor("glia-test", "glia@example.invalid")
    design = repo_dir / DESIGN_FILE
    design.parent.mkdir(parents=True, exist_ok=True)
    design.write_text(TEMPLATE_CODE)
    repo.index.add([DESIGN_FILE])
    first = repo.index.commit("template", author=who, committer=who).hexsha
    design.write_text(BEST_CODE)
    repo.index.add([DESIGN_FILE])
    second = repo.index.commit("simulation 2", author=who, committer=who).hexsha
    return first, second


def context_events(
    k: int, claimed: list[float], ended: bool, design_sha: str = "", strategy: str = "scg"
) -> list[dict[str, Any]]:
    """A plausible context: brief, turns with commands, simulations, a supervisor nudge, finish, end."""
    events: list[dict[str, Any]] = [
        {
            "type": "context_start",
            "context": k,
            "run_id": "demo",
            "strategy": strategy,
            "researcher_model": "openai:o3",
            "supervisor_model": "anthropic:claude-sonnet-4-5",
            "task": "llm_routing",
        },
        {"type": "user", "text": "Design a router that lowers mean e2e latency.\n\nBudget: 10 simulations."},
    ]
    for i, score in enumerate(claimed, start=1):
        call_id = f"c{k}-{i}"
        command = f"./run_all.sh ai --seed {i}"
        events += [
            {
                "type": "assistant",
                "text": f"Experiment {i}. I will measure the head-room idea with seed {i}.",
                "reasoning": "Restarts dominate latency, so memory head-room should help.",
                "tool_calls": [{"id": call_id, "name": "bash", "arguments": {"command": command}}],
            },
            {
                "type": "model_call",
                "agent": "researcher",
                "model": "o3",
                "usage": {"input_tokens": 1000, "output_tokens": 200},
                "cost_usd": 0.25,
                "latency_s": 2.0,
                "retries": 0,
            },
            {
                "type": "tool_result",
                "id": call_id,
                "name": "bash",
                "command": command,
                "exit_code": 0,
                "timed_out": False,
                "duration_s": 12.5,
                "output": f"simulating...\nmean_e2e: {score}",
                "output_path": f"ctx-{k}/outputs/{i:04d}.txt",
                "is_error": False,
            },
            {
                "type": "simulation",
                "index": i,
                "result_dir": f"simulator_results/ai/run{i}",
                "claimed_score": score,
                "valid": True,
                "error": None,
                "snapshot": design_sha if i == len(claimed) and design_sha else f"{k}{i:039d}",
            },
        ]
        if i == 1:
            events.append(
                {
                    "type": "supervisor",
                    "trigger": "periodic",
                    "verdict": "revise",
                    "text": "Look at the restart counts per replica before tuning.\nThey explain the tail.",
                }
            )
    events.append(
        {
            "type": "simulation",
            "index": len(claimed) + 1,
            "result_dir": "simulator_results/ai/broken",
            "claimed_score": None,
            "valid": False,
            "error": "router raised KeyError",
            "snapshot": None,
        }
    )
    if ended:
        events += [
            {"type": "finish", "summary": "Head-room allocator: keep 10% of blocks free.", "accepted": True},
            {
                "type": "context_end",
                "reason": "finished",
                "simulations": len(claimed) + 1,
                "cost_usd": 0.25 * len(claimed),
                "final_snapshot": design_sha or None,
                "best_claimed": min(claimed),
            },
        ]
    return events


def evaluation_record(
    label: str, score: float, ci: tuple[float, float], router: str | None = None
) -> dict[str, Any]:
    """An evaluation shaped like glia.evaluation.results.Evaluation.to_dict()."""
    seeds = [
        {
            "seed": s,
            "mean_e2e": score + d,
            "p90_e2e": 2 * score,
            "frac_restarted": 0.2,
            "mean_scheduling_delay": 0.1,
        }
        for s, d in ((0, -0.5), (1, 0.5))
    ]
    workload = {
        "name": "main",
        "qps": 7.5,
        "heldout": False,
        "mean": score,
        "p90": 2 * score,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "seeds": seeds,
    }
    return {
        "label": label,
        "valid": True,
        "reason": None,
        "score": score,
        "workloads": {"main": workload},
        "design_sha256": None if router else "ab" * 32,
        "duration_s": 3.0,
        "router": router,
    }


def make_run(
    root: Path,
    run_id: str = "demo",
    status: str = "finished",
    strategy: str = "scg",
    contexts: int = 1,
) -> Path:
    """A run folder; `status='interrupted'` leaves the last context mid-flight with a torn last line."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    label = {"scg": "SCG", "mcg-seq": "MCG-Seq"}.get(strategy, f"MCG-Par{contexts}")
    interrupted = status == "interrupted"
    records = []
    for k in range(1, contexts + 1):
        ctx_dir = run_dir / f"ctx-{k}"
        _, design_sha = make_repo(ctx_dir / "repo")
        last = k == contexts
        ended = not (interrupted and last)
        claimed = [48.0 - k, 41.0 - k, 44.0 - k]
        write_events(
            ctx_dir / "transcript.jsonl",
            context_events(k, claimed, ended=ended, design_sha=design_sha, strategy=strategy),
            torn_tail=not ended,
        )
        trusted = 42.0 - k
        if ended:
            # Shaped like the orchestrator's files: where the design came from, wrapping the evaluation.
            evaluation = evaluation_record(f"ctx{k}-final", trusted, (trusted - 1.5, trusted + 1.5))
            wrapped = {
                "context": k,
                "label": "final",
                "sha": design_sha,
                "sim_index": None,
                "evaluation": evaluation,
            }
            _dump(run_dir / "evaluations" / f"ctx{k}-final.json", wrapped)
        records.append(
            {
                "index": k,
                "status": "finished" if ended else "running",
                "end_reason": "finished" if ended else None,
            }
        )
    for name, score in BASELINES.items():
        _dump(
            run_dir / "evaluations" / f"{name}.json",
            evaluation_record(name, score, (score - 2, score + 2), router=name),
        )
    run = {
        "run_id": run_id,
        "status": status,
        "strategy": strategy,
        "strategy_label": label,
        "started": "2026-11-22T05:00:00Z",
        "task": {"name": "llm_routing", "metric": {"name": "mean_e2e", "direction": "minimize"}},
        "config": {"researcher_model": "openai:o3", "supervisor_model": "anthropic:claude-sonnet-4-5"},
        "budgets": {"simulations": 40, "dollars": 20.0, "wall_time_s": 3600.0},
        "usage": {"simulations": 4 * contexts, "dollars": 0.75 * contexts, "wall_time_s": 600.0},
        "contexts": records,
    }
    finished_best = contexts if not interrupted else contexts - 1
    if finished_best >= 1:  # the orchestrator's choice, as run.json records it
        score = 42.0 - finished_best
        run["best"] = {
            "context": finished_best,
            "label": "final",
            "score": score,
            "reference_baseline": "llq",
            "improvement_over_reference": (50.0 - score) / 50.0,
            "dir": "best",
        }
    run["reference_baseline"] = "llq"
    _dump(run_dir / "run.json", run)
    if finished_best >= 1:
        best = run_dir / "best"
        (best / "llmsim/global_schedulers").mkdir(parents=True)
        (best / DESIGN_FILE).write_text(BEST_CODE)
        (best / "explanation.md").write_text(
            "# Head-room allocator\n\nKeeps memory free so decodes never restart.\n"
        )
        (best / "design.diff").write_text(
            "-        return []  # like LLQ\n+        return self.headroom_pick()\n"
        )
        score = 42.0 - finished_best
        _dump(best / "evaluation.json", evaluation_record("best", score, (score - 1.5, score + 1.5)))
    return run_dir


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
