"""EoH and FunSearch stopped by Ctrl-C in a `glia compare` and resumed, with the fake model: each continues
from LLM4AD's own checkpoint (EoH's population, FunSearch's programs database), within one budget (no
simulation run or charged twice, totals equal to the cap, dollars equal to the model calls' sum); FunSearch's
islands hold at most the cap; the comparison's table, report and figures include both methods."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from glia.blackbox.store import VALID, CandidateStore
from glia.compare.execute import run_plan
from glia.compare.outputs import write_outputs
from glia.compare.plan import ComparePlan, load_state, new_state, parse_methods, save_state
from glia.orchestrator import RunConfig, execute_run, prepare_run, resume_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import MODEL, simple_problem, unique
from tests.blackbox.test_llm4ad_methods import llm4ad_reply
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer, reply

pytestmark = pytest.mark.docker

BUDGET = 5
STOP_AT = {"eoh": 3, "funsearch": 2}  # the candidate during whose settling Ctrl-C is pressed
CHECKPOINT = {"eoh": "population/pop_2.json", "funsearch": "prog_db/db_1.json"}


class CtrlC:
    """A progress callback pressing Ctrl-C once, while `method`'s run settles candidate `at` (STOP_AT[method]).

    LLM4AD settles candidates in its own threads: the callback waits until the run's signal handler has
    set the run's stop event, so the stop lands at the same point every time."""

    def __init__(self, method: str | None, at: int | None = None) -> None:
        self.method = method
        self.at = at if at is not None else STOP_AT.get(method or "")
        self.running: str | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "run_started":
            self.running = str(event.get("strategy")).lower()  # the label: EoH, FunSearch
        candidate = event.get("event") == "candidate" and event.get("n")
        if self.method and self.running == self.method and candidate == self.at:
            self.method = None
            guard = signal.getsignal(signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            assert guard.__self__.stop.wait(30)  # the run's InterruptGuard took it


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "ctx-1" / "transcript.jsonl").read_text().splitlines()]


