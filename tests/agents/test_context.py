"""The context loop with an in-process scripted model and the local workspace backend."""

import json
import re
import threading
import time

import pytest

import glia.context as context_module
from glia.agents.prompts import load_agent_prompt
from glia.agents.researcher import INTERRUPTED_CALL_OUTPUT, RESUMED_NOTE
from glia.agents.tools import NO_TOOL_CALL_REMINDER
from glia.budget import Budget
from glia.context import run_context
from glia.llm.types import ContextLengthExceeded, LLMError, Message, ToolCall
from glia.record.outcome import ContextOutcome
from glia.record.transcript import read_events
from glia.task import BudgetLimits, SupervisorSettings
from glia.workspace import History
from glia.workspace.base import Limits, WorkspaceDead

from .scripting import ScriptedProvider, approve, bash, finish, make_budget, make_spec, make_task, revise, say

SIM = "python sim.py"


def types_of(spec) -> list[str]:
    return [e["type"] for e in read_events(spec.ctx_dir / "transcript.jsonl")]


def events_of(spec, kind: str) -> list[dict]:
    return [e for e in read_events(spec.ctx_dir / "transcript.jsonl") if e["type"] == kind]


def with_settings(task_template, **settings):
    return make_task(task_template, SupervisorSettings(**settings))


def test_a_context_that_benchmarks_twice_and_is_approved(tmp_path, task, stop):
    researcher = ScriptedProvider(
        "researcher-model",
        [
            bash("cat design.txt", text="Let me look at the design."),
            bash(SIM),
            bash(f"echo 30 > design.txt && {SIM}"),
            finish(design="smaller number", evidence="30 vs 40", rejected="none"),
        ],
    )
    supervisor = ScriptedProvider("supervisor-model", [approve()])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(simulations=10, dollars=5.0), stop)

    assert (result.end_reason, result.steps, result.simulations, result.error) == ("finished", 4, 2, None)
    assert [(s.sim_index, s.claimed_score, s.valid) for s in result.snapshots] == [
        (1, 40.0, True),
        (2, 30.0, True),
    ]
    assert result.best_claimed == result.snapshots[1]
    assert result.finish_summary == {
        "design": "smaller number",
        "evidence": "30 vs 40",
        "tried_and_rejected": "none",
    }
    assert result.cost_usd == pytest.approx(0.05)  # 4 Researcher calls + 1 Supervisor call
    assert result.tokens == 5 * 120
    history = History(spec.ctx_dir / "history.git")
    assert result.final_sha == history.head() and history.message(history.head()).strip() == "final"
    design_at = [history.read_text(s.sha, "design.txt").strip() for s in result.snapshots]
    assert design_at == ["40.0", "30"]

    first = researcher.requests[0]
    assert first.system == load_agent_prompt("researcher")
    assert [t.name for t in first.tools] == ["bash", "finish"]
    [brief] = first.messages
    assert brief.content.startswith("# Toy task") and "| llq (reference) | 40.00 |" in brief.content
    assert "## Your budget" in brief.content and "simulations 10" in brief.content
    sim_result = researcher.requests[2].messages[-1]
    assert sim_result.role == "tool" and sim_result.content.startswith("[exit code 0,")
    assert "mean_e2e: 40.0" in sim_result.content
    assert sim_result.content.endswith(
        "mean_e2e: 40.0\n\n[Simulation #1 (benchmark run) valid, claimed mean_e2e 40.000. "
        "Simulations used in this session: 1. Remaining budget: simulations 9, dollars $4.98.]"
    )

    kinds = types_of(spec)
    assert kinds[:3] == ["context_start", "session_start", "user"] and kinds[-1] == "context_end"
    assert (
        kinds.count("assistant") == 4 and kinds.count("tool_result") == 3 and kinds.count("simulation") == 2
    )
    assert kinds.count("budget") == 2 and kinds.count("supervisor") == 1 and kinds.count("finish") == 1
    start = events_of(spec, "context_start")[0]
    assert (start["researcher_model"], start["supervisor_model"], start["task"]) == (
        "researcher-model",
        "supervisor-model",
        "toy",
    )
    calls = events_of(spec, "model_call")
    assert [c["agent"] for c in calls] == ["researcher"] * 4 + ["supervisor"]
    assert calls[0]["usage"]["input_tokens"] == 100 and calls[0]["cost_usd"] == 0.01
    tool_result = events_of(spec, "tool_result")[0]
    assert tool_result["command"] == "cat design.txt" and tool_result["exit_code"] == 0
    assert tool_result["output_path"].startswith(str(spec.ctx_dir / "outputs"))
    end = events_of(spec, "context_end")[0]
    assert (end["reason"], end["simulations"], end["final_snapshot"]) == ("finished", 2, result.final_sha)
    assert end["best_claimed"]["sim_index"] == 2
    assert ContextOutcome.from_dict(end["result"]) == result
    assert (spec.ctx_dir / "notes.md").exists()


