from glia.agents.ledger import SimulationRecord
from glia.agents.supervisor import (
    FINISH,
    PERIODIC,
    STALL,
    Supervisor,
    SupervisorPolicy,
    UntrustedMarkers,
    parse_verdict,
    render_transcript,
    strip_verdict,
)
from glia.metric import Metric
from glia.task import SupervisorSettings

from .scripting import ScriptedProvider, approve, say


def records(*scores: float | None) -> list[SimulationRecord]:
    return [
        SimulationRecord(
            i + 1, f"simulator_results/e/{i + 1}", s, s is not None, None if s else "crashed", f"sha{i}"
        )
        for i, s in enumerate(scores)
    ]


def test_verdicts_are_read_from_the_last_verdict_line():
    assert parse_verdict("Good.\nVERDICT: APPROVE") == "approve"
    assert parse_verdict("Earlier I said VERDICT: APPROVE, but no.\n\n**VERDICT: REVISE**") == "revise"
    assert parse_verdict("verdict:approve") == "approve"
    assert parse_verdict("Looks fine to me.") is None
    assert strip_verdict("Run seed 1.\n- and seed 2\nVERDICT: REVISE") == "Run seed 1.\n- and seed 2"


def test_periodic_fires_every_k_turns_until_the_allowance_is_used():
    policy = SupervisorPolicy(SupervisorSettings(every_k_turns=3, stall_after_sims=5, max_interventions=2))
    assert [t for t in range(1, 13) if policy.periodic_due(t)] == [3, 6, 9, 12]
    policy.note(PERIODIC, 0, delivered=True)
    assert policy.reviews_finish()
    policy.note(FINISH, 0, delivered=True)
    assert not policy.periodic_due(6) and not policy.reviews_finish()


def test_check_ins_leave_the_last_interventions_for_finish_reviews():
    policy = SupervisorPolicy(SupervisorSettings(every_k_turns=1, stall_after_sims=5, max_interventions=8))
    checkins = 0
    for turn in range(1, 50):
        if policy.periodic_due(turn):
            policy.note(PERIODIC, 0, delivered=True)
            checkins += 1
    assert checkins == 6 and policy.reviews_finish()  # two reviews of a finish are still available
    policy.note(FINISH, 0, delivered=True)
    policy.note(FINISH, 0, delivered=True)
    assert not policy.reviews_finish()


def test_stall_needs_m_simulations_without_a_new_best_and_fires_once_per_m():
    policy = SupervisorPolicy(SupervisorSettings(every_k_turns=10, stall_after_sims=3, max_interventions=8))
    assert not policy.stall_due(records(40.0, 41.0))  # fewer than M simulations
    assert not policy.stall_due(records(40.0, 41.0, 42.0))  # the first run set a best
    assert policy.stall_due(records(40.0, 41.0, 42.0, 43.0))  # 41, 42, 43: no new best
    assert not policy.stall_due(records(40.0, 39.0, 42.0, 43.0))  # 39 was a new best
    assert policy.stall_due(records(None, None, None))  # nothing valid at all
    assert not policy.stall_due(records(40.0, 40.0, 40.0, 39.9))  # ties do not count, 39.9 does
    policy.note(STALL, 4, delivered=True)
    assert not policy.stall_due(records(40.0, 41.0, 42.0, 43.0, 44.0, 45.0))  # only 2 sims since the last
    assert policy.stall_due(records(40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0))


def test_stall_respects_the_direction_of_the_metric():
    policy = SupervisorPolicy(SupervisorSettings(stall_after_sims=2), metric=Metric("throughput", "maximize"))
    assert policy.stall_due(records(10.0, 9.0, 8.0))
    assert not policy.stall_due(records(10.0, 9.0, 11.0))


def test_policy_state_is_restored_from_events():
    policy = SupervisorPolicy(SupervisorSettings(stall_after_sims=3, max_interventions=3))
    policy.restore(
        [
            {"type": "supervisor", "trigger": "periodic", "at_simulation": 1},
            {"type": "error", "agent": "supervisor", "trigger": "stall", "at_simulation": 4},
            {"type": "supervisor", "trigger": "finish", "at_simulation": 5},
            {"type": "error", "detail": "something else"},
        ]
    )
    assert (policy.interventions, policy.interventions_left, policy.last_stall_at) == (2, 1, 4)


def session_events(turns: int) -> list[dict]:
    events: list[dict] = [{"type": "user", "text": "THE BRIEF"}]
    for t in range(1, turns + 1):
        call = {"id": f"c{t}", "name": "bash", "arguments": {"command": f"echo step{t}"}}
        events.append(
            {
                "type": "assistant",
                "text": f"thinking {t} " + "x" * 300,
                "reasoning": None,
                "tool_calls": [call],
            }
        )
        events.append({"type": "model_call", "agent": "researcher", "usage": {}})
        events.append(
            {"type": "tool_result", "id": f"c{t}", "name": "bash", "exit_code": 0, "output": "y" * 3000}
        )
    return events