def test_eoh_and_funsearch_resume_from_llm4ad_checkpoints_within_one_budget(
    tmp_path: Path, workspace_image: str
) -> None:
    problem = simple_problem(tmp_path)
    root = tmp_path / "workspaces"
    settings = {"population": 2, "prompt_programs": 2, "funsearch_islands": 2, "samples_per_prompt": 1,
                "island_capacity": 2}  # fmt: skip
    plan = ComparePlan(compare_id=unique("cmp-llm4ad"), task_path=problem, task_name="simple",
                       methods=parse_methods("eoh,funsearch"), budgets=[BUDGET], repeats=1, researcher_model=MODEL,
                       supervisor_model=MODEL, workspaces_root=root, max_steps=20, blackbox=settings)  # fmt: skip
    save_state(plan.folder, new_state(plan))
    designs = [llm4ad_reply(f"def solve(n):\n    return n + {k}", f"add {k}") for k in (1, 5, 3, 8, 2, 6, 9)]
    answers = itertools.cycle(designs)
    run_of = {e.method: root / e.run_id for e in plan.entries()}
    stopped: dict[str, dict[str, Any]] = {}
    with FakeLLMServer() as server:
        server.handler("*", lambda request: reply(next(answers), input_tokens=1000, output_tokens=200))
        plan.base_url = server.openai_base_url
        for method, expected in (("eoh", "interrupted"), ("funsearch", "interrupted"), (None, "finished")):
            outcome = run_plan(
                plan, say=lambda _: None, evaluator_factory=SimpleEvaluator, progress=CtrlC(method)
            )
            assert outcome == expected
            if method:
                stopped[method] = load_run(run_of[method])
    assert all(item["status"] == "finished" for item in load_state(plan.folder)["runs"].values())

    for method, run_dir in run_of.items():
        first = stopped[method]
        assert first["status"] == "interrupted" and first["contexts"][0]["end_reason"] == "interrupted"
        assert first["usage"]["simulations"] == STOP_AT[method]  # the stop landed where it was pressed
        data = load_run(run_dir)
        facts = data["blackbox"]["llm4ad"]
        assert facts["resumed_from"] == CHECKPOINT[method] and "restarted" not in facts
        records = CandidateStore(run_dir / "ctx-1").records()
        ran = [r for r in records if r.ran]
        # exact accounting across the resume: every simulation once, numbered on, the total the cap
        assert data["usage"]["simulations"] == BUDGET == len(ran)
        assert [r.run_total for r in ran] == [r.sim_index for r in ran] == list(range(1, BUDGET + 1))
        events = events_of(run_dir)
        assert sum(e["type"] == "simulation_started" for e in events) == BUDGET
        calls = [e for e in events if e["type"] == "model_call"]
        dollars = sum(e["cost_usd"] for e in calls)
        assert dollars > 0 and data["usage"]["dollars"] == pytest.approx(dollars, abs=1e-9)
        assert data["contexts"][0]["steps"] == len(calls)
        assert [e["reason"] for e in events if e["type"] == "context_end"] == [
            "interrupted",
            "simulation_budget",
        ]
        assert sum(e["type"] == "context_start" for e in events) == 1 and len(data["sessions"]) == 2
        assert data["contexts"][0]["end_reason"] == "simulation_budget"
        assert data["best"] is not None and data["best"]["sha"] in {r.sha for r in ran if r.status == VALID}
        # each design benchmarked once: the resumed search did not start over (FunSearch's template included)
        hashes = [r.design_hash for r in ran]
        assert len(hashes) == len(set(hashes))

    funsearch = load_run(run_of["funsearch"])["blackbox"]["llm4ad"]["islands"]
    assert funsearch["capacity"] == 2 and len(funsearch["held"]) == 2
    assert (
        max(funsearch["held"]) <= 2 < sum(funsearch["registered"])
    )  # islands were given more than they kept

    written = write_outputs(plan)
    rows = {row["method"]: row for row in csv.DictReader(written["csv"].open())}
    assert set(rows) == {"EoH", "FunSearch"}
    for method, run_dir in run_of.items():
        data = load_run(run_dir)
        row = rows["EoH" if method == "eoh" else "FunSearch"]
        assert float(row["trusted_mean"]) == pytest.approx(data["best"]["score"])
        assert float(row["simulations_mean"]) == BUDGET and row["runs_stopped_early"] == "0"
        assert float(row["dollars_total"]) == pytest.approx(data["usage"]["dollars"], rel=1e-5)
    report = written["report"].read_text()
    for label in ("EoH", "FunSearch"):
        line = next(ln for ln in report.splitlines() if ln.startswith(f"| {label} | 1 |"))
        assert f"{float(rows[label]['trusted_mean']):.3f}" in line and "ended: simulation_budget ×1" in line
    curves = {r["run_id"]: r["curve"] for r in json.loads(written["results"].read_text())["runs"]}
    for run_dir in run_of.values():
        assert curves[run_dir.name] and curves[run_dir.name][-1][1] == load_run(run_dir)["best"]["score"]
    for name in (f"bars-{BUDGET}", f"curves-{BUDGET}"):
        assert written[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_search_stopped_before_its_first_checkpoint_starts_again_with_the_budget_left(
    tmp_path: Path, workspace_image: str
) -> None:
    """FunSearch stopped while benchmarking its template: LLM4AD has no checkpoint yet, so a new search
    starts with what is left, and the template is not run again. (EoH stopped inside its initial population
    takes the same path, without a template: one method keeps the suite short.)"""
    problem = simple_problem(tmp_path)
    answers = itertools.cycle(
        [llm4ad_reply(f"def solve(n):\n    return n + {k}", f"add {k}") for k in (1, 5, 3, 8)]
    )
    with FakeLLMServer() as server:
        server.handler("*", lambda request: reply(next(answers), input_tokens=1000, output_tokens=200))
        for method in ("funsearch",):
            config = RunConfig(task_path=problem, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                               base_url=server.openai_base_url, budgets=BudgetLimits(simulations=3),
                               workspaces_root=tmp_path / "workspaces", run_id=unique(f"restart-{method}"),
                               blackbox={"population": 2, "prompt_programs": 2, "funsearch_islands": 2,
                                         "samples_per_prompt": 1})  # fmt: skip
            run_dir = prepare_run(config)
            first = execute_run(run_dir, progress=CtrlC(method, at=1), evaluator_factory=SimpleEvaluator)
            assert first.status == "interrupted"
            assert load_run(run_dir)["usage"]["simulations"] == 1
            assert resume_run(run_dir, evaluator_factory=SimpleEvaluator).status == "finished"
            data = load_run(run_dir)
            facts = data["blackbox"]["llm4ad"]
            assert facts["resumed_from"] is None and facts["restarted"]
            ran = [r for r in CandidateStore(run_dir / "ctx-1").records() if r.ran]
            assert data["usage"]["simulations"] == 3 == len(ran)
            assert [r.run_total for r in ran] == [1, 2, 3]
            assert len({r.design_hash for r in ran}) == 3  # nothing benchmarked twice, the template included
            assert data["contexts"][0]["end_reason"] == "simulation_budget" and data["best"] is not None