def test_a_revision_reaches_the_researcher_as_the_finish_result(tmp_path, task, stop):
    researcher = ScriptedProvider("r", [finish(), bash(f"echo 20 > design.txt && {SIM}"), finish()])
    supervisor = ScriptedProvider("s", [revise("You never ran the benchmark."), approve()])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(), stop)

    assert (result.end_reason, result.steps, result.simulations) == ("finished", 3, 1)
    reply = researcher.requests[1].messages[-1]
    finish_call = researcher.requests[1].messages[-2].tool_calls[0]
    assert (reply.role, reply.tool_call_id, reply.is_error) == ("tool", finish_call.id, False)
    assert reply.content == "[Supervisor] You never ran the benchmark."
    assert [e["verdict"] for e in events_of(spec, "supervisor")] == ["revise", "approve"]
    assert [(e["accepted"], e["reviewed"]) for e in events_of(spec, "finish")] == [
        (False, True),
        (True, True),
    ]
    second_review = supervisor.requests[1].messages[0].content
    assert "SUPERVISOR (finish, verdict revise)" in second_review and re.search(
        r"\| 1 \| <<untrusted-[0-9a-f]{16}>>simulator_results/bench/", second_review
    )


def test_periodic_check_in_after_every_k_turns(tmp_path, simulator_template, stop):
    task = with_settings(simulator_template, every_k_turns=2, stall_after_sims=100, max_interventions=5)
    researcher = ScriptedProvider("r", [bash("echo a"), bash("echo b"), bash("echo c"), finish()])
    supervisor = ScriptedProvider("s", [say("Keep the goal in mind."), approve()])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(), stop)

    assert result.end_reason == "finished"
    check_in = researcher.requests[2].messages[-1]
    assert (check_in.role, check_in.content) == (
        "user",
        "[Supervisor — periodic check-in] Keep the goal in mind.",
    )
    assert [(e["trigger"], e["delivered"]) for e in events_of(spec, "supervisor")] == [
        ("periodic", "user"),
        ("finish", "tool_result"),
    ]
    assert "Trigger: `periodic`" in supervisor.requests[0].messages[0].content


def test_stall_check_when_the_best_score_stops_improving(tmp_path, simulator_template, stop):
    task = with_settings(simulator_template, every_k_turns=100, stall_after_sims=2, max_interventions=5)
    researcher = ScriptedProvider("r", [bash(SIM), bash(SIM), bash(SIM), finish()])
    supervisor = ScriptedProvider("s", [say("Step back: what limits the score?"), approve()])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(), stop)

    assert (result.end_reason, result.simulations) == ("finished", 3)
    stall = events_of(spec, "supervisor")[0]
    assert (stall["trigger"], stall["at_simulation"]) == ("stall", 3)
    assert (
        researcher.requests[3].messages[-1].content
        == "[Supervisor — progress check] Step back: what limits the score?"
    )
    assert "None of the last 2 claims (benchmark runs of the design) improved" in (
        supervisor.requests[0].messages[0].content
    )


def test_after_max_interventions_a_finish_is_accepted_without_review(tmp_path, simulator_template, stop):
    task = with_settings(simulator_template, every_k_turns=100, stall_after_sims=100, max_interventions=1)
    researcher = ScriptedProvider("r", [finish(), finish(design="second try")])
    supervisor = ScriptedProvider("s", [revise()])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(), stop)

    assert (result.end_reason, result.steps, len(supervisor.requests)) == ("finished", 2, 1)
    assert result.finish_summary["design"] == "second try"
    assert [(e["accepted"], e["reviewed"]) for e in events_of(spec, "finish")] == [
        (False, True),
        (True, False),
    ]