MARKERS = UntrustedMarkers("n0")


def u(text: str) -> str:
    """`text` as the Supervisor's prompt delimits a Researcher-produced value (nonce n0)."""
    return f"<<untrusted-n0>>{text}<<end-untrusted-n0>>"


def test_rendering_keeps_the_beginning_the_end_and_every_simulation():
    sims = records(*[40.0 - i for i in range(30)])
    text = render_transcript(session_events(60), sims, char_budget=12_000, markers=MARKERS)
    assert len(text) < 13_000
    assert "THE BRIEF" not in text  # the brief is sent separately
    assert "RESEARCHER (turn 1):" in text and "(command)\n<<untrusted-n0>>\necho step1\n" in text
    assert "RESEARCHER (turn 60):" in text and "\necho step60\n<<end-untrusted-n0>>" in text
    assert "earlier entries omitted" in text and "RESEARCHER (turn 30):" not in text
    assert "characters omitted" in text  # long outputs are clipped
    assert f"| 30 | {u('simulator_results/e/30')} | claim | 11.000 | True |  | 11.000 (#30) |" in text
    assert f"| 1 | {u('simulator_results/e/1')} | claim | 40.000" in text


def test_the_simulation_table_marks_experiments_and_never_ranks_them():
    claim = records(40.0)[0]
    experiment = SimulationRecord(
        2, "simulator_results/llq/2", None, True, None, "sha2", kind="experiment",
        conditions={"router": "llq", "workload": "generated:qps=7.5,seed=0,duration=100"},
        values={"score": 10.0},
    )  # fmt: skip
    text = render_transcript([], [claim, experiment], char_budget=60_000, markers=MARKERS)
    assert f"| 1 | {u('simulator_results/e/1')} | claim | 40.000 | True |  | 40.000 (#1) |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 2 |"))
    assert (
        f"| experiment: {u('router llq, workload generated:qps=7.5,seed=0,duration=100')} | 10.000 |" in row
    )
    assert row.endswith("| 40.000 (#1) |")  # 10.0 is better, but an experiment is never the best claim


def test_short_sessions_are_rendered_whole():
    text = render_transcript(session_events(3), [], char_budget=60_000)
    assert "omitted to fit" not in text and "No simulations yet." in text
    assert text.count("RESEARCHER (turn") == 3


def test_review_sends_brief_and_transcript_without_tools_and_marks_the_reply():
    provider = ScriptedProvider(
        "sup", [say("Try the other seeds.\nVERDICT: REVISE"), say("Nice progress so far.")]
    )
    settings = SupervisorSettings(every_k_turns=4, stall_after_sims=5, max_interventions=8)
    supervisor = Supervisor(provider, "SYSTEM", "THE BRIEF", settings)
    review = supervisor.review(FINISH, session_events(2), records(30.0), {"design": "D", "evidence": "E"})
    request = provider.requests[0]
    assert request.tools is None and request.system == "SYSTEM"
    [message] = request.messages
    assert message.role == "user"
    assert message.content.startswith("# The task given to the Researcher\n\nTHE BRIEF")
    assert (
        "(command)\n<<untrusted-" in message.content and "\necho step2\n<<end-untrusted-" in message.content
    )
    assert "- design: D" in message.content
    assert "VERDICT: APPROVE" in message.content
    assert (review.verdict, review.message) == ("revise", "[Supervisor] Try the other seeds.")
    periodic = supervisor.review(PERIODIC, session_events(2), [])
    assert periodic.verdict is None
    assert periodic.message == "[Supervisor — periodic check-in] Nice progress so far."
    assert "every 4 Researcher turns" in provider.requests[1].messages[0].content


def test_a_finish_review_without_a_verdict_counts_as_revise():
    supervisor = Supervisor(ScriptedProvider("sup", [say("Hmm, why LLQ?")]), "S", "B", SupervisorSettings())
    review = supervisor.review(FINISH, [], [], {"design": "x"})
    assert (review.verdict, review.message) == ("revise", "[Supervisor] Hmm, why LLQ?")
    approved = Supervisor(ScriptedProvider("sup", [approve()]), "S", "B", SupervisorSettings())
    assert approved.review(FINISH, [], [], {}).verdict == "approve"


def test_a_stall_outranks_the_periodic_check_in():
    policy = SupervisorPolicy(SupervisorSettings(every_k_turns=2, stall_after_sims=2, max_interventions=8))
    assert policy.check_in_trigger(1, records(40.0)) is None
    assert policy.check_in_trigger(2, records(40.0)) == PERIODIC
    assert policy.check_in_trigger(2, records(40.0, 41.0, 42.0)) == STALL
    assert policy.check_in_trigger(3, records(40.0, 41.0, 42.0)) == STALL
