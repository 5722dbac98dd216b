"""Run folders built from hand-written events, shaped like contracts 4 and 5 of docs/architecture.md
(transcript format 2, run.json version 2).

They let the read-only commands (runs, show, report) and the renderers be tested without a model,
a simulator or Docker, including runs that were interrupted half way, contexts whose design was
rejected, and a context that changed the simulator and over-claimed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.evaluation.results import Evaluation, SeedResult, WorkloadScore
from glia.metric import Metric
from glia.workspace import History, Tree, TreeEntry
from glia.workspace.tree import MODE_FILE

DESIGN_FILE = "llmsim/global_schedulers/ai_global_scheduler.py"
OTHER_FILE = "llmsim/memory_planner.py"
TEMPLATE_CODE = "class AIGlobalScheduler:\n    def schedule(self):\n        return []  # like LLQ\n"
BEST_CODE = (
    "class AIGlobalScheduler:\n    def schedule(self):\n"
    "        # keep head-room for decode growth\n        return self.headroom_pick()\n"
)
PLANNER = "BLOCKS = 1000\n"
BASELINES = {"llq": 50.0, "lor": 55.0, "round_robin": 60.0}
METRIC = Metric("mean_e2e", "minimize", "s")
EXPERIMENT_CONDITIONS = {"router": "llq", "workload": "generated:qps=7.5,seed=0,duration=100"}


def write_events(path: Path, events: list[dict[str, Any]], torn_tail: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for seq, event in enumerate(events):
            handle.write(
                json.dumps({"v": 2, "seq": seq, "ts": f"2026-11-22T05:{seq % 60:02d}:00+00:00", **event})
                + "\n"
            )
        if torn_tail:
            handle.write('{"v": 2, "seq": 999, "type": "assis')


def make_history(git_dir: Path, planner: str | None = None) -> tuple[str, str]:
    """A context history: template commit, then one design commit (changing the simulator's memory
    planner too when `planner` is given). Returns (template_sha, design_sha)."""
    template = {
        DESIGN_FILE: TreeEntry(MODE_FILE, TEMPLATE_CODE.encode()),
        OTHER_FILE: TreeEntry(MODE_FILE, PLANNER.encode()),
    }
    history = History.create(git_dir, Tree(template))
    files = {**template, DESIGN_FILE: TreeEntry(MODE_FILE, BEST_CODE.encode())}
    files["analysis/restarts.py"] = TreeEntry(MODE_FILE, b"print('restarts')\n")
    if planner is not None:
        files[OTHER_FILE] = TreeEntry(MODE_FILE, planner.encode())
    second = history.commit(Tree(files), "sim 2")
    return history.first_commit(), second


def evaluation(label: str, score: float, ci: tuple[float, float], design: str | None = None) -> Evaluation:
    """A trusted evaluation shaped exactly like the evaluator's (three seeds of the main workload)."""
    seeds = [SeedResult(seed=s, values={"mean_e2e": score + d}) for s, d in ((0, -0.5), (1, 0.0), (2, 0.5))]
    main = WorkloadScore.from_seeds("main", {"qps": 7.5}, False, True, seeds, METRIC)
    main = dataclasses.replace(main, ci_low=ci[0], ci_high=ci[1])
    return Evaluation(
        label=label, valid=True, reason=None, score=score, workloads={"main": main}, design=design,
        design_sha256=None if design else "ab" * 32, isolation="builtin" if design else "sandbox",
    )  # fmt: skip


@dataclass
class ContextPlan:
    """What one fixture context did and how it was judged."""

    claimed: list[float]
    trusted: float | None = None  # None: not judged (or rejected, with `rejected`)
    rejected: str | None = None
    ended: bool = True
    planner: str | None = None  # the simulator file it changed, if any
    ci_half: float = 1.5
    totals: list[int] = field(default_factory=list)