def test_an_unreachable_supervisor_does_not_end_the_context(tmp_path, simulator_template, stop):
    task = with_settings(simulator_template, every_k_turns=1, stall_after_sims=100, max_interventions=5)
    researcher = ScriptedProvider("r", [bash("echo hi"), finish()])
    supervisor = ScriptedProvider("s", [LLMError("overloaded"), LLMError("still overloaded")])
    spec = make_spec(tmp_path, task, researcher, supervisor)
    result = run_context(spec, make_budget(), stop)

    assert (result.end_reason, result.steps) == ("finished", 2)
    errors = events_of(spec, "error")
    assert [(e["agent"], e["trigger"]) for e in errors] == [
        ("supervisor", "periodic"),
        ("supervisor", "finish"),
    ]
    assert "overloaded" in errors[0]["detail"]
    assert events_of(spec, "finish")[0] == {
        **events_of(spec, "finish")[0],
        "accepted": True,
        "reviewed": False,
    }


def forever(reply_factory):
    return lambda request: reply_factory()


@pytest.mark.parametrize(
    ("limits", "steps", "reason"),
    [
        ({"simulations": 1}, 1, "simulation_budget"),
        ({"dollars": 0.015}, 2, "dollar_budget"),
        ({"tokens": 150}, 2, "token_budget"),
    ],
)
def test_budget_limits_end_the_context(tmp_path, task, stop, limits, steps, reason):
    researcher = ScriptedProvider("r", forever(lambda: bash(SIM)))
    result = run_context(make_spec(tmp_path, task, researcher), make_budget(**limits), stop)
    assert (result.end_reason, result.steps) == (reason, steps)


def test_time_limit_ends_the_context(tmp_path, task, stop):
    now = [0.0]
    budget = Budget(BudgetLimits(wall_time_s=10), clock=lambda: now[0])

    def tick(_call: int) -> None:
        now[0] += 6

    researcher = ScriptedProvider("r", forever(lambda: bash("echo hi")), on_call=tick)
    result = run_context(make_spec(tmp_path, task, researcher), budget, stop)
    assert (result.end_reason, result.steps) == ("time_limit", 2)


def test_step_limit(tmp_path, task, stop):
    researcher = ScriptedProvider("r", forever(lambda: bash("echo hi")))
    result = run_context(make_spec(tmp_path, task, researcher, max_steps=3), make_budget(), stop)
    assert (result.end_reason, result.steps) == ("step_limit", 3)


def test_replies_without_a_tool_call_are_reminded_then_end_the_context(tmp_path, task, stop):
    researcher = ScriptedProvider("r", forever(lambda: say("I am thinking...")))
    spec = make_spec(tmp_path, task, researcher)
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.steps) == ("format_errors", 3)
    assert researcher.requests[1].messages[-1] == Message(role="user", content=NO_TOOL_CALL_REMINDER)
    assert [e["detail"] for e in events_of(spec, "format_error")] == ["the reply had no tool call"] * 3


def test_malformed_calls_are_answered_with_errors_and_counted(tmp_path, task, stop):
    bad = [
        Message("assistant", tool_calls=[ToolCall("x1", "python", {"code": "1"})]),
        Message(
            "assistant", tool_calls=[ToolCall("x2", "bash", {}, raw_arguments="{", error="invalid JSON")]
        ),
        Message("assistant", tool_calls=[ToolCall("x3", "finish", {"design": "d"})]),
    ]
    researcher = ScriptedProvider("r", bad)
    spec = make_spec(tmp_path, task, researcher)
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.steps) == ("format_errors", 3)
    first_error = researcher.requests[1].messages[-1]
    assert (first_error.role, first_error.tool_call_id, first_error.is_error) == ("tool", "x1", True)
    assert first_error.content.startswith("Unknown tool 'python'")
    assert len(events_of(spec, "format_error")) == 3


def test_a_valid_call_resets_the_format_error_streak(tmp_path, task, stop):
    script = [say("hm"), say("hm"), bash("echo ok"), say("hm"), say("hm"), finish()]
    result = run_context(make_spec(tmp_path, task, ScriptedProvider("r", script)), make_budget(), stop)
    assert (result.end_reason, result.steps) == ("finished", 6)


