"""Run and comparison folders for the viewer's tests, written by the real record writers: the CLI tests'
fixture runs (`tests.cli.run_fixtures.make_run`), a live run whose lock this process holds, a run whose
every field a Researcher or a design could write is an attack, and a comparison whose tables and figures
`glia compare`'s own writer (`glia.compare.outputs.write_outputs`) produced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glia.compare.outputs import write_outputs
from glia.compare.plan import ComparePlan, new_state, parse_methods, save_state
from glia.record.transcript import Transcript
from tests.cli.run_fixtures import ContextPlan, make_run

REPO_ROOT = Path(__file__).resolve().parents[2]
FLAG = "window.__pwned=1"
# Every way a string from a run folder could try to run script in the viewer.
ATTACKS = [
    f"<script>{FLAG}</script>",
    f'<img src=x onerror="{FLAG}">',
    f"<svg onload={FLAG}><circle r=5 /></svg>",
    f'"><svg/onload={FLAG}>',
    f"javascript:{FLAG}",
    f"[click me](javascript:{FLAG}) and ![x](javascript:{FLAG})",
    f"<details open ontoggle={FLAG}><summary>markdown html</summary><iframe src='javascript:{FLAG}'></iframe></details>",
    f"<a href='javascript:{FLAG}'>a link</a> <a href=\"data:text/html,<script>{FLAG}</script>\">data</a>",
    f'https://example.com/"onmouseover="{FLAG}',
    "\x1b[31mred\x1b[0m \x1b]8;;javascript:alert(1)\x07osc link\x1b]8;;\x07 \u202eevil\u202c \x00nul",
    f"</pre></details></section><script>{FLAG}</script><style>body{{display:none}}</style>",
    f"{{{{ 7*7 }}}} {{% raw %}} <math><mi xlink:href='javascript:{FLAG}'>m</mi></math>",
]
HOSTILE_FILE = f"<img src=x onerror={FLAG}>.log"
HOSTILE = "\n".join(ATTACKS)


def build_root(root: Path) -> dict[str, Path]:
    """Every kind of folder the viewer shows, under one root."""
    runs = {
        "done": make_run(root, run_id="done", status="finished", strategy="mcg-par", contexts=2),
        "cut": make_run(root, run_id="cut", status="interrupted", strategy="mcg-seq", contexts=2),
        "live": make_run(
            root,
            run_id="live",
            status="running",
            strategy="scg",
            contexts=1,
            plans={1: ContextPlan([47.0, 44.0], ended=False)},
        ),  # fmt: skip
        "attack": attack_run(root),
    }
    runs["cmp"] = comparison(root)
    return runs


def append_turn(run_dir: Path, context: int, number: int, score: float) -> None:
    """One more Researcher turn with a claim, written as a live context writes it."""
    with Transcript(run_dir / f"ctx-{context}" / "transcript.jsonl") as transcript:
        call = f"live-{number}"
        command = f"./run_all.sh ai --seed {number}"
        transcript.append("assistant", text=f"Live turn {number}: trying a deeper queue.", reasoning="",
                          tool_calls=[{"id": call, "name": "bash", "arguments": {"command": command}}])  # fmt: skip
        transcript.append("model_call", agent="researcher", model="o3", tokens=100, cost_usd=0.5)
        transcript.append("command_started", id=call, command=command, timeout_s=300)
        transcript.append("simulation_started", index=number, kind="claim", conditions={"router": "ai"},
                          snapshot=None, call_id=call, run_total=number)  # fmt: skip
        transcript.append("simulation", index=number, kind="claim", outcome="ended", valid=True,
                          claimed_score=score, values={"mean_e2e": score}, call_id=call)  # fmt: skip
        transcript.append(
            "tool_result", id=call, name="bash", command=command, exit_code=0, output=f"mean_e2e: {score}"
        )


def attack_run(root: Path) -> Path:
    run_dir = make_run(root, run_id="attack", status="finished", strategy="scg", contexts=1)
    (run_dir / "ctx-1" / "outputs").mkdir(parents=True, exist_ok=True)
    (run_dir / "ctx-1" / "outputs" / HOSTILE_FILE).write_text(HOSTILE)
    with Transcript(run_dir / "ctx-1" / "transcript.jsonl") as transcript:
        for i, attack in enumerate(ATTACKS):
            call = f"attack-{i}"
            transcript.append("assistant", text=attack, reasoning=attack,
                              tool_calls=[{"id": call, "name": attack, "arguments": {"command": attack}}])  # fmt: skip
            transcript.append("simulation_started", index=100 + i, kind="experiment",
                              conditions={"router": attack, "workload": attack}, snapshot=attack, call_id=call)  # fmt: skip
            transcript.append("simulation", index=100 + i, kind="experiment", outcome=attack, valid=i % 2 == 0,
                              error=attack, values={"mean_e2e": 45.0 + i}, snapshot=attack, call_id=call)  # fmt: skip
            transcript.append("tool_result", id=call, name="bash", command=attack, exit_code=1, output=HOSTILE,
                              output_path=f"ctx-1/outputs/{HOSTILE_FILE}", recovered=attack)  # fmt: skip
            transcript.append("supervisor", trigger=attack, verdict=attack, text=attack)
            transcript.append("error", detail=attack, agent=attack)
        transcript.append("finish", summary={attack: attack for attack in ATTACKS}, accepted=True)
    data = json.loads((run_dir / "run.json").read_text())
    data["run_id"] = HOSTILE_FILE
    data["strategy_label"] = ATTACKS[1]
    data["task"]["title"] = ATTACKS[0]
    data["task"]["metric"]["unit"] = ATTACKS[3]
    data["notes"] = ATTACKS
    data["error"] = ATTACKS[6]
    data["baselines"][ATTACKS[2]] = {"score": 52.0, "valid": True}
    trusted = data["contexts"][0]["trusted"]
    trusted.append({**trusted[0], "label": ATTACKS[4], "sha": ATTACKS[3], "valid": False, "score": None,
                    "reason": ATTACKS[7], "sim_index": 2})  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps(data))
    return run_dir


def comparison(root: Path) -> Path:
    """A finished comparison of two methods, two repeats each, with the outputs `glia compare` writes."""
    plan = ComparePlan(
        compare_id="cmp", task_path=REPO_ROOT / "tasks" / "llm_routing.md", task_name="llm_routing",
        methods=parse_methods("scg,mcg-par2"), budgets=[40], repeats=2, researcher_model="openai:o3",
        supervisor_model="openai:o3", workspaces_root=root,
    )  # fmt: skip
    state: dict[str, Any] = new_state(plan)
    for entry in plan.entries():
        strategy, contexts = ("scg", 1) if entry.method == "scg" else ("mcg-par", 2)
        shift = 1.5 * entry.repeat + (0.0 if entry.method == "scg" else -2.0)
        plans = {
            k: ContextPlan([48.0 - k, 41.0 - k, 44.0 - k], trusted=43.0 - k - shift)
            for k in range(1, contexts + 1)
        }
        make_run(
            root, run_id=entry.run_id, status="finished", strategy=strategy, contexts=contexts, plans=plans
        )
        state["runs"][entry.run_id]["status"] = "finished"
    state["status"] = "finished"
    save_state(plan.folder, state)
    write_outputs(plan)
    return plan.folder
