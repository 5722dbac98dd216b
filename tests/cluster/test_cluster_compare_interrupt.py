"""Ctrl-C during a comparison whose runs go at once on the cluster: every run under way stops as
'interrupted' (its sandboxes closed, its slots given back), none of the rest starts, and running the
comparison again resumes the interrupted runs and finishes it with exact counts.

The runs are driven in worker threads, which get no signal: the real SIGINT reaches the main thread
(this pytest process is the driver, as `glia compare --cluster` is), and the comparison must stop the
runs itself. The fake Researcher holds both runs at their third turn (each has benchmarked once, one
simulation charged) until the SIGINT was sent.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from glia.cluster import PLACEMENT
from glia.cluster.connect import CLUSTER_ENV
from glia.cluster.evaluation import runs_at_once
from glia.compare.execute import run_plan
from glia.compare.plan import ComparePlan, load_state, new_state, parse_methods, save_state
from glia.orchestrator.interrupts import OFF_MAIN
from glia.run_store import load_run
from tests.blackbox.support import MODEL, Roles, simple_problem, unique
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.e2e_support import run_containers

pytestmark = pytest.mark.docker


class HoldThenInterrupt:
    """The Researcher's replies, each run held at its third turn; once `runs` are held, SIGINT is sent
    to the main thread and the held turns are answered after the runs were asked to stop."""

    def __init__(self, roles: Roles, runs: int) -> None:
        self.roles, self.runs = roles, runs
        self.lock = threading.Lock()
        self.held = 0
        self.sent = threading.Event()
        self.release = threading.Event()

    def __call__(self, request):  # type: ignore[no-untyped-def]
        if request.tool_names and request.assistant_turns == 2 and not self.sent.is_set():
            with self.lock:
                self.held += 1
                last = self.held == self.runs
            if last:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                self.sent.set()
            self.release.wait(120)
        return self.roles(request)


@pytest.fixture
def cli_sigint() -> Iterator[None]:
    """SIGINT as a fresh `glia compare` process has it (Python's KeyboardInterrupt): an earlier test's
    in-process `glia solve` may have left the workspace registry's closing handler installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_every_run_under_way_and_the_comparison_resumes(
    ray_cluster, workspace_image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_sigint: None
) -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C reaches us as in a CLI
    monkeypatch.setenv(CLUSTER_ENV, ray_cluster.address)
    root = tmp_path / "workspaces"
    plan = ComparePlan(
        compare_id=unique("cmp-ctrl-c"),
        task_path=simple_problem(tmp_path),
        task_name="simple",
        methods=parse_methods("scg"),
        budgets=[2],
        repeats=3,
        researcher_model=MODEL,
        supervisor_model=MODEL,
        workspaces_root=root,
        max_steps=20,
        image=workspace_image,
    )
    save_state(plan.folder, new_state(plan))
    at_once = runs_at_once(1)
    assert at_once == 2  # two of the three runs at once; the third waits for a free place
    entries = plan.entries()
    said: list[str] = []
    with FakeLLMServer() as server:
        hold = HoldThenInterrupt(Roles([], researcher_k=[5]), runs=2)
        server.handler("*", hold)
        plan.base_url = server.openai_base_url
        stopper = threading.Thread(target=lambda: hold.sent.wait(300) and _release_when_stopping(hold))
        stopper.start()
        status = run_plan(plan, say=said.append, evaluator_factory=SimpleEvaluator, at_once=at_once)
        stopper.join()
    assert status == "interrupted"
    assert "stopping the 2 run(s) under way (Ctrl-C again quits at once)" in said
    state = load_state(plan.folder)
    assert state["status"] == "interrupted"
    assert [state["runs"][e.run_id]["status"] for e in entries[:2]] == ["interrupted", "interrupted"]
    third = state["runs"][entries[2].run_id]
    assert third["status"] == "pending" and "attempts" not in third  # never started: nothing to resume
    assert not (root / entries[2].run_id).exists()
    for entry in entries[:2]:
        run = load_run(root / entry.run_id)
        assert run["status"] == "interrupted"
        assert run["usage"]["simulations"] == 1  # the benchmark before the Ctrl-C, charged once
        assert run_containers(entry.run_id) == []  # its sandbox closed
    assert PLACEMENT.in_use() == {}  # every slot given back
    assert OFF_MAIN.under_way() == 0 and not OFF_MAIN.stopping()  # none left registered, flag reset

    with FakeLLMServer() as server:  # the same comparison again: resumes the two, runs the third
        server.handler("*", Roles([], researcher_k=[5]))
        plan.base_url = server.openai_base_url
        status = run_plan(plan, say=lambda _: None, evaluator_factory=SimpleEvaluator, at_once=at_once)
    assert status == "finished"
    state = load_state(plan.folder)
    assert state["status"] == "finished"
    assert [state["runs"][e.run_id]["status"] for e in entries] == ["finished"] * 3
    assert [state["runs"][e.run_id]["attempts"] for e in entries] == [2, 2, 1]
    runs = [load_run(root / e.run_id) for e in entries]
    assert [run["usage"]["simulations"] for run in runs] == [1, 1, 1]  # nothing charged twice
    assert [run["best"]["score"] for run in runs] == [8.0, 8.0, 8.0]
    assert PLACEMENT.in_use() == {}
    assert all(run_containers(e.run_id) == [] for e in entries)


def _release_when_stopping(hold: HoldThenInterrupt) -> bool:
    """Answer the held turns once the comparison asked its runs to stop (their stop events are set)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not OFF_MAIN.stopping():
        time.sleep(0.05)
    hold.release.set()
    return True
