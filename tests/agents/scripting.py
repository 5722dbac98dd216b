"""Helpers for the agent tests: a scripted in-process model, a tiny simulator, a task, specs."""

from __future__ import annotations

import copy
import itertools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.budget import Budget
from glia.context import ContextSpec
from glia.llm.types import LLMResponse, Message, ToolCall, ToolSpec, Usage
from glia.metric import Metric
from glia.task import (
    Baseline,
    Benchmark,
    BudgetLimits,
    DesignSlot,
    EvalSpec,
    RunDefaults,
    SupervisorSettings,
    Task,
    Workload,
)

# A stand-in simulator: the "design" is a number in design.txt, and a run reports it as mean_e2e. Like the
# real one, it reports each run to Glia's ledger (GLIA_LEDGER) with the simulator's own client module.
FAKE_SIMULATOR = textwrap.dedent(
    """
    import json, pathlib, sys, time
    import glia_ledger

    experiment = sys.argv[1] if len(sys.argv) > 1 else "bench"
    run_dir = pathlib.Path("simulator_results") / experiment / str(time.time_ns())
    run_dir.mkdir(parents=True)
    report = glia_ledger.RunReport(result_dir=str(run_dir), summary_follows=True)
    try:
        report.start({"router": "ai", "workload": "toy"})
    except glia_ledger.LedgerError as exc:
        sys.exit(f"error: {exc}")
    if "--crash" in sys.argv:
        sys.exit(3)
    score = float(pathlib.Path("design.txt").read_text())
    summary = {"valid": True, "error": None, "mean_e2e": score, "num_requests": 10}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    report.end(True, None, summary)
    print(f"mean_e2e: {score}")
    """
)
LEDGER_CLIENT = Path(__file__).resolve().parents[2] / "sim_repo_template" / "llmsim" / "glia_ledger.py"

_call_ids = itertools.count(1)


def bash(command: str, timeout: int | None = None, text: str = "") -> Message:
    arguments: dict[str, Any] = {"command": command}
    if timeout is not None:
        arguments["timeout"] = timeout
    return Message(
        role="assistant", content=text, tool_calls=[ToolCall(f"call_{next(_call_ids)}", "bash", arguments)]
    )


def finish(
    design: str = "a design", evidence: str = "runs", rejected: str = "nothing", text: str = ""
) -> Message:
    arguments = {"design": design, "evidence": evidence, "tried_and_rejected": rejected}
    return Message(
        role="assistant", content=text, tool_calls=[ToolCall(f"call_{next(_call_ids)}", "finish", arguments)]
    )


def say(text: str) -> Message:
    return Message(role="assistant", content=text)


@dataclass
class Request:
    system: str
    messages: list[Message]
    tools: list[ToolSpec] | None


@dataclass
class ScriptedProvider:
    """An in-process LLMProvider: replies come from a list (or a callable), every request is kept.

    A reply may be an exception instance, which is raised instead. When the script runs out, the
    provider answers with `finish` so a test never loops forever.
    """

    model: str
    script: list[Message | BaseException] | Callable[[Request], Message] = field(default_factory=list)
    cost_usd: float | None = 0.01
    requests: list[Request] = field(default_factory=list)
    on_call: Callable[[int], None] | None = None
    record: bool = True  # False: keep no copies of requests (benchmarks)
    calls: int = 0

    def complete(
        self,
        system: str,
        messages: list[Message],
        tools: list[ToolSpec] | None = None,
        max_output_tokens: int | None = None,
    ) -> LLMResponse:
        self.calls += 1
        request = Request(system, copy.deepcopy(messages) if self.record else messages, tools)
        if self.record:
            self.requests.append(request)
        if self.on_call:
            self.on_call(self.calls)
        if callable(self.script):
            reply: Message | BaseException = self.script(request)
        elif self.script:
            reply = self.script.pop(0)
        else:
            reply = finish(text="(script exhausted)")
        if isinstance(reply, BaseException):
            raise reply
        return LLMResponse(
            message=copy.deepcopy(reply),
            usage=Usage(input_tokens=100, output_tokens=20),
            stop_reason="tool_use" if reply.tool_calls else "end_turn",
            model=self.model,
            latency_s=0.01,
            cost_usd=self.cost_usd,
        )


def approve(text: str = "Well supported.") -> Message:
    return say(f"{text}\nVERDICT: APPROVE")


def revise(text: str = "Test it on another seed first.") -> Message:
    return say(f"{text}\nVERDICT: REVISE")


def write_template(root: Path) -> Path:
    template = root / "template"
    template.mkdir()
    (template / "sim.py").write_text(FAKE_SIMULATOR)
    (template / "glia_ledger.py").write_text(LEDGER_CLIENT.read_text())
    (template / "design.txt").write_text("40.0\n")
    return template


def make_task(template: Path, settings: SupervisorSettings | None = None) -> Task:
    workload = Workload(name="main", params={"qps": 7.5}, seeds=(0,))
    return Task(
        path=template / "task.md",
        name="toy",
        title="A toy task",
        simulator=template,
        design=DesignSlot(slot="number", files=("design.txt",), name="ai"),
        benchmark=Benchmark(command="python sim.py", results_dir="simulator_results"),
        metric=Metric(name="mean_e2e", direction="minimize", unit="s"),
        evaluation=EvalSpec(
            command="python sim.py {design} {qps} {seed} {output_root}",
            time_limit_s=60,
            workloads=(workload,),
            baseline_designs=(Baseline("llq"),),
            reference_baseline="llq",
            design_name="ai",
        ),
        forbidden_names=(),
        defaults=RunDefaults(),
        budgets=BudgetLimits(),
        supervisor=settings
        or SupervisorSettings(every_k_turns=100, stall_after_sims=100, max_interventions=5),
        body="# Toy task\n\nMake the number in design.txt small. Benchmark with `python sim.py`.",
    )


def make_spec(
    tmp_path: Path,
    task: Task,
    researcher: ScriptedProvider,
    supervisor: ScriptedProvider | None = None,
    **overrides: Any,
) -> ContextSpec:
    fields: dict[str, Any] = {
        "run_id": "run-test",
        "index": 1,
        "ctx_dir": tmp_path / "run" / "ctx-1",
        "task": task,
        "researcher": researcher,
        "supervisor": supervisor or ScriptedProvider("sup-model", [approve()]),
        "backend": "local",
        "baselines": {"llq": 40.0},
        "max_steps": 30,
    }
    fields.update(overrides)
    return ContextSpec(**fields)


def make_budget(**limits: Any) -> Budget:
    return Budget(BudgetLimits(**limits))
