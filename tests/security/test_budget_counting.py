"""Every simulation in a real sandbox is charged exactly once, however it was started or hidden.

The rule under test: a simulation costs one unit of the budget when `Simulator.run()` starts it, and
nothing the Researcher does afterwards (another output root, an in-process call, deleting the results)
changes the count. Once the budget is spent the simulator refuses to run, before simulating.
"""

from __future__ import annotations

import re

import pytest
from budget_support import QUICK, SandboxedLedger

from glia.agents.ledger import BUDGET_SPENT, CLAIM, EXPERIMENT

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, workspace_image):
    """One sandbox for the module (a container takes seconds to start); tests look at what they add."""
    made = SandboxedLedger(tmp_path_factory.mktemp("counting"), workspace_image, simulations=100)
    yield made
    made.close()


def added(sandbox: SandboxedLedger, before: int) -> list:
    """The records a test added, after checking the budget was charged exactly that many times."""
    records = sandbox.ledger.records[before:]
    assert sandbox.budget.simulations_used == before + len(records)
    return records


def test_the_standard_benchmark_is_a_claim_with_the_printed_score(sandbox):
    before = sandbox.ledger.count
    done = sandbox.bash("./run_all.sh")
    assert done.result.exit_code == 0, done.output
    printed = float(re.search(r"mean_e2e: ([0-9.]+)\s*$", done.output).group(1))
    [record] = added(sandbox, before)
    assert (record.kind, record.valid, record.call_id) == (CLAIM, True, f"call_{len(sandbox.commands)}")
    assert record.claimed_score == pytest.approx(printed, abs=5e-4)
    assert record.result_dir.startswith("simulator_results/sharegpt_7.5_ai/")
    assert record.snapshot == sandbox.history.head()
    assert sandbox.history.message(record.snapshot).startswith(f"sim {record.index}: claim (ai)")
    expected = f"[Simulation #{record.index} (benchmark run) valid, claimed mean_e2e {printed:.3f}."
    assert done.note.startswith(expected)


def test_another_output_root_is_counted_once(sandbox):
    before = sandbox.ledger.count
    done = sandbox.bash(f"{QUICK} --output-root /tmp/x && ls /tmp/x")
    assert done.result.exit_code == 0, done.output
    sandbox.bash("ls /tmp/x/* && cat /tmp/x/*/*/summary.json")  # looking at it again costs nothing
    [record] = added(sandbox, before)
    assert record.kind == EXPERIMENT and record.result_dir.startswith("/tmp/x/")
    assert record.ended and record.valid


def test_an_in_process_call_from_a_script_is_counted_once(sandbox):
    before = sandbox.ledger.count
    script = (
        "from llmsim.config import SimulationConfig\n"
        "from llmsim.runner import simulate\n"
        "result = simulate(SimulationConfig(router='llq', qps=2.0, duration=20.0))\n"
        "print('requests', len(result.requests))\n"
    )
    done = sandbox.bash(
        f"mkdir -p analysis && cat > analysis/probe.py <<'EOF'\n{script}EOF\nPYTHONPATH=. python3 analysis/probe.py"
    )
    assert done.result.exit_code == 0, done.output
    assert "requests 40" in done.output
    [record] = added(sandbox, before)
    assert record.conditions["router"] == "llq" and record.result_dir is None and record.valid


def test_dropping_the_variable_does_not_escape_the_count(sandbox):
    before = sandbox.ledger.count
    done = sandbox.bash(
        f"env -u GLIA_LEDGER {QUICK} --output-root /tmp/u && GLIA_LEDGER= {QUICK} --output-root /tmp/v"
    )
    assert done.result.exit_code == 0, done.output
    assert len(added(sandbox, before)) == 2


def test_deleting_the_results_neither_refunds_nor_recounts(sandbox):
    before = sandbox.ledger.count
    sandbox.bash(QUICK)
    done = sandbox.bash("rm -rf simulator_results && ls")
    assert done.note is None  # nothing happened to the ledger
    assert len(added(sandbox, before)) == 1
    sandbox.bash(QUICK)
    assert [r.index for r in added(sandbox, before)] == [before + 1, before + 2]


def test_the_budget_is_never_overshot_and_the_refusal_is_clear(tmp_path, workspace_image):
    sandbox = SandboxedLedger(tmp_path, workspace_image, simulations=2)
    try:
        done = sandbox.bash(
            f"for i in 1 2 3; do {QUICK} --output-root /tmp/r$i; echo rc=$?; done; find /tmp/r3 | wc -l"
        )
        assert re.findall(r"rc=(\d+)", done.output) == ["0", "0", "2"]
        assert BUDGET_SPENT in done.output
        assert done.output.rstrip().endswith("\n1")  # the refused run left nothing under its root
        assert sandbox.budget.simulations_used == 2 and sandbox.ledger.count == 2
        assert "1 simulation(s) refused before running" in done.note
        [refused] = sandbox.events("simulation_refused")
        assert refused["call_id"] == "call_1"
    finally:
        sandbox.close()