def test_consecutive_timeouts_end_the_context(tmp_path, task, stop):
    researcher = ScriptedProvider("r", forever(lambda: bash("sleep 5", timeout=1)))
    spec = make_spec(tmp_path, task, researcher, limits=Limits(default_timeout_s=1, max_timeout_s=2))
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.steps) == ("timeouts", 3)
    assert all(e["timed_out"] for e in events_of(spec, "tool_result"))
    assert researcher.requests[1].messages[-1].content.startswith("[TIMED OUT after 1.")


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (ContextLengthExceeded("prompt is too long"), "context_window"),
        (LLMError("rate limited after 6 retries"), "model_error"),
        (RuntimeError("a bug"), "exception"),
    ],
)
def test_model_failures_end_the_context_with_a_reason(tmp_path, task, stop, failure, reason):
    researcher = ScriptedProvider("r", [bash(SIM), failure])
    spec = make_spec(tmp_path, task, researcher)
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.steps, result.simulations) == (reason, 1, 1)
    [error] = events_of(spec, "error")
    assert str(failure) in error["detail"] and error["reason"] == reason
    if reason == "exception":
        assert error["detail"].startswith("RuntimeError: a bug (at ") and "scripting.py" in error["detail"]
    assert result.final_sha is not None and types_of(spec)[-1] == "context_end"


def test_interrupt_stops_between_commands(tmp_path, task, stop):
    def interrupt_on_second_call(call: int) -> None:
        if call == 2:
            stop.set()

    researcher = ScriptedProvider("r", forever(lambda: bash("echo hi")), on_call=interrupt_on_second_call)
    result = run_context(make_spec(tmp_path, task, researcher), make_budget(), stop)
    assert (result.end_reason, result.steps) == ("interrupted", 2)


def test_a_dead_workspace_ends_the_context_without_telling_the_model(tmp_path, task, stop, monkeypatch):
    real_factory = context_module.create_workspace

    def dying_workspace(*args, **kwargs):
        workspace = real_factory(*args, **kwargs)
        real_exec = workspace.exec

        def exec_or_die(command, timeout_s=None, env=None):
            if "die" in command:
                raise WorkspaceDead("container glia-run-test-ctx-1 exited (OOM killed)")
            return real_exec(command, timeout_s, env)

        workspace.exec = exec_or_die
        return workspace

    monkeypatch.setattr(context_module, "create_workspace", dying_workspace)
    researcher = ScriptedProvider("r", [bash("echo fine"), bash("echo die")])
    spec = make_spec(tmp_path, task, researcher)
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.steps, len(researcher.requests)) == ("workspace_dead", 2, 2)
    assert "OOM killed" in result.error
    assert len(events_of(spec, "tool_result")) == 1


def test_a_setup_failure_is_reported_not_raised(tmp_path, task, stop):
    spec = make_spec(tmp_path, task, ScriptedProvider("r", []), backend="no-such-backend")
    result = run_context(spec, make_budget(), stop)
    assert result.end_reason == "exception" and "no-such-backend" in result.error
    assert result.steps == 0 and types_of(spec)[-1] == "context_end"


def test_resume_rebuilds_the_same_conversation_and_continues(tmp_path, task, stop):
    def interrupt_on_third_call(call: int) -> None:
        if call == 3:
            stop.set()

    first = ScriptedProvider(
        "r",
        [bash(SIM), bash("echo 25 > design.txt", text="Trying 25."), bash("echo noted")],
        on_call=interrupt_on_third_call,
    )
    spec = make_spec(tmp_path, task, first)
    budget = make_budget(simulations=10)
    result = run_context(spec, budget, stop)
    assert (result.end_reason, result.steps, result.simulations) == ("interrupted", 3, 1)
    before = first.requests[-1].messages

    stop.clear()
    second = ScriptedProvider("r", [bash(SIM), finish()])
    supervisor = ScriptedProvider("s", [approve()])
    spec = make_spec(tmp_path, task, second, supervisor)
    resumed = run_context(spec, budget, stop, resume=True)

    rebuilt = second.requests[0].messages
    assert rebuilt[: len(before)] == before
    assert rebuilt[len(before)].tool_calls[0].arguments == {"command": "echo noted"}
    # the stop came while the model was answering: its call was never run, and the resume says so
    unanswered = rebuilt[len(before) + 1]
    assert (unanswered.role, unanswered.content, unanswered.is_error) == (
        "tool",
        INTERRUPTED_CALL_OUTPUT,
        True,
    )
    assert rebuilt[len(before) + 2] == Message(role="user", content=RESUMED_NOTE)
    assert len(rebuilt) == len(before) + 3
    assert (resumed.end_reason, resumed.steps, resumed.simulations) == ("finished", 5, 2)
    assert [(s.sim_index, s.claimed_score) for s in resumed.snapshots] == [(1, 40.0), (2, 25.0)]
    assert resumed.cost_usd == pytest.approx(0.06)
    assert types_of(spec).count("context_start") == 1