def context_events(k: int, plan: ContextPlan, design_sha: str, strategy: str = "scg") -> list[dict[str, Any]]:
    """A plausible context: brief, turns with commands, claims, an experiment, an invalid run, a
    supervisor nudge, finish, end."""
    events: list[dict[str, Any]] = [
        {"type": "context_start", "context": f"ctx-{k}", "run_id": "demo", "strategy": strategy,
         "researcher_model": "openai:o3", "supervisor_model": "anthropic:claude-sonnet-4-5", "task": "llm_routing"},
        {"type": "session_start", "session": 1, "resumed": False},
        {"type": "user", "text": "Design a router that lowers mean e2e latency.\n\nBudget: 10 simulations."},
    ]  # fmt: skip
    totals = plan.totals or list(range(1, len(plan.claimed) + 3))

    def turn(i: int, command: str, text: str) -> str:
        call_id = f"c{k}-{i}"
        events.extend(
            [
                {"type": "assistant", "text": text, "reasoning": "Restarts dominate latency, so memory head-room should help.",
                 "tool_calls": [{"id": call_id, "name": "bash", "arguments": {"command": command}}]},
                {"type": "model_call", "agent": "researcher", "model": "o3", "tokens": 1200, "cost_usd": 0.25,
                 "latency_s": 2.0, "retries": 0},
                {"type": "command_started", "id": call_id, "command": command, "timeout_s": 300},
            ]
        )  # fmt: skip
        return call_id

    def simulation(i: int, call_id: str, kind: str, valid: bool, score: float | None, snapshot: str) -> None:
        conditions = {"router": "ai"} if kind == "claim" else EXPERIMENT_CONDITIONS
        events.append({"type": "simulation_started", "index": i, "kind": kind, "conditions": conditions,
                       "snapshot": snapshot, "call_id": call_id, "result_dir": f"simulator_results/ai/run{i}",
                       "run_total": totals[i - 1]})  # fmt: skip
        events.append({"type": "simulation", "index": i, "kind": kind, "outcome": "ended", "valid": valid,
                       "error": None if valid else "router raised KeyError",
                       "claimed_score": score if kind == "claim" and valid else None,
                       "values": {"mean_e2e": score} if score is not None else None,
                       "result_dir": f"simulator_results/ai/run{i}", "snapshot": snapshot, "call_id": call_id})  # fmt: skip

    for i, score in enumerate(plan.claimed, start=1):
        command = f"./run_all.sh ai --seed {i}"
        call_id = turn(i, command, f"Experiment {i}. I will measure the head-room idea with seed {i}.")
        snapshot = design_sha if i == 2 else f"{k}{i:039d}"
        simulation(i, call_id, "claim", True, score, snapshot)
        events.append({"type": "tool_result", "id": call_id, "name": "bash", "command": command, "exit_code": 0,
                       "timed_out": False, "duration_s": 12.5, "output": f"simulating...\nmean_e2e: {score}",
                       "output_path": f"ctx-{k}/outputs/cmd-{i}.log", "is_error": False})  # fmt: skip
        if i == 1:
            events.append({"type": "supervisor", "trigger": "periodic", "verdict": "revise",
                           "text": "Look at the restart counts per replica before tuning.\nThey explain the tail."})  # fmt: skip
    n = len(plan.claimed)
    command = "python -m llmsim run --router llq --qps 7.5 --seed 0 --duration 100"
    call_id = turn(n + 1, command, "How does LLQ do on a short generated load?")
    simulation(n + 1, call_id, "experiment", True, 50.5, f"{k}{n + 1:039d}")
    events.append({"type": "tool_result", "id": call_id, "name": "bash", "command": command, "exit_code": 0,
                   "timed_out": False, "duration_s": 3.0, "output": "mean_e2e: 50.5", "is_error": False})  # fmt: skip
    call_id = turn(n + 2, "./run_all.sh ai --broken", "Try the broken variant.")
    simulation(n + 2, call_id, "claim", False, None, f"{k}{n + 2:039d}")
    if plan.ended:
        events += [
            {"type": "tool_result", "id": call_id, "name": "bash", "command": "./run_all.sh ai --broken",
             "exit_code": 1, "timed_out": False, "duration_s": 1.0, "output": "KeyError", "is_error": False},
            {"type": "finish", "summary": {"design": "Head-room allocator: keep 10% of blocks free.",
                                           "evidence": "Head-room allocator: keep 10% of blocks free.",
                                           "tried_and_rejected": "LOR"}, "accepted": True, "reviewed": True},
            {"type": "context_end", "reason": "finished", "simulations": n + 2, "cost_usd": 0.25 * (n + 2),
             "final_snapshot": design_sha},
        ]  # fmt: skip
    return events


