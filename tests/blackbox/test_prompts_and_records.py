"""What the black-box methods are told, how candidates are recorded, and their settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.blackbox.prompts import interface_files, loop_prompt, openevolve_system_message, sample_prompt
from glia.blackbox.settings import MethodSettings, SettingsError
from glia.blackbox.store import (
    INVALID,
    REJECTED,
    VALID,
    CandidateRecord,
    CandidateStore,
    best_claim,
    improvements,
)
from glia.metric import Constraint, Metric
from glia.orchestrator.config import RunConfig, RunConfigError, normalize_strategy, strategy_label
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
ROUTER = "llmsim/global_schedulers/ai_global_scheduler.py"


@pytest.fixture(scope="module")
def routing():  # type: ignore[no-untyped-def]
    return load_task(REPO / "tasks" / "llm_routing.md")


def test_the_interface_is_what_the_design_imports(routing) -> None:  # type: ignore[no-untyped-def]
    files = interface_files(routing)
    assert list(files) == ["llmsim/global_schedulers/base.py", "llmsim/views.py"]
    assert "class GlobalScheduler" in files["llmsim/global_schedulers/base.py"]


def test_the_sample_prompt_holds_brief_baselines_interface_design_and_format(routing) -> None:  # type: ignore[no-untyped-def]
    template = {ROUTER: (routing.simulator / ROUTER).read_text()}
    prompt = sample_prompt(routing, {"llq": 40.73, "random": 48.45}, template)
    assert routing.body.strip()[:200] in prompt
    assert "| llq (reference) | 40.73 |" in prompt
    assert "You have no shell" in prompt
    assert "class ReplicaView" in prompt or "def num_pending_requests" in prompt
    assert template[ROUTER].strip() in prompt
    assert f"the complete new content of `{ROUTER}` in one fenced code block" in prompt
    assert prompt.rstrip().endswith("Write the complete design now.")


def record(n: int, status: str, score: float | None = None, idea: str = "", error: str | None = None,
           digest: str | None = None, values: dict | None = None) -> CandidateRecord:  # fmt: skip
    return CandidateRecord(n, "loop", status, design_hash=digest or f"h{n}", claimed_score=score, idea=idea,
                           error=error, values=values)  # fmt: skip


def test_the_loop_context_summarises_every_attempt_and_shows_best_and_failed(routing) -> None:  # type: ignore[no-untyped-def]
    attempts = [
        record(1, VALID, 38.5, "least loaded"),
        record(2, REJECTED, idea="peek", error="uses forbidden name 'num_decode_tokens'"),
        record(3, VALID, 35.25, "hold when memory is short"),
        record(4, INVALID, idea="fancy", error="RouterError: returned a request twice"),
    ]
    designs = {"h3": {ROUTER: "BEST DESIGN TEXT"}, "h4": {ROUTER: "BROKEN DESIGN TEXT"}}
    best = best_claim(attempts, routing.metric)
    assert best is attempts[2]
    prompt = loop_prompt(routing, {"llq": 40.7}, {ROUTER: "TEMPLATE"}, attempts, designs, best, history=30)
    assert "- Attempt 1: least loaded -> valid, mean_e2e 38.5" in prompt
    assert "- Attempt 2: peek -> rejected before running: uses forbidden name 'num_decode_tokens'" in prompt
    assert "- Attempt 3: hold when memory is short -> valid, mean_e2e 35.25 (best so far)" in prompt
    assert "## The best design so far (attempt 3, mean_e2e 35.25)" in prompt and "BEST DESIGN TEXT" in prompt
    assert "## The latest attempt (attempt 4), which failed" in prompt and "BROKEN DESIGN TEXT" in prompt
    assert "Its error: RouterError: returned a request twice" in prompt
    assert "Write attempt 5: fix the latest attempt's error, or improve" in prompt
    capped = loop_prompt(routing, {}, {ROUTER: "T"}, attempts, designs, best, history=2)
    assert "(2 earlier attempts not shown.)" in capped and "Attempt 1:" not in capped


def test_openevolve_is_told_what_the_others_are(routing) -> None:  # type: ignore[no-untyped-def]
    message = openevolve_system_message(routing, {"llq": 40.7})
    assert message.startswith("You improve a program that is a design for a systems problem.")
    assert "| llq (reference) | 40.70 |" in message and "class GlobalScheduler" in message


def test_records_survive_a_torn_line_and_rank_by_the_metric(tmp_path: Path) -> None:
    store = CandidateStore(tmp_path)
    digest = store.save_design({"a.py": "x = 1\n"})
    assert store.design(digest) == {"a.py": "x = 1\n"}
    for item in (
        record(0, VALID, 30.0),
        record(0, INVALID, error="boom"),
        record(0, VALID, 25.0),
        record(0, VALID, 28.0),
    ):
        store.append(item)
    with store.path.open("a") as handle:
        handle.write('{"n": 5, "status": "val')  # a kill in the middle of a write
    again = CandidateStore(tmp_path).records()
    assert [r.n for r in again] == [1, 2, 3, 4] and json.loads(store.path.read_text().splitlines()[0])[
        "n"
    ] == 1
    latency = Metric("mean_e2e", "minimize")
    assert [r.n for r in improvements(again, latency)] == [1, 3]
    assert best_claim(again, latency).n == 3  # type: ignore[union-attr]
    assert [r.n for r in improvements(again, Metric("hits", "maximize"))] == [1]
    # a design that breaks a constraint never outranks one that keeps it
    capped = Metric("mean_e2e", "minimize", constraints=(Constraint("p90", "<=", 50.0),))
    mixed = [record(1, VALID, 30.0, values={"p90": 40.0}), record(2, VALID, 20.0, values={"p90": 90.0})]
    assert best_claim(mixed, capped).n == 1  # type: ignore[union-attr]


def test_settings_are_checked_and_kept_in_the_run_config(tmp_path: Path) -> None:
    assert MethodSettings.from_mapping({"islands": 3}).islands == 3
    with pytest.raises(SettingsError, match="unknown blackbox setting"):
        MethodSettings.from_mapping({"isalnds": 3})
    with pytest.raises(SettingsError, match="must not exceed 1"):
        MethodSettings(exploration=0.7, exploitation=0.5)
    assert MethodSettings().generation_cap(15) == 45 and MethodSettings().generation_cap(None) == 100
    assert MethodSettings(max_generations=7).generation_cap(15) == 7
    assert normalize_strategy("loop", 4) == ("loop", 1)
    assert [strategy_label(s, 1) for s in ("sample", "loop", "openevolve")] == [
        "Sample",
        "Loop",
        "OpenEvolve",
    ]
    config = RunConfig(task_path=REPO / "tasks" / "llm_routing.md", strategy="openevolve", researcher_model="openai:o3",
                       supervisor_model="openai:o3", blackbox={"islands": 6})  # fmt: skip
    assert RunConfig.from_dict(config.to_dict()).blackbox == {"islands": 6}
    with pytest.raises(RunConfigError, match="unknown blackbox setting"):
        RunConfig(task_path=tmp_path, strategy="loop", researcher_model="openai:o3", supervisor_model="openai:o3",
                  blackbox={"nope": 1})  # fmt: skip


def test_openevolve_without_the_package_fails_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openevolve" else real(name, *a)
    )
    with pytest.raises(RunConfigError, match=r"pip install 'glia\[baselines\]'"):
        RunConfig(
            task_path=tmp_path,
            strategy="openevolve",
            researcher_model="openai:o3",
            supervisor_model="openai:o3",
        )