def test_resume_after_a_kill_mid_turn_answers_the_dangling_call(tmp_path, task, stop):
    spec = make_spec(tmp_path, task, ScriptedProvider("r", [bash("echo one"), bash("echo two")]), max_steps=2)
    run_context(spec, make_budget(), stop)
    path = spec.ctx_dir / "transcript.jsonl"
    lines = path.read_text().splitlines()
    last_assistant = max(i for i, line in enumerate(lines) if json.loads(line)["type"] == "assistant")
    path.write_text("\n".join(lines[: last_assistant + 1]) + '\n{"v": 1, "seq": 99, "type": "tool_res')

    second = ScriptedProvider("r", [finish()])
    result = run_context(make_spec(tmp_path, task, second), make_budget(), stop, resume=True)
    assert result.end_reason == "finished"
    dangling, note = second.requests[0].messages[-2:]
    assert (dangling.role, dangling.content, dangling.is_error) == ("tool", INTERRUPTED_CALL_OUTPUT, True)
    assert note.content == RESUMED_NOTE
    assert events_of(spec, "tool_result")[-1]["output"] == INTERRUPTED_CALL_OUTPUT


def test_a_finished_context_is_not_resumed(tmp_path, task, stop):
    spec = make_spec(tmp_path, task, ScriptedProvider("r", [bash(SIM), finish()]))
    done = run_context(spec, make_budget(), stop)
    untouched = ScriptedProvider("r", [RuntimeError("must not be called")])
    again = run_context(make_spec(tmp_path, task, untouched), make_budget(), stop, resume=True)
    assert again == done and untouched.requests == []


