"""EoH and FunSearch through the real LLM4AD package, end to end with the fake model, on the bundled
routing task and on a problem folder (`tasks/cache_eviction`): every model call goes through Glia's
provider and is charged, every candidate runs only in the sandbox and is counted by the ledger
(simulations charged == candidates benchmarked, dollars == the model_call events' sum), LLM4AD never
`exec`s a candidate in this process, and the best design is re-scored by the trusted evaluator."""

from __future__ import annotations

import builtins
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from glia.blackbox.initial import LLQ_ROUTER
from glia.blackbox.llm4ad_islands import capped_database, islands_held
from glia.blackbox.llm4ad_method import WRAPPER, unwrap_design, wrap_design
from glia.blackbox.store import VALID, CandidateStore
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from tests.blackbox.support import MODEL, quick_routing_task, unique
from tests.fake_llm import FakeLLMServer, reply

PROBLEM = Path(__file__).resolve().parents[2] / "tasks" / "cache_eviction"
MARKER = "GLIA_LLM4AD_MARKER"


def llm4ad_reply(design: str, idea: str) -> str:
    """An answer in LLM4AD's format: the idea in braces, then the design file as `design_file()`'s body."""
    kept = "\n".join(ln for ln in design.splitlines() if not ln.startswith("from __future__"))
    body = textwrap.indent(f"{MARKER} = 1\n{kept}", "    ", lambda line: True)
    return f"{{{idea}}}\n\ndef {WRAPPER}_v1():\n{body}\n"


def test_a_design_file_survives_the_round_trip_through_llm4ad_programs() -> None:
    from llm4ad.base import SampleTrimmer, TextFunctionProgramConverter

    template = TextFunctionProgramConverter.text_to_program(wrap_design(LLQ_ROUTER))
    back = unwrap_design(str(template))
    assert back is not None and back.startswith("from __future__ import annotations\n")
    assert (
        back.replace("from __future__ import annotations\n", "").split()
        == LLQ_ROUTER.replace("from __future__ import annotations\n", "").split()
    )
    answer = SampleTrimmer.auto_trim(llm4ad_reply("def solve(n):\n    return n + 5", "add five") + "```\n")
    program = SampleTrimmer.sample_to_program(answer, template)
    design = unwrap_design(str(program))
    assert design is not None and design.rstrip().endswith(f"{MARKER} = 1\ndef solve(n):\n    return n + 5")
    assert unwrap_design("def broken(:\n") is None


@pytest.fixture(scope="module")
def routing_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_routing_task(tmp_path_factory.mktemp("task"))


def _run(task: Path, method: str, root: Path, designs: list[str], simulations: int, **blackbox: Any) -> Path:
    answers = iter([llm4ad_reply(d, f"design {i}") for i, d in enumerate(designs)] * 20)
    run_id = unique(f"llm4ad-{method}")
    with FakeLLMServer() as server:
        server.handler("*", lambda request: reply(next(answers), input_tokens=1000, output_tokens=200))
        config = RunConfig(task_path=task, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=simulations),
                           workspaces_root=root, run_id=run_id, blackbox=blackbox, seeds=[0])  # fmt: skip
        result = execute_run(prepare_run(config))
    assert result.status == "finished", result
    return root / run_id


def _check_accounting(run_dir: Path, simulations: int) -> dict[str, Any]:
    data = load_run(run_dir)
    records = CandidateStore(run_dir / "ctx-1").records()
    events = [json.loads(line) for line in (run_dir / "ctx-1" / "transcript.jsonl").read_text().splitlines()]
    calls = [e for e in events if e["type"] == "model_call"]
    benchmarked = [r for r in records if r.sim_index is not None]
    assert data["usage"]["simulations"] == len(benchmarked) == simulations
    assert sum(1 for e in events if e["type"] == "simulation_started") == simulations
    dollars = sum(e["cost_usd"] for e in calls)
    assert dollars > 0 and data["usage"]["dollars"] == pytest.approx(dollars, abs=1e-9)
    assert data["contexts"][0]["end_reason"] == "simulation_budget"
    assert data["blackbox"]["llm4ad"]["package"] == "llm4ad" and data["blackbox"]["llm4ad"]["version"]
    assert any(r.status == VALID for r in records) and data["best"] is not None
    return data