def make_run(
    root: Path,
    run_id: str = "demo",
    status: str = "finished",
    strategy: str = "scg",
    contexts: int = 1,
    plans: dict[int, ContextPlan] | None = None,
) -> Path:
    """A run folder; `status='interrupted'` leaves the last context mid-flight with a torn last line."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    label = {"scg": "SCG", "mcg-seq": "MCG-Seq"}.get(strategy, f"MCG-Par{contexts}")
    interrupted = status == "interrupted"
    plans = plans or {}
    entries, timeline = [], []
    offset = 0
    for k in range(1, contexts + 1):
        last = k == contexts
        default = ContextPlan(
            [48.0 - k, 41.0 - k, 44.0 - k], trusted=42.0 - k, ended=not (interrupted and last)
        )
        plan = plans.get(k, default)
        if not plan.ended:
            plan.trusted = None
        count = len(plan.claimed) + 2
        if not plan.totals:
            plan.totals = (
                list(range(offset + 1, offset + count + 1))
                if strategy == "mcg-seq"
                else [k + contexts * i for i in range(count)]
            )
        offset += count
        ctx_dir = run_dir / f"ctx-{k}"
        _, design_sha = make_history(ctx_dir / "history.git", plan.planner)
        write_events(
            ctx_dir / "transcript.jsonl",
            context_events(k, plan, design_sha, strategy),
            torn_tail=not plan.ended,
        )
        trusted = []
        if plan.ended and (plan.trusted is not None or plan.rejected):
            if plan.rejected:
                judged = Evaluation.invalid(f"ctx{k}-final", plan.rejected)
            else:
                assert plan.trusted is not None
                half = plan.ci_half
                judged = evaluation(f"ctx{k}-final", plan.trusted, (plan.trusted - half, plan.trusted + half))
            wrapped = {"context": k, "label": "final", "sha": design_sha, "sim_index": 2, "design_hash": f"{k}" * 64,
                       "evaluation": judged.to_dict()}  # fmt: skip
            _dump(run_dir / "evaluations" / f"ctx{k}-final.json", wrapped)
            primary = judged.primary
            trusted.append({"label": "final", "sha": design_sha, "valid": judged.valid, "score": judged.score,
                            "reason": judged.reason, "sim_index": 2, "design_hash": f"{k}" * 64,
                            "file": f"evaluations/ctx{k}-final.json", "feasible": judged.feasible,
                            "violations": [], "ci_low": primary.ci_low if primary else None,
                            "ci_high": primary.ci_high if primary else None, "run_total": plan.totals[1]})  # fmt: skip
            if judged.valid:
                timeline.append({"simulations": plan.totals[1], "context": k, "kind": "trusted", "score": judged.score,
                                 "valid": True, "label": "final", "sha": design_sha})  # fmt: skip
        for i, score in enumerate(plan.claimed):
            timeline.append({"simulations": plan.totals[i], "context": k, "kind": "claimed", "score": score})
        entries.append(
            {"context": k, "name": f"ctx-{k}", "status": "finished" if plan.ended else "running",
             "end_reason": "finished" if plan.ended else None, "error": None, "steps": count,
             "simulations": count, "cost_usd": 0.25 * count, "tokens": 1200 * count,
             "best_claimed": min(plan.claimed), "best_trusted": plan.trusted if not plan.rejected else None,
             "final_snapshot": design_sha if plan.ended else None, "judged": plan.ended, "trusted": trusted,
             "evaluation_problems": [], "run_totals": plan.totals, "outcome": None}
        )  # fmt: skip
    baselines = {}
    for name, score in BASELINES.items():
        judged = evaluation(name, score, (score - 2, score + 2), design=name)
        _dump(run_dir / "evaluations" / f"{name}.json", judged.to_dict())
        baselines[name] = {
            "score": score,
            "valid": True,
            "reason": None,
            "ci_low": score - 2,
            "ci_high": score + 2,
        }
    run: dict[str, Any] = {
        "version": 2,
        "run_id": run_id,
        "status": status,
        "strategy": strategy,
        "strategy_label": label,
        "started": "2026-11-22T05:00:00+00:00",
        "sessions": [{"started": "2026-11-22T05:00:00+00:00", "resumed": False, "pid": 1, "host": "box"}],
        "task": {"name": "llm_routing", "title": "Request routing", "design_files": [DESIGN_FILE], "metric": METRIC.to_dict()},
        "config": {"researcher_model": "openai:o3", "supervisor_model": "anthropic:claude-sonnet-4-5"},
        "budgets": {"simulations": 40, "dollars": 20.0, "wall_time_s": 3600.0},
        "usage": {"simulations": offset, "dollars": 0.25 * offset, "wall_time_s": 600.0},
        "baselines": baselines,
        "reference_baseline": "llq",
        "contexts": entries,
        "timeline": timeline,
        "best": None,
    }  # fmt: skip
    judged = [(k, e) for k, e in enumerate(entries, 1) if e["best_trusted"] is not None]
    if judged:
        k, entry = min(judged, key=lambda item: item[1]["best_trusted"])
        score = entry["best_trusted"]
        run["best"] = {"context": k, "label": "final", "sha": entry["final_snapshot"], "score": score,
                       "reference_baseline": "llq", "improvement_over_reference": (50.0 - score) / 50.0, "dir": "best"}  # fmt: skip
        best = run_dir / "best"
        (best / "llmsim/global_schedulers").mkdir(parents=True)
        (best / "ai_global_scheduler.py").write_text(BEST_CODE)
        (best / "explanation.md").write_text("# Best design\n\nKeeps memory free so decodes never restart.\n")
        (best / "design.diff").write_text(
            "-        return []  # like LLQ\n+        return self.headroom_pick()\n"
        )
        _dump(best / "evaluation.json", evaluation("best", score, (score - 1.5, score + 1.5)).to_dict())
    elif status == "finished":
        run["status"] = "failed"
        run["no_best_reason"] = "no context produced a design that passed trusted evaluation"
        run["error"] = run["no_best_reason"]
    _dump(run_dir / "run.json", run)
    return run_dir


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