def test_context_result_round_trips_through_a_dict(tmp_path, task, stop):
    result = run_context(
        make_spec(tmp_path, task, ScriptedProvider("r", [bash(SIM), finish()])), make_budget(), stop
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert ContextOutcome.from_dict(data) == result
    assert data["best_claimed"]["claimed_score"] == 40.0


def test_starting_afresh_over_an_earlier_session_is_refused(tmp_path, task, stop):
    spec = make_spec(tmp_path, task, ScriptedProvider("r", [bash(SIM), finish()]))
    run_context(spec, make_budget(), stop)
    before = (spec.ctx_dir / "transcript.jsonl").read_text()
    again = ScriptedProvider("r", [RuntimeError("must not be called")])
    result = run_context(make_spec(tmp_path, task, again), make_budget(), stop)
    assert result.end_reason == "exception" and "resume it or use a new folder" in result.error
    assert again.requests == [] and (spec.ctx_dir / "transcript.jsonl").read_text() == before


def test_stopping_the_run_while_a_command_runs_is_an_interruption(tmp_path, task, stop, monkeypatch):
    real_factory = context_module.create_workspace
    opened = []

    def tracked(*args, **kwargs):
        opened.append(real_factory(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(context_module, "create_workspace", tracked)

    def stop_the_run_soon(call: int) -> None:
        def stop_and_close() -> None:
            stop.set()
            opened[0].close()  # what the run's signal handler does to every open workspace

        threading.Timer(0.5, stop_and_close).start()

    researcher = ScriptedProvider(
        "r", [bash("sleep 30; echo done"), bash("echo next")], on_call=stop_the_run_soon
    )
    spec = make_spec(tmp_path, task, researcher)
    started = time.monotonic()
    result = run_context(spec, make_budget(), stop)
    assert (result.end_reason, result.error, result.steps) == ("interrupted", None, 1)
    assert time.monotonic() - started < 20


def test_resume_after_a_stop_between_turns_keeps_the_supervisor_message(tmp_path, simulator_template, stop):
    task = with_settings(simulator_template, every_k_turns=2, stall_after_sims=100, max_interventions=5)
    second_turn = bash("echo 25 > design.txt")
    first = ScriptedProvider("r", [bash(SIM), second_turn])
    supervisor = ScriptedProvider("s", [say("Keep going.")], on_call=lambda _call: stop.set())
    spec = make_spec(tmp_path, task, first, supervisor)
    budget = make_budget()
    assert run_context(spec, budget, stop).end_reason == "interrupted"

    stop.clear()
    second = ScriptedProvider("r", [finish()])
    resumed = run_context(make_spec(tmp_path, task, second), budget, stop, resume=True)
    assert resumed.end_reason == "finished"
    before = first.requests[-1].messages
    rebuilt = second.requests[0].messages
    assert rebuilt[: len(before)] == before
    assistant, tool, check_in, note = rebuilt[len(before) :]
    assert assistant == second_turn
    assert (tool.role, tool.tool_call_id) == ("tool", second_turn.tool_calls[0].id)
    assert tool.content.startswith("[exit code 0,") and tool.content.endswith("(no output)")
    assert check_in == Message(role="user", content="[Supervisor — periodic check-in] Keep going.")
    assert note == Message(role="user", content=RESUMED_NOTE)


def test_ctrl_c_closes_the_workspace_and_leaves_the_context_resumable(tmp_path, task, stop, monkeypatch):
    real_factory = context_module.create_workspace
    opened = []

    def tracked(*args, **kwargs):
        opened.append(real_factory(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(context_module, "create_workspace", tracked)
    spec = make_spec(tmp_path, task, ScriptedProvider("r", [bash(SIM), KeyboardInterrupt()]))
    with pytest.raises(KeyboardInterrupt):
        run_context(spec, make_budget(), stop)
    assert not opened[0].is_alive()
    assert "context_end" not in types_of(spec)

    resumed = run_context(
        make_spec(tmp_path, task, ScriptedProvider("r", [finish()])), make_budget(), stop, resume=True
    )
    assert (resumed.end_reason, resumed.steps, resumed.simulations) == ("finished", 2, 1)


def test_resume_after_a_kill_mid_command_tells_the_model_what_ran(tmp_path, task, stop):
    """kill -9 while a benchmark runs: the command started (its `command_started` is in the transcript)
    and its simulation was charged, so the resumed model hears that it ran, what it ran and what it
    printed; not that it was never run."""
    first = ScriptedProvider("r", [bash(SIM, text="Benchmark."), bash("echo two")])
    spec = make_spec(tmp_path, task, first, max_steps=2)
    run_context(spec, make_budget(simulations=10), stop)
    path = spec.ctx_dir / "transcript.jsonl"
    lines = path.read_text().splitlines()
    started = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "simulation_started")
    assert json.loads(lines[started - 1])["type"] == "command_started"
    path.write_text("\n".join(lines[: started + 1]) + "\n")  # what the kill left on disk

    second = ScriptedProvider("r", [finish()])
    supervisor = ScriptedProvider("s", [approve()])
    resumed = run_context(
        make_spec(tmp_path, task, second, supervisor), make_budget(simulations=10), stop, resume=True
    )

    assert resumed.end_reason == "finished" and resumed.simulations == 1
    [killed] = [s for s in resumed.snapshots if s.sim_index == 1]
    assert killed.valid is False and killed.kind == "claim"
    call_id = first.requests[1].messages[-2].tool_calls[0].id
    told = next(m for m in second.requests[0].messages if m.role == "tool" and m.tool_call_id == call_id)
    assert told.content.startswith("[interrupted: this command was running when the Glia session stopped")
    assert "[Simulations it started: #1 (benchmark run) killed with the Glia process" in told.content
    assert "mean_e2e: 40.0" in told.content  # the tail of its output log, as Glia captured it
    assert INTERRUPTED_CALL_OUTPUT not in told.content
    result = next(e for e in events_of(spec, "tool_result") if e["id"] == call_id)
    assert (result["recovered"], result["command"]) == ("interrupted", SIM)
    sessions = [(e["session"], e["resumed"]) for e in events_of(spec, "session_start")]
    assert sessions == [(1, False), (2, True)]
    kinds = types_of(spec)
    # the killed simulation is recorded before the command's recovered result, in the resumed session
    assert kinds.index("session_start", 2) < kinds.index("simulation") < kinds.index("tool_result")