@pytest.fixture
def no_host_exec(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every `exec` in this process of a text holding a candidate's marker (there must be none)."""
    seen: list[str] = []
    real = builtins.exec

    def spy(source: Any, *args: Any, **kwargs: Any) -> Any:
        if MARKER in str(source):
            seen.append(str(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(builtins, "exec", spy)
    return seen


@pytest.mark.docker
@pytest.mark.parametrize("method", ["eoh", "funsearch"])
def test_llm4ad_methods_on_routing_charge_one_budget_and_run_nothing_on_the_host(
    method: str, routing_task: Path, shared_root: Path, workspace_image: str, no_host_exec: list[str]
) -> None:
    least_active = LLQ_ROUTER.replace(
        "self.replicas[rid].num_pending_requests + self.replicas[rid].num_active_requests",
        "self.replicas[rid].num_active_requests",
    )
    broken = LLQ_ROUTER.replace("class AIGlobalScheduler", "class AIGlobalScheduler(:")
    run_dir = _run(routing_task, method, shared_root, [least_active, broken], simulations=4,
                   population=2, prompt_programs=2, funsearch_islands=2, samples_per_prompt=2)  # fmt: skip
    data = _check_accounting(run_dir, 4)
    records = CandidateStore(run_dir / "ctx-1").records()
    # LLM4AD cuts the broken design to the lines that parse; what is left fails before any simulation
    assert any(r.status == "invalid" and r.sim_index is None for r in records)
    assert no_host_exec == []
    if method == "funsearch":  # FunSearch scores its template first, the LLQ copy: its best is no worse
        assert records[0].status == VALID and records[0].origin == {"llm4ad": "funsearch"}
        assert data["best"]["score"] <= data["baselines"]["llq"]["score"] + 1e-9
    else:  # EoH starts from samples of its own; its best is its one valid design, re-scored
        assert data["best"]["score"] > 0 and data["best"]["sha"] in {
            r.sha for r in records if r.status == VALID
        }


@pytest.mark.docker
@pytest.mark.parametrize("method", ["eoh", "funsearch"])
def test_llm4ad_methods_on_a_problem_folder_rescore_the_reference_exactly(
    method: str, shared_root: Path, workspace_image: str, no_host_exec: list[str]
) -> None:
    start = (Path(load_task(PROBLEM).simulator) / "initial_program.py").read_text(encoding="utf-8")
    run_dir = _run(PROBLEM, method, shared_root, [start, "def evict(:"], simulations=3,
                   population=2, prompt_programs=2, funsearch_islands=2, samples_per_prompt=2)  # fmt: skip
    data = _check_accounting(run_dir, 3)
    assert no_host_exec == []
    reference = data["baselines"]["initial_program"]["score"]
    assert data["best"]["score"] == pytest.approx(reference, abs=1e-12)


def test_funsearch_islands_hold_at_most_their_capacity_keeping_the_best() -> None:
    from llm4ad.base import TextFunctionProgramConverter
    from llm4ad.method.funsearch import ProgramsDatabaseConfig

    def function(k: int) -> Any:
        return TextFunctionProgramConverter.text_to_function(f"def f():\n    return {k}\n")

    template = TextFunctionProgramConverter.text_to_program("def f():\n    return 0\n")
    config = ProgramsDatabaseConfig(functions_per_prompt=3, num_islands=2)
    database = capped_database(config, template, "f", 5)
    database.register_function(function(0), None, 0.0)  # the template goes to every island
    for k in range(1, 12):  # scores 1, 2, 3, 0, 1, 2, 3, ... all on island 0
        database.register_function(function(k), 0, float(k % 4))
    assert islands_held(database, 5) == {"capacity": 5, "held": [5, 1], "registered": [12, 1]}
    kept = {
        score: [str(p).split()[-1] for p in c.programs] for score, c in database.islands[0].clusters.items()
    }
    assert kept == {2.0: ["6", "10"], 3.0: ["3", "7", "11"]}  # the lowest scores went, the oldest first
